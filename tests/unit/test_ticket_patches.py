"""Which patches a ticket has: the newest chained patch it recorded stands for every patch before it."""

from __future__ import annotations

import pytest
from temporalio import workflow

from workflows import ticket_patches as patches

NEXT = "a-patch-after-the-last"


class History:
    """``workflow.patched`` as Temporal answers it: a new ticket (not replaying) gets every patch and
    records its marker; a replayed one has the markers its history holds. Records what was asked."""

    def __init__(self, markers: set[str] | None) -> None:
        self.markers = markers  # None: a new ticket
        self.asked: list[str] = []

    def patched(self, patch: str) -> bool:
        self.asked.append(patch)
        return self.markers is None or patch in self.markers


@pytest.fixture
def chain_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patches, "CHAINED", (patches.ONE_MARKER_PER_TICKET, NEXT))


def code_for(history: History, monkeypatch: pytest.MonkeyPatch) -> patches.TicketCode:
    monkeypatch.setattr(workflow, "patched", history.patched)
    return patches.TicketCode()


@pytest.mark.usefixtures("chain_of_two")
def test_a_new_ticket_records_only_the_newest_patch_and_has_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    history = History(markers=None)
    code = code_for(history, monkeypatch)
    assert all(code.has(p) for p in (NEXT, patches.ONE_MARKER_PER_TICKET, patches.RETURN_GOES_TO_DESK))
    assert history.asked == [NEXT]


@pytest.mark.usefixtures("chain_of_two")
def test_a_ticket_from_the_chains_first_code_lacks_only_what_came_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    history = History(markers={patches.ONE_MARKER_PER_TICKET})
    code = code_for(history, monkeypatch)
    assert not code.has(NEXT)
    assert code.has(patches.ONE_MARKER_PER_TICKET) and code.has(patches.LINE_TEST_IN_OPENING)
    assert history.asked == [NEXT, patches.ONE_MARKER_PER_TICKET]


def test_a_ticket_from_before_the_chain_is_asked_each_patch_where_its_change_happens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    history = History(markers={patches.RETURN_GOES_TO_DESK})
    code = code_for(history, monkeypatch)
    assert code.has(patches.RETURN_GOES_TO_DESK) and not code.has(patches.ONE_PERSIST_PER_CHANGE)
    assert history.asked == [
        patches.ONE_MARKER_PER_TICKET,
        patches.RETURN_GOES_TO_DESK,
        patches.ONE_PERSIST_PER_CHANGE,
    ]
