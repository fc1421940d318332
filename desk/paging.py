"""Keyset paging for List RPCs: an opaque page token carries the last row's (time, key), signed.

A token is ``<position>.<signature>``: the position is URL-safe base64 of ``[time, key]``, the
signature HMAC-SHA256 over the request type, the request's filters and the position, with the desk's
page token key (HELPDESK_PAGE_TOKEN_KEY; `helpdesk up` keeps one in its data dir). So a token is
verified, not trusted: an edited, forged or other desk's token, or one issued for other filters
(another team, status or day), is refused as INVALID_ARGUMENT naming ``page_token`` before any query
runs. The page size is no part of a query: a caller may change it between pages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime

from google.protobuf.message import Message

from desk.config import MIN_PAGE_TOKEN_KEY_CHARS
from desk.errors import InvalidArgument
from desk.request_bounds import EARLIEST, LATEST

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_KEY_CHARS = 100
"""The longest key a token carries (an id, or "1:<escalation id>"): even a signed token holds no more."""

_NOT_QUERY = ("page_token", "page_size")
"""Fields of a List request that do not choose the rows: a token fits every value of these."""

Position = tuple[datetime, str]


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument.one("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class PageTokens:
    """Issues and verifies the page tokens of one desk (every service holds the same key)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_PAGE_TOKEN_KEY_CHARS:
            raise ValueError(f"a page token key needs at least {MIN_PAGE_TOKEN_KEY_CHARS} bytes")
        self._key = key

    def next(self, request: Message, at: datetime, key: str) -> str:
        """The token of the page after the row at (``at``, ``key``), for ``request``'s query only."""
        position = _b64(json.dumps([at.isoformat(), key], separators=(",", ":")).encode())
        return f"{position}.{_b64(self._signature(request, position))}"

    def after(self, request: Message) -> Position | None:
        """Where ``request.page_token`` left off; None for the first page. InvalidArgument naming
        page_token for a token this desk did not issue for this very query."""
        token: str = getattr(request, "page_token")  # noqa: B009 (every List request has one)
        if not token:
            return None
        position, dot, signature = token.partition(".")
        if not dot or not hmac.compare_digest(_unb64(signature), self._signature(request, position)):
            raise _foreign_token()
        return _position(_unb64(position))

    def _signature(self, request: Message, position: str) -> bytes:
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        for part in (request.DESCRIPTOR.full_name.encode(), _query(request), position.encode()):
            mac.update(len(part).to_bytes(8, "big") + part)  # length-prefixed: no two splits sign alike
        return mac.digest()


def _query(request: Message) -> bytes:
    """The request's filters: the request without its paging fields, serialized deterministically."""
    query = type(request)()
    query.CopyFrom(request)
    for name in _NOT_QUERY:
        query.ClearField(name)
    return query.SerializeToString(deterministic=True)


def _position(payload: bytes) -> Position:
    """The (time, key) a signed token holds; still checked, as a key once leaked would sign anything."""
    try:
        at, key = json.loads(payload)
        position, key = datetime.fromisoformat(at), str(key)
    except (ValueError, TypeError) as exc:
        raise _foreign_token() from exc
    if position.tzinfo is None or not EARLIEST <= position < LATEST or len(key) > MAX_KEY_CHARS:
        raise _foreign_token()
    return position, key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _foreign_token() from exc


def _foreign_token() -> InvalidArgument:
    return InvalidArgument.one("page_token", "is not a token this desk issued for this query")
