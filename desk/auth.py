"""Access: a bearer token maps to a principal with roles (and, for ops engineers, one team).

Tokens are stored as SHA-256 digests in ``desk.tokens``. Lookups are cached briefly per process so an
RPC does not pay a database round trip; a revoked token stops working within ``cache_seconds``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from desk.errors import PermissionDenied, Unauthenticated

ROLES = (
    "agent",
    "senior_agent",
    "surveyor",
    "knowledge_manager",
    "qa_inspector",
    "statistician",
    "manager",
    "ops_engineer",
    "integrator",
    "admin",
)


ROLES_NOT_BOUND_TO_A_TEAM = frozenset(ROLES) - {"ops_engineer"}

# Who may call what, by post: the services' access tables are built from these sets only. An admin
# passes every role check (Principal.has_any), so no set needs to name it.
DESK_AGENTS = frozenset({"agent", "senior_agent", "manager"})
REVIEWERS = frozenset({"senior_agent", "manager"})
MANAGERS = frozenset({"manager"})
OPS_ENGINEERS = frozenset({"ops_engineer"})
INTEGRATORS = frozenset({"integrator"})
SURVEYORS = frozenset({"surveyor"})
QA_INSPECTORS = frozenset({"qa_inspector", "manager"})
STATISTICIANS = frozenset({"statistician", "manager"})
KNOWLEDGE_MANAGERS = frozenset({"knowledge_manager"})
KNOWLEDGE_READERS = DESK_AGENTS | KNOWLEDGE_MANAGERS
TICKET_READERS = DESK_AGENTS | frozenset(
    {"surveyor", "qa_inspector", "statistician", "knowledge_manager", "integrator", "ops_engineer"}
)
EVERYONE = frozenset(ROLES) - {"admin"}


@dataclass(frozen=True)
class Principal:
    principal_id: str
    roles: frozenset[str]
    team_id: str = ""

    def has_any(self, roles: Iterable[str]) -> bool:
        return "admin" in self.roles or not self.roles.isdisjoint(roles)

    def require_any(self, roles: Iterable[str]) -> None:
        wanted = frozenset(roles)
        if not self.has_any(wanted):
            raise PermissionDenied(f"{self.principal_id} needs one of the roles {sorted(wanted)}")

    def require_team(self, team_id: str) -> None:
        """Ops engineers act only on their own team's work; desk staff are not bound to a team."""
        is_desk_staff = self.has_any({"agent", "senior_agent", "manager"})
        if not is_desk_staff and self.team_id != team_id:
            raise PermissionDenied(
                f"{self.principal_id} is an engineer of team {self.team_id!r}; the work is team {team_id!r}'s"
            )

    def require_ticket_access(self, assigned_team_id: str, team_ids: Iterable[str]) -> None:
        """Ops engineers see only tickets their team holds or has held a work order for."""
        if self.has_any(ROLES_NOT_BOUND_TO_A_TEAM):
            return
        if self.team_id != assigned_team_id and self.team_id not in set(team_ids):
            raise PermissionDenied(f"{self.principal_id} may read only tickets of team {self.team_id!r}")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenAuthenticator:
    def __init__(self, pool: asyncpg.Pool, *, cache_seconds: float = 30.0) -> None:
        self._pool = pool
        self._cache_seconds = cache_seconds
        self._cache: dict[bytes, tuple[float, Principal | None]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated("missing bearer token (metadata 'authorization: Bearer <token>')")
        digest = _digest(authorization[7:].strip())
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            principal = cached[1]
        else:
            principal = await self._lookup(digest)
            self._cache[digest] = (now + self._cache_seconds, principal)
        if principal is None:
            raise Unauthenticated("unknown or revoked token")
        return principal

    async def _lookup(self, digest: bytes) -> Principal | None:
        row = await self._pool.fetchrow(
            "SELECT principal_id, roles, team_id FROM desk.tokens"
            " WHERE token_sha256 = $1 AND revoked_at IS NULL",
            digest,
        )
        if row is None:
            return None
        return Principal(row["principal_id"], frozenset(row["roles"]), row["team_id"])


async def issue_token(pool: asyncpg.Pool, principal: Principal, *, development: bool = False) -> str:
    token = secrets.token_urlsafe(24)
    await pool.execute(
        "INSERT INTO desk.tokens (token_sha256, principal_id, roles, team_id, development)"
        " VALUES ($1, $2, $3, $4, $5)",
        _digest(token),
        principal.principal_id,
        sorted(principal.roles),
        principal.team_id,
        development,
    )
    return token


async def ensure_dev_tokens(pool: asyncpg.Pool) -> dict[str, str]:
    """Issue fresh development tokens for every role and every active team, revoking the previous ones.

    Keys are role names, and ``ops_engineer:<team_id>`` for each team's engineer.
    """
    await pool.execute("UPDATE desk.tokens SET revoked_at = now() WHERE development AND revoked_at IS NULL")
    principals = [Principal(f"dev-{role}", frozenset({role})) for role in ROLES if role != "ops_engineer"]
    teams = await pool.fetch("SELECT team_id FROM dispatch.teams WHERE active ORDER BY team_id")
    principals += [
        Principal(f"dev-ops-{r['team_id']}", frozenset({"ops_engineer"}), r["team_id"]) for r in teams
    ]
    tokens: dict[str, str] = {}
    for principal in principals:
        key = f"ops_engineer:{principal.team_id}" if principal.team_id else next(iter(principal.roles))
        tokens[key] = await issue_token(pool, principal, development=True)
    return tokens
