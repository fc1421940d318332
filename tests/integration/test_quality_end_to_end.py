"""Quality inspection from the events to the weekly report, on the real stack, with known numbers.

A week of its own (2025-W30, long over) is filled with events published on the desk's stream the way
the services publish theirs: 50 reports recorded by two agents and 10 reviews on Monday, 20 surveys,
19 reports on Tuesday. From there the desk's own parts do everything: the quality service's consumer
builds the workload ledger, RunDailySampling draws 5 % per post, inspectors inspect what was drawn and
a spot check, and GetQualityReport adds up the week.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import nats
import pytest
from nats.js import JetStreamContext

from desk.event_bus import envelope
from desk.events import STREAM, EventSpec
from desk.proto_fields import timestamp
from helpdesk.v1 import events_pb2, quality_pb2, quality_pb2_grpc
from tests.integration.desk_client import Metadata, auth
from tests.stack import RunningDesk, helpdesk

WEEK = "2025-W30"
MONDAY, TUESDAY = "2025-07-21", "2025-07-22"
AGENT_A, AGENT_B, SENIOR, SURVEYOR = "e2e-agent-a", "e2e-agent-b", "e2e-senior", "e2e-surveyor"
SHANGHAI_MORNING = timedelta(hours=2)  # 10:00 in Shanghai is 02:00 UTC


def _at(day: str, minute: int) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC) + SHANGHAI_MORNING + timedelta(minutes=minute)


def _event(kind: str, ticket_id: str, actor: str, at: datetime, **payload: object) -> EventSpec:
    return EventSpec(
        event_id=f"{ticket_id}/{kind}",
        type=kind,
        subject=f"helpdesk.{kind}",
        ticket_id=ticket_id,
        sequence=1,
        occurred_at=at,
        actor=actor,
        reason="e2e",
        payload=dict(payload),
    )


def _week_of_events(run: str) -> list[EventSpec]:
    """Monday: A records 30, B 20; the senior agent reviews 10 of A's dispatches (7 approved); the
    surveyor records 20 survey answers. Tuesday: A records 19."""
    events: list[EventSpec] = []
    for n in range(50):
        agent = AGENT_A if n < 30 else AGENT_B
        events.append(_event("ticket.created", f"QA{run}M{n:03d}", agent, _at(MONDAY, n), channel="PHONE"))
    for n in range(10):
        verb = "approved" if n < 7 else "rejected"
        work_order = {"work_order_id": f"QA{run}W{n:03d}", "team_id": "network", "proposed_by": AGENT_A}
        events.append(_event(f"review.{verb}", f"QA{run}M{n:03d}", SENIOR, _at(MONDAY, 60 + n), **work_order))
    for n in range(20):
        events.append(
            _event(
                "survey.submitted",
                f"QA{run}S{n:03d}",
                SURVEYOR,
                _at(MONDAY, 90 + n),
                round=1,
                rating="SATISFIED",
            )
        )
    for n in range(19):
        events.append(_event("ticket.created", f"QA{run}T{n:03d}", AGENT_A, _at(TUESDAY, n), channel="PHONE"))
    return events


async def _publish(js: JetStreamContext, event: EventSpec, *, message_id: str | None = None) -> None:
    body = envelope(event, {}).SerializeToString()
    await js.publish(event.subject, body, headers={"Nats-Msg-Id": message_id or event.event_id}, timeout=5)


@pytest.fixture
async def stream(desk: RunningDesk) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(desk.endpoints["nats"])
    try:
        yield client.jetstream()
    finally:
        await client.close()


async def _workload(
    quality: quality_pb2_grpc.QualityServiceStub, day: str, inspector: Metadata
) -> list[quality_pb2.SampledTicket]:
    items: list[quality_pb2.SampledTicket] = []
    page_token = ""
    while True:
        page = await quality.ListWorkload(
            quality_pb2.ListWorkloadRequest(day=day, page_size=100, page_token=page_token),
            metadata=inspector,
        )
        items += [i for i in page.items if i.agent_id.startswith("e2e-")]
        if not (page_token := page.next_page_token):
            return items


async def _ledger_holds(
    quality: quality_pb2_grpc.QualityServiceStub, day: str, count: int, inspector: Metadata
) -> None:
    for _ in range(300):
        if len(await _workload(quality, day, inspector)) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"the ledger has {len(await _workload(quality, day, inspector))} items of {day}, not {count}"
    )


def _scores(card: quality_pb2.Scorecard, score: int) -> list[quality_pb2.CriterionScore]:
    return [quality_pb2.CriterionScore(criterion=c.criterion, score=score) for c in card.criteria]


async def _quality_events(js: JetStreamContext) -> list[events_pb2.EventEnvelope]:
    subscription = await js.pull_subscribe("helpdesk.quality.>", stream=STREAM)
    seen: list[events_pb2.EventEnvelope] = []
    try:
        while True:
            try:
                messages = await subscription.fetch(100, timeout=1)
            except TimeoutError:  # nats-py's own, or asyncio's from fetch's second wait
                return seen
            for message in messages:
                seen.append(events_pb2.EventEnvelope.FromString(message.data))
                await message.ack()
    finally:
        await subscription.unsubscribe()


async def test_a_week_from_events_to_the_weekly_report(desk: RunningDesk, stream: JetStreamContext) -> None:
    quality = quality_pb2_grpc.QualityServiceStub(desk.channel("quality"))
    inspector = auth(desk.token("qa_inspector"))
    run = uuid.uuid4().hex[:6].upper()
    events = _week_of_events(run)
    for event in events:
        await _publish(stream, event)
    for event in events[:5]:  # a replayed stream: the same events again under other message ids
        await _publish(stream, event, message_id=f"replayed-{event.event_id}")
    await _ledger_holds(quality, MONDAY, 80, inspector)
    await _ledger_holds(quality, TUESDAY, 19, inspector)
    assert len(await _workload(quality, MONDAY, inspector)) == 80  # the replayed five counted once

    samples = await _sample_the_week(desk, quality, inspector)
    await _inspect(quality, inspector, samples, run)
    report = await quality.GetQualityReport(
        quality_pb2.GetQualityReportRequest(week=WEEK), metadata=inspector
    )
    _assert_the_weeks_numbers(report)

    late = _event("ticket.created", f"QA{run}LATE", AGENT_B, _at(MONDAY, 200), channel="PHONE")
    await _publish(stream, late)
    await _ledger_holds(quality, MONDAY, 81, inspector)
    again = await quality.GetSamplingRun(quality_pb2.GetSamplingRunRequest(day=MONDAY), metadata=inspector)
    assert {s.item_id for s in again.samples} <= {s.item_id for s in samples} and again.late_items == 1
    unchanged = await quality.GetQualityReport(
        quality_pb2.GetQualityReportRequest(week=WEEK), metadata=inspector
    )
    assert unchanged == report  # generated once, never changed

    await _exports_carry_the_numbers(desk)
    published = {e.type for e in await _quality_events(stream) if WEEK in e.event_id or MONDAY in e.event_id}
    assert {"quality.sampled", "quality.reported"} <= published


async def _sample_the_week(
    desk: RunningDesk, quality: quality_pb2_grpc.QualityServiceStub, inspector: Metadata
) -> list[quality_pb2.SampledTicket]:
    samples: list[quality_pb2.SampledTicket] = []
    for day in (MONDAY, TUESDAY):
        request = quality_pb2.RunDailySamplingRequest(day=day)
        samples += (await quality.RunDailySampling(request, metadata=inspector)).samples
    drawn = Counter((s.post, s.agent_id) for s in samples)
    assert drawn == {
        # Monday's agents had 50 items, 3 drawn: 1.8 of them A's, 1.2 B's; Tuesday A's 19 give 1
        (quality_pb2.POST_AGENT, AGENT_A): 3,
        (quality_pb2.POST_AGENT, AGENT_B): 1,
        (quality_pb2.POST_SENIOR_AGENT, SENIOR): 1,
        (quality_pb2.POST_SURVEYOR, SURVEYOR): 1,
    }
    env = {**os.environ, "HELPDESK_DATA_DIR": str(desk.data_dir)}
    code, printed = await helpdesk("qa", "verify", MONDAY, env=env)
    assert code == 0 and "MATCH" in printed, printed
    return samples


async def _inspect(
    quality: quality_pb2_grpc.QualityServiceStub,
    inspector: Metadata,
    samples: list[quality_pb2.SampledTicket],
    run: str,
) -> None:
    """Every sampled item at 80 but one of A's at 60 with a violation; then one of two spot-checked at 70."""
    answer = await quality.ListScorecards(quality_pb2.ListScorecardsRequest(), metadata=inspector)
    cards = {c.post: c for c in answer.scorecards}
    weak = next(s for s in samples if s.agent_id == AGENT_A)
    for n, sample in enumerate(samples):
        low = sample.item_id == weak.item_id
        violations = [quality_pb2.InspectionViolation(code="RECORD_INCOMPLETE", note="no address")]
        request = quality_pb2.RecordInspectionRequest(
            item_id=sample.item_id,
            scores=_scores(cards[sample.post], 60 if low else 80),
            violations=violations if low else [],
            request_id=f"e2e-{run}-{n}",
        )
        assert (await quality.RecordInspection(request, metadata=inspector)).score == (60 if low else 80)
    spot = await quality.SpotCheck(
        quality_pb2.SpotCheckRequest(
            agent_id=AGENT_B,
            window_start=timestamp(_at(MONDAY, 0)),
            window_end=timestamp(_at(TUESDAY, 0)),
            size=2,
            reason="a customer complained about the Monday morning calls",
            request_id=f"e2e-{run}-spot",
        ),
        metadata=inspector,
    )
    assert len(spot.items) == 2 and {i.agent_id for i in spot.items} == {AGENT_B}
    request = quality_pb2.RecordInspectionRequest(
        item_id=spot.items[0].item_id,
        scores=_scores(cards[quality_pb2.POST_AGENT], 70),
        request_id=f"e2e-{run}-spot-0",
    )
    await quality.RecordInspection(request, metadata=inspector)


def _assert_the_weeks_numbers(report: quality_pb2.QualityReport) -> None:
    assert report.final and (report.first_day, report.last_day) == (MONDAY, "2025-07-27")
    assert (report.sampled, report.spot_checked, report.inspected) == (6, 2, 7)
    assert report.mean_score == pytest.approx((60 + 5 * 80 + 70) / 7, abs=0.01)
    people = {(p.post, p.agent_id): p for p in report.people}
    a = people[quality_pb2.POST_AGENT, AGENT_A]
    assert (a.items, a.sampled, a.inspected, a.violations) == (49, 3, 3, 1)
    assert a.mean_score == pytest.approx((60 + 80 + 80) / 3, abs=0.01)
    b = people[quality_pb2.POST_AGENT, AGENT_B]
    assert (b.items, b.sampled, b.spot_checked, b.inspected) == (20, 1, 2, 2)
    assert [(t.approved, t.rejected) for t in report.transfers if t.agent_id == AGENT_A] == [(7, 3)]
    by_a = [v for v in report.violations_by_person if v.agent_id == AGENT_A and v.source == "INSPECTION"]
    assert [(v.code, v.count) for v in by_a] == [("RECORD_INCOMPLETE", 1)]


async def _exports_carry_the_numbers(desk: RunningDesk) -> None:
    headers = {"Authorization": f"Bearer {desk.token('manager')}"}
    async with httpx.AsyncClient(
        base_url=desk.endpoints["http"]["intake"], headers=headers, timeout=30
    ) as http:
        rows = list(csv.reader(io.StringIO((await http.get(f"/v1/quality/reports/{WEEK}.csv")).text)))
        assert any(AGENT_A in row for row in rows)
        page = await http.get(f"/v1/quality/reports/{WEEK}.html")
        assert page.status_code == 200 and AGENT_A in page.text and "75.7" in page.text


async def test_only_inspectors_and_managers_run_quality(desk: RunningDesk) -> None:
    quality = quality_pb2_grpc.QualityServiceStub(desk.channel("quality"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await quality.RunDailySampling(
            quality_pb2.RunDailySamplingRequest(day=MONDAY), metadata=auth(desk.token("agent"))
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
