"""Codec sessions over the desk's real token table (PostgreSQL, desk.auth.TokenAuthenticator, the
cache off so that a revocation is seen at the next request): a session lasts no longer than its token,
and revoking the token ends it. tests/browser/test_codec_ui.py drives the same through the UI."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from http.cookies import SimpleCookie

import asyncpg
import httpx
import pytest

from desk.auth import Principal, TokenAuthenticator, issue_token
from desk.payload_codec import EncryptionCodec, KeyRing, new_key, parse_key
from services.http.app import Channels, build_app
from services.http.codec import CodecEndpoint, codec_app
from services.http.codec_session import COOKIE_NAME, CodecSessions, SessionSeal
from services.http.codec_sign_in import SignInPage
from tests.unit.test_codec_endpoint import TICKET, UI, _encrypted, _json

GATEWAY = "http://127.0.0.1:20180"
RING = KeyRing(current=parse_key(new_key()))


@pytest.fixture
async def gateway(scratch: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    sessions = CodecSessions(TokenAuthenticator(scratch, cache_seconds=0), SessionSeal(RING))
    codec = codec_app(
        CodecEndpoint(EncryptionCodec(RING), sessions), SignInPage(sessions), allowed_origins=[UI]
    )
    app = build_app(Channels(None, channel_category="software"), codec=codec)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http:
        yield http


async def _sign_in(gateway: httpx.AsyncClient, token: str) -> tuple[int, SimpleCookie]:
    answer = await gateway.post("/codec/session", data={"token": token}, headers={"Origin": GATEWAY})
    cookie: SimpleCookie = SimpleCookie()
    for header in answer.headers.get_list("set-cookie"):
        cookie.load(header)
    return answer.status_code, cookie


async def _decode(gateway: httpx.AsyncClient, session: str) -> httpx.Response:
    body = _json(await _encrypted(TICKET, RING))
    return await gateway.post(
        "/codec/decode", json=body, headers={"Origin": UI, "Cookie": f"{COOKIE_NAME}={session}"}
    )


async def test_a_session_lives_no_longer_than_its_token_and_dies_with_its_revocation(
    gateway: httpx.AsyncClient, scratch: asyncpg.Pool
) -> None:
    sre = Principal("sre-li", frozenset({"sre"}))
    token = await issue_token(scratch, sre, lifetime=timedelta(minutes=20))
    status, cookie = await _sign_in(gateway, token)
    assert status == 303
    session = cookie[COOKIE_NAME]
    assert 1100 <= int(session["max-age"]) <= 1200

    decoded = await _decode(gateway, session.value)
    assert decoded.status_code == 200, decoded.text
    [payload] = decoded.json()["payloads"]
    assert json.loads(base64.b64decode(payload["data"])) == TICKET
    await scratch.execute("UPDATE desk.tokens SET revoked_at = now() WHERE principal_id = 'sre-li'")
    assert (await _decode(gateway, session.value)).status_code == 401


async def test_an_agent_token_gets_no_session(gateway: httpx.AsyncClient, scratch: asyncpg.Pool) -> None:
    token = await issue_token(
        scratch, Principal("agent-wu", frozenset({"agent"})), lifetime=timedelta(hours=1)
    )
    status, cookie = await _sign_in(gateway, token)
    assert status == 403 and COOKIE_NAME not in cookie
