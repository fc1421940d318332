"""Which roles a member of staff holds, from the desk's token table, for the workload ledger.

A person's post decides whose scorecard their work is graded on, and the events name only the person
(their principal id). The roles are those of the person's tokens in ``desk.tokens`` (desk/auth.py),
read when the event is applied: those of the tokens in force, or, when every token of theirs was
revoked, those of the newest (a person who left is still who did the work). None when the desk never
issued the person a token (an integrator's own ``agent_id``). Answers are cached briefly, as the
desk's authenticator caches tokens, so a day's backlog costs one query per person.
"""

from __future__ import annotations

import time

from desk.db import Executor


class StaffRoles:
    def __init__(self, db: Executor, *, cache_seconds: float = 60.0) -> None:
        self._db = db
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, frozenset[str] | None]] = {}

    async def roles_of(self, principal_id: str) -> frozenset[str] | None:
        now = time.monotonic()
        cached = self._cache.get(principal_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        roles = await self._lookup(principal_id)
        self._cache[principal_id] = (now + self._cache_seconds, roles)
        return roles

    async def _lookup(self, principal_id: str) -> frozenset[str] | None:
        rows = await self._db.fetch(
            "SELECT roles, revoked_at IS NULL AS active FROM desk.tokens WHERE principal_id = $1"
            " ORDER BY created_at DESC",
            principal_id,
        )
        if not rows:
            return None
        active = [role for row in rows if row["active"] for role in row["roles"]]
        return frozenset(active) if active else frozenset(rows[0]["roles"])
