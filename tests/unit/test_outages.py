"""Which known outage a report falls in, and how large a declared outage may be."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from desk.errors import InvalidArgument
from services.intake.outages.matching import (
    ANY,
    MAX_CATEGORY,
    MAX_EXCHANGES,
    MAX_PREFIX,
    MAX_REGIONS,
    OutageRecord,
    check_declaration,
    matching,
    report_terms,
    scope_terms,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def outage(
    outage_id: str,
    *,
    minutes: int = 0,
    exchanges: Sequence[str] = (),
    categories: Sequence[str] = (),
    regions: Sequence[str] = (),
) -> OutageRecord:
    declared_at = T0 + timedelta(minutes=minutes)
    return OutageRecord(
        outage_id, f"req-{outage_id}", "fibre cut", declared_at, [*exchanges], [*categories], [*regions]
    )


def found(outages: list[OutageRecord], fault_number: str = "02155551234", **report: str) -> str | None:
    match = matching(
        outages,
        fault_number=fault_number,
        category=report.get("category", "network"),
        region=report.get("region", "310000"),
    )
    return None if match is None else match.outage_id


def test_a_report_matches_an_outage_of_a_prefix_of_its_number_within_every_list_given() -> None:
    cut = outage("A", exchanges=["0215555"], categories=["network"], regions=["310000"])
    assert found([cut]) == "A"
    assert found([cut], "02155561234") is None  # another exchange
    assert found([cut], category="software") is None
    assert found([cut], region="110000") is None
    assert found([cut], "") is None  # a report without a number is in no exchange


def test_an_empty_list_does_not_restrict() -> None:
    assert found([outage("A", categories=["network"])], "") == "A"
    assert found([outage("A", regions=["310000"])], "07551234567", category="power") == "A"


def test_the_earliest_declared_wins_then_the_smaller_id_and_a_resolved_outage_matches_nothing() -> None:
    later, earlier = outage("A", minutes=5, exchanges=["021"]), outage("B", exchanges=["0215"])
    assert found([later, earlier]) == "B"
    assert found([outage("D", exchanges=["021"]), outage("C", exchanges=["0215"])]) == "C"
    earlier.active = False
    assert found([later, earlier]) == "A"


def test_a_report_looks_up_every_prefix_of_its_number_and_any() -> None:
    terms = report_terms(fault_number="02155", category="network", region="")
    assert terms == {
        "exchange": ["0", "02", "021", "0215", "02155", ANY],
        "category": ["network", ANY],
        "region": [ANY],
    }


def test_an_outage_is_found_by_its_entries_once_each_and_by_any_where_its_list_is_empty() -> None:
    cut = outage("A", exchanges=["0215", "021", "0215"], regions=["310000"])
    assert scope_terms(cut) == [
        ("exchange", "021"),
        ("exchange", "0215"),
        ("category", ANY),
        ("region", "310000"),
    ]


def _refused(cut: OutageRecord) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as refused:
        check_declaration(cut, now=T0)
    return refused.value


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("exchanges", ["0215"] * (MAX_EXCHANGES + 1)),
        ("exchanges", ["0" * (MAX_PREFIX + 1)]),
        ("categories", ["c" * (MAX_CATEGORY + 1)]),
        ("regions", ["310000"] * (MAX_REGIONS + 1)),
    ],
)
def test_a_declaration_too_large_is_refused_naming_the_list(field: str, values: list[str]) -> None:
    declared = outage("A")
    setattr(declared, field, values)
    assert [v.field for v in _refused(declared).violations] == [field]


def test_a_cause_too_long_is_refused_and_a_long_list_is_not_echoed_back() -> None:
    cut = outage("A", exchanges=["x" * 100_000] * 50)
    cut.cause = "c" * 2001
    refused = _refused(cut)
    assert {v.field for v in refused.violations} == {"cause", "exchanges"}
    assert len(str(refused)) < 1000


def test_a_declaration_at_every_bound_is_accepted() -> None:
    check_declaration(
        outage(
            "A",
            exchanges=["1" * MAX_PREFIX] * MAX_EXCHANGES,
            categories=["c" * MAX_CATEGORY],
            regions=["r"] * MAX_REGIONS,
        ),
        now=T0,
    )
