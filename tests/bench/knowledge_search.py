"""What the knowledge base's matching costs: jieba's start, one summary's words, one whole match.

    python -m tests.bench.knowledge_search [--calls 1000]

Starts its own desk (`helpdesk up` in a temporary directory), loads the 50
entries of tests/integration/knowledge_fixture.py into a database of its own there, and times, in
this process, loading jieba's dictionary, segmenting a summary and ``EntrySearch.similar`` (what
CreateTicket adds to each answer). Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid

import asyncpg

from desk import db
from services.knowledge.entries import EntryText
from services.knowledge.search import EntrySearch
from services.knowledge.segmentation import Segmenter
from tests.bench.harness import bench_desk, run
from tests.integration.knowledge_fixture import ENTRIES
from tests.integration.test_knowledge_recall import store

SUMMARY = "家里电话拿起来没有声音，听不到拨号音"  # noqa: RUF001  # a summary as a customer says it


async def _measure(calls: int) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    segmenter = Segmenter()
    segmenter.warm()
    loaded = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    async with bench_desk() as (_, endpoints):
        url, name = endpoints["postgres"], f"bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        pool = await db.create_pool(url.rsplit("/", 1)[0] + f"/{name}")
        await db.migrate(pool)
        for e in ENTRIES:
            await store(pool, segmenter, e.key, EntryText(e.title, e.body, e.category))
        search = EntrySearch(pool, segmenter)
        for _ in range(50):
            await search.similar(SUMMARY, limit=3)
        started = time.perf_counter()
        for _ in range(calls):
            segmenter.query_terms(SUMMARY)
        cut = (time.perf_counter() - started) / calls
        started = time.perf_counter()
        for _ in range(calls):
            await search.similar(SUMMARY, limit=3)
        match = (time.perf_counter() - started) / calls
        await pool.close()
        await admin.execute(f'DROP DATABASE "{name}"')
        await admin.close()
    print(f"jieba's dictionary: {loaded:.2f} s, +{grown:.0f} MiB resident")
    print(f"a summary's words: {cut * 1e6:.0f} µs; a whole match (words and query): {match * 1e3:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.knowledge_search", description=__doc__)
    parser.add_argument("--calls", type=int, default=1000, help="timed calls of each kind (1000)")
    run(_measure(parser.parse_args().calls))


if __name__ == "__main__":
    main()
