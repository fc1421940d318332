"""A browser's codec session: how a Temporal UI without a sign-in of its own (the embedded one) calls the
codec endpoint as an SRE (docs/security.md, "Reading payloads in the embedded Temporal UI").

The SRE pastes a desk token once on the gateway's page (services/http/codec_sign_in.py); the gateway
checks it and answers with a cookie the UI's requests to ``/codec`` then carry. The cookie holds no
token: it is the token's SHA-256 digest and an end time, sealed (AES-256-GCM) under a key derived from
the payload key ring. So

- a stolen cookie is no bearer token: it opens nothing but ``/codec``, and only until it ends;
- every request looks the token up again by its digest, as the database stores it: revoking the
  token (`helpdesk token revoke`) or its expiry ends the session too (within the 30 s token cache);
- nothing is kept on the gateway: any replica with the same ring opens it, and a restart signs no
  one out; a ring without the key it was sealed under (a new ring, not a rotation) refuses it.

Sealing rather than signing keeps the digest out of sight as well: it would name the token
(`helpdesk token list` shows its first 12 hex digits).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import Response

from desk.auth import CheckedToken, Principal
from desk.config import CODEC_PATH
from desk.errors import PermissionDenied, Unauthenticated
from desk.loops import connection_lost, describe
from desk.payload_codec import KeyRing
from services.http.errors import HttpError, unauthenticated

log = logging.getLogger(__name__)

COOKIE_NAME = "helpdesk_codec_session"
MAX_SESSION_SECONDS = 8 * 3600
"""A session lasts a shift at most, and never beyond its token's own expiry."""
_KEY_INFO = b"helpdesk codec session cookie v1"
"""HKDF's label: the cookie key is derived from a payload key, never the payload key itself."""
_NONCE_BYTES = 12
_SEALED = struct.Struct(">q32s")  # the session's end (Unix seconds), the token's SHA-256


class Authenticator(Protocol):
    """desk.auth.TokenAuthenticator's methods a codec session uses."""

    async def authenticate(self, authorization: str | None) -> Principal: ...

    async def check(self, authorization: str | None) -> CheckedToken: ...

    async def check_digest(self, token_sha256: bytes) -> CheckedToken: ...


@dataclass(frozen=True)
class Session:
    """What a cookie opens to."""

    token_sha256: bytes
    ends_at: int


class SessionSeal:
    """Seals sessions under the ring's current key (derived) and opens those of any key of the ring,
    so a rotation signs no one out."""

    def __init__(self, ring: KeyRing) -> None:
        self._current = AESGCM(_cookie_key(ring.current))
        self._all = [AESGCM(_cookie_key(key)) for key in reversed(ring.keys)]

    def seal(self, session: Session) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        plain = _SEALED.pack(session.ends_at, session.token_sha256)
        sealed = nonce + self._current.encrypt(nonce, plain, COOKIE_NAME.encode())
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, value: str, *, now: float) -> Session:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raise Unauthenticated("the codec session cookie is not the desk's: sign in again") from None
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        for key in self._all:
            try:
                plain = key.decrypt(nonce, sealed, COOKIE_NAME.encode())
            except (InvalidTag, ValueError):
                continue
            ends_at, digest = _SEALED.unpack(plain)
            if ends_at <= now:
                raise Unauthenticated("the codec session has ended: sign in again")
            return Session(digest, ends_at)
        raise Unauthenticated("the codec session cookie is not the desk's: sign in again")


def _cookie_key(payload_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(payload_key)


@dataclass(frozen=True)
class Started:
    """A session just made: who, the cookie's value, and how many seconds it lasts."""

    principal: Principal
    cookie: str
    max_age: int


class CodecSessions:
    """Who calls the codec endpoint: the bearer token of an ``Authorization`` header (the CLI, a proxy)
    or else the session cookie (a browser signed in on the gateway's page)."""

    def __init__(
        self, authenticator: Authenticator, seal: SessionSeal, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._authenticator = authenticator
        self._seal = seal
        self._clock = clock

    async def caller(self, request: Request) -> Principal:
        authorization = request.headers.get("authorization")
        cookie = request.cookies.get(COOKIE_NAME)
        if authorization is not None or cookie is None:
            return await self._authenticator.authenticate(authorization)
        session = self._seal.open(cookie, now=self._clock())
        return (await self._authenticator.check_digest(session.token_sha256)).principal

    async def signed_in(self, request: Request) -> tuple[Principal, int] | None:
        """The browser's session (its principal, its end in Unix seconds), if it has a valid one."""
        cookie = request.cookies.get(COOKIE_NAME)
        if cookie is None:
            return None
        try:
            session = self._seal.open(cookie, now=self._clock())
            checked = await self._authenticator.check_digest(session.token_sha256)
        except Unauthenticated:
            return None
        return checked.principal, session.ends_at

    async def start(self, token: str, roles: frozenset[str]) -> Started:
        """A session for ``token`` if it is valid and its principal has one of ``roles``."""
        checked = await self._authenticator.check(f"Bearer {token}")
        checked.principal.require_any(roles)
        max_age = int(min(checked.seconds_left, MAX_SESSION_SECONDS))
        if max_age < 1:
            raise Unauthenticated("expired token: ask for a new one")
        cookie = self._seal.seal(Session(checked.token_sha256, int(self._clock()) + max_age))
        return Started(checked.principal, cookie, max_age)


def set_session_cookie(response: Response, started: Started, *, secure: bool) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site's page makes the browser send it),
    only under the codec endpoint's path, Secure when the gateway is reached over https."""
    response.set_cookie(
        COOKIE_NAME,
        started.cookie,
        max_age=started.max_age,
        path=CODEC_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE_NAME, path=CODEC_PATH, secure=secure, httponly=True, samesite="strict")


def refused(error: Exception) -> HttpError:
    """A failed token check as the gateway answers it: 401, 403, or 503 when PostgreSQL is out of
    reach; anything else is a fault, raised again."""
    if isinstance(error, Unauthenticated):
        return unauthenticated(str(error))
    if isinstance(error, PermissionDenied):
        return HttpError(403, "PERMISSION_DENIED", str(error))
    if not connection_lost(error):
        raise error
    log.warning("codec call refused: tokens cannot be checked now (%s)", describe(error))
    return HttpError(503, "UNAVAILABLE", "the desk cannot check tokens now", headers={"Retry-After": "1"})
