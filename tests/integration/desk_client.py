"""A thin test client for the running desk: stubs with a role's token, and reads of JetStream."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import nats
from nats.js import JetStreamContext

from desk.events import STREAM
from desk.rich_errors import field_violations
from helpdesk.v1 import common_pb2, events_pb2, intake_pb2, intake_pb2_grpc

Metadata = tuple[tuple[str, str], ...]


def auth(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


def bad_fields(error: grpc.aio.AioRpcError) -> list[str]:
    """The fields a google.rpc.BadRequest detail of an INVALID_ARGUMENT names."""
    return [v.field for v in field_violations(error)]


def _digits(count: int) -> str:
    return "".join(random.choices("0123456789", k=count))


def report(**overrides: Any) -> intake_pb2.CreateTicketRequest:
    """A valid report; its line and caller are new each time, so it is never a repeat of another.

    It asks to be answered once routed (``wait_for_routing``), so a test reads the work order from the
    answer; tests of the default, answered on acceptance, set it False.
    """
    fields: dict[str, Any] = {
        "request_id": f"test-{uuid.uuid4()}",
        "channel": common_pb2.CHANNEL_PHONE,
        "kind": common_pb2.TICKET_KIND_FAULT,
        "reporter": common_pb2.Reporter(name="Li Lei", phone="138" + _digits(8), organization="ACME"),
        "fault_number": "021" + _digits(8),
        "category": "network",
        "priority": common_pb2.PRIORITY_P3,
        "customer_tier": common_pb2.CUSTOMER_TIER_STANDARD,
        "summary": "No dial tone on the office line",
        "description": "Since this morning the line is silent.",
        "wait_for_routing": True,
    }
    fields.update(overrides)
    return intake_pb2.CreateTicketRequest(**fields)


async def recorded(
    intake: intake_pb2_grpc.IntakeServiceStub, ticket_id: str, metadata: Metadata, *, within: float = 20.0
) -> common_pb2.Ticket:
    """GetTicket once the ticket's workflow has recorded it (before, it is as accepted: no timeline)."""
    request = intake_pb2.GetTicketRequest(ticket_id=ticket_id)
    deadline = asyncio.get_running_loop().time() + within
    while True:
        ticket: common_pb2.Ticket = await intake.GetTicket(request, metadata=metadata)
        if ticket.timeline or asyncio.get_running_loop().time() > deadline:
            return ticket
        await asyncio.sleep(0.05)


@dataclass
class Event:
    subject: str
    msg_id: str
    envelope: events_pb2.EventEnvelope
    headers: dict[str, str]


async def ticket_events(
    nats_url: str, ticket_id: str, *, until: Callable[[list[Event]], bool], within: float = 30.0
) -> list[Event]:
    """Every event of one ticket on the stream, read with an ephemeral consumer until `until` holds."""
    return await stream_events(
        nats_url, lambda envelope: envelope.ticket_id == ticket_id, until=until, within=within
    )


async def stream_events(
    nats_url: str,
    matching: Callable[[events_pb2.EventEnvelope], bool],
    *,
    until: Callable[[list[Event]], bool],
    within: float = 30.0,
) -> list[Event]:
    """Every event on the stream that ``matching`` picks, read until `until` holds."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        deadline = asyncio.get_running_loop().time() + within
        while True:
            events = await _read_all(js, matching)
            if until(events) or asyncio.get_running_loop().time() > deadline:
                return events
            await asyncio.sleep(0.3)
    finally:
        await nc.close()


async def _read_all(
    js: JetStreamContext, matching: Callable[[events_pb2.EventEnvelope], bool]
) -> list[Event]:
    sub = await js.subscribe("helpdesk.>", stream=STREAM, ordered_consumer=True)
    events: list[Event] = []
    try:
        pending = (await js.stream_info(STREAM)).state.messages
        for _ in range(pending):
            try:
                msg = await sub.next_msg(timeout=2)
            except nats.errors.TimeoutError:
                break
            envelope = events_pb2.EventEnvelope.FromString(msg.data)
            if matching(envelope):
                headers = dict(msg.headers or {})
                events.append(Event(msg.subject, headers.get("Nats-Msg-Id", ""), envelope, headers))
    finally:
        await sub.unsubscribe()
    return events


def types(events: list[Event]) -> list[str]:
    return [e.envelope.type for e in events]
