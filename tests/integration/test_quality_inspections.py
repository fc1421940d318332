"""Spot checks and inspections over gRPC on the real stack (issue 14, items 3 and 4).

The workload ledger is filled with ``repository.record_item`` on days of these tests' own, far in the
past (April 2025), with people and tickets of each test's own, so no test sees another's items. A
daily sample is written by SQL as a run would leave it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf import timestamp_pb2

from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, quality_pb2, quality_pb2_grpc
from services.quality import repository
from services.quality.contract import LedgerItem
from services.quality.scorecards import SCORECARDS, ItemKind, Post
from tests.integration.desk_client import auth, bad_fields, stream_events, types
from tests.stack import PROJECT_ROOT, RunningDesk

Q = quality_pb2
DAY = date(2025, 4, 3)
SAMPLED_DAY = date(2025, 4, 4)
MORNING = datetime(2025, 4, 2, 16, 0, tzinfo=UTC)  # 00:00 on DAY in Asia/Shanghai
AGENT_CRITERIA = [c.criterion for c in SCORECARDS[Post.AGENT].criteria]


def timestamp(at: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(at)
    return ts


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Desk:
    quality: quality_pb2_grpc.QualityServiceStub
    dispatch: dispatch_pb2_grpc.DispatchServiceStub
    inspector: tuple[tuple[str, str], ...]
    manager: tuple[tuple[str, str], ...]
    agent: tuple[tuple[str, str], ...]
    db: asyncpg.Connection
    nats: str

    async def item(
        self,
        *,
        staff_id: str,
        ticket_id: str = "",
        at: datetime = MORNING + timedelta(hours=2),
        post: Post = Post.AGENT,
        kind: ItemKind = ItemKind.RECORD,
        team_id: str = "",
    ) -> str:
        item_id = new_id(f"{ticket_id or 'work'}/{kind.lower()}")
        item = LedgerItem(
            item_id=item_id,
            day=DAY,
            post=post,
            staff_id=staff_id,
            kind=kind,
            event_id=new_id("event"),
            occurred_at=at,
            ticket_id=ticket_id,
            team_id=team_id,
            detail="ticket.created",
        )
        assert await repository.record_item(db=self.db, item=item) is not None
        return item_id

    async def spot(self, **fields: object) -> Q.Inspection:
        request = Q.SpotCheckRequest(reason="customer complaint", request_id=new_id("spot"))
        for name, value in fields.items():
            if isinstance(value, datetime):
                getattr(request, name).CopyFrom(timestamp(value))
            else:
                setattr(request, name, value)
        answer: Q.Inspection = await self.quality.SpotCheck(request, metadata=self.inspector)
        return answer

    async def sample(self, item_id: str) -> None:
        """Put the item in SAMPLED_DAY's daily sample, as a run leaves it."""
        await self.db.execute(
            "INSERT INTO quality.runs (day, key_id, rate_per_mille, ledger_position, population)"
            " VALUES ($1, 'test-key', 50, 0, '[]'::jsonb) ON CONFLICT (day) DO NOTHING",
            SAMPLED_DAY,
        )
        await self.db.execute(
            "INSERT INTO quality.samples (day, item_id) VALUES ($1, $2)", SAMPLED_DAY, item_id
        )

    async def inspect(self, request: Q.RecordInspectionRequest) -> Q.Inspection:
        answer: Q.Inspection = await self.quality.RecordInspection(request, metadata=self.inspector)
        return answer

    async def stored_inspections(self, item_id: str) -> int:
        count: int = await self.db.fetchval(
            "SELECT count(*) FROM quality.inspections WHERE item_id = $1", item_id
        )
        return count


def scores(**given: int) -> list[Q.CriterionScore]:
    """Every agent criterion at 80 unless given."""
    return [Q.CriterionScore(criterion=c, score=given.get(c, 80)) for c in AGENT_CRITERIA]


@pytest.fixture
async def d(desk: RunningDesk) -> AsyncIterator[Desk]:
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        yield Desk(
            quality=quality_pb2_grpc.QualityServiceStub(desk.channel("quality")),
            dispatch=dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch")),
            inspector=auth(desk.token("qa_inspector")),
            manager=auth(desk.token("manager")),
            agent=auth(desk.token("agent")),
            db=conn,
            nats=desk.endpoints["nats"],
        )
    finally:
        await conn.close()


async def refused(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call  # type: ignore[misc]
    return error.value


async def violations_of(
    d: Desk, agent_id: str, *, count: int, within: float = 30.0
) -> list[common_pb2.Violation]:
    """The person's violations in dispatch's ledger, once there are ``count`` of them."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        listed = await d.dispatch.ListViolations(
            dispatch_pb2.ListViolationsRequest(agent_id=agent_id), metadata=d.inspector
        )
        if len(listed.violations) >= count or asyncio.get_running_loop().time() > deadline:
            return list(listed.violations)
        await asyncio.sleep(0.2)


# --- spot checks ---


async def test_a_spot_check_of_a_ticket_draws_all_its_items_and_a_retry_answers_the_same(d: Desk) -> None:
    ticket_id = new_id("T")
    agent, senior = new_id("agent"), new_id("senior")
    items = {
        await d.item(staff_id=agent, ticket_id=ticket_id),
        await d.item(staff_id=agent, ticket_id=ticket_id, kind=ItemKind.DISPATCH, team_id="network"),
        await d.item(staff_id=senior, ticket_id=ticket_id, post=Post.SENIOR_AGENT, kind=ItemKind.REVIEW),
    }
    await d.item(staff_id=agent, ticket_id=new_id("T"))  # another ticket's

    request = Q.SpotCheckRequest(ticket_id=ticket_id, reason="customer complaint", request_id=new_id("spot"))
    spot = await d.quality.SpotCheck(request, metadata=d.inspector)
    assert {i.item_id for i in spot.items} == items and spot.population == 3
    assert spot.spot_check_id == spot.inspection_id and spot.spot_check_id
    assert (spot.reason, spot.ticket_id, spot.request_id) == (
        "customer complaint",
        ticket_id,
        request.request_id,
    )
    assert {i.origin for i in spot.items} == {Q.SAMPLE_ORIGIN_SPOT}
    assert {i.ticket_id for i in spot.items} == {ticket_id}
    review = next(i for i in spot.items if i.kind == "REVIEW")
    assert (review.agent_id, review.post, review.day) == (senior, Q.POST_SENIOR_AGENT, DAY.isoformat())

    assert await d.quality.SpotCheck(request, metadata=d.manager) == spot  # a retry: the same spot check
    stored = await d.db.fetchval(
        "SELECT count(*) FROM quality.spot_check_items WHERE spot_check_id = $1", spot.spot_check_id
    )
    assert stored == 3
    events = await stream_events(
        d.nats,
        lambda e: e.type == "quality.spot_checked" and spot.spot_check_id in e.event_id,
        until=lambda found: len(found) >= 1,
    )
    assert types(events) == ["quality.spot_checked"]


async def test_a_spot_check_of_a_person_in_a_window_draws_size_items_of_that_slice(d: Desk) -> None:
    agent, other = new_id("agent"), new_id("agent")
    start, end = MORNING, MORNING + timedelta(hours=8)
    inside = {await d.item(staff_id=agent, at=start + timedelta(minutes=20 * n)) for n in range(10)}
    await d.item(staff_id=agent, at=start - timedelta(seconds=1))  # before the window
    await d.item(staff_id=agent, at=end)  # the window's end is not in it
    await d.item(staff_id=other, at=start + timedelta(hours=1))  # someone else's

    spot = await d.spot(agent_id=agent, post=Q.POST_AGENT, window_start=start, window_end=end, size=4)
    drawn = [i.item_id for i in spot.items]
    assert len(set(drawn)) == 4 and set(drawn) <= inside and spot.population == 10
    assert {i.agent_id for i in spot.items} == {agent}

    everything = await d.spot(agent_id=agent, window_start=start, window_end=end, size=1000)
    assert {i.item_id for i in everything.items} == inside and everything.population == 10
    other_post = await refused(d.spot(agent_id=agent, post=Q.POST_SURVEYOR, size=5))
    assert other_post.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_spot_check_refusals_name_the_field_and_store_nothing(d: Desk) -> None:
    agent = new_id("agent")
    await d.item(staff_id=agent)
    cases = {
        "reason": Q.SpotCheckRequest(agent_id=agent, size=1),
        "size": Q.SpotCheckRequest(agent_id=agent, reason="r", size=0),
        "post": Q.SpotCheckRequest(agent_id=agent, reason="r", size=1, post=99),  # type: ignore[arg-type]
        "request_id": Q.SpotCheckRequest(agent_id=agent, reason="r", size=1, request_id="x" * 201),
    }
    for field, request in cases.items():
        if not request.request_id:
            request.request_id = new_id("spot")
        error = await refused(d.quality.SpotCheck(request, metadata=d.inspector))
        assert bad_fields(error) == [field], field
    too_many = Q.SpotCheckRequest(agent_id=agent, reason="r", size=1001, request_id=new_id("spot"))
    assert bad_fields(await refused(d.quality.SpotCheck(too_many, metadata=d.inspector))) == ["size"]
    backwards = Q.SpotCheckRequest(
        agent_id=agent,
        reason="r",
        size=1,
        request_id=new_id("spot"),
        window_start=timestamp(MORNING),
        window_end=timestamp(MORNING),
    )
    assert bad_fields(await refused(d.quality.SpotCheck(backwards, metadata=d.inspector))) == ["window_end"]
    nobody = Q.SpotCheckRequest(agent_id=new_id("agent"), reason="r", size=3, request_id=new_id("spot"))
    empty = await refused(d.quality.SpotCheck(nobody, metadata=d.inspector))
    assert empty.code() == grpc.StatusCode.FAILED_PRECONDITION
    stored = await d.db.fetchval(
        "SELECT count(*) FROM quality.spot_checks WHERE scope->>'agent_id' = ANY($1::text[])",
        [agent, nobody.agent_id],
    )
    assert stored == 0


async def test_twenty_concurrent_retries_of_a_spot_check_store_one(d: Desk) -> None:
    agent = new_id("agent")
    for n in range(30):
        await d.item(staff_id=agent, at=MORNING + timedelta(minutes=n))
    request = Q.SpotCheckRequest(agent_id=agent, size=5, reason="audit", request_id=new_id("spot"))
    answers = await asyncio.gather(*(d.quality.SpotCheck(request, metadata=d.inspector) for _ in range(20)))
    assert all(answer == answers[0] for answer in answers) and len(answers[0].items) == 5
    stored = await d.db.fetchval(
        "SELECT count(*) FROM quality.spot_checks WHERE request_id = $1", request.request_id
    )
    assert stored == 1


# --- inspections ---


async def test_an_inspection_is_stored_scored_by_the_mean_and_its_violation_reaches_the_ledger(
    d: Desk,
) -> None:
    agent, ticket_id = new_id("agent"), new_id("T")
    item_id = await d.item(staff_id=agent, ticket_id=ticket_id, kind=ItemKind.DISPATCH, team_id="network")
    await d.spot(ticket_id=ticket_id)
    request = Q.RecordInspectionRequest(
        item_id=item_id,
        scores=scores(record_completeness=55, answer_speed=100),
        violations=[Q.InspectionViolation(code="RECORD_INCOMPLETE", note="no fault number")],
        findings="the fault number was not asked for",
        request_id=new_id("inspect"),
        inspector="someone-else",  # ignored: the inspector is the caller
        score=3,  # ignored: the mean
    )
    inspection = await d.inspect(request)
    expected = round((55 + 100 + 80 * (len(AGENT_CRITERIA) - 2)) / len(AGENT_CRITERIA))
    assert inspection.score == expected
    assert (inspection.item.item_id, inspection.item.origin, inspection.ticket_id) == (
        item_id,
        Q.SAMPLE_ORIGIN_SPOT,
        ticket_id,
    )
    assert inspection.inspector == "dev-qa_inspector"
    [violation] = inspection.violations
    assert violation.violation_id == f"inspection/{inspection.inspection_id}/1"

    row = await d.db.fetchrow(
        "SELECT score, origin, inspector, findings FROM quality.inspections WHERE item_id = $1", item_id
    )
    assert row is not None
    assert (row["score"], row["origin"], row["findings"]) == (expected, "SPOT", request.findings)
    [ledger] = await violations_of(d, agent, count=1)
    assert (ledger.violation_id, ledger.source, ledger.agent_id, ledger.team_id, ledger.ticket_id) == (
        violation.violation_id,
        common_pb2.VIOLATION_SOURCE_INSPECTION,
        agent,
        "network",
        ticket_id,
    )
    assert (ledger.code, ledger.note) == ("RECORD_INCOMPLETE", "no fault number")
    # Dated when the work was done: the week's report of that week counts it.
    assert ledger.recorded_at.ToDatetime(tzinfo=UTC) == MORNING + timedelta(hours=2)
    for _ in range(50):
        marked = await d.db.fetchval(
            "SELECT violations_recorded_at FROM quality.inspections WHERE item_id = $1", item_id
        )
        if marked is not None:
            break
        await asyncio.sleep(0.2)
    assert marked is not None
    events = await stream_events(
        d.nats,
        lambda e: e.type == "quality.inspected" and inspection.inspection_id in e.event_id,
        until=lambda found: len(found) >= 1,
    )
    assert types(events) == ["quality.inspected"]


async def test_a_daily_sampled_item_is_inspected_by_its_ticket_and_only_once(d: Desk) -> None:
    agent, ticket_id = new_id("agent"), new_id("T")
    item_id = await d.item(staff_id=agent, ticket_id=ticket_id)
    await d.item(staff_id=agent, ticket_id=ticket_id, kind=ItemKind.SUPPLEMENT)  # not sampled
    await d.sample(item_id)
    request = Q.RecordInspectionRequest(ticket_id=ticket_id, scores=scores(), request_id=new_id("inspect"))
    first = await d.inspect(request)
    assert (first.item.item_id, first.item.origin, first.score, list(first.violations)) == (
        item_id,
        Q.SAMPLE_ORIGIN_DAILY,
        80,
        [],
    )
    assert await d.inspect(request) == first  # the same request again: the same answer
    again = Q.RecordInspectionRequest(item_id=item_id, scores=scores(), request_id=new_id("inspect"))
    second = await refused(d.inspect(again))
    assert second.code() == grpc.StatusCode.ALREADY_EXISTS
    assert await d.stored_inspections(item_id) == 1
    nothing_left = await refused(d.inspect(Q.RecordInspectionRequest(
        ticket_id=ticket_id, scores=scores(), request_id=new_id("inspect")
    )))  # fmt: skip
    assert nothing_left.code() == grpc.StatusCode.FAILED_PRECONDITION
    # Spot checks draw only what is not inspected yet.
    spot = await d.spot(ticket_id=ticket_id)
    assert [i.kind for i in spot.items] == ["SUPPLEMENT"]


async def test_bad_inspections_name_the_field_and_store_nothing(d: Desk) -> None:
    agent = new_id("agent")
    item_id = await d.item(staff_id=agent)
    await d.sample(item_id)

    def request(**fields: object) -> Q.RecordInspectionRequest:
        base: dict[str, object] = {"item_id": item_id, "scores": scores(), "request_id": new_id("inspect")}
        return Q.RecordInspectionRequest(**{**base, **fields})  # type: ignore[arg-type]

    too_high = scores()
    too_high[2].score = 101
    unknown = scores()
    unknown[0].criterion = "review_correctness"  # a senior agent's, not an agent's
    repeated = [*scores(), Q.CriterionScore(criterion=AGENT_CRITERIA[0], score=50)]
    negative = scores()
    negative[1].score = -1
    cases = {
        "scores[2].score": request(scores=too_high),
        "scores[1].score": request(scores=negative),
        "scores[0].criterion": request(scores=unknown),
        "scores": request(scores=scores()[1:]),
        "violations[1].code": request(
            violations=[
                Q.InspectionViolation(code="RECORD_INCOMPLETE"),
                Q.InspectionViolation(code="LATE_REPORT"),
            ]
        ),
        "request_id": request(request_id=""),
        "findings": request(findings="x" * 4001),
    }
    for field, bad in cases.items():
        error = await refused(d.inspect(bad))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert field in bad_fields(error), (field, bad_fields(error))
    assert bad_fields(await refused(d.inspect(request(scores=repeated)))) == ["scores"]
    nameless = await refused(d.inspect(request(item_id="")))
    assert bad_fields(nameless) == ["item_id"]
    assert await d.stored_inspections(item_id) == 0
    unknown_item = await refused(d.inspect(request(item_id="no/such/item")))
    assert unknown_item.code() == grpc.StatusCode.NOT_FOUND


async def test_concurrent_inspections_of_one_item_store_one(d: Desk) -> None:
    item_id = await d.item(staff_id=new_id("agent"))
    await d.sample(item_id)
    same = Q.RecordInspectionRequest(item_id=item_id, scores=scores(), request_id=new_id("inspect"))
    answers = await asyncio.gather(*(d.inspect(same) for _ in range(10)))
    assert all(answer == answers[0] for answer in answers)
    contested = await d.item(staff_id=new_id("agent"))
    await d.sample(contested)
    rivals = [
        Q.RecordInspectionRequest(item_id=contested, scores=scores(), request_id=new_id("inspect"))
        for _ in range(6)
    ]
    results = await asyncio.gather(*(d.inspect(rival) for rival in rivals), return_exceptions=True)
    won = [r for r in results if isinstance(r, Q.Inspection)]
    lost = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1 and {r.code() for r in lost} == {grpc.StatusCode.ALREADY_EXISTS}
    assert await d.stored_inspections(contested) == 1
    assert await d.stored_inspections(item_id) == 1


async def test_an_item_in_no_sample_and_no_spot_check_cannot_be_inspected(d: Desk) -> None:
    item_id = await d.item(staff_id=new_id("agent"))
    request = Q.RecordInspectionRequest(item_id=item_id, scores=scores(), request_id=new_id("inspect"))
    error = await refused(d.inspect(request))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await d.stored_inspections(item_id) == 0


async def test_an_agent_may_neither_spot_check_nor_inspect(d: Desk) -> None:
    item_id = await d.item(staff_id=new_id("agent"))
    spot = Q.SpotCheckRequest(reason="r", size=1, request_id=new_id("spot"))
    inspect = Q.RecordInspectionRequest(item_id=item_id, scores=scores(), request_id=new_id("inspect"))
    for call in (
        d.quality.SpotCheck(spot, metadata=d.agent),
        d.quality.RecordInspection(inspect, metadata=d.agent),
    ):
        assert (await refused(call)).code() == grpc.StatusCode.PERMISSION_DENIED


async def test_violations_of_an_inspection_whose_workflow_never_started_reach_the_ledger(d: Desk) -> None:
    """As a crash between the inspection's commit and its workflow's start would leave it."""
    agent = new_id("agent")
    item_id = await d.item(staff_id=agent, post=Post.SURVEYOR, kind=ItemKind.CALLBACK)
    inspection_id = new_id("insp")
    violation_id = f"inspection/{inspection_id}/1"
    card = SCORECARDS[Post.SURVEYOR]
    await d.db.execute(
        "INSERT INTO quality.inspections (inspection_id, item_id, request_id, origin, inspector, score,"
        " scores, violations, findings, inspected_at) VALUES ($1, $2, $3, 'SPOT', 'dev-qa_inspector', 60,"
        " $4::jsonb, $5::jsonb, '', now() - interval '1 minute')",
        inspection_id,
        item_id,
        new_id("inspect"),
        json.dumps([{"criterion": c.criterion, "score": 60, "note": ""} for c in card.criteria]),
        json.dumps([{"code": "MISSED", "note": "callback forgotten", "violation_id": violation_id}]),
    )
    [ledger] = await violations_of(d, agent, count=1, within=45.0)
    assert (ledger.violation_id, ledger.source, ledger.code, ledger.team_id) == (
        violation_id,
        common_pb2.VIOLATION_SOURCE_INSPECTION,
        "MISSED",
        "service-desk",
    )
    for _ in range(100):
        marked = await d.db.fetchval(
            "SELECT violations_recorded_at FROM quality.inspections WHERE inspection_id = $1", inspection_id
        )
        if marked is not None:
            break
        await asyncio.sleep(0.2)
    assert marked is not None


# --- the command line ---


def helpdesk(desk: RunningDesk, *argv: str) -> dict[str, Any]:
    """`helpdesk ARGV` into a pipe: its answer as JSON."""
    env = {**os.environ, "HELPDESK_DATA_DIR": str(desk.data_dir), "HELPDESK_TIME_ZONE": "Asia/Shanghai"}
    done = subprocess.run(
        [sys.executable, "-m", "cli", *argv],
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


async def test_qa_spot_and_qa_inspect_on_the_command_line(desk: RunningDesk, d: Desk) -> None:
    agent = new_id("agent")
    mine = {await d.item(staff_id=agent, at=MORNING + timedelta(hours=n)) for n in range(3)}
    await d.item(staff_id=agent, at=MORNING + timedelta(days=1))  # the next day, not in the window
    argv = ["qa", "spot", "--agent", agent, "--post", "agent", "--from", DAY.isoformat()]
    argv += ["--to", (DAY + timedelta(days=1)).isoformat(), "--size", "2", "--reason", "complaint"]
    spot = await asyncio.to_thread(helpdesk, desk, *argv)
    drawn = [item["itemId"] for item in spot["items"]]
    assert len(drawn) == 2 and set(drawn) <= mine and spot["population"] == 3

    argv = ["qa", "inspect", drawn[0], "--violation", "wrong_answer:told to reboot", "--findings", "ok"]
    argv += [arg for c in AGENT_CRITERIA for arg in ("--score", f"{c}={90 if c == 'attitude' else 70}")]
    inspected = await asyncio.to_thread(helpdesk, desk, *argv)
    assert inspected["score"] == round((90 + 70 * (len(AGENT_CRITERIA) - 1)) / len(AGENT_CRITERIA))
    assert inspected["violations"][0]["code"] == "WRONG_ANSWER"
    assert inspected["item"]["origin"] == "SAMPLE_ORIGIN_SPOT"
    [ledger] = await violations_of(d, agent, count=1)
    assert (ledger.code, ledger.note) == ("WRONG_ANSWER", "told to reboot")
