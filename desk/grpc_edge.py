"""The gRPC edge: server factory, authentication, role checks and DeskError → status mapping.

Servicers validate and translate only. Every RPC passes through :class:`EdgeInterceptor`, which
authenticates the bearer token, checks the RPC's allowed roles, checks every text of the request
against the desk's one rule set (desk/text_rules.py), exposes the principal through
:func:`current_principal`, and turns :class:`DeskError` into the standard status codes of DESIGN
section 7 (``INVALID_ARGUMENT`` carries a ``google.rpc.BadRequest`` naming each bad field).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc import aio
from grpc_health.v1 import health as health_module
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from desk import metrics
from desk.auth import Principal, TokenAuthenticator
from desk.errors import (
    AlreadyExists,
    ConfigurationError,
    DeskError,
    InternalError,
    InvalidArgument,
    NotFound,
    Overloaded,
    PermissionDenied,
    TransitionNotAllowed,
    Unauthenticated,
    Unavailable,
    Unimplemented,
)
from desk.loops import connection_lost, describe
from desk.ports import ensure_free, split_address
from desk.request_bounds import check_bounds, desk_text_limits
from desk.storage_errors import UNSTORABLE_DATA, storage_refusal
from desk.text_rules import TextLimits, check_text
from desk.ticket_spans import ticket_of, ticket_scope
from desk.tls import ServerTLS

log = logging.getLogger(__name__)

_PRINCIPAL: contextvars.ContextVar[Principal] = contextvars.ContextVar("principal")
MAX_REQUEST_BYTES = 2 * 1024 * 1024
"""The largest request a server takes (gRPC answers RESOURCE_EXHAUSTED past it): see start_server.

Deliberately above 1 MB: a request carrying one oversized field (a 1 MB reason) reaches the edge,
which refuses it naming the field; only a request larger than any field limit explains is refused
whole. What a request may carry into an event stays bounded by the field rules (request_bounds)."""
_OPEN_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")

_STATUS = {
    InvalidArgument: code_pb2.INVALID_ARGUMENT,
    NotFound: code_pb2.NOT_FOUND,
    AlreadyExists: code_pb2.ALREADY_EXISTS,
    TransitionNotAllowed: code_pb2.FAILED_PRECONDITION,
    Unauthenticated: code_pb2.UNAUTHENTICATED,
    PermissionDenied: code_pb2.PERMISSION_DENIED,
    Unavailable: code_pb2.UNAVAILABLE,
    Overloaded: code_pb2.RESOURCE_EXHAUSTED,
    Unimplemented: code_pb2.UNIMPLEMENTED,
    InternalError: code_pb2.INTERNAL,
}


def current_principal() -> Principal:
    """The caller of the RPC being served (set by the edge before the servicer runs)."""
    return _PRINCIPAL.get()


def rich_status(error: DeskError) -> grpc.Status:
    """The error as a google.rpc.Status (grpcio-status puts it in the ``grpc-status-details-bin``
    trailer): a BadRequest naming each bad field, a RetryInfo saying when to try again."""
    rpc_code = next(
        (code for kind, code in _STATUS.items() if isinstance(error, kind)),
        code_pb2.INTERNAL,
    )
    status = status_pb2.Status(code=rpc_code, message=str(error))
    if isinstance(error, InvalidArgument):
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in error.violations
            ]
        )
        status.details.add().Pack(bad)
    if isinstance(error, Unavailable | Overloaded):
        hint = error_details_pb2.RetryInfo()
        hint.retry_delay.FromMilliseconds(round(error.retry_after * 1000))
        status.details.add().Pack(hint)
    return rpc_status.to_status(status)


Behavior = Callable[[Any, aio.ServicerContext], Awaitable[Any]]


class EdgeInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    """Authenticates, authorises by role, checks texts and maps errors, for every unary RPC of a server."""

    def __init__(
        self,
        authenticator: TokenAuthenticator,
        access: Mapping[str, frozenset[str]],
        text_limits: TextLimits | None = None,
    ) -> None:
        self._authenticator = authenticator
        self._access = access
        self._text_limits = text_limits or desk_text_limits()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or method.startswith(_OPEN_PREFIXES) or handler.unary_unary is None:
            return handler
        # check_access made sure every served method has an entry; admins only, were one missing.
        roles = self._access.get(method.rsplit("/", 1)[-1], frozenset({"admin"}))
        return grpc.unary_unary_rpc_method_handler(
            self._guard(handler.unary_unary, roles, method),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _guard(self, behavior: Behavior, roles: frozenset[str], method: str) -> Behavior:
        async def guarded(request: Any, context: aio.ServicerContext) -> Any:
            try:
                metadata = dict(context.invocation_metadata() or ())
                principal = await self._authenticator.authenticate(metadata.get("authorization"))
                principal.require_any(roles)
                check_text(request, self._text_limits)  # after authentication: strangers learn nothing
                check_bounds(request)  # counts, times, durations, enums: desk/request_bounds.py
                token = _PRINCIPAL.set(principal)
                try:
                    with ticket_scope(ticket_of(request)):  # the spans of this call say its ticket
                        return await behavior(request, context)
                finally:
                    _PRINCIPAL.reset(token)
            except DeskError as error:
                await context.abort_with_status(rich_status(error))
            except aio.AbortError:
                raise  # the servicer set its own status
            except Exception as error:
                await context.abort_with_status(rich_status(unexpected_error(error, method)))

        return guarded


class RequestMetricsInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    """Counts every unary RPC by method and status code, and times it (desk/metrics.py): the
    outermost interceptor, so refusals of the edge (UNAUTHENTICATED, INVALID_ARGUMENT …) count too."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        service, _, method = str(details.method).lstrip("/").rpartition("/")
        return grpc.unary_unary_rpc_method_handler(
            _measured(handler.unary_unary, service, method),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _measured(behavior: Behavior, service: str, method: str) -> Behavior:
    duration = metrics.GRPC_DURATION.labels(service, method)

    async def measured(request: Any, context: aio.ServicerContext) -> Any:
        watch = metrics.Stopwatch()
        failed = False
        try:
            return await behavior(request, context)
        except BaseException:
            failed = True
            raise
        finally:
            # An abort has set the code; anything else that escaped the edge leaves it UNKNOWN.
            fallback = grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK
            metrics.GRPC_REQUESTS.labels(service, method, _code_name(context.code(), fallback)).inc()
            duration.observe(watch.seconds())

    return measured


def _code_name(code: object, fallback: grpc.StatusCode) -> str:
    """The status code's name ("OK", "NOT_FOUND"): gRPC keeps it as a StatusCode or as its number."""
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    if isinstance(code, int):
        return str(next((c.name for c in grpc.StatusCode if c.value[0] == code), fallback.name))
    return str(fallback.name)


def unexpected_error(error: Exception, method: str) -> DeskError:
    """An error no servicer meant to raise, as a status that names no class nor internal text.

    A backing server out of reach is the caller's to retry (UNAVAILABLE with a retry hint), whatever
    library noticed it; data the database refuses is the caller's to change; anything else is a
    defect, logged here with its stack.
    """
    if connection_lost(error):
        log.warning("%s: %s unreachable (%s)", method, _server_of(error), describe(error))
        return Unavailable(f"the desk cannot reach its {_server_of(error)} now; retry shortly")
    refusal = storage_refusal(error)  # a servicer's own write the database refused for good
    if refusal is not None and refusal.type == UNSTORABLE_DATA:
        return InvalidArgument.one("request", f"the data could not be stored: {refusal.message}")
    if refusal is not None:
        return TransitionNotAllowed(f"the change clashes with what is stored: {refusal.message}")
    log.exception("%s failed unexpectedly", method)
    return InternalError("internal error; the desk's log has the details")


def _server_of(error: Exception) -> str:
    module = type(error).__module__
    if module.startswith("asyncpg"):
        return "database"
    if module.startswith("nats"):
        return "event bus"
    if module.startswith("temporalio"):
        return "workflow engine"
    return "backing services"


@dataclass
class ServiceBinding:
    """One gRPC service to serve: its full name and a function adding its servicer to a server."""

    full_name: str
    add_to_server: Callable[[aio.Server], None]
    methods: tuple[str, ...] = ()

    @classmethod
    def of(cls, servicer: object, pb2: Any, pb2_grpc: Any, service: str) -> ServiceBinding:
        """The binding of a generated service (`IntakeService` of intake_pb2/intake_pb2_grpc)."""
        add = getattr(pb2_grpc, f"add_{service}Servicer_to_server")
        descriptor = pb2.DESCRIPTOR.services_by_name[service]
        return cls(
            descriptor.full_name, lambda server: add(servicer, server), tuple(descriptor.methods_by_name)
        )


def check_access(bindings: Iterable[ServiceBinding], access: Mapping[str, frozenset[str]]) -> None:
    """Refuse to serve a method nobody decided who may call: a forgotten entry is a startup error,
    not a method quietly left to admins."""
    missing = [f"{b.full_name}/{method}" for b in bindings for method in b.methods if method not in access]
    if missing:
        raise ConfigurationError(f"no access rule for {', '.join(missing)}: add each to its service's ACCESS")


async def start_server(
    *,
    address: str,
    bindings: Iterable[ServiceBinding],
    authenticator: TokenAuthenticator,
    access: Mapping[str, frozenset[str]],
    interceptors: Iterable[aio.ServerInterceptor] = (),
    health: health_module.aio.HealthServicer | None = None,
    text_limits: TextLimits | None = None,
    tls: ServerTLS | None = None,
) -> tuple[aio.Server, int]:
    """Start a server with health and reflection; returns it and its bound port (address may use port 0).

    Pass `health` to change what the health service answers later (NOT_SERVING while a loop is down),
    `tls` to serve TLS only (mutual when it has a client CA): the port then refuses plaintext.
    """
    bindings = list(bindings)
    check_access(bindings, access)
    server = aio.server(
        interceptors=[
            RequestMetricsInterceptor(),
            *interceptors,
            EdgeInterceptor(authenticator, access, text_limits),
        ],
        options=[
            # gRPC shares a port between servers of one user by default (SO_REUSEPORT): a second desk on
            # the same ports would silently take half of the first one's calls. The port is this server's.
            ("grpc.so_reuseport", 0),
            # No request may carry more than this (see MAX_REQUEST_BYTES); what passes the edge's
            # field rules (100,000 characters of text, bounded lists) makes events well under NATS's
            # 1 MB maximum payload.
            ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
        ],
    )
    names = []
    health_servicer = health or health_module.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for binding in bindings:
        binding.add_to_server(server)
        names.append(binding.full_name)
    reflection.enable_server_reflection([*names, health_module.SERVICE_NAME, reflection.SERVICE_NAME], server)
    port = _listen(server, address, tls)
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, port


def _listen(server: aio.Server, address: str, tls: ServerTLS | None) -> int:
    """Bind the address; a port already taken raises PortInUse (the command line names its setting)
    instead of gRPC's bare RuntimeError, or the 0 some gRPC versions return."""
    try:
        port: int = (
            server.add_secure_port(address, tls.credentials()) if tls else server.add_insecure_port(address)
        )
    except RuntimeError:
        port = 0
    if port == 0:
        ensure_free(*split_address(address))  # PortInUse, if that is why
        raise ConfigurationError(f"gRPC cannot listen on {address}")
    return port
