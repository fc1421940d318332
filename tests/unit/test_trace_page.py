"""The gateway's trace page without a desk: who may read it, and that it escapes what spans say.

The tokens are checked by a fake with TokenAuthenticator's interface (the real one is exercised on the
real desk by tests/integration/test_trace.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from desk.auth import Principal
from desk.errors import Unauthenticated
from desk.report_format import CONTENT_SECURITY_POLICY
from desk.ticket_spans import TICKET_ID
from services.http.app import Channels, build_app
from services.http.trace_page import TracePages

TOKENS = {
    "admin-token": Principal("ops", frozenset({"admin"})),
    "manager-token": Principal("boss", frozenset({"manager"})),
    "agent-token": Principal("li", frozenset({"agent"})),
}


class FakeAuthenticator:
    async def authenticate(self, authorization: str | None) -> Principal:
        token = (authorization or "").removeprefix("Bearer ")
        if token not in TOKENS:
            raise Unauthenticated("unknown or revoked token")
        return TOKENS[token]


def spans_with(span_dir: Path, name: str) -> None:
    span_dir.mkdir()
    line = {
        "name": name,
        "context": {"trace_id": "0x" + "ab" * 16, "span_id": "0x01"},
        "parent_id": None,
        "kind": "SERVER",
        "start_time": 1_780_000_000_000_000_000,
        "end_time": 1_780_000_000_042_000_000,
        "status": "ERROR",
        "attributes": {TICKET_ID: "T1"},
        "service": "helpdesk-intake",
    }
    (span_dir / "intake-1.jsonl").write_text(json.dumps(line) + "\n")


async def get(span_dir: Path, path: str, token: str | None) -> httpx.Response:
    pages = TracePages(span_dir, FakeAuthenticator())
    app = build_app(Channels(None, channel_category="software", traces=pages))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        return await client.get(path, headers=headers)


async def test_admins_and_managers_read_the_page(tmp_path: Path) -> None:
    spans_with(tmp_path / "spans", "/helpdesk.v1.IntakeService/CreateTicket")
    for token in ("admin-token", "manager-token"):
        answer = await get(tmp_path / "spans", "/v1/tickets/T1/trace", token)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "/helpdesk.v1.IntakeService/CreateTicket" in answer.text and "42.0 ms" in answer.text
        assert "ab" * 16 in answer.text and "<script" not in answer.text


async def test_no_token_is_401_an_unknown_one_too_and_another_role_403(tmp_path: Path) -> None:
    spans_with(tmp_path / "spans", "rpc")
    assert (await get(tmp_path / "spans", "/v1/tickets/T1/trace", None)).status_code == 401
    assert (await get(tmp_path / "spans", "/v1/tickets/T1/trace", "forged")).status_code == 401
    refused = await get(tmp_path / "spans", "/v1/tickets/T1/trace", "agent-token")
    assert refused.status_code == 403 and "rpc" not in refused.text


async def test_what_spans_and_the_path_say_is_escaped(tmp_path: Path) -> None:
    spans_with(tmp_path / "spans", "<script>alert(1)</script>")
    answer = await get(tmp_path / "spans", "/v1/tickets/T1/trace", "admin-token")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text and "<script>" not in answer.text
    unknown = await get(tmp_path / "spans", "/v1/tickets/%3Cb%3Ex/trace", "admin-token")
    assert unknown.status_code == 200 and "&lt;b&gt;x" in unknown.text and "<b>x" not in unknown.text
    assert "No spans of this ticket" in unknown.text
