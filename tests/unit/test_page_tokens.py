"""Page tokens are verified, not trusted: signed by the desk, bound to the query they were issued for."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message

from desk.errors import InvalidArgument
from desk.paging import PageTokens
from helpdesk.v1 import dispatch_pb2, intake_pb2

AT = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
TOKENS = PageTokens(b"the first desk's page token key")


def _refused(tokens: PageTokens, request: Message) -> list[str]:
    with pytest.raises(InvalidArgument) as caught:
        tokens.after(request)
    return [v.field for v in caught.value.violations]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_a_token_takes_the_next_page_of_the_same_query_whatever_its_page_size() -> None:
    token = TOKENS.next(intake_pb2.ListTicketsRequest(team_id="network", page_size=2), AT, "TK1")
    again = intake_pb2.ListTicketsRequest(team_id="network", page_size=50, page_token=token)
    assert TOKENS.after(again) == (AT, "TK1")
    assert TOKENS.after(intake_pb2.ListTicketsRequest()) is None


def test_a_token_for_other_filters_or_another_rpc_is_refused() -> None:
    token = TOKENS.next(intake_pb2.ListTicketsRequest(team_id="network"), AT, "TK1")
    assert _refused(TOKENS, intake_pb2.ListTicketsRequest(team_id="machine-room", page_token=token)) == [
        "page_token"
    ]
    assert _refused(TOKENS, dispatch_pb2.ListWorkOrdersRequest(team_id="network", page_token=token)) == [
        "page_token"
    ]


def test_another_desks_token_is_refused() -> None:
    request = intake_pb2.ListTicketsRequest()
    request.page_token = PageTokens(b"another desk's page token key!").next(request, AT, "TK1")
    assert _refused(TOKENS, request) == ["page_token"]


def test_an_edited_token_is_refused() -> None:
    request = intake_pb2.ListTicketsRequest()
    _, _, signature = TOKENS.next(request, AT, "TK1").partition(".")
    moved = _b64(json.dumps([AT.isoformat(), "TK9"]).encode())
    request.page_token = f"{moved}.{signature}"
    assert _refused(TOKENS, request) == ["page_token"]


@pytest.mark.parametrize(
    "token",
    [
        _b64(json.dumps(["2026-01-01T00:00:00+00:00", "TK1"]).encode()),  # the old unsigned shape
        _b64(json.dumps(["9999-12-31T00:00:00+00:00", "TK1"]).encode()) + ".AAAA",
        "not a token!",
        "a.b.c",
        "é.ü",
        ".",
    ],
    ids=["unsigned", "badly signed", "not base64", "dots", "not ascii", "empty parts"],
)
def test_a_token_no_server_issued_is_refused_by_name(token: str) -> None:
    assert _refused(TOKENS, intake_pb2.ListTicketsRequest(page_token=token)) == ["page_token"]


def test_a_signed_position_is_still_checked() -> None:
    """Were the key ever leaked, a signed year-9999 position still stops at the edge of paging."""
    request = intake_pb2.ListTicketsRequest()
    request.page_token = TOKENS.next(request, datetime(9999, 1, 1, tzinfo=UTC), "TK1")
    assert _refused(TOKENS, request) == ["page_token"]


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        PageTokens(b"short")
