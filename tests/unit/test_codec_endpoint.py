"""The codec endpoint without a desk: who may decode, what comes back, CORS, bounds (a fake token table)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from temporalio.api.common.v1 import Payload

from desk.auth import CheckedToken, Principal
from desk.errors import Unauthenticated
from desk.payload_codec import EncryptionCodec, KeyRing, encrypted_converter, new_key, parse_key
from services.http.app import Channels, build_app
from services.http.codec import MAX_CODEC_BODY_BYTES, CodecEndpoint, codec_app
from services.http.codec_session import CodecSessions, SessionSeal
from services.http.codec_sign_in import SignInPage

UI = "http://127.0.0.1:18233"
RING = KeyRing(current=parse_key(new_key()))
TICKET = {"ticket_id": "TK-1", "reporter": {"name": "张三", "phone": "13812346138"}}


class Tokens:
    """desk.auth.TokenAuthenticator's contract over a fixed table (tokens may be revoked)."""

    principals = {
        "manager-token": Principal("dev-manager", frozenset({"manager"})),
        "sre-token": Principal("dev-sre", frozenset({"sre"})),
        "admin-token": Principal("dev-admin", frozenset({"admin"})),
        "agent-token": Principal("dev-agent", frozenset({"agent"})),
        "integrator-token": Principal("dev-integrator", frozenset({"integrator"})),
        "ops-token": Principal("dev-ops-network", frozenset({"ops_engineer"}), "network"),
    }

    def __init__(self, seconds_left: float = 3600.0) -> None:
        self.seconds_left = seconds_left
        self.revoked: set[str] = set()

    async def authenticate(self, authorization: str | None) -> Principal:
        return (await self.check(authorization)).principal

    async def check(self, authorization: str | None) -> CheckedToken:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthenticated("missing bearer token")
        return await self.check_digest(hashlib.sha256(authorization[7:].encode()).digest())

    async def check_digest(self, token_sha256: bytes) -> CheckedToken:
        for token, principal in self.principals.items():
            if hashlib.sha256(token.encode()).digest() == token_sha256 and token not in self.revoked:
                return CheckedToken(principal, token_sha256, self.seconds_left)
        raise Unauthenticated("unknown or revoked token")


def codec_gateway(tokens: Tokens) -> Starlette:
    """The gateway's app with its codec endpoint and sign-in page, as services/http/main.py builds them."""
    sessions = CodecSessions(tokens, SessionSeal(RING))
    codec = codec_app(
        CodecEndpoint(EncryptionCodec(RING), sessions), SignInPage(sessions), allowed_origins=[UI]
    )
    return build_app(Channels(None, channel_category="software"), codec=codec)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = codec_gateway(Tokens())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        yield http


async def _encrypted(value: Any, ring: KeyRing = RING) -> Payload:
    """A payload as the desk's workers write it into Temporal's history."""
    converter = encrypted_converter(ring)
    [payload] = await converter.encode([value])
    return payload


def _json(*payloads: Payload) -> dict[str, Any]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _data(answer: httpx.Response) -> list[bytes]:
    return [base64.b64decode(p.get("data", "")) for p in answer.json()["payloads"]]


@pytest.mark.parametrize("token", ["sre-token", "manager-token", "admin-token"])
async def test_a_manager_or_admin_gets_the_payload_in_the_clear(
    client: httpx.AsyncClient, token: str
) -> None:
    sealed = await _encrypted(TICKET)
    assert b"13812346138" not in sealed.data
    answer = await client.post("/codec/decode", json=_json(sealed), headers=_bearer(token))
    assert answer.status_code == 200, answer.text
    [payload] = answer.json()["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    assert json.loads(base64.b64decode(payload["data"])) == TICKET


async def test_without_a_token_401_with_another_role_403(client: httpx.AsyncClient) -> None:
    body = _json(await _encrypted(TICKET))
    missing = await client.post("/codec/decode", json=body)
    unknown = await client.post("/codec/decode", json=body, headers=_bearer("forged"))
    assert (missing.status_code, unknown.status_code) == (401, 401)
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    for role in ("agent-token", "ops-token"):
        refused = await client.post("/codec/decode", json=body, headers=_bearer(role))
        assert refused.status_code == 403, role
        assert refused.json()["error"]["status"] == "PERMISSION_DENIED"
        assert b"13812346138" not in refused.content
    encode = await client.post("/codec/encode", json=body, headers=_bearer("agent-token"))
    assert encode.status_code == 403


async def test_what_does_not_open_comes_back_as_it_was_sent(client: httpx.AsyncClient) -> None:
    other_key = await _encrypted(TICKET, KeyRing(current=parse_key(new_key())))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"a":1}')
    tampered = await _encrypted(TICKET)
    tampered.data = tampered.data[:-1] + bytes([tampered.data[-1] ^ 1])
    ours = await _encrypted(TICKET)
    sent = _json(other_key, plain, tampered, ours)
    answer = await client.post("/codec/decode", json=sent, headers=_bearer("manager-token"))
    assert answer.status_code == 200
    returned = answer.json()["payloads"]
    assert returned[:3] == sent["payloads"][:3]
    assert json.loads(_data(answer)[3]) == TICKET


async def test_encode_seals_under_the_current_key_and_decode_opens_it(client: httpx.AsyncClient) -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(TICKET).encode())
    encoded = await client.post("/codec/encode", json=_json(plain), headers=_bearer("manager-token"))
    assert encoded.status_code == 200
    [sealed] = encoded.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert b"13812346138" not in base64.b64decode(sealed["data"])
    decoded = await client.post("/codec/decode", json=encoded.json(), headers=_bearer("manager-token"))
    assert json.loads(_data(decoded)[0]) == TICKET


async def test_bad_and_oversized_bodies_are_refused(client: httpx.AsyncClient) -> None:
    manager = _bearer("manager-token")
    bad = await client.post("/codec/decode", content=b"{not json", headers=manager)
    assert bad.status_code == 400
    huge = await client.post("/codec/decode", content=b" " * (MAX_CODEC_BODY_BYTES + 1), headers=manager)
    assert huge.status_code == 413
    empty = await client.post("/codec/decode", json={}, headers=manager)
    assert empty.json() == {"payloads": []}


async def test_the_temporal_uis_origin_is_allowed_and_a_foreign_one_is_not(client: httpx.AsyncClient) -> None:
    asks = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    allowed = await client.options("/codec/decode", headers={"Origin": UI, **asks})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == UI
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    granted = allowed.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "x-namespace"} <= {h.strip() for h in granted.split(",")}

    foreign = await client.options("/codec/decode", headers={"Origin": "https://evil.example", **asks})
    assert foreign.status_code == 400
    assert "Access-Control-Allow-Origin" not in foreign.headers

    body = _json(await _encrypted(TICKET))
    answer = await client.post("/codec/decode", json=body, headers={"Origin": UI, **_bearer("manager-token")})
    assert answer.headers["Access-Control-Allow-Origin"] == UI  # the UI's page may read the answer
    other = await client.post(
        "/codec/decode", json=body, headers={"Origin": "https://evil.example", **_bearer("manager-token")}
    )
    assert "Access-Control-Allow-Origin" not in other.headers  # a foreign page's browser withholds it


async def test_without_keys_or_tokens_the_endpoint_says_what_is_missing() -> None:
    missing = "set HELPDESK_PAYLOAD_KEYS"
    codec = codec_app(
        CodecEndpoint(None, None, missing=missing), SignInPage(None, missing=missing), allowed_origins=[UI]
    )
    app = build_app(Channels(None, channel_category="software"), codec=codec)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        answer = await http.post("/codec/decode", json={}, headers=_bearer("manager-token"))
        page = await http.get("/codec/session")
    assert answer.status_code == 503
    assert "HELPDESK_PAYLOAD_KEYS" in answer.json()["error"]["message"]
    assert page.status_code == 503 and "HELPDESK_PAYLOAD_KEYS" in page.text
