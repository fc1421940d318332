"""Access: a bearer token maps to a principal with roles (and, for ops engineers, one team).

Tokens are stored as SHA-256 digests in ``desk.tokens``. Lookups are cached briefly per process so an
RPC does not pay a database round trip; a revoked token stops working within ``cache_seconds``. Every
token expires (``expires_at``): it is refused from that moment on, cached or not.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from desk.db import Executor
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
    "sre",
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
SRES = frozenset({"sre"})
"""The desk's site reliability engineers: they look at how the desk runs (traces, decoded workflow
histories), not at tickets: no ticket RPC answers them, and their customer-data policy is none."""
TRACE_READERS = SRES | MANAGERS
"""Who may look at a ticket's traces (the gateway's trace page): span names, timings, SQL statements
with placeholders; no customer data."""
PAYLOAD_READERS = SRES | MANAGERS
"""Who may read Temporal's payloads decrypted (the HTTP gateway's codec endpoint, for the Temporal UI):
whole workflow inputs and results, customers' names and phones in the clear, with no per-role masking:
the SREs who debug a stuck workflow, and managers, who read every ticket clear anyway; admins pass
every check. Ops engineers are field teams bound to a team, not the desk's operators."""


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


CACHE_LIMIT = 10_000
"""Cached lookups a process keeps at most: random tokens thrown at the desk must not grow it forever."""


@dataclass(frozen=True)
class _Lookup:
    """What the database said about a token: its principal (None: unknown or revoked) and until when,
    on this process's monotonic clock, it is accepted (from the database's own count of seconds left,
    so a process clock set differently from the database's changes nothing)."""

    principal: Principal | None
    accepted_until: float
    cached_until: float


@dataclass(frozen=True)
class CheckedToken:
    """A token found valid: whose it is, its SHA-256 digest (what a session may keep in its stead, as
    the database does) and how many more seconds it is accepted."""

    principal: Principal
    token_sha256: bytes
    seconds_left: float


class TokenAuthenticator:
    def __init__(self, pool: asyncpg.Pool, *, cache_seconds: float = 30.0) -> None:
        self._pool = pool
        self._cache_seconds = cache_seconds
        self._cache: dict[bytes, _Lookup] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        return (await self.check(authorization)).principal

    async def check(self, authorization: str | None) -> CheckedToken:
        """The ``Bearer <token>`` of an ``authorization`` header or metadata, checked."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated("missing bearer token (metadata 'authorization: Bearer <token>')")
        return await self.check_digest(_digest(authorization[7:].strip()))

    async def check_digest(self, token_sha256: bytes) -> CheckedToken:
        """A token known by its digest only (a session made from it): unknown, revoked or expired are
        refused exactly as the token itself would be."""
        now = time.monotonic()
        found = self._cache.get(token_sha256)
        if found is None or found.cached_until <= now:
            found = await self._lookup(token_sha256, now)
            self._remember(token_sha256, found, now)
        if found.principal is None:
            raise Unauthenticated("unknown or revoked token")
        # Checked on every call, cached or not: a token is refused from its expiry on, not a cache
        # period later.
        if found.accepted_until <= now:
            raise Unauthenticated("expired token: ask for a new one")
        return CheckedToken(found.principal, token_sha256, found.accepted_until - now)

    async def _lookup(self, digest: bytes, now: float) -> _Lookup:
        row = await self._pool.fetchrow(
            "SELECT principal_id, roles, team_id,"
            " EXTRACT(EPOCH FROM expires_at - now())::float8 AS seconds_left FROM desk.tokens"
            " WHERE token_sha256 = $1 AND revoked_at IS NULL",
            digest,
        )
        cached_until = now + self._cache_seconds
        if row is None:
            return _Lookup(None, now, cached_until)
        principal = Principal(row["principal_id"], frozenset(row["roles"]), row["team_id"])
        return _Lookup(principal, now + row["seconds_left"], cached_until)

    def _remember(self, digest: bytes, found: _Lookup, now: float) -> None:
        if len(self._cache) >= CACHE_LIMIT:
            self._cache = {key: kept for key, kept in self._cache.items() if kept.cached_until > now}
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
        self._cache[digest] = found


TOKEN_ID_LENGTH = 12


def token_id(digest: bytes) -> str:
    """A token's public name: the start of its SHA-256 digest in hex. It says nothing of the token
    (a preimage of 48 bits of a hash) and names it for `helpdesk token list|revoke`."""
    return digest.hex()[:TOKEN_ID_LENGTH]


def token_id_of(token: str) -> str:
    return token_id(_digest(token))


async def issue_token(
    executor: Executor, principal: Principal, *, lifetime: timedelta, development: bool = False
) -> str:
    """A new token for ``principal``, accepted for ``lifetime`` from now (the database's now); only
    its digest is stored, so this is the one time anyone sees it."""
    token = secrets.token_urlsafe(24)
    await executor.execute(
        "INSERT INTO desk.tokens (token_sha256, principal_id, roles, team_id, development, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, now() + $6::interval)",
        _digest(token),
        principal.principal_id,
        sorted(principal.roles),
        principal.team_id,
        development,
        lifetime,
    )
    return token


async def ensure_dev_tokens(
    pool: asyncpg.Pool, *, lifetime: timedelta, production: bool = False
) -> dict[str, str]:
    """Issue fresh development tokens for every role and every active team, revoking the previous ones.

    Keys are role names, and ``ops_engineer:<team_id>`` for each team's engineer. In production mode
    the previous ones are revoked and none is issued.
    """
    await pool.execute("UPDATE desk.tokens SET revoked_at = now() WHERE development AND revoked_at IS NULL")
    if production:
        return {}
    principals = [Principal(f"dev-{role}", frozenset({role})) for role in ROLES if role != "ops_engineer"]
    teams = await pool.fetch("SELECT team_id FROM dispatch.teams WHERE active ORDER BY team_id")
    principals += [
        Principal(f"dev-ops-{r['team_id']}", frozenset({"ops_engineer"}), r["team_id"]) for r in teams
    ]
    tokens: dict[str, str] = {}
    for principal in principals:
        key = f"ops_engineer:{principal.team_id}" if principal.team_id else next(iter(principal.roles))
        tokens[key] = await issue_token(pool, principal, lifetime=lifetime, development=True)
    return tokens
