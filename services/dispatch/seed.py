"""Default data a new desk starts with: the four ops teams of DESIGN section 7 and the SLA defaults."""

from __future__ import annotations

import asyncpg

from services.dispatch import repository
from services.dispatch.policies import default_policies

DEFAULT_TEAMS = {
    "software": "软件运维组 (software operations)",
    "machine-room": "机房运维组 (machine-room operations)",
    "network": "通信网络运维组 (network operations)",
    "automation": "自动化运维组 (automation operations)",
}


async def seed_defaults(pool: asyncpg.Pool) -> None:
    """Insert what is missing; never overwrite what an operator changed."""
    async with pool.acquire() as conn, conn.transaction():
        existing = {t.team_id for t in await repository.list_teams(db=conn, include_inactive=True)}
        for team_id, name in DEFAULT_TEAMS.items():
            if team_id not in existing:
                team = repository.TeamRow(team_id, name, [team_id], [], "24X7", "Asia/Shanghai", [], True)
                await repository.upsert_team(db=conn, team=team)
        if not await repository.list_policies(db=conn):
            for policy in default_policies():
                await repository.put_policy(db=conn, policy=policy)
