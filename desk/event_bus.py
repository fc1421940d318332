"""Publishing domain events to NATS JetStream, and the stream and team consumers they go to.

A publish sends ``Nats-Msg-Id`` = event id, so JetStream's duplicate window drops an event published
twice (intake's relay publishing again after a crash); the trace context travels in the headers and
the envelope.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import nats.errors
from google.protobuf import struct_pb2, timestamp_pb2
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError, ServiceUnavailableError
from opentelemetry import propagate, trace

from desk import nats_servers
from desk.events import STREAM, STREAM_SUBJECTS, EventSpec, team_consumer_name, team_consumer_subject
from desk.tls import NatsAccess
from helpdesk.v1 import events_pb2

log = logging.getLogger(__name__)

DUPLICATE_WINDOW_SECONDS = 24 * 3600.0
"""How long JetStream remembers event ids; longer than any retry of a publish by intake's relay."""


CLUSTER_WAIT_SECONDS = 60.0
"""How long the stream and a consumer are asked for while a NATS cluster elects their leaders."""

INHERIT_REPLICAS = 0
"""A durable consumer's replicas: the stream's, also after the stream is scaled (JetStream's meaning of 0)."""


def envelope(event: EventSpec, trace_context: dict[str, str]) -> events_pb2.EventEnvelope:
    occurred = timestamp_pb2.Timestamp()
    occurred.FromDatetime(event.occurred_at)
    payload = struct_pb2.Struct()
    payload.update({k: v for k, v in event.payload.items() if v is not None})
    return events_pb2.EventEnvelope(
        event_id=event.event_id,
        type=event.type,
        subject=event.subject,
        ticket_id=event.ticket_id,
        sequence=event.sequence,
        occurred_at=occurred,
        actor=event.actor,
        reason=event.reason,
        trace_context=trace_context,
        payload=payload,
    )


async def connect(url: str, access: NatsAccess | None = None) -> NatsClient:
    """The desk's connection to the servers of ``url`` (one, or a cluster's: desk/nats_servers.py);
    ``access``: its TLS and credentials file (``Settings.nats_access``)."""
    # Reconnect forever: an outage delays publishing (the activity retries), it must not end the process.
    return await nats_servers.connect(
        url,
        access,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        name="helpdesk",
    )


async def ensure_stream(js: JetStreamContext, *, replicas: int) -> None:
    """The desk's stream, created or brought to this configuration (settings.jetstream_replicas: its copies).

    An update is the whole configuration: a field left out is reset to its default, so ``replicas``
    is always given; it also scales an existing stream up (R1 to R3, on a desk now clustered) or down,
    and the consumers, which inherit the stream's replicas, follow.
    """
    # No age, count or size limit, on purpose: the stream is the record the statistics read model is
    # rebuilt from (`helpdesk stats rebuild`), so it keeps every event as long as reports need them.
    config = StreamConfig(
        name=STREAM,
        subjects=STREAM_SUBJECTS,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )

    async def create_or_update() -> None:
        try:
            await js.stream_info(STREAM)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)

    await _answered(create_or_update, "the stream")


async def ensure_team_consumer(js: JetStreamContext, team_id: str) -> None:
    """The durable pull consumer an ops team reads its work orders from."""
    await _answered(lambda: _add_team_consumer(js, team_id), f"team {team_id}'s consumer")


async def _add_team_consumer(js: JetStreamContext, team_id: str) -> None:
    await js.add_consumer(
        STREAM,
        ConsumerConfig(
            durable_name=team_consumer_name(team_id),
            filter_subject=team_consumer_subject(team_id),
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=30,
            max_deliver=-1,
            num_replicas=INHERIT_REPLICAS,
        ),
    )


async def _answered(
    call: Callable[[], Awaitable[None]], what: str, *, within: float = CLUSTER_WAIT_SECONDS
) -> None:
    """``call``, again while JetStream cannot answer yet: a cluster that has just started (or lost a
    node) elects the leaders of its groups first, and a stream or consumer made then waits for its
    replicas to agree, which on a loaded machine outlasts one API request's timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            await call()
            return
        except (nats.errors.TimeoutError, nats.errors.NoRespondersError, ServiceUnavailableError) as error:
            if loop.time() > deadline:
                raise
            log.info("NATS: %s not answered yet (%s); asking again", what, type(error).__name__)
            await asyncio.sleep(0.5)


class EventPublisher:
    def __init__(self, js: JetStreamContext) -> None:
        self._js = js
        self._tracer = trace.get_tracer(__name__)

    async def publish(self, event: EventSpec) -> None:
        with self._tracer.start_as_current_span(
            f"{event.subject} publish",
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",  # OpenTelemetry's messaging conventions (v1.26 on)
                "messaging.operation.name": "publish",
                "messaging.destination.name": event.subject,
                "messaging.message.id": event.event_id,
                "helpdesk.ticket_id": event.ticket_id,
            },
        ):
            headers: dict[str, str] = {}
            propagate.inject(headers)
            body = envelope(event, dict(headers)).SerializeToString()
            headers["Nats-Msg-Id"] = event.event_id
            await self._js.publish(event.subject, body, headers=headers, timeout=5)
