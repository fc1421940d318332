"""The workflow worker caches as many workflows as its setting says (its memory grows with them)."""

from __future__ import annotations

from desk import db, event_bus
from desk.config import load_settings
from desk.process import Runtime, connect_temporal
from tests.stack import RunningDesk
from workflows.worker import workflow_worker


async def test_the_workflow_cache_bound_reaches_the_worker(desk: RunningDesk) -> None:
    settings = load_settings(
        {
            "TEMPORAL_ADDRESS": desk.endpoints["temporal"],
            "NATS_URL": desk.endpoints["nats"],
            "DATABASE_URL": desk.endpoints["postgres"],
            "HELPDESK_PAYLOAD_KEY": (desk.data_dir / "payload.key").read_text().strip(),
            "HELPDESK_QUALITY_SAMPLING_SECRET": (desk.data_dir / "quality-sampling.key").read_text().strip(),
            "HELPDESK_MAX_CACHED_WORKFLOWS": "123",
        }
    )
    pool = await db.create_pool(desk.endpoints["postgres"], max_size=1)
    nats = await event_bus.connect(desk.endpoints["nats"])
    try:
        runtime = Runtime(settings, pool, await connect_temporal(settings), nats, nats.jetstream())
        worker = workflow_worker(runtime)  # built as `helpdesk worker` builds it; never run here
        assert worker.config()["max_cached_workflows"] == 123
    finally:
        await nats.close()
        await pool.close()
