"""The metrics' logic: what a recorded event counts, lateness, route templates, ports and their settings."""

from __future__ import annotations

import asyncio
import socket
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from deploy.endpoints import Endpoints
from deploy.up import listening_ports, metrics_environment
from desk import metrics
from desk.config import load_settings, metrics_port_setting, temporal_metrics_port_setting
from desk.errors import PortInUse
from desk.events import EventSpec
from desk.loops import Readiness
from services.http.metrics import RequestMetrics

DUE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def event(kind: str, *, at: datetime = DUE, actor: str = "system", **payload: object) -> EventSpec:
    return EventSpec("e-1", kind, f"helpdesk.{kind}", "T-1", 1, at, actor, "", dict(payload))


def alarm(kind: str, late: float, deadline: str = "RESPONSE") -> EventSpec:
    warn_at = DUE - timedelta(minutes=10)
    fired = (warn_at if kind == "sla.warning" else DUE) + timedelta(seconds=late)
    return event(kind, at=fired, deadline=deadline, warn_at=warn_at.isoformat(), due_at=DUE.isoformat())


def test_lateness_is_the_event_time_minus_the_alarm_s_own_time() -> None:
    assert metrics.lateness_seconds(alarm("sla.warning", 0.25)) == pytest.approx(0.25)
    assert metrics.lateness_seconds(alarm("sla.overdue", 3.5)) == pytest.approx(3.5)
    assert metrics.lateness_seconds(event("sla.overdue", deadline="RESPONSE")) is None
    assert metrics.lateness_seconds(event("sla.overdue", due_at="not a time")) is None


def test_recorded_events_count_by_channel_team_and_deadline_kind() -> None:
    def counts() -> tuple[float, ...]:
        return (
            value("helpdesk_tickets_opened_total", channel="IM"),
            value("helpdesk_tickets_closed_total", channel="IM", team="cable"),
            value("helpdesk_tickets_archived_total", channel="IM", team="none"),
            value("helpdesk_deadline_warnings_total", kind="RESOLUTION"),
            value("helpdesk_deadline_overdue_total", kind="RESOLUTION"),
            value("helpdesk_deadline_lateness_seconds_count", kind="RESOLUTION", alarm="overdue"),
            value("helpdesk_deadline_lateness_seconds_bucket", kind="RESOLUTION", alarm="overdue", le="1.0"),
            value("helpdesk_work_order_chases_total", team="cable", by="deadline"),
            value("helpdesk_work_order_chases_total", team="cable", by="desk"),
        )

    before = counts()
    metrics.count_recorded(
        channel="IM",
        team="cable",
        events=[
            event("ticket.created"),
            event("ticket.acknowledged"),  # not counted
            event("ticket.closed"),
            alarm("sla.warning", 0.1, "RESOLUTION"),
            alarm("sla.overdue", 2.0, "RESOLUTION"),  # over 1 s: not in the le="1.0" bucket
            event("dispatch.chased", team_id="cable"),
            event("dispatch.chased", actor="agent-7", team_id="cable"),
        ],
    )
    metrics.count_recorded(channel="IM", team="", events=[event("ticket.archived")])
    grown = [after - earlier for after, earlier in zip(counts(), before, strict=True)]
    assert grown == [1, 1, 1, 1, 1, 1, 0, 1, 1]


def test_readiness_reports_are_gauges_a_backing_server_s_or_a_loop_s() -> None:
    """What the health service answers from, as metrics: helpdesk_dependency_up for a backing server's
    check (postgres, temporal, nats), helpdesk_loop_up for a background loop; 0 while down."""
    readiness = Readiness(metrics.report_readiness)
    readiness.up("pending-ticket poller")
    readiness.down("postgres", "ConnectionRefusedError")
    assert value("helpdesk_loop_up", loop="pending-ticket poller") == 1.0
    assert REGISTRY.get_sample_value("helpdesk_dependency_up", {"dependency": "postgres"}) == 0.0
    readiness.down("pending-ticket poller", "ConnectionRefusedError")
    readiness.up("postgres")
    assert REGISTRY.get_sample_value("helpdesk_loop_up", {"loop": "pending-ticket poller"}) == 0.0
    assert value("helpdesk_dependency_up", dependency="postgres") == 1.0
    assert REGISTRY.get_sample_value("helpdesk_loop_up", {"loop": "postgres"}) is None


def test_a_shared_state_gauge_is_exported_only_while_measured() -> None:
    """The intake backlog is every replica's to measure; one that stopped measuring exports nothing,
    so its last count cannot hold an alert that takes the max across processes."""
    gauge = metrics.SharedStateGauge("helpdesk_test_shared_state", "A test's.", registry=None)

    def exported() -> list[float]:
        return [sample.value for family in gauge.collect() for sample in family.samples]

    assert exported() == []
    gauge.set(7)
    assert exported() == [7]
    gauge.forget()
    assert exported() == []
    metrics.set_age(gauge, DUE - timedelta(seconds=30), DUE)
    assert exported() == [30]


def test_a_forgotten_outbox_or_consumer_series_is_not_exported_until_set_again() -> None:
    metrics.OUTBOX_EVENTS.labels("unit_outbox").set(12)
    metrics.forget("unit_outbox", metrics.OUTBOX_EVENTS, metrics.OUTBOX_AGE)  # one never set: no error
    assert REGISTRY.get_sample_value("helpdesk_outbox_unpublished_events", {"outbox": "unit_outbox"}) is None
    metrics.OUTBOX_EVENTS.labels("unit_outbox").set(3)
    assert value("helpdesk_outbox_unpublished_events", outbox="unit_outbox") == 3


async def test_a_refresh_that_fails_or_stops_leaves_its_gauges_unmeasured() -> None:
    unmeasured: list[str] = []
    refreshed = asyncio.Event()

    async def away() -> None:
        refreshed.set()
        raise ConnectionRefusedError("NATS is away")

    watch = asyncio.create_task(
        metrics.refresh_every("test gauges", away, unmeasured=lambda: unmeasured.append("x"), seconds=3600)
    )
    await refreshed.wait()
    await asyncio.sleep(0)
    assert unmeasured == ["x"]  # the failed refresh
    watch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await watch
    assert unmeasured == ["x", "x"]  # and stopping


async def test_the_gateway_counts_route_templates_never_paths() -> None:
    app = FastAPI()

    @app.get("/v1/tickets/{ticket_id}")
    async def ticket(ticket_id: str) -> dict[str, str]:
        return {"ticket_id": ticket_id}

    route = {"method": "GET", "route": "/v1/tickets/{ticket_id}", "status": "200"}
    unmatched = {"method": "other", "route": "unmatched", "status": "404"}
    before = (
        value("helpdesk_http_requests_total", **route),
        value("helpdesk_http_requests_total", **unmatched),
    )
    transport = httpx.ASGITransport(app=RequestMetrics(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        assert (await client.get("/v1/tickets/T-20260302-0001")).status_code == 200
        assert (await client.request("BREW", "/coffee")).status_code == 404
    after = value("helpdesk_http_requests_total", **route), value("helpdesk_http_requests_total", **unmatched)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    assert not any(
        "T-20260302-0001" in str(sample.labels) for family in REGISTRY.collect() for sample in family.samples
    )


def test_each_process_has_its_metrics_ports_and_their_settings() -> None:
    settings = load_settings({"HELPDESK_WORKER_2_METRICS_PORT": "29001", "HELPDESK_HTTP_METRICS_PORT": "0"})
    assert settings.metrics_ports["intake"] == 20251 and settings.temporal_metrics_ports["intake"] == 20351
    assert settings.metrics_ports["worker-2"] == 29001
    assert all(
        port < 32768 for port in [*settings.metrics_ports.values(), *settings.temporal_metrics_ports.values()]
    )
    assert settings.metrics_url("http") is None and "http" not in settings.temporal_metrics_ports
    assert metrics_port_setting("worker-2") == "HELPDESK_WORKER_2_METRICS_PORT"
    assert temporal_metrics_port_setting("intake") == "HELPDESK_INTAKE_TEMPORAL_METRICS_PORT"


def test_up_gives_each_worker_its_own_ports_and_checks_them_before_starting(tmp_path: Path) -> None:
    settings = load_settings({"HELPDESK_DATA_DIR": str(tmp_path)})
    second = metrics_environment(settings, "worker-2")
    assert second["HELPDESK_WORKER_METRICS_PORT"] == "20291"
    assert second["HELPDESK_WORKER_TEMPORAL_METRICS_PORT"] == "20391"
    assert second["HELPDESK_STATS_METRICS_PORT"] == "20255"
    checked = {port.setting for port in listening_ports(settings, with_services=True)}
    assert {"HELPDESK_WORKER_2_METRICS_PORT", "HELPDESK_EMBEDDED_NATS_MONITOR_PORT"} <= checked
    assert "HELPDESK_WORKER_3_METRICS_PORT" not in checked  # two workers by default

    endpoints = Endpoints("t", None, "n", "p", {})
    endpoints.add_metrics(load_settings({"HELPDESK_SURVEY_METRICS_PORT": "0"}), ["intake", "survey", "http"])
    assert endpoints.metrics == {
        "intake": "http://127.0.0.1:20251/metrics",
        "http": "http://127.0.0.1:20280/metrics",
    }
    assert set(endpoints.temporal_sdk_metrics) == {"intake", "survey"}


@pytest.fixture
def taken() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_an_endpoint_serves_metrics_and_a_taken_port_names_its_setting(taken: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    endpoint = metrics.MetricsEndpoint.start(
        load_settings({"HELPDESK_STATS_METRICS_PORT": str(free)}), "stats"
    )
    assert endpoint is not None
    try:
        with urllib.request.urlopen(endpoint.url, timeout=5) as answer:
            assert b"helpdesk_grpc_server_requests_total" in answer.read()
    finally:
        endpoint.stop()
    assert metrics.MetricsEndpoint.start(load_settings({"HELPDESK_STATS_METRICS_PORT": "0"}), "stats") is None

    with pytest.raises(PortInUse, match="set HELPDESK_STATS_METRICS_PORT to a free port"):
        metrics.MetricsEndpoint.start(load_settings({"HELPDESK_STATS_METRICS_PORT": str(taken)}), "stats")
    settings = load_settings({"HELPDESK_STATS_TEMPORAL_METRICS_PORT": str(taken)})
    with pytest.raises(PortInUse, match="set HELPDESK_STATS_TEMPORAL_METRICS_PORT to a free port"):
        metrics.temporal_runtime(settings, "stats")
