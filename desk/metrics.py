"""The desk's Prometheus metrics: every family in one place (docs/metrics.md), and the endpoint each
process serves them on.

The families are module-level, as prometheus_client means them to be: like a logger, a metric is the
process's, and every instance of a class counting into it adds to the same series. Each process serves
``/metrics`` on its own port (settings ``HELPDESK_<PROCESS>_METRICS_PORT``; :class:`MetricsEndpoint`),
with prometheus_client's process and Python collectors beside the desk's families; a process with a
Temporal client has its SDK serve the SDK's runtime metrics on another (:func:`temporal_runtime`).

Label values are bounded: method and route names, channels, team ids, deadline kinds, consumer and
outbox names; never a ticket id, a phone number or free text.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any
from wsgiref.simple_server import WSGIServer

from nats.js import JetStreamContext
from prometheus_client import Counter, Gauge, Histogram, start_http_server
from prometheus_client.metrics_core import Metric
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from desk.config import Settings, metrics_port_setting, temporal_metrics_port_setting
from desk.dependencies import BACKING_SERVERS
from desk.errors import PortInUse
from desk.events import STREAM, EventSpec
from desk.loops import describe

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds, for calls: a gRPC or HTTP request, an update of a ticket's workflow (up to its 60 s timeout)."""
LATENESS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
"""Seconds a deadline alarm fired after its time: the goal is under 1 s at p99, an alert past 5 s."""

# --- the edges ---------------------------------------------------------------------------------------

GRPC_REQUESTS = Counter(
    "helpdesk_grpc_server_requests_total",
    "gRPC requests answered, by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_DURATION = Histogram(
    "helpdesk_grpc_server_request_duration_seconds",
    "Time from a gRPC request's arrival to its answer, by service and method.",
    ["grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "helpdesk_http_requests_total",
    "HTTP gateway requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "helpdesk_http_request_duration_seconds",
    "Time the HTTP gateway took to answer, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)

# --- tickets -----------------------------------------------------------------------------------------

TICKETS_ACCEPTED = Counter(
    "helpdesk_tickets_accepted_total",
    "New tickets accepted from reports (numbered and queued for opening), by channel.",
    ["channel"],
)
TICKETS_OPENED = Counter(
    "helpdesk_tickets_opened_total",
    "Tickets whose workflow recorded them (ticket.created), by channel.",
    ["channel"],
)
TICKETS_CLOSED = Counter(
    "helpdesk_tickets_closed_total",
    "Tickets closed (ticket.closed), by channel and the team that had the ticket.",
    ["channel", "team"],
)
TICKETS_ARCHIVED = Counter(
    "helpdesk_tickets_archived_total",
    "Tickets archived (ticket.archived), by channel and the team that had the ticket.",
    ["channel", "team"],
)
TICKET_UPDATE_DURATION = Histogram(
    "helpdesk_ticket_update_duration_seconds",
    "Time a service waited for a ticket workflow's update (or its start), by update and outcome.",
    ["update", "outcome"],
    buckets=LATENCY_BUCKETS,
)

# --- deadlines ---------------------------------------------------------------------------------------

DEADLINE_WARNINGS = Counter(
    "helpdesk_deadline_warnings_total", "Deadline warnings raised (sla.warning), by deadline kind.", ["kind"]
)
DEADLINE_OVERDUE = Counter(
    "helpdesk_deadline_overdue_total", "Deadlines missed (sla.overdue), by deadline kind.", ["kind"]
)
DEADLINE_LATENESS = Histogram(
    "helpdesk_deadline_lateness_seconds",
    "How late a deadline alarm fired: its event's time minus the time it was due (warn_at for a"
    " warning, due_at for an overdue), by deadline kind and alarm.",
    ["kind", "alarm"],
    buckets=LATENESS_BUCKETS,
)
CHASES = Counter(
    "helpdesk_work_order_chases_total",
    "Work orders chased (dispatch.chased): by a person (desk) or for a missed deadline (deadline), by team.",
    ["team", "by"],
)
VIOLATIONS = Counter(
    "helpdesk_violations_total",
    "Violations recorded in dispatch's ledger, by source, deadline kind (empty for an investigation)"
    " and team.",
    ["source", "kind", "team"],
)

# --- queues ------------------------------------------------------------------------------------------


class SharedStateGauge(Gauge):
    """An unlabelled gauge of state every replica shares (the intake backlog), exported only while this
    process measures it: :meth:`set` exports, :meth:`forget` stops. A last value left behind by a
    process that stopped measuring would hold an alert, which takes the max across processes."""

    _measured = False

    def set(self, value: float) -> None:
        super().set(value)
        self._measured = True

    def forget(self) -> None:
        self._measured = False

    def collect(self) -> Iterable[Metric]:
        return super().collect() if self._measured else self.describe()  # the family, without a sample


INTAKE_BACKLOG = SharedStateGauge(
    "helpdesk_intake_backlog_tickets", "Tickets accepted but not opened yet (all intake processes')."
)
INTAKE_BACKLOG_AGE = SharedStateGauge(
    "helpdesk_intake_backlog_oldest_age_seconds",
    "Age of the oldest accepted, not yet opened ticket (0: none).",
)
OUTBOX_EVENTS = Gauge(
    "helpdesk_outbox_unpublished_events", "Events queued in an outbox, not published to NATS yet.", ["outbox"]
)
OUTBOX_AGE = Gauge(
    "helpdesk_outbox_oldest_age_seconds",
    "Age of the oldest unpublished event in an outbox, from the event's time (0: none).",
    ["outbox"],
)
CONSUMER_PENDING = Gauge(
    "helpdesk_consumer_pending_messages",
    "Stream messages a durable consumer has not been sent yet.",
    ["consumer"],
)
CONSUMER_ACK_PENDING = Gauge(
    "helpdesk_consumer_ack_pending_messages",
    "Messages sent to a durable consumer, not acked yet.",
    ["consumer"],
)
CONSUMER_REDELIVERED = Gauge(
    "helpdesk_consumer_redelivered_messages",
    "Messages of a durable consumer delivered more than once and not acked yet.",
    ["consumer"],
)

# --- readiness: what the gRPC health service answers from ---------------------------------------------

LOOP_UP = Gauge(
    "helpdesk_loop_up",
    "1 while a background loop works, 0 while it is down, retrying a backing server it cannot reach"
    " (its process's gRPC health then answers NOT_SERVING), by loop.",
    ["loop"],
)
DEPENDENCY_UP = Gauge(
    "helpdesk_dependency_up",
    "1 while the process reaches a backing server it needs, 0 while it does not (its gRPC health then"
    " answers NOT_SERVING), by dependency: postgres, temporal, nats.",
    ["dependency"],
)

REFRESH_SECONDS = 5.0
"""How often gauges read from PostgreSQL or NATS are refreshed (half a typical scrape interval)."""
NO_TEAM = "none"


# --- counting what the ticket workflow records -------------------------------------------------------


def count_recorded(*, channel: str, team: str, events: Iterable[EventSpec]) -> None:
    """Count a ticket's newly recorded events (its record_ticket step, in the workflow worker)."""
    team = team or NO_TEAM
    for event in events:
        if event.type == "ticket.created":
            TICKETS_OPENED.labels(channel).inc()
        elif event.type == "ticket.closed":
            TICKETS_CLOSED.labels(channel, team).inc()
        elif event.type == "ticket.archived":
            TICKETS_ARCHIVED.labels(channel, team).inc()
        elif event.type in ("sla.warning", "sla.overdue"):
            count_alarm(event)
        elif event.type == "dispatch.chased":
            by = "deadline" if event.actor == "system" else "desk"
            CHASES.labels(str(event.payload.get("team_id") or NO_TEAM), by).inc()


def count_alarm(event: EventSpec) -> None:
    """Count an sla.warning or sla.overdue, and how late it fired."""
    kind = str(event.payload.get("deadline") or "unknown")
    alarm = event.type.removeprefix("sla.")
    (DEADLINE_WARNINGS if alarm == "warning" else DEADLINE_OVERDUE).labels(kind).inc()
    late = lateness_seconds(event)
    if late is not None:
        DEADLINE_LATENESS.labels(kind, alarm).observe(late)


def lateness_seconds(event: EventSpec) -> float | None:
    """An sla.warning's or sla.overdue's time minus the time it was due: warn_at for a warning,
    due_at for an overdue (both in the event's payload, ISO 8601). None when the payload lacks it."""
    due = event.payload.get("warn_at" if event.type == "sla.warning" else "due_at")
    if not isinstance(due, str):
        return None
    try:
        due_at = datetime.fromisoformat(due)
    except ValueError:
        return None
    return (event.occurred_at - due_at).total_seconds()


def report_readiness(name: str, up: bool) -> None:
    """A process's Readiness report (desk/loops.py) as a gauge: a backing server's or a loop's."""
    if name in BACKING_SERVERS:  # desk/dependencies.py's checks; any other name is a background loop's
        DEPENDENCY_UP.labels(name).set(1 if up else 0)
    else:
        LOOP_UP.labels(name).set(1 if up else 0)


# --- gauges refreshed from the stores ----------------------------------------------------------------


def set_age(gauge: Gauge, oldest: datetime | None, now: datetime) -> None:
    gauge.set(max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0)


def forget(label: str, *gauges: Gauge) -> None:
    """Stop exporting these labelled gauges' series for ``label`` (an outbox, a consumer) until set again:
    for state every replica shares, a process that no longer measures it must not report its last value."""
    for gauge in gauges:
        gauge.remove(label)


async def refresh_every(
    name: str,
    refresh: Callable[[], Awaitable[None]],
    *,
    unmeasured: Callable[[], None],
    seconds: float = REFRESH_SECONDS,
) -> None:
    """Run ``refresh`` every ``seconds`` until cancelled. A failed refresh calls ``unmeasured`` (the
    gauges are not exported until one succeeds) and is logged once until one does: a store that is away
    is the health service's to tell."""
    failing = False
    try:
        while True:
            try:
                await refresh()
            except Exception as error:
                unmeasured()
                if not failing:
                    log.warning(
                        "%s not refreshed (%s); retrying every %.0f s", name, describe(error), seconds
                    )
                failing = True
            else:
                failing = False
            await asyncio.sleep(seconds)
    finally:
        unmeasured()


CONSUMER_GAUGES = (CONSUMER_PENDING, CONSUMER_ACK_PENDING, CONSUMER_REDELIVERED)


class ConsumerGauges:
    """The pending, ack-pending and redelivered counts of the stream's durable consumers ``wanted``, as
    the last refresh read them: a consumer that is gone, or a refresh that failed, exports nothing."""

    def __init__(self, js: JetStreamContext, wanted: Callable[[str], bool]) -> None:
        self._js = js
        self._wanted = wanted
        self._reported: set[str] = set()

    async def refresh(self) -> None:
        seen: set[str] = set()
        for info in await self._js.consumers_info(STREAM):
            name = info.config.durable_name or info.name
            if name is None or not self._wanted(name):
                continue
            CONSUMER_PENDING.labels(name).set(info.num_pending or 0)
            CONSUMER_ACK_PENDING.labels(name).set(info.num_ack_pending or 0)
            CONSUMER_REDELIVERED.labels(name).set(info.num_redelivered or 0)
            seen.add(name)
        self._forget(self._reported - seen)
        self._reported = seen

    def forget(self) -> None:
        self._forget(self._reported)
        self._reported = set()

    @staticmethod
    def _forget(names: Iterable[str]) -> None:
        for name in names:
            forget(name, *CONSUMER_GAUGES)


def watch_consumers(
    js: JetStreamContext, wanted: Callable[[str], bool]
) -> Callable[[], Coroutine[Any, Any, None]]:
    """A background loop keeping the consumer gauges of the ``wanted`` durable consumers current."""

    async def watch() -> None:
        gauges = ConsumerGauges(js, wanted)
        await refresh_every("consumer gauges", gauges.refresh, unmeasured=gauges.forget)

    return watch


# --- the endpoints -----------------------------------------------------------------------------------


class MetricsEndpoint:
    """A process's /metrics, served by prometheus_client's server on a thread of its own: a scrape is
    answered while the event loop is busy (the workflow worker's often is), reading only the families'
    current values."""

    def __init__(self, server: WSGIServer, thread: threading.Thread, url: str) -> None:
        self._server = server
        self._thread = thread
        self.url = url

    @classmethod
    def start(cls, settings: Settings, process: str) -> MetricsEndpoint | None:
        """Serve on the process's port; None when it is 0. A taken port raises PortInUse (its setting)."""
        url = settings.metrics_url(process)
        if url is None:
            return None
        port = settings.metrics_ports[process]
        try:
            server, thread = start_http_server(port, settings.host)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                setting = metrics_port_setting(process)
                raise PortInUse(port, owner=f"{process} metrics", setting=setting) from None
            raise
        log.info("%s serving metrics on %s", process, url)
        return cls(server, thread, url)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)


def temporal_runtime(settings: Settings, process: str) -> Runtime | None:
    """A Temporal runtime whose SDK metrics are served on the process's own port (None: port 0, the
    SDK's default runtime, without metrics). Named as Prometheus names things: ``_total`` counters,
    seconds; the SDK's metrics all begin ``temporal_``."""
    port = settings.temporal_metrics_ports.get(process, 0)
    if not port:
        return None
    prometheus = PrometheusConfig(
        bind_address=f"{settings.host}:{port}",
        counters_total_suffix=True,
        unit_suffix=True,
        durations_as_seconds=True,
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
    except ValueError as error:
        if "in use" not in str(error):
            raise
        setting = temporal_metrics_port_setting(process)
        raise PortInUse(port, owner=f"{process} Temporal SDK metrics", setting=setting) from None


class Stopwatch:
    """Seconds since it was made, on the monotonic clock."""

    def __init__(self) -> None:
        self._started = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self._started


def outcome_of(error: BaseException | None) -> str:
    """A call's outcome as a bounded label: "ok", or the desk error's class name (NotFound, …)."""
    return "ok" if error is None else type(error).__name__
