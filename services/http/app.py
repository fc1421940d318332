"""The HTTP channels' FastAPI app: each route is one IntakeService call made with the caller's token
(the weekly QA report's, one QualityService call).

Routes (OpenAPI at /openapi.json, Swagger UI at /docs):

- ``POST /v1/tickets``: the web form (channel WEB), JSON or form-encoded; the idempotency key is the
  ``Idempotency-Key`` header or the ``request_id`` field. 201 with the ticket when this request
  created it, 200 when the ticket existed before the request arrived (a replay of the same request).
- ``POST /v1/channels/email``: an inbound e-mail (channel EMAIL); request id from the Message-ID.
- ``POST /v1/channels/im``: an inbound instant message (channel IM); request id from the message id.
- ``GET /v1/tickets/{ticket_id}``: GetTicket.
- ``GET /v1/tickets/{ticket_id}/trace``: the ticket's traces as a page, read by the gateway itself from
  the span files, for admins and managers (services/http/trace_page.py).
- ``GET /healthz``: 200 while the gateway answers; ``GET /readyz``: 200 while intake, quality and
  stats answer SERVING, else 503 naming those that do not (services/http/health.py).
- ``POST /codec/decode`` and ``/codec/encode``: Temporal's codec-server protocol for the Temporal UI,
  SREs, managers and admins only (services/http/codec.py); ``/codec/session``, where such a person
  signs a browser in to it for a UI that cannot pass a token (services/http/codec_sign_in.py).
- ``GET /v1/quality/reports/{week}`` (JSON), ``….csv`` and ``….html``: QualityService's
  GetQualityReport, the weekly QA report (services/http/report_pages.py renders the CSV and the page).
- ``GET /v1/reports/{report_id}`` (JSON), ``….csv``, ``….xlsx`` and ``….html``: StatsService's
  GetReport, a statistics report (services/stats/exports.py and report_page.py render them).

Errors are intake's, mapped by :mod:`services.http.errors`; a request without a bearer token is
refused with 401 before anything reaches intake. Every answer but a success is JSON in one shape
(ErrorBody), the gateway's own too: 404 and 405 for a route that is not there, 413 for a body over
:data:`MAX_BODY_BYTES` (by its Content-Length before anything is read, or counted as a chunked body
arrives), 400 naming the field for bad input, and a bare 500 (the exception only in the log) for a
failure of the gateway itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import grpc
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf import json_format, message
from opentelemetry import propagate, trace
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Message

from desk.config import CODEC_PATH
from desk.report_format import CONTENT_SECURITY_POLICY
from helpdesk.v1 import intake_pb2, quality_pb2, stats_pb2
from services.http.bodies import read_within
from services.http.codec import MAX_CODEC_BODY_BYTES
from services.http.errors import (
    HttpError,
    bad_request,
    from_http_status,
    from_rpc_error,
    from_validation,
    too_large,
    unauthenticated,
    unsupported_media_type,
)
from services.http.health import GatewayHealth
from services.http.models import Bounded, ErrorBody, InboundEmail, InboundIm, TicketAnswer, WebTicket
from services.http.report_pages import report_csv, report_html
from services.http.trace_page import TracePages
from services.stats import contract as stats_exports

RPC_TIMEOUT_SECONDS = 30.0
MAX_BODY_BYTES = 1_000_000
JSON, FORM, MULTIPART = "application/json", "application/x-www-form-urlencoded", "multipart/form-data"

Model = TypeVar("Model", bound=BaseModel)
Metadata = tuple[tuple[str, str], ...]

_bearer = HTTPBearer(
    auto_error=False,
    description="A desk token, the same as gRPC callers send: `Authorization: Bearer <token>`.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
TicketId = Annotated[str, Bounded.like(intake_pb2.GetTicketRequest, "ticket_id")]
"""A ticket id the gateway reads itself (the trace page): bounded as the gRPC edge bounds GetTicket's."""
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="The request id; or the body's `request_id` field."),
]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": description}
    for code, description in {
        400: "Bad input: a google.rpc.BadRequest detail names each bad field, as over gRPC.",
        401: "No token, or an unknown or revoked one.",
        403: "The token's role may not do this.",
        503: "Intake is not answering; retry.",
    }.items()
}


def _body_doc(model: type[BaseModel], media_types: tuple[str, ...]) -> dict[str, Any]:
    """The request body's OpenAPI entry: routes read their body themselves, to accept forms too."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {t: {"schema": schema} for t in media_types}}}


class Channels:
    """The routes: each translates its request, calls intake with the caller's token, renders the answer."""

    def __init__(
        self,
        intake: Any,
        *,
        channel_category: str,
        quality: Any = None,
        stats: Any = None,
        traces: TracePages | None = None,
    ) -> None:
        self._intake = intake  # an IntakeServiceStub on a grpc.aio channel
        self._category = channel_category
        self._quality = quality  # a QualityServiceStub on the quality service's channel
        self._stats = stats  # a StatsServiceStub on the stats service's channel
        self._traces = traces  # the trace pages, read from this desk's span files

    async def web_form(
        self, request: Request, credentials: Credentials, idempotency_key: IdempotencyKey = None
    ) -> Response:
        """CreateTicket with channel WEB. The request id is the `Idempotency-Key` header or the
        `request_id` field (one of them is required); the same id with the same report answers 200
        with the same ticket, with a different report 400. Form-encoded fields use dotted paths
        (`reporter.phone`)."""
        metadata = _metadata(credentials)
        form = await _body(request, WebTicket)
        return await self._create(form.to_request(_request_id(idempotency_key, form.request_id)), metadata)

    async def email(self, request: Request, credentials: Credentials) -> Response:
        """CreateTicket with channel EMAIL: the sender is the reporter, the subject the summary, the
        text the description. The request id derives from the Message-ID, so a redelivery answers 200
        with the same ticket. Without a `category` the desk's channel category is used
        (HELPDESK_CHANNEL_CATEGORY, `software` by default). Intake requires a reporter phone for
        every channel: send `phone` when the gateway knows it."""
        metadata = _metadata(credentials)
        mail = await _body(request, InboundEmail)
        return await self._create(mail.to_request(default_category=self._category), metadata)

    async def im(self, request: Request, credentials: Credentials) -> Response:
        """CreateTicket with channel IM: the summary is the start of the text's first line, the
        description the text with the conversation and sender ids. The request id derives from the
        conversation and message ids, so a redelivery answers 200 with the same ticket."""
        metadata = _metadata(credentials)
        chat = await _body(request, InboundIm)
        return await self._create(chat.to_request(default_category=self._category), metadata)

    async def get_ticket(self, ticket_id: str, credentials: Credentials) -> Response:
        metadata = _metadata(credentials)
        ticket = await _call(
            self._intake.GetTicket, intake_pb2.GetTicketRequest(ticket_id=ticket_id), metadata
        )
        return JSONResponse(_json(ticket))

    async def ticket_trace(self, ticket_id: TicketId, credentials: Credentials, limit: int = 400) -> Response:
        """The ticket's traces as waterfalls (the span files of this desk; with an OTLP backend
        configured, that backend's UI). For admins and managers. `limit`: rows shown at most."""
        if self._traces is None:
            raise HttpError(503, "UNAVAILABLE", "trace pages are not configured on this gateway")
        token = credentials.credentials if credentials else None
        html = await self._traces.page(ticket_id, token, limit=limit)
        return HTMLResponse(html, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    async def quality_report(self, week: str, credentials: Credentials) -> Response:
        """The weekly QA report (GetQualityReport): a week over is final and never changes; the
        current week's numbers so far have `final` false. `week` is an ISO week, `2026-W48`."""
        return JSONResponse(_json(await self._report(week, credentials)))

    async def quality_report_csv(self, week: str, credentials: Credentials) -> Response:
        """The same report as CSV: one block of rows per section, each with its header row."""
        report = await self._report(week, credentials)
        return Response(
            report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="qa-report-{report.week}.csv"'},
        )

    async def quality_report_html(self, week: str, credentials: Credentials) -> Response:
        """The same report as a page for a manager's browser: self-contained, nothing fetched."""
        report = await self._report(week, credentials)
        return HTMLResponse(
            report_html(report),
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )

    async def _report(self, week: str, credentials: Credentials) -> quality_pb2.QualityReport:
        metadata = _metadata(credentials)
        if self._quality is None:
            raise HttpError(503, "UNAVAILABLE", "the quality service is not configured on this gateway")
        report: quality_pb2.QualityReport = await _call(
            self._quality.GetQualityReport, quality_pb2.GetQualityReportRequest(week=week), metadata
        )
        return report

    async def stats_report(self, report_id: str, credentials: Credentials) -> Response:
        """A statistics report (GetReport): made once when its period was over, it never changes."""
        return JSONResponse(_json(await self._stats_report(report_id, credentials)))

    async def stats_report_csv(self, report_id: str, credentials: Credentials) -> Response:
        """The same report as CSV: one block of rows per section, each with its header row."""
        report = await self._stats_report(report_id, credentials)
        return Response(
            stats_exports.report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers=_download(f"{stats_exports.file_stem(report)}.csv"),
        )

    async def stats_report_xlsx(self, report_id: str, credentials: Credentials) -> Response:
        """The same report as an Excel workbook: one sheet per section, numbers as numbers."""
        report = await self._stats_report(report_id, credentials)
        return Response(
            stats_exports.report_xlsx(report),
            media_type=stats_exports.XLSX_MEDIA_TYPE,
            headers=_download(f"{stats_exports.file_stem(report)}.xlsx"),
        )

    async def stats_report_html(self, report_id: str, credentials: Credentials) -> Response:
        """The same report as a page with its charts: self-contained, nothing fetched, no script."""
        report = await self._stats_report(report_id, credentials)
        return HTMLResponse(
            stats_exports.report_html(report), headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY}
        )

    async def _stats_report(self, report_id: str, credentials: Credentials) -> stats_pb2.Report:
        metadata = _metadata(credentials)
        if self._stats is None:
            raise HttpError(503, "UNAVAILABLE", "the stats service is not configured on this gateway")
        report: stats_pb2.Report = await _call(
            self._stats.GetReport, stats_pb2.GetReportRequest(report_id=report_id), metadata
        )
        return report

    async def _create(self, request: intake_pb2.CreateTicketRequest, metadata: Metadata) -> Response:
        answer: intake_pb2.CreateTicketResponse = await _call(self._intake.CreateTicket, request, metadata)
        # Made by an earlier request: a replay of this one, or a repeat joined to an open ticket.
        existed = answer.replayed or answer.outcome == intake_pb2.CREATE_OUTCOME_REPEAT
        return JSONResponse(
            _json(answer),
            status_code=200 if existed else 201,
            headers={"Location": f"/v1/tickets/{answer.ticket.ticket_id}"},
        )


def _metadata(credentials: HTTPAuthorizationCredentials | None) -> Metadata:
    if credentials is None:
        raise unauthenticated("missing bearer token (header 'Authorization: Bearer <token>')")
    return (("authorization", f"Bearer {credentials.credentials}"),)


def _download(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _request_id(header: str | None, field: str) -> str:
    """The idempotency key, from either place; none at all is left to intake, which names request_id."""
    header, field = (header or "").strip(), field.strip()
    if header and field and header != field:
        raise bad_request([("request_id", "differs from the Idempotency-Key header")])
    return header or field


async def _call(method: Callable[..., Awaitable[Any]], request: message.Message, metadata: Metadata) -> Any:
    try:
        return await method(request, metadata=metadata, timeout=RPC_TIMEOUT_SECONDS)
    except grpc.aio.AioRpcError as error:
        raise from_rpc_error(error) from None


def _json(answer: message.Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        answer, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


async def _body(request: Request, model: type[Model]) -> Model:
    """The body as `model`, from JSON or from a form (fields named by their paths: `reporter.phone`)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in (JSON, FORM, MULTIPART) and not media_type.endswith("+json"):
        raise unsupported_media_type(media_type, (JSON, FORM, MULTIPART))
    raw = await read_within(request, MAX_BODY_BYTES)
    try:
        if media_type in (FORM, MULTIPART):
            return model.model_validate(_nested(await _form(request, raw)))
        return model.model_validate_json(raw or b"{}")
    except ValidationError as error:
        raise from_validation(error.errors()) from None


async def _form(request: Request, raw: bytes) -> FormData:
    async def replay() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    return await Request(request.scope, replay).form(max_files=0)


def _nested(form: FormData) -> dict[str, Any]:
    """`reporter.phone=…` → {"reporter": {"phone": …}}; blank fields count as not given, as in a form."""
    nested: dict[str, Any] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) or not value.strip():
            continue
        *parents, leaf = key.split(".")
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise bad_request([(key, f"{parent} is not a group of fields")])
        target[leaf] = value
    return nested


def build_app(
    channels: Channels, *, health: GatewayHealth | None = None, codec: Starlette | None = None
) -> FastAPI:
    """The gateway's app; `codec` is services.http.codec.codec_app, mounted at desk.config.CODEC_PATH."""
    app = FastAPI(
        title="Service desk: HTTP channels",
        version="1",
        description="Web form, e-mail and IM webhooks onto IntakeService; the same tokens as gRPC.",
    )
    _routes(app, channels)
    _health_routes(app, health or GatewayHealth({}))
    if codec is not None:
        app.mount(CODEC_PATH, codec)
    _error_handlers(app)
    app.middleware("http")(_traced)
    app.middleware("http")(_bounded_body)  # outermost: before the span, before any body is read
    _document_bodies(app, [WebTicket, InboundEmail, InboundIm])
    return app


def _routes(app: FastAPI, channels: Channels) -> None:
    answers: dict[int | str, dict[str, Any]] = {
        201: {"model": TicketAnswer, "description": "Created by this request."},
        200: {"model": TicketAnswer, "description": "It existed before: a replay of this request."},
        **_ERRORS,
    }
    for path, endpoint, model, summary in (
        ("/v1/tickets", channels.web_form, WebTicket, "Report through the web form (channel WEB)"),
        ("/v1/channels/email", channels.email, InboundEmail, "Inbound e-mail webhook (channel EMAIL)"),
        ("/v1/channels/im", channels.im, InboundIm, "Inbound instant-message webhook (channel IM)"),
    ):
        app.add_api_route(
            path, endpoint, methods=["POST"], summary=summary, status_code=201, responses=answers,
            response_class=JSONResponse, openapi_extra=_body_doc(model, (JSON, FORM, MULTIPART)),
            tags=["tickets" if path == "/v1/tickets" else "channels"],
        )  # fmt: skip
    app.add_api_route(
        "/v1/tickets/{ticket_id}", channels.get_ticket, methods=["GET"], summary="Read a ticket",
        responses={**_ERRORS, 404: {"model": ErrorBody, "description": "No such ticket."}},
        response_class=JSONResponse, tags=["tickets"],
    )  # fmt: skip
    app.add_api_route(
        "/v1/tickets/{ticket_id}/trace", channels.ticket_trace, methods=["GET"],
        summary="A ticket's traces as a page (admins, managers)", responses=_ERRORS,
        response_class=HTMLResponse, tags=["tickets"],
    )  # fmt: skip
    _report_routes(app, channels)
    _stats_routes(app, channels)


def _health_routes(app: FastAPI, health: GatewayHealth) -> None:
    app.add_api_route(
        "/healthz", health.healthz, methods=["GET"], summary="The gateway answers", tags=["health"]
    )
    app.add_api_route(
        "/readyz", health.readyz, methods=["GET"], summary="The services behind it answer", tags=["health"]
    )


def _report_routes(app: FastAPI, channels: Channels) -> None:
    """The suffixed routes first: `{week}` alone would also match `2026-W48.csv`."""
    responses: dict[int | str, dict[str, Any]] = {
        **_ERRORS,
        400: {"model": ErrorBody, "description": "Not a week (YYYY-Www), or one not begun."},
    }
    for suffix, endpoint, response_class, summary in (
        (".csv", channels.quality_report_csv, Response, "The weekly QA report as CSV"),
        (".html", channels.quality_report_html, HTMLResponse, "The weekly QA report as a page"),
        ("", channels.quality_report, JSONResponse, "The weekly QA report (每周质检分析报告)"),
    ):
        app.add_api_route(
            f"/v1/quality/reports/{{week}}{suffix}", endpoint, methods=["GET"], summary=summary,
            responses=responses, response_class=response_class, tags=["quality"],
        )  # fmt: skip


def _stats_routes(app: FastAPI, channels: Channels) -> None:
    """The suffixed routes first: `{report_id}` alone would also match `….csv`."""
    responses: dict[int | str, dict[str, Any]] = {
        **_ERRORS,
        404: {"model": ErrorBody, "description": "No report with this id."},
        503: {"model": ErrorBody, "description": "The stats service is not answering; retry."},
    }
    xlsx: dict[int | str, dict[str, Any]] = {
        200: {"content": {stats_exports.XLSX_MEDIA_TYPE: {}}, "description": "The workbook."}
    }
    for suffix, endpoint, response_class, summary, extra in (
        (".csv", channels.stats_report_csv, Response, "A statistics report as CSV", {}),
        (".xlsx", channels.stats_report_xlsx, Response, "A statistics report as an Excel workbook", xlsx),
        (".html", channels.stats_report_html, HTMLResponse, "A statistics report as a page with charts", {}),
        ("", channels.stats_report, JSONResponse, "A statistics report (统计报表)", {}),
    ):
        app.add_api_route(
            f"/v1/reports/{{report_id}}{suffix}", endpoint, methods=["GET"], summary=summary,
            responses={**responses, **extra}, response_class=response_class, tags=["statistics"],
        )  # fmt: skip


def _error_handlers(app: FastAPI) -> None:
    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HttpError)
        return error.response()

    async def on_invalid(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return from_validation(error.errors()).response()

    async def on_starlette(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return from_http_status(error.status_code, str(error.detail)).response()

    async def on_unexpected(request: Request, error: Exception) -> Response:
        # Starlette logs the exception after this answer; its text stays out of the answer.
        return HttpError(
            500, "INTERNAL", "the gateway failed to answer; the failure is in its log"
        ).response()

    app.add_exception_handler(HttpError, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(HTTPException, on_starlette)
    app.add_exception_handler(Exception, on_unexpected)


async def _bounded_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """413 for any route when the declared body is too large, before a byte of it is read; a chunked
    body is counted by :func:`_read` as it arrives."""
    # The codec endpoint takes a history event's payloads, larger than any report; it bounds its own.
    limit = MAX_CODEC_BODY_BYTES if request.url.path.startswith(f"{CODEC_PATH}/") else MAX_BODY_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return too_large(limit).response()
    return await call_next(request)


async def _traced(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """A server span per request (continuing a caller's traceparent), parent of the gRPC call's span."""
    tracer = trace.get_tracer("services.http")
    parent = propagate.extract(request.headers)
    with tracer.start_as_current_span(
        f"HTTP {request.method}", context=parent, kind=trace.SpanKind.SERVER
    ) as span:
        response = await call_next(request)
        route = request.scope.get("route")
        if route is not None:
            span.update_name(f"{request.method} {route.path}")  # the template, not each ticket's id
        span.set_attribute("http.response.status_code", response.status_code)
        return response


def _document_bodies(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Put the bodies the routes read themselves into the OpenAPI components their entries refer to."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
            for operations in document["paths"].values():  # bad input is a 400 here, never FastAPI's 422
                for operation in operations.values():
                    operation["responses"].pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
