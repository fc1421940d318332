"""Keyset paging for List RPCs: an opaque page token encodes the last row's (time, id)."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from desk.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument.one("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(at: datetime, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), key]).encode()).decode()


def decode_token(token: str) -> tuple[datetime, str] | None:
    if not token:
        return None
    try:
        at, key = json.loads(base64.urlsafe_b64decode(token.encode()))
        return datetime.fromisoformat(at), str(key)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument.one("page_token", "is not a token this service issued") from exc
