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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import asyncpg
import grpc
import nats
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from temporalio.client import Client

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
from services.knowledge.server import ACCESS as KNOWLEDGE_ACCESS
from services.quality.server import ACCESS as QUALITY_ACCESS
from services.stats.server import ACCESS as STATS_ACCESS
from services.survey.hotline import ACCESS as HOTLINE_ACCESS
from services.survey.server import ACCESS as SURVEY_ACCESS
from tests.integration.desk_client import auth
from tests.stack import RunningDesk

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
DESK_SCHEMAS = ("intake", "dispatch", "survey", "quality", "stats", "knowledge", "desk")


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

    before = await _settled(desk)
    await asyncio.gather(*(malformed(c) for c in cases))
    stored = _changes(before, await _stored(desk))
    await asyncio.gather(*(empty(m) for m in methods))
    assert not wrong, f"{len(wrong)} of {len(cases)} answers wrong:\n" + "\n".join(sorted(wrong))
    assert not stored, f"refused requests stored something: {stored}"


Stored = dict[str, tuple[int, int]]


async def _stored(desk: RunningDesk) -> Stored:
    """What the desk holds: each table's rows (count, order-free hash of their text), the event
    stream's last sequence and the count of Temporal workflows."""
    found: Stored = {}
    connection = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        tables = await connection.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'",
            list(DESK_SCHEMAS),
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
    found["temporal workflows"] = ((await temporal.count_workflows()).count, 0)
    return found


async def _settled(desk: RunningDesk, *, within: float = 30.0) -> Stored:
    """What the desk holds once the work of earlier tests has ended (two looks a second apart agree)."""
    last = await _stored(desk)
    for _ in range(int(within)):
        await asyncio.sleep(1.0)
        now = await _stored(desk)
        if now == last:
            return now
        last = now
    raise AssertionError(f"the desk kept changing for {within:.0f} s: {_changes(last, await _stored(desk))}")


def _changes(before: Stored, after: Stored) -> dict[str, str]:
    return {
        name: f"{before.get(name)} -> {after.get(name)}"
        for name in sorted({*before, *after})
        if before.get(name) != after.get(name)
    }
