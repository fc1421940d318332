"""A browser's codec session without a desk (the fake token table of test_codec_endpoint): signing in on
/codec/session, the cookie's attributes and contents, the codec endpoint taking the cookie instead of a
token, and every refusal: no cookie, another role, a revoked token, an ended or forged session, a sign-in
posted from another site."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import httpx
import pytest

from desk.errors import Unauthenticated
from desk.payload_codec import KeyRing, new_key, parse_key
from services.http.codec_session import COOKIE_NAME, MAX_SESSION_SECONDS, Session, SessionSeal
from tests.unit.test_codec_endpoint import RING, TICKET, UI, Tokens, _encrypted, _json, codec_gateway

GATEWAY = "http://127.0.0.1:20180"
SESSION = "/codec/session"


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
async def client(tokens: Tokens) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=codec_gateway(tokens))
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY) as http:
        yield http


async def _sign_in(client: httpx.AsyncClient, token: str, *, origin: str | None = GATEWAY) -> httpx.Response:
    headers = {"Origin": origin} if origin else {}
    return await client.post(SESSION, data={"token": token}, headers=headers)


def _cookie(answer: httpx.Response) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    for header in answer.headers.get_list("set-cookie"):
        cookie.load(header)
    return cookie


async def _session(client: httpx.AsyncClient, token: str = "sre-token") -> str:
    answer = await _sign_in(client, token)
    assert answer.status_code == 303, answer.text
    return _cookie(answer)[COOKIE_NAME].value


async def _decode(client: httpx.AsyncClient, session: str | None) -> httpx.Response:
    headers = {"Origin": UI}
    if session is not None:
        headers["Cookie"] = f"{COOKIE_NAME}={session}"
    return await client.post("/codec/decode", json=_json(await _encrypted(TICKET)), headers=headers)


async def test_an_sre_signs_in_and_the_ui_decodes_with_the_cookie_alone(client: httpx.AsyncClient) -> None:
    answer = await _sign_in(client, "sre-token")
    assert answer.status_code == 303 and answer.headers["location"] == SESSION
    morsel = _cookie(answer)[COOKIE_NAME]
    assert morsel["httponly"] is True and morsel["samesite"] == "strict" and morsel["path"] == "/codec"
    assert not morsel["secure"]  # plain http: a Secure cookie would never be sent back
    assert int(morsel["max-age"]) == 3600  # the token's remaining life, under the session's limit
    assert "sre-token" not in morsel.value
    assert hashlib.sha256(b"sre-token").hexdigest() not in morsel.value  # sealed, not merely signed

    decoded = await _decode(client, morsel.value)
    assert decoded.status_code == 200, decoded.text
    assert json.loads(_plain(decoded)) == TICKET
    assert decoded.headers["Access-Control-Allow-Origin"] == UI
    assert decoded.headers["Access-Control-Allow-Credentials"] == "true"

    shown = await client.get(SESSION, headers={"Cookie": f"{COOKIE_NAME}={morsel.value}"})
    assert shown.status_code == 200 and "dev-sre" in shown.text


def _plain(answer: httpx.Response) -> bytes:
    return b"".join(base64.b64decode(p["data"]) for p in answer.json()["payloads"])


async def test_over_https_the_cookie_is_secure(tokens: Tokens) -> None:
    transport = httpx.ASGITransport(app=codec_gateway(tokens))
    async with httpx.AsyncClient(transport=transport, base_url="https://gw.example") as https:
        answer = await _sign_in(https, "sre-token", origin="https://gw.example")
    assert answer.status_code == 303
    assert _cookie(answer)[COOKIE_NAME]["secure"] is True


async def test_a_session_ends_with_its_token_or_after_a_shift(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    tokens.seconds_left = 120.5
    assert int(_cookie(await _sign_in(client, "sre-token"))[COOKIE_NAME]["max-age"]) == 120
    tokens.seconds_left = 30 * 24 * 3600.0
    assert int(_cookie(await _sign_in(client, "sre-token"))[COOKIE_NAME]["max-age"]) == MAX_SESSION_SECONDS


async def test_without_a_session_401(client: httpx.AsyncClient) -> None:
    refused = await _decode(client, None)
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Credentials"] == "true"  # the UI may read why


@pytest.mark.parametrize("token", ["agent-token", "integrator-token", "ops-token"])
async def test_another_role_is_refused_a_session(client: httpx.AsyncClient, token: str) -> None:
    answer = await _sign_in(client, token)
    assert answer.status_code == 403
    assert COOKIE_NAME not in _cookie(answer)
    assert "Refused (403)" in answer.text


async def test_an_unknown_or_empty_token_is_refused_a_session(client: httpx.AsyncClient) -> None:
    unknown = await _sign_in(client, "forged")
    empty = await _sign_in(client, "  ")
    assert (unknown.status_code, empty.status_code) == (401, 400)
    assert COOKIE_NAME not in _cookie(unknown) and COOKIE_NAME not in _cookie(empty)


async def test_revoking_the_token_ends_its_sessions(client: httpx.AsyncClient, tokens: Tokens) -> None:
    session = await _session(client)
    assert (await _decode(client, session)).status_code == 200
    tokens.revoked.add("sre-token")
    assert (await _decode(client, session)).status_code == 401
    shown = await client.get(SESSION, headers={"Cookie": f"{COOKIE_NAME}={session}"})
    assert "signed-in" not in shown.text and 'name="token"' in shown.text


async def test_a_forged_altered_or_ended_session_is_401(client: httpx.AsyncClient) -> None:
    session = await _session(client)
    flipped = session[:-2] + ("A" if session[-2] != "A" else "B") + session[-1]
    digest = hashlib.sha256(b"sre-token").digest()
    other_ring = SessionSeal(KeyRing(current=parse_key(new_key())))
    ended = SessionSeal(RING).seal(Session(digest, ends_at=1))
    for value in (flipped, "not-a-session", other_ring.seal(Session(digest, ends_at=2**40)), ended):
        assert (await _decode(client, value)).status_code == 401, value


def test_a_rotated_ring_still_opens_the_sessions_of_its_retired_key() -> None:
    digest = hashlib.sha256(b"sre-token").digest()
    sealed = SessionSeal(RING).seal(Session(digest, ends_at=2**40))
    rotated = SessionSeal(RING.rotated(parse_key(new_key())))
    assert rotated.open(sealed, now=0).token_sha256 == digest
    with pytest.raises(Unauthenticated):
        rotated.open(sealed, now=2**40)


@pytest.mark.parametrize("origin", ["https://evil.example", UI, None], ids=["foreign", "temporal-ui", "none"])
async def test_a_sign_in_not_posted_from_the_page_is_refused(
    client: httpx.AsyncClient, origin: str | None
) -> None:
    answer = await _sign_in(client, "sre-token", origin=origin)
    assert answer.status_code == 403
    assert COOKIE_NAME not in _cookie(answer)
    out = await client.post(f"{SESSION}/sign-out", headers={"Origin": origin} if origin else {})
    assert out.status_code == 403 and COOKIE_NAME not in _cookie(out)


async def test_the_page_is_no_cors_resource(client: httpx.AsyncClient) -> None:
    shown = await client.get(SESSION, headers={"Origin": UI})
    assert "Access-Control-Allow-Origin" not in shown.headers
    assert "form-action 'self'" in shown.headers["Content-Security-Policy"]
    assert "http://127.0.0.1:20180/codec" in shown.text  # what to paste in the UI's dialog


async def test_signing_out_clears_the_cookie(client: httpx.AsyncClient) -> None:
    await _session(client)
    out = await client.post(f"{SESSION}/sign-out", headers={"Origin": GATEWAY})
    assert out.status_code == 303
    morsel = _cookie(out)[COOKIE_NAME]
    assert morsel.value == "" and int(morsel["max-age"]) == 0 and morsel["path"] == "/codec"


async def test_a_bearer_token_still_wins_over_a_cookie(client: httpx.AsyncClient) -> None:
    session = await _session(client)
    answer = await client.post(
        "/codec/decode",
        json=_json(await _encrypted(TICKET)),
        headers={"Cookie": f"{COOKIE_NAME}={session}", "Authorization": "Bearer agent-token"},
    )
    assert answer.status_code == 403  # the CLI's explicit token is the caller, not the browser's session


async def test_the_preflight_allows_credentials_for_the_ui_only(client: httpx.AsyncClient) -> None:
    asks = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    allowed = await client.options("/codec/decode", headers={"Origin": UI, **asks})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == UI  # the origin named, never *
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    foreign = await client.options("/codec/decode", headers={"Origin": "http://127.0.0.1:9999", **asks})
    assert foreign.status_code == 400 and "Access-Control-Allow-Origin" not in foreign.headers
