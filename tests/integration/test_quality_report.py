"""The weekly QA report on the real stack: known rows in the quality tables and dispatch's violations
ledger (put there by SQL, in weeks of 2025 no other test touches), GetQualityReport's numbers, a
report that never changes once stored, one report under concurrent callers, the refusals, the
current week's numbers so far, and the report as JSON, CSV and a page over HTTP and from the CLI.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import grpc
import httpx
import pytest

from helpdesk.v1 import quality_pb2, quality_pb2_grpc
from services.quality.contract import IsoWeek
from tests.integration.desk_client import auth, bad_fields, stream_events
from tests.stack import PROJECT_ROOT, RunningDesk

Q = quality_pb2
SHANGHAI = "Asia/Shanghai"
W20, W21 = IsoWeek.parse("2025-W20", SHANGHAI), IsoWeek.parse("2025-W21", SHANGHAI)


@pytest.fixture
async def db(desk: RunningDesk) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(desk.endpoints["postgres"], min_size=1, max_size=2)
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


def _quality(desk: RunningDesk) -> quality_pb2_grpc.QualityServiceStub:
    return quality_pb2_grpc.QualityServiceStub(desk.channel("quality"))


async def _report(desk: RunningDesk, week: str, role: str = "qa_inspector") -> Q.QualityReport:
    request = Q.GetQualityReportRequest(week=week)
    report: Q.QualityReport = await _quality(desk).GetQualityReport(
        request, metadata=auth(desk.token(role)), timeout=60
    )
    return report


# --- the week's rows ---


def _at(week: IsoWeek, day: int, hour: int = 10) -> datetime:
    """Local ``hour`` on the week's ``day`` (0 = Monday)."""
    return week.start + timedelta(days=day, hours=hour)


async def _item(
    db: asyncpg.Pool, item_id: str, when: tuple[IsoWeek, int], post: str, staff: str, *,
    kind: str = "RECORD", subject: str = "", outcome: str = "",
) -> None:  # fmt: skip
    """An item of the week's ``day`` (0 = Monday)."""
    week, day = when
    occurred = _at(week, day)
    await db.execute(
        "INSERT INTO quality.items (item_id, day, post, staff_id, kind, ticket_id, event_id, occurred_at,"
        " subject_staff_id, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        item_id, week.first_day + timedelta(days=day), post, staff, kind, f"T-{item_id}", f"E-{item_id}",
        occurred, subject, outcome,
    )  # fmt: skip


async def _sample(db: asyncpg.Pool, day: date, *item_ids: str) -> None:
    await db.execute(
        "INSERT INTO quality.runs (day, key_id, rate_per_mille, ledger_position, population)"
        " VALUES ($1, 'test-key', 50, 0, '[]') ON CONFLICT DO NOTHING",
        day,
    )
    for item_id in item_ids:
        await db.execute(
            "INSERT INTO quality.samples (day, item_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", day, item_id
        )


async def _spot_check(db: asyncpg.Pool, spot_check_id: str, at: datetime, *item_ids: str) -> None:
    await db.execute(
        "INSERT INTO quality.spot_checks (spot_check_id, request_id, reason, scope, population,"
        " requested_by, created_at) VALUES ($1, $1, 'complaint', '{}', $2, 'qa-1', $3)",
        spot_check_id, len(item_ids), at,
    )  # fmt: skip
    for item_id in item_ids:
        await db.execute(
            "INSERT INTO quality.spot_check_items (spot_check_id, item_id) VALUES ($1, $2)",
            spot_check_id,
            item_id,
        )


async def _inspect(
    db: asyncpg.Pool,
    item_id: str,
    at: datetime,
    scores: dict[str, int],
    violations: dict[str, str] | None = None,
) -> None:
    """Scored per criterion; ``violations``: those named, ledger id to code, stored as RecordInspection
    stores them."""
    score = round(sum(scores.values()) / len(scores))
    named = [{"code": code, "note": "", "violation_id": v} for v, code in (violations or {}).items()]
    await db.execute(
        "INSERT INTO quality.inspections (inspection_id, item_id, request_id, origin, inspector, score,"
        " scores, violations, inspected_at)"
        " VALUES ($1, $2, $1, 'DAILY', 'qa-1', $3, $4::jsonb, $5::jsonb, $6) ON CONFLICT DO NOTHING",
        f"I-{item_id}", item_id, score,
        json.dumps([{"criterion": c, "score": s, "note": ""} for c, s in scores.items()]),
        json.dumps(named), at,
    )  # fmt: skip


async def _violation(
    db: asyncpg.Pool, violation_id: str, at: datetime, source: str, *, agent: str, team: str, code: str = ""
) -> None:
    """Into dispatch's ledger, as its record_violation activity writes it."""
    await db.execute(
        "INSERT INTO dispatch.violations (violation_id, ticket_id, team_id, deadline_kind, work_order_id,"
        " due_at, recorded_at, agent_id, source, code) VALUES ($1, $2, $3, $4, '', $5, $5, $6, $7, $8)",
        violation_id, f"T-{violation_id}", team, "RESOLUTION" if source == "DEADLINE" else "", at, agent,
        source, code,
    )  # fmt: skip


async def _week_20(db: asyncpg.Pool) -> None:
    """Two agents, a senior agent's reviews, a surveyor; samples, a spot check, inspections (one of them
    the Monday after), violations of every source; and last week's work inspected this week."""
    records = [(0, "qr-agent-1"), (0, "qr-agent-1"), (2, "qr-agent-1"), (6, "qr-agent-2")]
    for n, (day, staff) in enumerate(records):
        await _item(db, f"w20-rec-{n}", (W20, day), "AGENT", staff)
    await _item(db, "w20-rev-1", (W20, 1), "SENIOR_AGENT", "qr-senior", kind="REVIEW", subject="qr-agent-1",
                outcome="APPROVED")  # fmt: skip
    await _item(db, "w20-rev-2", (W20, 3), "SENIOR_AGENT", "qr-senior", kind="REVIEW", subject="qr-agent-1",
                outcome="REJECTED")  # fmt: skip
    await _item(db, "w20-cb-1", (W20, 4), "SURVEYOR", "qr-surveyor", kind="CALLBACK")
    await _item(db, "w19-late", (W20.previous(), 6), "AGENT", "qr-agent-2")  # last week's work
    await _sample(db, W20.first_day, "w20-rec-0")
    await _sample(db, W20.first_day + timedelta(days=6), "w20-rec-3")  # Sunday's, drawn on Monday
    await _spot_check(db, "w20-spot", _at(W20, 4), "w20-cb-1", "w19-late")
    await _inspect(
        db,
        "w20-rec-0",
        _at(W20, 1),
        {"record_completeness": 60, "attitude": 80},
        {"w20-v1": "RECORD_INCOMPLETE"},
    )
    await _inspect(db, "w20-cb-1", _at(W20, 5), {"nothing_missed": 90, "attitude": 100})
    await _inspect(db, "w20-rec-3", W20.end + timedelta(hours=9), {"record_completeness": 50, "attitude": 70})
    await _inspect(
        db, "w19-late", W20.start, {"record_completeness": 10, "attitude": 10}, {"w19-v": "WRONG_ANSWER"}
    )
    # The ledger: the inspections' violations as handed over, as of their inspection; the others.
    await _violation(db, "w20-v1", _at(W20, 1), "INSPECTION", agent="qr-agent-1", team="service-desk",
                     code="RECORD_INCOMPLETE")  # fmt: skip
    await _violation(db, "w19-v", W20.start, "INSPECTION", agent="qr-agent-2", team="service-desk",
                     code="WRONG_ANSWER")  # fmt: skip
    sunday_late, monday_early = W20.end - timedelta(minutes=1), W20.start - timedelta(seconds=1)
    await _violation(db, "w20-v2", sunday_late, "DEADLINE", agent="qr-eng", team="network")
    await _violation(db, "w20-v3", _at(W20, 3), "INVESTIGATION", agent="qr-agent-2", team="desk")
    await _violation(db, "w20-v4", monday_early, "DEADLINE", agent="qr-eng", team="network")  # W19's


async def test_a_finished_week_gives_its_known_numbers_and_never_changes(
    desk: RunningDesk, db: asyncpg.Pool
) -> None:
    await _week_20(db)
    report = await _report(desk, "2025-W20")

    assert (report.week, report.first_day, report.last_day, report.final) == (
        "2025-W20", "2025-05-12", "2025-05-18", True,
    )  # fmt: skip
    assert (report.sampled, report.spot_checked, report.inspected) == (2, 1, 3)
    assert report.mean_score == 75.0  # (70 + 95 + 60) / 3: Sunday's sample inspected on Monday counts
    people = {(p.post, p.agent_id): p for p in report.people}
    one = people[Q.POST_AGENT, "qr-agent-1"]
    assert (one.items, one.sampled, one.spot_checked, one.inspected, one.mean_score, one.violations) == (
        3, 1, 0, 1, 70.0, 1,
    )  # fmt: skip
    two = people[Q.POST_AGENT, "qr-agent-2"]
    assert (two.items, two.sampled, two.spot_checked, two.inspected, two.mean_score, two.violations) == (
        1,
        1,
        0,
        1,
        60.0,
        1,
    )  # fmt: skip (last week's item, spot-checked and inspected this week, is last week's)
    assert people[Q.POST_SURVEYOR, "qr-surveyor"].mean_score == 95.0
    criteria = {(c.post, c.criterion): (c.mean_score, c.inspected) for c in report.criteria}
    assert criteria[Q.POST_AGENT, "record_completeness"] == (55.0, 2)
    assert criteria[Q.POST_SURVEYOR, "nothing_missed"] == (90.0, 1)
    by_person = {(t.agent_id, t.source, t.code): t.count for t in report.violations_by_person}
    assert by_person == {
        ("qr-agent-1", "INSPECTION", "RECORD_INCOMPLETE"): 1,
        ("qr-agent-2", "INVESTIGATION", ""): 1,
        ("qr-eng", "DEADLINE", ""): 1,  # the one a second before Monday 00:00 is last week's
    }
    assert {(t.team_id, t.source): t.count for t in report.violations_by_team} == {
        ("network", "DEADLINE"): 1,
        ("desk", "INVESTIGATION"): 1,
        ("service-desk", "INSPECTION"): 1,
    }
    assert (report.weakest[0].post, report.weakest[0].criterion) == (Q.POST_AGENT, "record_completeness")
    assert [(t.agent_id, t.approved, t.rejected) for t in report.transfers] == [("qr-agent-1", 1, 1)]

    # Stored once, with its event; an inspection added to the week later changes nothing.
    await _inspect(db, "w20-rec-1", datetime.now(UTC), {"record_completeness": 0, "attitude": 0})
    assert await _report(desk, "2025-W20") == report
    assert await db.fetchval("SELECT count(*) FROM quality.reports WHERE week = '2025-W20'") == 1
    reported = await stream_events(
        desk.endpoints["nats"],
        lambda e: e.type == "quality.reported" and e.event_id.endswith("/2025-W20"),
        until=lambda found: len(found) >= 1,
    )
    assert len(reported) == 1
    assert reported[0].envelope.payload["inspected"] == 3


async def _week_21(db: asyncpg.Pool) -> None:
    """One agent's sampled, inspected record (every test of the week puts it there: once)."""
    await _item(db, "w21-rec-0", (W21, 2), "AGENT", "qr-agent-3")
    await _sample(db, W21.first_day + timedelta(days=2), "w21-rec-0")
    await _inspect(db, "w21-rec-0", _at(W21, 3), {"record_completeness": 75, "attitude": 85})


async def test_concurrent_callers_get_one_report(desk: RunningDesk, db: asyncpg.Pool) -> None:
    await _week_21(db)
    reports = await asyncio.gather(*(_report(desk, "2025-W21") for _ in range(20)))
    assert all(r == reports[0] for r in reports)
    assert (reports[0].sampled, reports[0].inspected, reports[0].mean_score) == (1, 1, 80.0)
    assert await db.fetchval("SELECT count(*) FROM quality.reports WHERE week = '2025-W21'") == 1


@pytest.mark.parametrize("week", ["2025-20", "2025-W53", "", "2025-W5", "2099-W01"])
async def test_not_a_week_or_one_not_begun_is_refused(desk: RunningDesk, week: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _report(desk, week)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(refused.value) == ["week"]


async def test_only_inspectors_and_managers_read_it(desk: RunningDesk, db: asyncpg.Pool) -> None:
    await _week_21(db)
    assert (await _report(desk, "2025-W21", role="manager")).week == "2025-W21"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _report(desk, "2025-W21", role="agent")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_current_week_is_the_numbers_so_far_and_not_stored(
    desk: RunningDesk, db: asyncpg.Pool
) -> None:
    week = IsoWeek.containing(datetime.now(UTC), SHANGHAI)
    report = await _report(desk, week.name)
    assert (report.week, report.final) == (week.name, False)
    assert await db.fetchval("SELECT count(*) FROM quality.reports WHERE week = $1", week.name) == 0


# --- over HTTP and from the command line ---


async def test_json_csv_and_the_page_over_http(desk: RunningDesk, db: asyncpg.Pool) -> None:
    await _week_21(db)
    headers = {"Authorization": f"Bearer {desk.token('qa_inspector')}"}
    async with httpx.AsyncClient(base_url=desk.endpoints["http"]["intake"], timeout=60) as client:
        answer = await client.get("/v1/quality/reports/2025-W21", headers=headers)
        assert answer.status_code == 200
        body = answer.json()
        assert (body["week"], body["inspected"], body["mean_score"], body["final"]) == (
            "2025-W21",
            1,
            80.0,
            True,
        )

        sheet = await client.get("/v1/quality/reports/2025-W21.csv", headers=headers)
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(sheet.text)))
        assert rows[0][:2] == ["section", "week"] and rows[1][:2] == ["summary", "2025-W21"]
        assert ["people", "AGENT", "qr-agent-3", "1", "1", "0", "1", "80.00", "0"] in rows

        page = await client.get("/v1/quality/reports/2025-W21.html", headers=headers)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "qr-agent-3" in page.text and "record_completeness" in page.text and "<svg" in page.text
        assert not re.search(r"https?://", page.text)

        refused = await client.get("/v1/quality/reports/2025-20.html", headers=headers)
        assert refused.status_code == 400 and "week" in refused.text
        assert (await client.get("/v1/quality/reports/2025-W21")).status_code == 401


async def test_the_command_line_writes_csv_and_html(
    desk: RunningDesk, db: asyncpg.Pool, tmp_path: Path
) -> None:
    await _week_21(db)
    env = {**os.environ, "HELPDESK_DATA_DIR": str(desk.data_dir)}
    sheet, page = tmp_path / "w21.csv", tmp_path / "w21.html"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli", "qa", "report", "2025-W21", "--csv", str(sheet), "--html", str(page)],
        check=False, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["week"] == "2025-W21"
    assert sheet.read_text().startswith("section,week,")
    assert "qr-agent-3" in page.read_text() and not re.search(r"https?://", page.read_text())
    refused = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli", "qa", "report", "not-a-week"],
        check=False, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0 and "week" in refused.stderr
