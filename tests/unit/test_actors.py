"""Who acts (desk/actors.py): the caller always; an integrator's named person beside it."""

from __future__ import annotations

import dataclasses

import pytest

from desk.actors import Acting, acting
from desk.auth import Principal
from desk.errors import InvalidArgument
from domain import ticket_state as ts
from tests.unit.test_ticket_state import T0, draft

AGENT = Principal("dev-agent", frozenset({"agent"}))
INTEGRATOR = Principal("crm", frozenset({"integrator"}))
ADMIN = Principal("root", frozenset({"admin"}))


def test_the_caller_acts_when_the_field_is_empty_or_names_the_caller() -> None:
    assert acting(AGENT, "agent_id", "") == Acting("dev-agent")
    assert acting(AGENT, "agent_id", " dev-agent ") == Acting("dev-agent")
    assert acting(INTEGRATOR, "agent_id", "") == Acting("crm")


def test_only_an_integrator_acts_on_a_persons_behalf() -> None:
    assert acting(INTEGRATOR, "agent_id", "crm-7") == Acting("crm", on_behalf_of="crm-7")
    for caller in (AGENT, ADMIN):  # an admin's wildcard does not make it an integrator
        with pytest.raises(InvalidArgument) as refused:
            acting(caller, "agent_id", "dev-manager")
        assert [v.field for v in refused.value.violations] == ["agent_id"]


def test_the_opening_events_name_the_person_only_when_there_is_one() -> None:
    """No fact for "": a history recorded before the field replays to the same events."""
    plain = ts.opened(ts.new_state(draft(), T0))
    assert all("on_behalf_of" not in event.payload for event in plain)
    behalf = ts.opened(ts.new_state(dataclasses.replace(draft(), on_behalf_of="crm-7"), T0))
    assert [(e.actor, e.payload["on_behalf_of"]) for e in behalf] == [("agent-7", "crm-7")] * 2
