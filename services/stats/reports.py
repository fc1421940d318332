"""Generating a period's report once, with the late corrections of earlier reports; reading them back.

A report is made when its period is over, from the read model's roll-ups (services/stats/rollups.py),
and stored with its ``report.generated`` event in one transaction: from then on it is the answer,
unchanged. One generation at a time per period kind and boundary (a row of ``stats.report_series``
updated first in a repeatable-read transaction), so that twenty concurrent calls store one report,
two reports of the same kind never both claim one correction, and a report's numbers are all read
from one snapshot of the roll-ups.

**Late corrections.** An event the read model applies after the report of its day's period was
generated moves the roll-ups of a day that report froze. Each stored report keeps its counts (its
measures); when the next report of the same kind and boundary is generated, every earlier one's
counts are worked out again from the roll-ups and compared with its frozen counts plus the
corrections issued for it since: what differs is a ``LateCorrection`` line of the new report (the
earlier period, the measure, the delta), recorded so that it is reported once. Only the earlier
reports whose days' roll-up rows changed since last seen (a hash of the rows, one query for all of
them) are worked out again: the cost grows with the late events, not with the reports kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import asyncpg

from desk.db import Executor
from desk.errors import NotFound
from helpdesk.v1 import stats_pb2
from services.stats import events, report_store, rollups
from services.stats.periods import ReportPeriod, parse_report_id
from services.stats.report_store import Correction, StoredReport
from services.stats.report_wire import changes, measures, report_from_json, report_message, report_to_json

ROLLUP_TABLES = "stats.daily, stats.daily_durations, stats.daily_agents"
"""What rollups.period_totals reads."""
GENERATION_ATTEMPTS = 50
"""A generation that waited for another of its kind starts again; 50 is far more than ever wait."""


@dataclass(frozen=True)
class Generated:
    report: stats_pb2.Report
    created: bool  # False: stored before, by an earlier or a concurrent call


class Reports:
    def __init__(self, pool: asyncpg.Pool, time_zone: str) -> None:
        self._pool = pool
        self._time_zone = time_zone

    async def generate(self, period: ReportPeriod, *, actor: str, now: datetime | None = None) -> Generated:
        """The period's report: the stored one, or generated now. The caller checked it is over."""
        for attempt in range(1, GENERATION_ATTEMPTS + 1):
            stored = await report_store.get(self._pool, period.report_id)
            if stored is not None:
                return Generated(report_from_json(stored.report), created=False)
            await report_store.ensure_series(self._pool, period)
            try:
                report = await self._generate_once(period, actor, now or datetime.now(UTC))
            except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError):
                # Another generation of this kind committed while this one waited: look again.
                if attempt == GENERATION_ATTEMPTS:
                    raise
                continue
            if report is not None:
                return Generated(report, created=True)
        raise AssertionError(f"{period.report_id}: no report after {GENERATION_ATTEMPTS} attempts")

    async def _generate_once(self, period: ReportPeriod, actor: str, at: datetime) -> stats_pb2.Report | None:
        """One repeatable-read transaction: the series row first (waiting for, then failing after, a
        concurrent generation of the kind), then every read on one snapshot, and the report, its lines
        and its event stored together. None: the report was stored between the first look and this."""
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            # Before the snapshot (LOCK takes none): a rebuild swapping the roll-up tables in now
            # (services/stats/rebuild.py) finishes first, or waits for this report.
            await conn.execute(f"LOCK TABLE {ROLLUP_TABLES} IN ACCESS SHARE MODE")
            await report_store.claim_series(conn, period)
            if await report_store.get(conn, period.report_id) is not None:
                return None
            return await self._generate(conn, period, actor=actor, at=at)

    async def _generate(
        self, conn: Executor, period: ReportPeriod, *, actor: str, at: datetime
    ) -> stats_pb2.Report:
        totals = await rollups.period_totals(conn, period.first_day, period.last_day)
        found, seen = await self._late_corrections(conn, period)
        lines = [_line(earlier, correction) for earlier, correction in found]
        report = report_message(period, totals, generated_at=at, late_corrections=lines)
        await report_store.insert(
            conn,
            period,
            report=report_to_json(report),
            measures=measures(report),
            generated_by=actor,
            generated_at=at,
        )
        await report_store.insert_corrections(conn, period.report_id, [c for _, c in found])
        own = await report_store.fingerprints(conn, [(period.report_id, period.first_day, period.last_day)])
        await report_store.see_fingerprints(conn, {**seen, **own})
        event = events.report_generated(
            period, actor=actor, at=at, tickets=report.tickets, late_corrections=len(lines)
        )
        await events.queue(conn, event)
        return report

    async def _late_corrections(
        self, conn: Executor, period: ReportPeriod
    ) -> tuple[list[tuple[StoredReport, Correction]], dict[str, int]]:
        """What moved in each earlier report of this kind and boundary since it (and its corrections),
        and the roll-ups' fingerprints of those worked out again. Only an earlier report whose days'
        roll-up rows changed since they were last seen is worked out again (one query finds them)."""
        earlier = await report_store.earlier(conn, period)
        spans = [(r.report_id, r.first_day, r.last_day) for r in earlier]
        now_seen = await report_store.fingerprints(conn, spans)
        last_seen = await report_store.fingerprints_seen(conn, [r.report_id for r in earlier])
        moved = [r for r in earlier if now_seen[r.report_id] != last_seen.get(r.report_id)]
        issued = await report_store.corrections_issued(conn, [r.report_id for r in moved])
        found: list[tuple[StoredReport, Correction]] = []
        for stored in moved:
            found.extend(
                (stored, c) for c in await self._moved(conn, stored, issued.get(stored.report_id, {}))
            )
        return found, {r.report_id: now_seen[r.report_id] for r in moved}

    async def _moved(self, conn: Executor, stored: StoredReport, issued: dict[str, int]) -> list[Correction]:
        """An earlier report's measures now against what it froze plus the corrections since."""
        known = dict(stored.measures)
        for measure, delta in issued.items():
            known[measure] = known.get(measure, 0) + delta
        before = parse_report_id(stored.report_id, self._time_zone)
        totals = await rollups.period_totals(conn, before.first_day, before.last_day)
        now = measures(report_message(before, totals, generated_at=datetime.now(UTC)))
        return [Correction(stored.report_id, m, delta) for m, delta in changes(known, now).items()]

    async def get(self, report_id: str) -> stats_pb2.Report:
        stored = await report_store.get(self._pool, report_id.strip())
        if stored is None:
            raise NotFound("report", report_id)
        return report_from_json(stored.report)

    async def page(
        self, *, period: str, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[stats_pb2.Report], tuple[datetime, str] | None]:
        """A page of reports, newest period first, and where the next page starts (None: the last)."""
        keyset = (after[0].date(), after[1]) if after else None
        rows = await report_store.page(self._pool, period=period, after=keyset, limit=limit)
        reports = [report_from_json(row) for row in rows[:limit]]
        if len(rows) <= limit:
            return reports, None
        last = reports[-1]
        return reports, (datetime.combine(date.fromisoformat(last.period_start), time(), UTC), last.report_id)


def _line(earlier: StoredReport, correction: Correction) -> stats_pb2.LateCorrection:
    return stats_pb2.LateCorrection(
        period_start=earlier.first_day.isoformat(),
        period_end=earlier.last_day.isoformat(),
        measure=correction.measure,
        delta=correction.delta,
    )
