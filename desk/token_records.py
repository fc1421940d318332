"""The tokens an operator manages (`helpdesk token list|revoke`) and the production mode's check.

A token itself is never stored, so none can be shown: a record names its token by ``token_id``, the
start of its digest (desk/auth.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from desk.auth import TOKEN_ID_LENGTH, token_id
from desk.db import Executor
from desk.errors import ConfigurationError, InvalidArgument

_IN_FORCE = "revoked_at IS NULL AND expires_at > now()"


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    principal_id: str
    roles: tuple[str, ...]
    team_id: str
    development: bool
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    state: str  # "active", "expired" or "revoked"


async def list_tokens(executor: Executor, *, everything: bool = False) -> list[TokenRecord]:
    """Tokens in force, newest first; with ``everything`` also the expired and revoked ones."""
    rows = await executor.fetch(
        "SELECT token_sha256, principal_id, roles, team_id, development, created_at, expires_at, revoked_at,"
        " CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at <= now() THEN 'expired'"
        " ELSE 'active' END AS state FROM desk.tokens"
        f" WHERE $1 OR ({_IN_FORCE}) ORDER BY created_at DESC, principal_id",
        everything,
    )
    return [
        TokenRecord(
            token_id(row["token_sha256"]),
            row["principal_id"],
            tuple(row["roles"]),
            row["team_id"],
            row["development"],
            row["created_at"],
            row["expires_at"],
            row["revoked_at"],
            row["state"],
        )
        for row in rows
    ]


async def revoke_tokens(executor: Executor, principal_or_id: str) -> list[str]:
    """Revoke every token in force of a principal, or the one token whose id starts with the given
    hex prefix (at least 8 digits, and naming one token only). Returns the ids revoked."""
    text = principal_or_id.strip()
    if not text:
        raise InvalidArgument.one("principal_or_id", "name a principal or a token id")
    rows = await executor.fetch(
        f"UPDATE desk.tokens SET revoked_at = now() WHERE principal_id = $1 AND {_IN_FORCE}"
        " RETURNING token_sha256",
        text,
    )
    if rows:
        return [token_id(row["token_sha256"]) for row in rows]
    return await _revoke_by_id(executor, text.lower())


async def _revoke_by_id(executor: Executor, prefix: str) -> list[str]:
    if not 8 <= len(prefix) <= TOKEN_ID_LENGTH or any(c not in "0123456789abcdef" for c in prefix):
        return []
    matches = await executor.fetch(
        f"SELECT token_sha256 FROM desk.tokens WHERE {_IN_FORCE}"
        " AND substr(encode(token_sha256, 'hex'), 1, length($1)) = $1",
        prefix,
    )
    if len(matches) > 1:
        raise InvalidArgument.one(
            "principal_or_id", f"{prefix} names {len(matches)} tokens: give more digits"
        )
    for row in matches:
        await executor.execute("UPDATE desk.tokens SET revoked_at = now() WHERE token_sha256 = $1", row[0])
    return [token_id(row["token_sha256"]) for row in matches]


async def revoke_development_tokens(executor: Executor) -> list[str]:
    """Every development token in force, revoked (`helpdesk token revoke --development`)."""
    rows = await executor.fetch(
        f"UPDATE desk.tokens SET revoked_at = now() WHERE development AND {_IN_FORCE} RETURNING token_sha256"
    )
    return [token_id(row["token_sha256"]) for row in rows]


async def development_tokens_in_force(executor: Executor) -> int:
    count: int = await executor.fetchval(
        f"SELECT count(*) FROM desk.tokens WHERE development AND {_IN_FORCE}"
    )
    return count


async def refuse_development_tokens(executor: Executor) -> None:
    """Production mode: a desk that still accepts development tokens (every role's, written in
    endpoints.json) does not start."""
    count = await development_tokens_in_force(executor)
    if count:
        raise ConfigurationError(
            f"HELPDESK_MODE=production, but {count} development tokens are in force: revoke them"
            " (`helpdesk token revoke --development`)"
        )


async def team_is_active(executor: Executor, team_id: str) -> bool:
    """An ops engineer's token names a team that exists (dispatch's teams, as the development tokens)."""
    return bool(await executor.fetchval("SELECT active FROM dispatch.teams WHERE team_id = $1", team_id))
