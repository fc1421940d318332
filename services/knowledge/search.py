"""Searching the knowledge base: an agent's keywords, or the summary of a report being recorded."""

from __future__ import annotations

import asyncpg

from services.knowledge import repository
from services.knowledge.contract import KnowledgeMatch
from services.knowledge.matching import Mode, query_literal
from services.knowledge.segmentation import Segmenter


class EntrySearch:
    """Published entries only; a retired entry is never a match. Implements the contract's
    :class:`~services.knowledge.contract.KnowledgeSearch` for intake."""

    def __init__(self, db: asyncpg.Pool, segmenter: Segmenter) -> None:
        self._db = db
        self._segmenter = segmenter

    async def search(self, query: str, *, limit: int) -> list[KnowledgeMatch]:
        """Entries holding every word of ``query``, best first; when none holds them all (an agent
        typed a sentence), those holding the most of them."""
        return await self._find(query, Mode.ALL, limit) or await self._find(query, Mode.ANY, limit)

    async def similar(self, text: str, *, limit: int) -> list[KnowledgeMatch]:
        """Entries holding any of the words of ``text`` (a report's summary), the most alike first."""
        return await self._find(text, Mode.ANY, limit)

    async def _find(self, text: str, mode: Mode, limit: int) -> list[KnowledgeMatch]:
        literal = query_literal(self._segmenter, text, mode)
        if literal is None:
            return []
        return await repository.search(db=self._db, query=literal, limit=limit)
