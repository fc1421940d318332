"""Knowledge search on PostgreSQL itself: recall on 50 entries and 22 queries, and how hits rank.

In a database of its own on the desk's PostgreSQL (the ``scratch`` fixture). Recall@k is the share of
queries whose answer is among the first k matches. Run with ``-s`` to see the figures that
docs/performance.md quotes:

    .venv/bin/pytest tests/integration/test_knowledge_recall.py -s -q
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from services.knowledge import repository
from services.knowledge.entries import Entry, EntryStatus, EntryText, Version
from services.knowledge.matching import index_literal
from services.knowledge.search import EntrySearch
from services.knowledge.segmentation import Segmenter
from tests.integration.knowledge_fixture import ENTRIES, QUERIES

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
SENTENCES = [(q, want) for q, want in QUERIES if len(q) > 6]  # a report's summary, as a customer says it


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    segmenter = Segmenter()
    segmenter.warm()
    return segmenter


async def store(pool: asyncpg.Pool, segmenter: Segmenter, key: str, text: EntryText) -> None:
    entry = Entry(key, EntryStatus.PUBLISHED, 1, text, "", "km-1", NOW, NOW)
    entry.versions = [Version(1, text, "", "km-1", NOW)]
    words = index_literal(segmenter, title=text.title, rest=[text.body, text.category])
    assert await repository.insert_entry(db=pool, entry=entry, request_id=None, words=words)


@pytest.fixture
async def knowledge(scratch: asyncpg.Pool, segmenter: Segmenter) -> AsyncIterator[EntrySearch]:
    for e in ENTRIES:
        await store(scratch, segmenter, e.key, EntryText(e.title, e.body, e.category))
    yield EntrySearch(scratch, segmenter)


async def recall(found: list[list[str]], wanted: list[str], k: int) -> float:
    return sum(want in ids[:k] for ids, want in zip(found, wanted, strict=True)) / len(wanted)


async def test_recall_on_fifty_entries_and_twenty_two_queries(knowledge: EntrySearch) -> None:
    assert len(ENTRIES) >= 50 and len(QUERIES) >= 20
    searched = [[m.entry_id for m in await knowledge.search(q, limit=5)] for q, _ in QUERIES]
    summaries = [[m.entry_id for m in await knowledge.similar(q, limit=3)] for q, _ in SENTENCES]
    wanted, wanted_by_summary = [w for _, w in QUERIES], [w for _, w in SENTENCES]
    figures = {
        "search recall@1": await recall(searched, wanted, 1),
        "search recall@5": await recall(searched, wanted, 5),
        "summary recall@1": await recall(summaries, wanted_by_summary, 1),
        "summary recall@3": await recall(summaries, wanted_by_summary, 3),
    }
    print()
    for name, value in figures.items():
        print(f"{name}: {value:.2f}")
    for (query, want), ids in zip(QUERIES, searched, strict=True):
        if ids[:1] != [want]:
            print(f"  {query!r}: wanted {want}, first {ids[:3]}")
    assert figures["search recall@5"] >= 0.95
    assert figures["search recall@1"] >= 0.9
    assert figures["summary recall@3"] >= 0.9


async def test_a_word_inside_a_sentence_is_found_and_a_word_in_no_entry_is_not(
    knowledge: EntrySearch,
) -> None:
    assert [m.entry_id for m in await knowledge.search("光模块", limit=5)] == ["fiber-module"]
    assert [m.entry_id for m in await knowledge.search("模块", limit=5)] == ["fiber-module"]
    assert await knowledge.search("天气预报", limit=5) == []
    assert await knowledge.similar("今天天气怎么样", limit=5) == []


async def test_an_entry_whose_title_holds_the_word_ranks_above_one_whose_body_does(
    scratch: asyncpg.Pool, segmenter: Segmenter
) -> None:
    await store(scratch, segmenter, "in-body", EntryText("宽带故障处理", "检查路由器的散热风扇是否正常。"))
    await store(scratch, segmenter, "in-title", EntryText("散热风扇异响", "更换风扇后恢复。"))
    found = await EntrySearch(scratch, segmenter).search("散热风扇", limit=5)
    assert [m.entry_id for m in found] == ["in-title", "in-body"]
    assert found[0].score > found[1].score
