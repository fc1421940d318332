"""The daily sampling run (定期检查) on the real stack: what the RPC draws is what the rule computes with the
desk's key; one run per day under concurrent calls; a late item leaves the run as it was; `helpdesk qa
verify` says MATCH, and lists the difference once a stored sample is tampered with; bad days refused;
the daily and weekly Schedules on the dev server, and the daily one firing.

Each test records its ledger items (repository.record_item, as the ledger's consumer does) on a day of
its own in March 2025, which no other test's events reach.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import grpc
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleOverlapPolicy

from desk import db
from desk.payload_codec import encrypted_converter, parse_key
from helpdesk.v1 import quality_pb2, quality_pb2_grpc
from services.quality import repository
from services.quality.contract import LedgerItem
from services.quality.sampling import WorkItem, draw, key_id
from services.quality.schedules import ensure_schedules
from services.quality.scorecards import ItemKind, Post
from tests.integration.desk_client import Metadata, auth, bad_fields, stream_events
from tests.stack import RunningDesk, helpdesk
from workflows.quality_contract import (
    DAILY_SAMPLING_SCHEDULE,
    DAILY_SAMPLING_WORKFLOW,
    WEEKLY_REPORT_SCHEDULE,
    WEEKLY_REPORT_WORKFLOW,
    DailySamplingInput,
)

Q = quality_pb2
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
async def ledger(desk: RunningDesk) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(desk.endpoints["postgres"], max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


class Sampling:
    def __init__(self, desk: RunningDesk, ledger: asyncpg.Pool) -> None:
        self.desk = desk
        self.ledger = ledger
        self.stub = quality_pb2_grpc.QualityServiceStub(desk.channel("quality"))
        self.inspector: Metadata = auth(desk.token("qa_inspector"))
        self.secret = desk.quality_sampling_secret()

    async def record(self, day: date, post: Post, **items_by_person: int) -> list[LedgerItem]:
        """Ledger items of the day, as the ledger's consumer records them from events."""
        batch = uuid.uuid4().hex[:6]
        at = datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(hours=10)
        items = [
            LedgerItem(
                item_id=f"qa-test/{day}/{batch}/{person}/{n}",
                day=day,
                post=post,
                staff_id=person,
                kind=ItemKind.RECORD,
                event_id=f"qa-test-event/{batch}/{person}/{n}",
                occurred_at=at + timedelta(seconds=n),
                ticket_id=f"T-{batch}-{n}",
            )
            for person, count in items_by_person.items()
            for n in range(count)
        ]
        for item in items:
            assert await repository.record_item(db=self.ledger, item=item) is not None
        return items

    async def run(self, day: date) -> Q.SamplingRun:
        answer: Q.SamplingRun = await self.stub.RunDailySampling(
            Q.RunDailySamplingRequest(day=day.isoformat()), metadata=self.inspector
        )
        return answer

    async def get(self, day: date) -> Q.SamplingRun:
        answer: Q.SamplingRun = await self.stub.GetSamplingRun(
            Q.GetSamplingRunRequest(day=day.isoformat()), metadata=self.inspector
        )
        return answer

    async def verify(self, day: date, *extra: str) -> tuple[int, str]:
        env = {**os.environ, "HELPDESK_DATA_DIR": str(self.desk.data_dir)}
        return await helpdesk("qa", "verify", day.isoformat(), *extra, env=env)


@pytest.fixture
def sampling(desk: RunningDesk, ledger: asyncpg.Pool) -> Sampling:
    return Sampling(desk, ledger)


def _work(items: list[LedgerItem]) -> list[WorkItem]:
    return [WorkItem(i.item_id, i.post, i.staff_id) for i in items]


def _today() -> date:
    return datetime.now(UTC).astimezone(SHANGHAI).date()


async def test_the_run_draws_what_the_rule_computes_with_the_desks_key(sampling: Sampling) -> None:
    day = date(2025, 3, 1)
    agents = await sampling.record(day, Post.AGENT, **{"agent-a": 100, "agent-b": 60, "agent-c": 40})
    surveyors = await sampling.record(day, Post.SURVEYOR, **{"surveyor-s": 21})
    expected = draw(_work(agents + surveyors), secret=sampling.secret, day=day)

    run = await sampling.run(day)

    assert sorted(s.item_id for s in run.samples) == list(expected.item_ids)
    assert run.key_id == key_id(sampling.secret) == expected.key_id
    assert run.rate_per_mille == 50
    population = {(Q.Post.Name(c.post), c.agent_id): (c.items, c.sampled) for c in run.population}
    assert population == {
        ("POST_AGENT", ""): (200, 10),
        ("POST_AGENT", "agent-a"): (100, 5),
        ("POST_AGENT", "agent-b"): (60, 3),
        ("POST_AGENT", "agent-c"): (40, 2),
        ("POST_SURVEYOR", ""): (21, 2),
        ("POST_SURVEYOR", "surveyor-s"): (21, 2),
    }
    first = run.samples[0]
    assert first.origin == Q.SAMPLE_ORIGIN_DAILY and first.day == day.isoformat()
    assert first.ticket_id and first.agent_id and first.kind == "RECORD"
    assert run.late_items == 0
    assert await sampling.get(day) == run


async def test_twenty_concurrent_calls_make_one_run(sampling: Sampling) -> None:
    day = date(2025, 3, 2)
    await sampling.record(day, Post.AGENT, **{f"agent-{n}": 7 + n for n in range(6)})

    runs = await asyncio.gather(*(sampling.run(day) for _ in range(20)))

    assert all(run == runs[0] for run in runs)
    assert len(runs[0].samples) == 3  # ceil(5 % of 57)
    stored = await sampling.ledger.fetchval("SELECT count(*) FROM quality.runs WHERE day = $1", day)
    assert stored == 1
    event_id = f"quality/sampled/{day}"
    events = await stream_events(
        sampling.desk.endpoints["nats"], lambda e: e.event_id == event_id, until=bool
    )
    assert [e.envelope.type for e in events] == ["quality.sampled"]
    assert events[0].envelope.payload["sampled"] == 3


async def test_a_late_item_is_recorded_and_leaves_the_run_as_it_was(sampling: Sampling) -> None:
    day = date(2025, 3, 3)
    await sampling.record(day, Post.SENIOR_AGENT, **{"senior-1": 30, "senior-2": 10})
    run = await sampling.run(day)

    late = await sampling.record(day, Post.SENIOR_AGENT, **{"senior-3": 1})

    again = await sampling.run(day)
    assert again.samples == run.samples and again.population == run.population
    assert again.ledger_position == run.ledger_position and again.ran_at == run.ran_at
    assert again.late_items == 1 and (await sampling.get(day)).late_items == 1
    workload = await sampling.stub.ListWorkload(
        Q.ListWorkloadRequest(day=day.isoformat(), agent_id="senior-3"), metadata=sampling.inspector
    )
    assert [i.item_id for i in workload.items] == [late[0].item_id]
    assert workload.items[0].ledger_position > run.ledger_position
    status, output = await sampling.verify(day)
    assert (status, output.split()[0]) == (0, "MATCH"), output


async def test_verify_says_match_then_lists_a_tampered_sample(sampling: Sampling) -> None:
    day = date(2025, 3, 4)
    items = await sampling.record(day, Post.AGENT, **{"agent-x": 45, "agent-y": 15})
    run = await sampling.run(day)
    status, output = await sampling.verify(day)
    assert status == 0, output
    assert output.startswith(f"MATCH {day}: 3 of 60 items sampled, key {run.key_id}")

    sampled = run.samples[0].item_id
    unsampled = next(i.item_id for i in items if i.item_id not in {s.item_id for s in run.samples})
    await sampling.ledger.execute(
        "UPDATE quality.samples SET item_id = $3 WHERE day = $1 AND item_id = $2", day, sampled, unsampled
    )

    status, output = await sampling.verify(day)
    assert status == 1, output
    assert f"in the run, not recomputed: {unsampled}" in output
    assert f"recomputed, not in the run: {sampled}" in output
    status, output = await sampling.verify(day, "--json")
    answer = json.loads(output)
    assert status == 1 and answer["match"] is False
    assert (answer["only_in_run"], answer["only_recomputed"]) == ([unsampled], [sampled])


async def test_verify_with_another_key_says_so(sampling: Sampling) -> None:
    day = date(2025, 3, 5)
    await sampling.record(day, Post.STATISTICIAN, **{"stat-1": 3})
    run = await sampling.run(day)
    other = sampling.desk.data_dir / f"other-{uuid.uuid4().hex[:6]}.key"
    other.write_text("b3RoZXIgc2VjcmV0IG9mIGVub3VnaCBieXRlcw==")
    status, output = await sampling.verify(day, "--key-file", str(other))
    assert status == 1, output
    assert f"the run was drawn with key {run.key_id}" in output


async def test_a_population_tampered_with_is_listed(sampling: Sampling) -> None:
    day = date(2025, 3, 6)
    await sampling.record(day, Post.DATA_MANAGER, **{"data-1": 10})
    await sampling.run(day)
    await sampling.ledger.execute(
        "UPDATE quality.runs SET population = jsonb_set(population, '{1,items}', '9') WHERE day = $1", day
    )
    status, output = await sampling.verify(day)
    assert status == 1, output
    assert "population DATA_MANAGER data-1: run 9 items, 1 sampled, recomputed 10 items, 1 sampled" in output


async def test_the_workload_pages_through_the_day_in_ledger_order(sampling: Sampling) -> None:
    day = date(2025, 3, 7)
    agents = await sampling.record(day, Post.AGENT, **{"agent-p": 70})
    await sampling.record(day, Post.SURVEYOR, **{"surveyor-p": 5})
    seen: list[Q.SampledTicket] = []
    token = ""
    while True:
        page = await sampling.stub.ListWorkload(
            Q.ListWorkloadRequest(day=day.isoformat(), post=Q.POST_AGENT, page_size=30, page_token=token),
            metadata=sampling.inspector,
        )
        seen.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    assert [i.item_id for i in seen] == [i.item_id for i in agents]
    assert [i.ledger_position for i in seen] == sorted(i.ledger_position for i in seen)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await sampling.stub.ListWorkload(
            Q.ListWorkloadRequest(day=day.isoformat(), post=Q.Post.ValueType(99), page_token="nope"),
            metadata=sampling.inspector,
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "post" in bad_fields(refused.value) or "page_token" in bad_fields(refused.value)


@pytest.mark.parametrize("day", ["", "2025-02-30", "yesterday", "2025-3-1", "2025-W10-1", "+1"])
async def test_a_day_that_is_not_a_past_date_is_refused_naming_the_day(sampling: Sampling, day: str) -> None:
    if day == "+1":
        day = (_today() + timedelta(days=1)).isoformat()
    calls = (
        sampling.stub.RunDailySampling(Q.RunDailySamplingRequest(day=day), metadata=sampling.inspector),
        sampling.stub.GetSamplingRun(Q.GetSamplingRunRequest(day=day), metadata=sampling.inspector),
        sampling.stub.ListWorkload(Q.ListWorkloadRequest(day=day), metadata=sampling.inspector),
    )
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_fields(refused.value) == ["day"]


async def test_today_cannot_be_sampled_before_it_is_over(sampling: Sampling) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await sampling.run(_today())
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await sampling.ledger.fetchval("SELECT count(*) FROM quality.runs WHERE day = $1", _today()) == 0
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await sampling.get(date(2025, 3, 9))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_only_inspectors_and_managers_run_the_sampling(sampling: Sampling) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await sampling.stub.RunDailySampling(
            Q.RunDailySamplingRequest(day="2025-03-10"), metadata=auth(sampling.desk.token("agent"))
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def _temporal(desk: RunningDesk) -> Client:
    key = parse_key((desk.data_dir / "payload.key").read_text().strip())
    return await Client.connect(desk.endpoints["temporal"], data_converter=encrypted_converter(key))


async def test_the_daily_and_weekly_schedules_run_in_the_desks_time_zone(sampling: Sampling) -> None:
    client = await _temporal(sampling.desk)
    daily = await client.get_schedule_handle(DAILY_SAMPLING_SCHEDULE).describe()
    weekly = await client.get_schedule_handle(WEEKLY_REPORT_SCHEDULE).describe()

    for schedule, workflow in ((daily, DAILY_SAMPLING_WORKFLOW), (weekly, WEEKLY_REPORT_WORKFLOW)):
        assert schedule.schedule.spec.time_zone_name == "Asia/Shanghai"
        assert schedule.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert schedule.schedule.policy.catchup_window == timedelta(days=1)
        action = schedule.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == workflow
    next_daily = [t.astimezone(SHANGHAI) for t in daily.info.next_action_times]
    next_weekly = [t.astimezone(SHANGHAI) for t in weekly.info.next_action_times]
    assert next_daily and all((t.hour, t.minute) == (0, 10) for t in next_daily)
    assert {b - a for a, b in itertools.pairwise(next_daily)} == {timedelta(days=1)}
    assert next_weekly and all((t.weekday(), t.hour, t.minute) == (0, 17, 0) for t in next_weekly)
    daily_input = await client.data_converter.decode(action_args(daily.schedule.action), [DailySamplingInput])
    assert daily_input == [DailySamplingInput(day="", time_zone="Asia/Shanghai")]


def action_args(action: object) -> list[Payload]:
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert all(isinstance(arg, Payload) for arg in action.args)  # as described: still encoded
    return [arg for arg in action.args if isinstance(arg, Payload)]


async def test_the_daily_schedule_samples_yesterday_when_triggered(sampling: Sampling) -> None:
    client = await _temporal(sampling.desk)
    yesterday = _today() - timedelta(days=1)
    await client.get_schedule_handle(DAILY_SAMPLING_SCHEDULE).trigger()
    for _ in range(150):
        try:
            run = await sampling.get(yesterday)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND
            await asyncio.sleep(0.2)
            continue
        assert run.day == yesterday.isoformat() and run.key_id == key_id(sampling.secret)
        return
    pytest.fail(f"no run for {yesterday} 30 s after the schedule was triggered")


async def test_replicas_starting_at_once_leave_one_schedule_each_and_a_pause_in_place(
    sampling: Sampling,
) -> None:
    client = await _temporal(sampling.desk)
    daily = client.get_schedule_handle(DAILY_SAMPLING_SCHEDULE)
    await daily.pause(note="audit in progress")
    try:
        await asyncio.gather(*(ensure_schedules(client, time_zone="Asia/Shanghai") for _ in range(4)))
        described = await daily.describe()
        assert described.schedule.state.paused and described.schedule.state.note == "audit in progress"
    finally:
        await daily.unpause()
    listed = [s.id async for s in await client.list_schedules()]
    assert sorted(i for i in listed if i.startswith("quality-")) == sorted(
        [DAILY_SAMPLING_SCHEDULE, WEEKLY_REPORT_SCHEDULE]
    )


async def test_qa_sample_draws_the_day_and_names_a_bad_one(sampling: Sampling) -> None:
    day = date(2025, 3, 8)
    await sampling.record(day, Post.AGENT, **{"agent-cli": 25})
    env = {**os.environ, "HELPDESK_DATA_DIR": str(sampling.desk.data_dir)}
    status, output = await helpdesk("qa", "sample", day.isoformat(), "--json", env=env)
    assert status == 0, output
    printed = json.loads(output)
    assert printed["day"] == day.isoformat() and len(printed["samples"]) == 2
    assert (
        printed["samples"]
        == json.loads((await helpdesk("qa", "sample", day.isoformat(), "--json", env=env))[1])["samples"]
    )
    status, output = await helpdesk("qa", "sample", "2025-13-01", env=env)
    assert status == 1 and "day" in output, output
