"""The desk's JSON for records agrees with Temporal's own converter, both ways.

Histories recorded before the faster converter hold payloads Temporal's encoder wrote, and a worker
of either kind must read the other's: so every record must decode to the same dataclass whichever
of the two wrote it, and bad values must still be refused.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from temporalio.converter import JSONPlainPayloadConverter, value_to_type

from desk.events import EventSpec
from desk.records import RecordPayloadConverter, from_json, to_json
from domain.ticket import TicketView
from services.intake.contract import RecordTicketInput
from tests.unit.test_ticket_state import T0, accept, dispatched, resolve

TEMPORAL = JSONPlainPayloadConverter()


def busy_view() -> TicketView:
    """A view with every kind of field set: work orders, deadlines met and open, optional times."""
    state, work_order = dispatched()
    accept(state, work_order.work_order_id, T0 + timedelta(minutes=5, microseconds=250))
    resolve(state, work_order.work_order_id, T0 + timedelta(hours=2))
    state.view.draft.expected_by = datetime(2026, 3, 4, 18, 30, tzinfo=timezone(timedelta(hours=8)))
    return state.view


def event(**payload: Any) -> EventSpec:
    return EventSpec("e-1", "ticket.created", "helpdesk.ticket.created", "T-1", 1, T0, "agent", "", payload)


def test_a_view_comes_back_as_it_went() -> None:
    view = busy_view()
    assert from_json(to_json(view), TicketView) == view


def test_what_temporals_encoder_wrote_decodes_to_the_same_record() -> None:
    record = RecordTicketInput(busy_view(), [event(team="network", nested={"n": [1, 2]})])
    written_by_temporal = TEMPORAL.to_payload(record)
    assert written_by_temporal is not None
    assert RecordPayloadConverter().from_payloads([written_by_temporal], [RecordTicketInput]) == [record]


def test_what_the_desk_writes_temporals_converter_reads() -> None:
    record = RecordTicketInput(busy_view(), [event(count=3)])
    assert value_to_type(RecordTicketInput, json.loads(to_json(record))) == record
    assert json.loads(to_json(record)) == json.loads(TEMPORAL.to_payload(record).data)  # type: ignore[union-attr]


def test_a_value_orjson_cannot_write_goes_to_temporals_encoder() -> None:
    @dataclass
    class WithTime:
        at: datetime
        extra: dict[str, Any] = field(default_factory=dict)

    class Odd:
        pass

    with pytest.raises(TypeError):
        to_json(WithTime(T0, {"odd": Odd()}))  # neither can: Temporal's own error
    uid = uuid.UUID(int=7)
    assert json.loads(to_json({"id": uid, 3: "three"})) == {"id": str(uid), "3": "three"}


def test_missing_fields_take_defaults_and_unknown_ones_are_ignored() -> None:
    spec = from_json(
        '{"event_id":"e","type":"t","subject":"s","ticket_id":"T","sequence":2,'
        '"occurred_at":"2026-03-02T09:00:00+00:00","actor":"a","added_later":true}',
        EventSpec,
    )
    assert spec == EventSpec("e", "t", "s", "T", 2, T0, "a")


@pytest.mark.parametrize(
    ("field_name", "bad"),
    [("sequence", "two"), ("occurred_at", "yesterday"), ("occurred_at", 5), ("payload", [1]), ("actor", 1)],
)
def test_a_wrong_type_is_refused(field_name: str, bad: object) -> None:
    data = json.loads(to_json(event()))
    data[field_name] = bad
    with pytest.raises((TypeError, ValueError)):
        from_json(json.dumps(data), EventSpec)


def test_an_unknown_enum_value_is_refused() -> None:
    data = json.loads(to_json(busy_view()))
    data["status"] = "SOMEWHERE"
    with pytest.raises(ValueError):
        from_json(json.dumps(data), TicketView)


def test_times_keep_their_instant_and_offset() -> None:
    at = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
    assert from_json(to_json(event()), EventSpec).occurred_at.tzinfo is not None
    written = json.dumps({**json.loads(to_json(event())), "occurred_at": at.isoformat()})
    assert from_json(written, EventSpec).occurred_at == at
