"""A day's sampling run: drawn once from the ledger as it stands, stored with what it saw, never changed.

`run_daily_sampling` is the one writer of ``quality.runs``: the daily sampling workflow's activity
calls it, whether the Schedule, an operator's RunDailySampling or an external scheduler started the
workflow. Everything happens in one transaction under the day's lock: a run already stored comes back
unchanged (so concurrent or repeated calls share one run); otherwise the day's items up to the
ledger's current position are drawn (services/quality/sampling.py), the run, its samples and its
``quality.sampled`` event are stored together. Items recorded later for that day are late: recorded,
counted by GetSamplingRun, never added to the run.
"""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from desk.events import EventSpec
from services.quality import repository
from services.quality.events import quality_event, queue
from services.quality.repository import StoredRun
from services.quality.sampling import Draw, WorkItem, draw

SAMPLING_ACTOR = "quality-sampling"  # the desk itself draws the sample, whoever asked for the run


async def run_daily_sampling(*, pool: asyncpg.Pool, secret: bytes, day: date, now: datetime) -> StoredRun:
    async with pool.acquire() as conn, conn.transaction():
        await repository.hold_day_for_sampling(db=conn, day=day)
        stored = await repository.get_run(db=conn, day=day)
        if stored is not None:
            return stored
        position = await repository.ledger_position(db=conn)
        rows = await repository.day_items(db=conn, day=day, up_to=position)
        drawn = draw(
            [WorkItem(r.item.item_id, r.item.post, r.item.staff_id) for r in rows], secret=secret, day=day
        )
        await repository.insert_run(db=conn, drawn=drawn, ledger_position=position, ran_at=now)
        await queue(conn, _sampled(drawn, position, now))
        stored = await repository.get_run(db=conn, day=day)
    assert stored is not None, "the run was stored in this transaction"
    return stored


def _sampled(drawn: Draw, position: int, at: datetime) -> EventSpec:
    posts = [c for c in drawn.population if not c.staff_id]
    return quality_event(
        "sampled",
        drawn.day.isoformat(),
        actor=SAMPLING_ACTOR,
        at=at,
        payload={
            "day": drawn.day.isoformat(),
            "key_id": drawn.key_id,
            "rate_per_mille": drawn.rate_per_mille,
            "ledger_position": position,
            "items": sum(c.items for c in posts),
            "sampled": len(drawn.item_ids),
            "posts": [{"post": str(c.post), "items": c.items, "sampled": c.sampled} for c in posts],
        },
    )
