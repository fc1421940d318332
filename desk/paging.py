"""Keyset paging for List RPCs: an opaque page token encodes the last row's (time, id)."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from desk.errors import InvalidArgument
from desk.request_bounds import EARLIEST, LATEST

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_KEY_CHARS = 100
"""The longest key a token carries (an id, or "1:<escalation id>"): a forged token cannot smuggle more."""


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument.one("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(at: datetime, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), key]).encode()).decode()


def decode_token(token: str) -> tuple[datetime, str] | None:
    """The position a token left off at; a token this desk could not have issued (a time without a
    zone or outside the desk's years, an overlong key) is refused here, not by the database."""
    if not token:
        return None
    try:
        at, key = json.loads(base64.urlsafe_b64decode(token.encode()))
        position, key = datetime.fromisoformat(at), str(key)
    except (ValueError, TypeError) as exc:
        raise _foreign_token() from exc
    if position.tzinfo is None or not EARLIEST <= position < LATEST or len(key) > MAX_KEY_CHARS:
        raise _foreign_token()
    return position, key


def _foreign_token() -> InvalidArgument:
    return InvalidArgument.one("page_token", "is not a token this service issued")
