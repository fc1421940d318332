"""Every field of every request bounded at the edge (issue 16, item 1), found by walking descriptors.

For each method of each service the request's descriptor is walked (nested and repeated messages
included), so a field added to any contract is covered without anyone remembering to. Each string
gets a 1 MB, a NUL and a control-character value, each one-line field (ids, names, summaries) a
newline, each repeated field and map 10,000 elements, each timestamp a time in year 9999, each
duration a negative one, each enum the number 99, each page token tokens no server issued (dated
9999, without a time zone, with an overlong key): every answer is INVALID_ARGUMENT naming the
field, never UNKNOWN, INTERNAL, RESOURCE_EXHAUSTED, UNAVAILABLE or DEADLINE_EXCEEDED. And a refused
request stores nothing: every table of every desk schema (row count and a hash of the rows), the
event stream's last sequence and the number of Temporal workflows are the same after all the
malformed requests as before them. An empty value is the empty request (proto3 sends no default):
any answer but those five; empty requests run after the check, as some are legitimately accepted.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import quote

import asyncpg
import grpc
import httpx
import nats
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from temporalio.client import Client

from desk.database_roles import SERVICE_SCHEMAS
from desk.events import STREAM
from desk.request_bounds import desk_text_limits
from helpdesk.v1 import (
    dispatch_pb2,
    escalation_pb2,
    intake_pb2,
    knowledge_pb2,
    quality_pb2,
    stats_pb2,
    survey_pb2,
)
from services.dispatch.server import ACCESS as DISPATCH_ACCESS
from services.intake.server import ACCESS as INTAKE_ACCESS
from services.knowledge.contract import CASE_WORKFLOW
from services.knowledge.server import ACCESS as KNOWLEDGE_ACCESS
from services.quality.server import ACCESS as QUALITY_ACCESS
from services.stats.server import ACCESS as STATS_ACCESS
from services.survey.hotline import ACCESS as HOTLINE_ACCESS
from services.survey.server import ACCESS as SURVEY_ACCESS
from tests.integration.desk_client import auth
from tests.stack import RunningDesk
from workflows.quality_contract import (
    DAILY_SAMPLING_WORKFLOW,
    INSPECTION_VIOLATIONS_WORKFLOW,
    WEEKLY_REPORT_WORKFLOW,
)
from workflows.stats_contract import REPORT_WORKFLOW

SERVICES: Mapping[str, tuple[list[ModuleType], Mapping[str, frozenset[str]]]] = {
    "intake": ([intake_pb2, knowledge_pb2], {**INTAKE_ACCESS, **KNOWLEDGE_ACCESS}),
    "dispatch": ([dispatch_pb2], DISPATCH_ACCESS),
    "survey": ([survey_pb2, escalation_pb2], {**SURVEY_ACCESS, **HOTLINE_ACCESS}),
    "quality": ([quality_pb2], QUALITY_ACCESS),
    "stats": ([stats_pb2], STATS_ACCESS),
}
NEVER = {
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}
MANY = 10_000
ONE_LINE = desk_text_limits().single_line
_WELL_KNOWN = "google.protobuf."
_YEAR_9999 = 253_402_214_400


def _token(*position: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode()


FORGED_TOKENS = {
    "unsigned token": _token("2026-01-01T00:00:00+00:00", "TK1"),
    "token dated 9999": _token("9999-12-31T00:00:00+00:00", "TK1") + ".c2lnbmVk",
    "token with a huge key": _token("2026-01-01T00:00:00+00:00", "9" * 300) + ".c2lnbmVk",
    "token not base64": "not a token!",
}
"""Page tokens this desk could not have issued (desk/paging.py's shape: base64 of [time, key], a dot,
the signature): unsigned as they once were, or with a signature the desk's key did not make."""
VALID_CONTEXT: Mapping[str, Mapping[str, object]] = {"ListWorkload": {"day": "2026-03-01"}}
"""Fields a method needs before it looks at its page token (the token cases only)."""

Mutation = Callable[[Message, FieldDescriptor], None]


@dataclass(frozen=True)
class Case:
    method: MethodDescriptor
    steps: tuple[FieldDescriptor, ...]  # from the request down to the field
    path: str  # what the edge must name (text_rules' and request_bounds' path format)
    value: str  # which bad value, for the failure message
    mutate: Mutation

    def request(self) -> Message:
        request = _message_class(self.method.input_type)()
        message = request
        for step in self.steps[:-1]:
            message = getattr(message, step.name).add() if step.is_repeated else getattr(message, step.name)
        self.mutate(message, self.steps[-1])
        return request


def _message_class(descriptor: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


def _set(value: Any) -> Mutation:
    def mutate(message: Message, field: FieldDescriptor) -> None:
        if field.is_repeated:
            getattr(message, field.name).append(value)
        else:
            setattr(message, field.name, value)

    return mutate


def _forged(token: str, context: Mapping[str, object]) -> Mutation:
    def mutate(message: Message, field: FieldDescriptor) -> None:
        for name, value in context.items():
            setattr(message, name, value)
        setattr(message, field.name, token)

    return mutate


def _many(message: Message, field: FieldDescriptor) -> None:
    target = getattr(message, field.name)
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        key = entry.fields_by_name["key"]
        value = entry.fields_by_name["value"]
        for index in range(MANY):
            k = f"k{index}" if key.type == FieldDescriptor.TYPE_STRING else index
            if value.type == FieldDescriptor.TYPE_MESSAGE:
                target[k].SetInParent()
            else:
                target[k] = _element(value)
    elif field.type == FieldDescriptor.TYPE_MESSAGE:
        for _ in range(MANY):
            target.add()
    else:
        target.extend([_element(field)] * MANY)


def _element(field: FieldDescriptor) -> Any:
    if field.type == FieldDescriptor.TYPE_STRING:
        return "x"
    if field.enum_type is not None:
        return field.enum_type.values[-1].number
    if field.type == FieldDescriptor.TYPE_BOOL:
        return True
    if field.type == FieldDescriptor.TYPE_BYTES:
        return b"x"
    return 1


def _time(seconds: int) -> Mutation:
    def mutate(message: Message, field: FieldDescriptor) -> None:
        target = getattr(message, field.name).add() if field.is_repeated else getattr(message, field.name)
        target.seconds = seconds

    return mutate


def _cases_of(method: MethodDescriptor) -> Iterator[Case]:
    yield from _field_cases(method, method.input_type, (), "", depth=0)


def _field_cases(
    method: MethodDescriptor, message: Descriptor, steps: tuple[FieldDescriptor, ...], prefix: str, depth: int
) -> Iterator[Case]:
    for field in message.fields:
        here, path = (*steps, field), f"{prefix}{field.name}"
        is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
        element_path = f"{path}[0]" if field.is_repeated else path
        if field.is_repeated:
            yield Case(method, here, path, f"{MANY} elements", _many)
        if is_map:
            continue
        if field.name == "page_token":
            for label, token in FORGED_TOKENS.items():
                yield Case(method, here, path, label, _forged(token, VALID_CONTEXT.get(method.name, {})))
        if field.type == FieldDescriptor.TYPE_STRING:
            yield Case(method, here, element_path, "1 MB", _set("x" * 1_000_000))
            yield Case(method, here, element_path, "NUL", _set("a\x00b"))
            yield Case(method, here, element_path, "ANSI escape", _set("\x1b[31mred"))
            if field.full_name in ONE_LINE:
                yield Case(method, here, element_path, "newline in one line", _set("one\ntwo"))
        elif field.type == FieldDescriptor.TYPE_ENUM:
            yield Case(method, here, element_path, "enum 99", _set(99))
        elif field.message_type is not None and field.message_type.full_name == "google.protobuf.Timestamp":
            yield Case(method, here, element_path, "year 9999", _time(_YEAR_9999))
        elif field.message_type is not None and field.message_type.full_name == "google.protobuf.Duration":
            yield Case(method, here, element_path, "negative duration", _time(-5))
        elif (
            field.message_type is not None
            and not field.message_type.full_name.startswith(_WELL_KNOWN)
            and depth < 4
        ):
            yield from _field_cases(method, field.message_type, here, f"{element_path}.", depth + 1)


def _role(roles: frozenset[str]) -> str:
    role = "manager" if "manager" in roles else sorted(roles)[0]
    return "ops_engineer:network" if role == "ops_engineer" else role


def _violations(error: grpc.aio.AioRpcError) -> list[str]:
    status = rpc_status.from_call(error)
    fields: list[str] = []
    for detail in status.details if status else ():
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            fields.extend(v.field for v in bad.field_violations)
    return fields


async def _answer(channel: grpc.aio.Channel, method: MethodDescriptor, request: Message, token: str) -> Any:
    call = channel.unary_unary(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=lambda message: message.SerializeToString(),
        response_deserializer=lambda data: data,
    )
    try:
        await call(request, metadata=auth(token), timeout=30)
    except grpc.aio.AioRpcError as error:
        return error
    return None


@pytest.mark.parametrize("service", list(SERVICES))
async def test_every_malformed_field_is_refused_by_name(desk: RunningDesk, service: str) -> None:
    protos, access = SERVICES[service]
    channel = desk.channel(service)
    methods = [m for proto in protos for s in proto.DESCRIPTOR.services_by_name.values() for m in s.methods]
    cases = [case for method in methods for case in _cases_of(method)]
    assert cases, f"{service}: no request field found"
    print(f"{service}: {len(methods)} methods, {len(cases)} malformed requests")
    gate = asyncio.Semaphore(16)
    wrong: list[str] = []

    async def empty(method: MethodDescriptor) -> None:
        async with gate:
            token = desk.token(_role(access[method.name]))
            error = await _answer(channel, method, _message_class(method.input_type)(), token)
        if error is not None and error.code() in NEVER:
            wrong.append(f"{method.name}(empty): {error.code().name} {error.details()[:200]}")

    async def malformed(case: Case) -> None:
        async with gate:
            token = desk.token(_role(access[case.method.name]))
            error = await _answer(channel, case.method, case.request(), token)
        name = f"{case.method.name} {case.path} = {case.value}"
        if error is None:
            wrong.append(f"{name}: accepted")
        elif error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            wrong.append(f"{name}: {error.code().name} {error.details()[:200]}")
        elif not any(field == case.path or field.startswith(case.path) for field in _violations(error)):
            wrong.append(f"{name}: names {_violations(error)} instead")
        elif error.details() and len(error.details()) > 2_000:
            wrong.append(f"{name}: the error echoes {len(error.details())} characters")

    scope = Scope.of(service)
    before = await _settled(desk, scope)
    await asyncio.gather(*(malformed(c) for c in cases))
    stored = _changes(before, await _stored(desk, scope))
    await asyncio.gather(*(empty(m) for m in methods))
    assert not wrong, f"{len(wrong)} of {len(cases)} answers wrong:\n" + "\n".join(sorted(wrong))
    assert not stored, f"refused requests stored something: {stored}"


Stored = dict[str, tuple[int, int]]

STARTED_BY = {
    "intake": ("TicketWorkflow", "IvrCallWorkflow", "OutageResolutionWorkflow", CASE_WORKFLOW),
    "dispatch": ("TicketWorkflow",),
    "survey": ("TicketWorkflow",),
    "quality": (DAILY_SAMPLING_WORKFLOW, WEEKLY_REPORT_WORKFLOW, INSPECTION_VIOLATIONS_WORKFLOW),
    "stats": (REPORT_WORKFLOW,),
}
"""The workflow types each service starts (dispatch and survey only update tickets')."""


@dataclass(frozen=True)
class Scope:
    """What refused calls to one service could have stored: the tables its database role may write
    (desk/database_roles.py: the database refuses it any other) and the workflows it starts. Earlier
    tests' background work (quality's hand-off of an inspection left 30 s behind, a schedule) changes
    other services' tables meanwhile."""

    schemas: tuple[str, ...]
    workflow_types: tuple[str, ...]

    @classmethod
    def of(cls, service: str) -> Scope:
        return cls((*SERVICE_SCHEMAS[service], "desk"), STARTED_BY[service])


async def _stored(desk: RunningDesk, scope: Scope) -> Stored:
    """What the desk holds within `scope`: each table's rows (count, order-free hash of their text),
    the event stream's last sequence and the count of the scope's Temporal workflows."""
    found: Stored = {}
    connection = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        tables = await connection.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'",
            list(scope.schemas),
        )
        for schema, table in sorted((row["table_schema"], row["table_name"]) for row in tables):
            row = await connection.fetchrow(
                f'SELECT count(*), coalesce(sum(hashtext(t::text)::bigint), 0) FROM "{schema}"."{table}" t'
            )
            assert row is not None
            found[f"{schema}.{table}"] = (int(row[0]), int(row[1]))
    finally:
        await connection.close()
    bus = await nats.connect(desk.endpoints["nats"])
    try:
        info = await bus.jetstream().stream_info(STREAM)
        found[f"stream {STREAM}"] = (int(info.state.last_seq), 0)
    finally:
        await bus.close()
    temporal = await Client.connect(desk.endpoints["temporal"])
    for workflow_type in scope.workflow_types:
        counted = await temporal.count_workflows(f"WorkflowType = '{workflow_type}'")
        found[f"{workflow_type} workflows"] = (counted.count, 0)
    return found


async def _settled(desk: RunningDesk, scope: Scope, *, within: float = 30.0) -> Stored:
    """What the desk holds once the work of earlier tests has ended (two looks a second apart agree)."""
    last = await _stored(desk, scope)
    for _ in range(int(within)):
        await asyncio.sleep(1.0)
        now = await _stored(desk, scope)
        if now == last:
            return now
        last = now
    changes = _changes(last, await _stored(desk, scope))
    raise AssertionError(f"the desk kept changing for {within:.0f} s: {changes}")


def _changes(before: Stored, after: Stored) -> dict[str, str]:
    return {
        name: f"{before.get(name)} -> {after.get(name)}"
        for name in sorted({*before, *after})
        if before.get(name) != after.get(name)
    }


# --- the HTTP gateway: every route of its OpenAPI document, so a new route is covered too ---

BODY_TEXT = 900_000
"""The longest text a body over the gateway's 1 MB limit still carries: a longer one is a 413."""
PATH_LONG = 8_000
"""Over every field's limit, within the 16 KB head the HTTP server reads; a 1 MB path is refused unread."""
GATEWAY_TOKEN_ROLE = "manager"  # a manager may call every route of the gateway


@dataclass(frozen=True)
class HttpCase:
    method: str
    path: str  # the URL's path, its parameters filled in
    body: Mapping[str, Any] | None
    field: str | None  # what the answer must name; None: a 400 in JSON naming nothing (unparsed)
    value: str

    def label(self) -> str:
        return f"{self.method} {self.path[:80]} {self.field} = {self.value}"


def _resolve(document: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """A schema with its $ref followed, and an optional (anyOf with null) reduced to the value's."""
    if "$ref" in schema:
        return _resolve(document, document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    options = [option for option in schema.get("anyOf", ()) if option.get("type") != "null"]
    return _resolve(document, options[0]) if len(options) == 1 else schema


def _bad_values(schema: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    if "enum" in schema:
        yield "not in the enum", "NOT_A_VALUE"
    elif schema.get("format") == "date-time":
        yield "year 9999", "9999-12-31T00:00:00Z"
    elif schema.get("type") == "string":
        yield f"{BODY_TEXT} characters", "x" * BODY_TEXT
        yield "NUL", "a\x00b"
        yield "ANSI escape", "\x1b[31mred"
        if schema.get("x-one-line"):
            yield "newline in one line", "one\ntwo"


def _body_cases(
    document: Mapping[str, Any], schema: Mapping[str, Any], prefix: str
) -> Iterator[tuple[str, Any, Any]]:
    """(field path, bad value's label, body) for each leaf field of a body schema."""
    for name, declared in schema.get("properties", {}).items():
        field = _resolve(document, declared)
        if field.get("type") == "object" or "properties" in field:
            for path, label, value in _body_cases(document, field, ""):
                yield f"{prefix}{name}.{path}", label, {name: value}
        else:
            for label, value in _bad_values(field):
                yield f"{prefix}{name}", label, {name: value}


def _required(document: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The least body the schema's required fields make: a short text each."""
    body: dict[str, Any] = {}
    for name in schema.get("required", ()):
        field = _resolve(document, schema["properties"][name])
        body[name] = field["enum"][0] if "enum" in field else "m1@example.com"
    return body


def _gateway_cases(document: Mapping[str, Any]) -> Iterator[HttpCase]:
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            params = [p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"]
            valid = {name: "TK1" for name in params}
            filled = template.format(**valid)
            for name in params:
                for label, value in (
                    (f"{PATH_LONG} characters", "x" * PATH_LONG),
                    ("NUL", "a\x00b"),
                    ("ANSI escape", "\x1b[31mred"),
                    ("newline", "one\ntwo"),
                ):
                    path = template.format(**{**valid, name: quote(value, safe="")})
                    yield HttpCase(method.upper(), path, None, name, label)
                path = template.format(**{**valid, name: "x" * 1_000_000})
                yield HttpCase(method.upper(), path, None, None, "1 MB path")
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = _resolve(document, content["application/json"]["schema"])
                base = _required(document, schema)
                for field, label, value in _body_cases(document, schema, ""):
                    yield HttpCase(method.upper(), filled, _merged(base, value), field, label)


def _merged(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in change.items():
        merged[key] = _merged(merged.get(key) or {}, value) if isinstance(value, dict) else value
    return merged


def _http_fields(answer: httpx.Response) -> list[str]:
    return [
        violation["field"]
        for detail in answer.json()["error"].get("details", ())
        if detail.get("@type") == "type.googleapis.com/google.rpc.BadRequest"
        for violation in detail["field_violations"]
    ]


def _http_wrong(case: HttpCase, answer: httpx.Response) -> str | None:
    name = case.label()
    if not answer.headers.get("content-type", "").startswith("application/json"):
        return f"{name}: {answer.status_code} {answer.headers.get('content-type')} {answer.text[:100]!r}"
    if answer.status_code != 400:
        return f"{name}: {answer.status_code} {answer.text[:200]}"
    if case.field is not None and not any(
        f == case.field or f.startswith(case.field) for f in _http_fields(answer)
    ):
        return f"{name}: names {_http_fields(answer)} instead"
    if len(answer.text) > 2_000:
        return f"{name}: the error echoes {len(answer.text)} characters"
    return None


async def _raw(base_url: str, method: str, path: str, headers: Mapping[str, str]) -> httpx.Response:
    """One request written on a socket (httpx refuses a URL this long), its answer read back."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    head = [f"{method} {path} HTTP/1.1", f"Host: {url.host}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    head_text, _, body = rest.partition(b"\r\n\r\n")
    fields = dict(line.split(": ", 1) for line in head_text.decode().split("\r\n") if ": " in line)
    return httpx.Response(int(status_line.split()[1]), headers=fields, content=body)


async def test_every_gateway_route_refuses_bad_input_by_name_in_json(desk: RunningDesk) -> None:
    headers = {"Authorization": f"Bearer {desk.token(GATEWAY_TOKEN_ROLE)}"}
    async with httpx.AsyncClient(base_url=desk.endpoints["http"]["intake"], timeout=60) as http:
        document = (await http.get("/openapi.json")).json()
        cases = list(_gateway_cases(document))
        body_routes = sorted({(c.method, c.path) for c in cases if c.body is not None})
        assert cases and body_routes, "no route of the gateway found"
        print(f"gateway: {len(document['paths'])} routes, {len(cases)} malformed requests")
        gate = asyncio.Semaphore(8)
        wrong: list[str] = []

        async def send(case: HttpCase) -> None:
            async with gate:
                if len(case.path) > PATH_LONG * 3:  # over httpx's own URL limit: sent by hand
                    answer = await _raw(desk.endpoints["http"]["intake"], case.method, case.path, headers)
                else:
                    answer = await http.request(case.method, case.path, json=case.body, headers=headers)
            if problem := _http_wrong(case, answer):
                wrong.append(problem)

        async def oversized(method: str, path: str) -> None:
            json_headers = {**headers, "Content-Type": "application/json"}

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(11):
                    yield b" " * 100_000

            for label, content in (("declared", b" " * 1_000_001), ("chunked", chunks())):
                answer = await http.request(method, path, content=content, headers=json_headers)
                json = answer.headers.get("content-type", "").startswith("application/json")
                if answer.status_code != 413 or not json:
                    wrong.append(
                        f"{method} {path} {label} 1 MB body: {answer.status_code} {answer.text[:100]}"
                    )

        scope = Scope.of("intake")  # the gateway's writes are intake's (CreateTicket)
        before = await _settled(desk, scope)
        await asyncio.gather(*(send(c) for c in cases), *(oversized(m, p) for m, p in body_routes))
        stored = _changes(before, await _stored(desk, scope))
    assert not wrong, f"{len(wrong)} of {len(cases)} answers wrong:\n" + "\n".join(sorted(wrong))
    assert not stored, f"refused requests stored something: {stored}"
