"""Every process serves Prometheus metrics, and after a ticket's main path the counts are what happened.

The desk is the session's: other tests' tickets count too, so each count is read before and after
(its increase), from every process that may count it (either workflow worker runs a ticket's steps).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import grpc
import nats
import nats.js.errors
import pytest
from google.protobuf import duration_pb2
from nats.js.api import ConsumerConfig
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from desk import metrics
from desk.events import STREAM
from helpdesk.v1 import (
    common_pb2,
    dispatch_pb2,
    dispatch_pb2_grpc,
    intake_pb2_grpc,
    survey_pb2,
    survey_pb2_grpc,
)
from tests.integration.desk_client import auth, report
from tests.stack import RunningDesk

S = common_pb2
INTAKE = "helpdesk.v1.IntakeService"
DISPATCH = "helpdesk.v1.DispatchService"

FAMILIES = {
    "intake": {
        "helpdesk_grpc_server_requests",
        "helpdesk_grpc_server_request_duration_seconds",
        "helpdesk_tickets_accepted",
        "helpdesk_intake_backlog_tickets",
        "helpdesk_intake_backlog_oldest_age_seconds",
        "helpdesk_outbox_unpublished_events",
        "helpdesk_outbox_oldest_age_seconds",
        "helpdesk_ticket_update_duration_seconds",
        "process_start_time_seconds",
    },
    "dispatch": {"helpdesk_grpc_server_requests", "helpdesk_consumer_pending_messages"},
    "survey": {"helpdesk_grpc_server_requests", "helpdesk_ticket_update_duration_seconds"},
    "quality": {"helpdesk_grpc_server_requests", "helpdesk_consumer_redelivered_messages"},
    "stats": {"helpdesk_grpc_server_requests", "helpdesk_consumer_ack_pending_messages"},
    "http": {"helpdesk_http_requests", "helpdesk_http_request_duration_seconds"},
    "worker": {"helpdesk_tickets_opened", "helpdesk_tickets_closed", "helpdesk_deadline_lateness_seconds"},
}
"""Families each process must show (a counter's family name is without ``_total``)."""


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.read().decode()


async def scrape(url: str) -> tuple[set[str], list[Sample]]:
    """The families an endpoint serves, and its samples."""
    status, text = await asyncio.to_thread(_get, url)
    assert status == 200, url
    families = list(text_string_to_metric_families(text))
    samples = [Sample(s.name, dict(s.labels), s.value) for f in families for s in f.samples]
    return {f.name for f in families}, samples


HTTP_REQUESTS = "helpdesk_http_requests_total"


class Counts:
    """A snapshot of the desk's metrics, summed over the processes asked."""

    def __init__(self, by_process: dict[str, list[Sample]]) -> None:
        self._by_process = by_process

    @classmethod
    async def read(cls, desk: RunningDesk) -> Counts:
        urls = desk.endpoints["metrics"]
        scraped = await asyncio.gather(*(scrape(url) for url in urls.values()))
        return cls({name: samples for name, (_, samples) in zip(urls, scraped, strict=True)})

    def total(self, name: str, processes: Iterable[str] | None = None, **labels: str) -> float:
        wanted = self._by_process if processes is None else {p: self._by_process[p] for p in processes}
        return sum(
            s.value
            for samples in wanted.values()
            for s in samples
            if s.name == name and labels.items() <= s.labels.items()
        )

    def has(self, name: str, process: str, **labels: str) -> bool:
        return any(s.name == name and labels.items() <= s.labels.items() for s in self._by_process[process])


def seconds(value: float) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=int(value), nanos=int(value % 1 * 1e9))


def workers(desk: RunningDesk) -> list[str]:
    return [name for name in desk.endpoints["metrics"] if name.startswith("worker")]


async def test_every_process_and_the_embedded_servers_serve_their_metrics(desk: RunningDesk) -> None:
    metrics = desk.endpoints["metrics"]
    assert set(metrics) == {"intake", "dispatch", "survey", "quality", "stats", "http", "worker", "worker-2"}
    assert set(desk.endpoints["temporal_sdk_metrics"]) == set(metrics) - {"http"}
    await _serve_families(metrics)
    for process, url in desk.endpoints["temporal_sdk_metrics"].items():
        families, _ = await scrape(url)
        if process.startswith("worker"):  # a poller's metrics exist once it polled
            assert any(name.startswith("temporal_") for name in families), process
    server_families, _ = await scrape(desk.endpoints["temporal_metrics"])
    assert any(name.startswith("persistence_") or name.startswith("service_") for name in server_families)
    _, varz = await asyncio.to_thread(_get, desk.endpoints["nats_monitoring"] + "/varz")
    assert json.loads(varz)["server_name"] == "helpdesk-dev"


async def _serve_families(metrics: dict[str, str]) -> None:
    """Each process answers with its families (the gauges read from the stores within seconds)."""
    for _ in range(30):
        missing = {}
        for process, url in metrics.items():
            families, _ = await scrape(url)
            if lacking := FAMILIES.get(process, {"process_start_time_seconds"}) - families:
                missing[process] = lacking
        if not missing:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"families missing: {missing}")


async def test_a_main_path_is_counted(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    survey = survey_pb2_grpc.SurveyServiceStub(desk.channel("survey"))
    agent, ops = auth(desk.token("agent")), auth(desk.token("ops_engineer:network"))
    before = await Counts.read(desk)

    tickets = [await intake.CreateTicket(report(channel=S.CHANNEL_WEB), metadata=agent) for _ in range(2)]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.CreateTicket(report(), metadata=auth("no-such-token"))
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    ticket = tickets[0].ticket
    [work_order] = ticket.work_orders
    onsite = S.OnsiteReport(test_result=S.TEST_RESULT_NORMAL, customer_signed=True)
    accepted = await dispatch.AcceptWorkOrder(
        dispatch_pb2.AcceptWorkOrderRequest(work_order_id=work_order.work_order_id, engineer="W"),
        metadata=ops,
    )
    onsite.departed_at.CopyFrom(accepted.accepted_at)
    onsite.arrived_at.CopyFrom(accepted.accepted_at)
    onsite.restored_at.CopyFrom(accepted.accepted_at)
    await dispatch.ResolveWorkOrder(
        dispatch_pb2.ResolveWorkOrderRequest(
            work_order_id=work_order.work_order_id, cause="c", action="a", engineer="W", onsite=onsite
        ),
        metadata=ops,
    )
    closed = await survey.RecordCallback(
        survey_pb2.RecordCallbackRequest(ticket_id=ticket.ticket_id, reached=True, confirmed_resolved=True),
        metadata=auth(desk.token("surveyor")),
    )
    assert closed.ticket_status == S.TICKET_STATUS_CLOSED
    status, _ = await asyncio.to_thread(_get, desk.endpoints["http"]["intake"] + "/healthz")
    assert status == 200

    # The gateway counts a request once its answer is sent: a loaded machine may serve this scrape
    # (the metrics thread) before the gateway's loop gets back to counting it.
    healthz = {"method": "GET", "route": "/healthz", "status": "200"}
    for _ in range(50):
        after = await Counts.read(desk)
        if after.total(HTTP_REQUESTS, ["http"], **healthz) > before.total(HTTP_REQUESTS, ["http"], **healthz):
            break
        await asyncio.sleep(0.1)

    def grew(name: str, processes: Iterable[str] | None = None, **labels: str) -> float:
        return after.total(name, processes, **labels) - before.total(name, processes, **labels)

    requests = "helpdesk_grpc_server_requests_total"
    assert grew(requests, ["intake"], grpc_service=INTAKE, grpc_method="CreateTicket", grpc_code="OK") == 2
    assert grew(requests, ["intake"], grpc_method="CreateTicket", grpc_code="UNAUTHENTICATED") == 1
    assert (
        grew(requests, ["dispatch"], grpc_service=DISPATCH, grpc_method="AcceptWorkOrder", grpc_code="OK")
        == 1
    )
    latency = "helpdesk_grpc_server_request_duration_seconds_count"
    assert grew(latency, ["intake"], grpc_method="CreateTicket") == 3
    assert grew("helpdesk_tickets_accepted_total", ["intake"], channel="WEB") == 2
    assert grew("helpdesk_tickets_opened_total", workers(desk), channel="WEB") == 2
    assert grew("helpdesk_tickets_closed_total", workers(desk), channel="WEB", team="network") == 1
    updates = "helpdesk_ticket_update_duration_seconds_count"
    assert grew(updates, ["dispatch"], outcome="ok") == 2  # accept, resolve
    assert grew(updates, ["survey"], outcome="ok") == 1  # the callback
    assert grew(HTTP_REQUESTS, ["http"], **healthz) == 1

    gauges = "helpdesk_consumer_pending_messages"  # refreshed every 5 s since each process started
    for process, consumer in [("dispatch", "team-network"), ("stats", "stats"), ("quality", "quality")]:
        assert after.has(gauges, process, consumer=consumer), (process, consumer)
    assert after.has("helpdesk_outbox_unpublished_events", "intake", outbox="intake")


async def test_deadline_alarms_are_counted_with_their_lateness(desk: RunningDesk) -> None:
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    policy = S.SlaPolicy(
        priority=S.PRIORITY_P1,
        team_id="automation",
        response_target=seconds(2),
        resolution_target=seconds(4),
        callback_target=seconds(60),
        warning_percent=50,
    )
    await dispatch.SetSlaPolicy(
        dispatch_pb2.SetSlaPolicyRequest(policy=policy), metadata=auth(desk.token("manager"))
    )
    before = await Counts.read(desk)
    await intake.CreateTicket(
        report(category="automation", priority=S.PRIORITY_P1), metadata=auth(desk.token("agent"))
    )
    lateness = "helpdesk_deadline_lateness_seconds"
    for _ in range(40):  # the resolution deadline is missed 4 s after the ticket opens
        after = await Counts.read(desk)
        if (
            after.total(f"{lateness}_count", workers(desk)) - before.total(f"{lateness}_count", workers(desk))
            >= 4
        ):
            break
        await asyncio.sleep(0.5)

    def grew(name: str, processes: Iterable[str], **labels: str) -> float:
        return after.total(name, processes, **labels) - before.total(name, processes, **labels)

    for kind in ("RESPONSE", "RESOLUTION"):
        assert grew("helpdesk_deadline_warnings_total", workers(desk), kind=kind) == 1
        assert grew("helpdesk_deadline_overdue_total", workers(desk), kind=kind) == 1
        for alarm in ("warning", "overdue"):
            assert grew(f"{lateness}_count", workers(desk), kind=kind, alarm=alarm) == 1
            # Fired within the goal's order: well under a minute after it was due, never before.
            late = grew(f"{lateness}_sum", workers(desk), kind=kind, alarm=alarm)
            assert 0 <= late < 60
    source = {"source": "DEADLINE", "team": "automation"}
    assert grew("helpdesk_violations_total", workers(desk), **source) == 2
    assert grew("helpdesk_work_order_chases_total", workers(desk), team="automation", by="deadline") == 2


async def test_a_consumer_s_gauges_are_exported_while_it_exists_and_is_measured(desk: RunningDesk) -> None:
    """The consumer gauges are every replica's to report (stats', quality's, dispatch's for the teams):
    one that cannot read a consumer, or whose consumer is gone, exports nothing rather than its last
    reading, which would hold the alerts' max across processes."""
    name = f"gauge-test-{uuid.uuid4().hex[:8]}"
    nc = await nats.connect(desk.endpoints["nats"])
    js = nc.jetstream()
    gauges = metrics.ConsumerGauges(js, lambda consumer: consumer == name)

    def pending() -> float | None:
        return REGISTRY.get_sample_value("helpdesk_consumer_pending_messages", {"consumer": name})

    try:
        await js.add_consumer(STREAM, ConsumerConfig(durable_name=name, filter_subject="helpdesk.>"))
        await gauges.refresh()
        assert pending() is not None
        assert REGISTRY.get_sample_value("helpdesk_consumer_redelivered_messages", {"consumer": name}) == 0
        gauges.forget()  # a failed refresh, or the watch stopping
        assert pending() is None
        await gauges.refresh()
        assert pending() is not None
        await js.delete_consumer(STREAM, name)
        await gauges.refresh()
        assert pending() is None  # gone: not reported as it last was
    finally:
        gauges.forget()
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_consumer(STREAM, name)
        await nc.close()
