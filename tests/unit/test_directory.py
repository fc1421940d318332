"""The directory's pure rules: longest-prefix exchanges, the owner check, VIP and its priority, CSV import."""

from __future__ import annotations

from typing import Any

import pytest

from desk.errors import InvalidArgument, TransitionNotAllowed
from domain.ticket import Reporter
from services.intake.reference import directory
from services.intake.reference.directory_import import parse
from services.intake.reference.directory_repository import Exchange, Lookup, Subscriber
from services.intake.validation import ValidReport

EXCHANGES = [
    Exchange("021", "上海 Shanghai", "310000"),
    Exchange("0755", "深圳 Shenzhen", "440300"),
    Exchange("075588", "深圳 Futian exchange", "440304"),
    Exchange("138", "中国移动 China Mobile"),
]


def _report(**fields: Any) -> ValidReport:
    values: dict[str, Any] = {
        "request_id": "r-1",
        "channel": "PHONE",
        "kind": "FAULT",
        "reporter": Reporter(name="Li Lei", phone="13812346138", organization="ACME"),
        "fault_number": "02145678901",
        "category": "network",
        "priority": "P3",
        "customer_tier": "STANDARD",
        "summary": "No dial tone",
        "description": "",
        "occurred_at": None,
        "expected_by": None,
        "agent_id": "",
    }
    values.update(fields)
    return ValidReport(**values)


@pytest.mark.parametrize(
    ("number", "prefix"),
    [
        ("02145678901", "021"),
        ("075512345678", "0755"),
        ("075588123456", "075588"),  # the longer prefix wins
        ("13800136138", "138"),
        ("02", None),  # shorter than every prefix it could belong to
        ("59912345678", None),
    ],
)
def test_the_longest_prefix_names_the_exchange(number: str, prefix: str | None) -> None:
    found = directory.match_exchange(number, EXCHANGES)
    assert (found.prefix if found else None) == prefix
    # The candidates the repository is asked for include every prefix that could match.
    assert prefix is None or prefix in directory.prefixes(number)


def test_an_unknown_exchange_is_invalid_naming_the_fault_number() -> None:
    with pytest.raises(InvalidArgument) as caught:
        directory.decide(_report(fault_number="59912345678"), Lookup(EXCHANGES))
    assert [v.field for v in caught.value.violations] == ["fault_number"]


def test_the_exchange_region_fills_a_missing_region_only() -> None:
    derived = directory.decide(_report(fault_number="075588123456"), Lookup(EXCHANGES))
    assert (derived.region, derived.exchange) == ("440304", EXCHANGES[2])
    kept = directory.decide(_report(fault_number="075588123456", region="south"), Lookup(EXCHANGES))
    assert kept.region == "south"
    mobile = directory.decide(_report(fault_number="13800136138"), Lookup(EXCHANGES))
    assert mobile.region == ""


def test_a_report_without_a_fault_number_skips_exchange_and_owner_checks() -> None:
    facts = directory.decide(_report(fault_number=""), Lookup())
    assert (facts.region, facts.customer_tier, facts.priority, facts.exchange) == ("", "STANDARD", "P3", None)


@pytest.mark.parametrize(
    ("name", "phone", "organization", "owner"),
    [
        ("Wang Fang", "13900000000", "", True),
        ("  wang   FANG ", "13900000000", "", True),  # trimmed, case-folded, whitespace collapsed
        ("Li Lei", "+86 139-1111-2222", "", True),  # a registered contact phone, written differently
        ("Li Lei", "008613911112222", "", True),
        ("Li Lei", "13900000000", "wang fang", True),  # the line is registered to the organization
        ("Li Lei", "13900000000", "ACME", False),
        ("Wang", "13911112223", "", False),
    ],
)
def test_who_is_the_owner(name: str, phone: str, organization: str, owner: bool) -> None:
    subscriber = Subscriber("02145670000", "Wang  Fang", ("13911112222", "02145670000"))
    reporter = Reporter(name=name, phone=phone, organization=organization)
    assert directory.is_owner(subscriber, reporter) is owner


def test_anyone_but_the_owner_is_refused_except_through_ivr() -> None:
    subscriber = Subscriber("02145670000", "Wang Fang", ("13911112222",))
    found = Lookup(EXCHANGES, subscriber)
    with pytest.raises(TransitionNotAllowed, match="owner must report in person"):
        directory.decide(_report(fault_number="02145670000"), found)
    assert directory.decide(_report(fault_number="02145670000", channel="IVR"), found).exchange
    owner = Reporter(name="WANG FANG", phone="13800000000")
    assert directory.decide(_report(fault_number="02145670000", reporter=owner), found).exchange
    assert not directory.owner_check_applies("IVR")
    assert all(directory.owner_check_applies(c) for c in ("PHONE", "WEB", "EMAIL", "IM", "FAX", "API"))


@pytest.mark.parametrize(("before", "after"), [("P4", "P3"), ("P3", "P2"), ("P2", "P1"), ("P1", "P1")])
def test_vip_raises_the_priority_one_step(before: str, after: str) -> None:
    assert directory.raise_priority(before) == after
    facts = directory.decide(_report(priority=before, customer_tier="VIP"), Lookup(EXCHANGES))
    assert (facts.customer_tier, facts.priority) == ("VIP", after)


def test_a_vip_directory_match_makes_the_report_vip() -> None:
    reporter = Reporter(name="Li Lei", phone="+86 138 1234 6138", organization="  Big   Bank ")
    keys = directory.vip_keys(fault_number="02145678901", reporter=reporter)
    assert keys == [("fault_number", "02145678901"), ("phone", "13812346138"), ("organization", "big bank")]
    for match in keys:
        facts = directory.decide(_report(reporter=reporter), Lookup(EXCHANGES, vip_matches=[match]))
        assert (facts.customer_tier, facts.priority) == ("VIP", "P2")
    plain = directory.decide(_report(reporter=reporter), Lookup(EXCHANGES, vip_matches=[("phone", "1")]))
    assert (plain.customer_tier, plain.priority) == ("STANDARD", "P3")


def test_applied_puts_the_facts_on_the_report() -> None:
    report = _report(fault_number="075588123456", customer_tier="VIP")
    applied = directory.applied(report, directory.decide(report, Lookup(EXCHANGES)))
    assert (applied.region, applied.customer_tier, applied.priority) == ("440304", "VIP", "P2")
    assert report.priority == "P3"  # the original is left as it was


def test_csv_rows_are_parsed_and_normalised() -> None:
    batch = parse(
        "subscribers",
        [
            "fault_number,owner_name,contact_phones\n",
            "02145670000, Wang  Fang ,+86 139-1111-2222; 13911112222\n",
        ],
    )
    assert batch.subscribers == [Subscriber("02145670000", "Wang Fang", ("13911112222",))]
    vip = parse("vip", ["value,kind\n", "Big  BANK,organization\n", "+8613812346138,phone\n"])
    assert [(v.kind, v.value) for v in vip.vip] == [("organization", "big bank"), ("phone", "13812346138")]
    exchanges = parse("exchanges", ["prefix,name\n", "0755,Shenzhen\n"])
    assert exchanges.exchanges == [Exchange("0755", "Shenzhen", "")]


def test_every_bad_csv_row_is_named_by_line() -> None:
    lines = [
        "prefix,name,region\n",
        "0755,Shenzhen,440300\n",
        "07x5,Bad,\n",
        "\n",
        "0755,Again,\n",
        "0311,,130100\n",
    ]
    with pytest.raises(InvalidArgument) as caught:
        parse("exchanges", lines)
    assert [v.field for v in caught.value.violations] == ["line 3, prefix", "line 5, row", "line 6, name"]
    with pytest.raises(InvalidArgument) as header:
        parse("vip", ["kind,valu\n"])
    assert {v.description for v in header.value.violations} == {
        "column 'value' is missing",
        "unknown column 'valu'; expected kind, value, note",
    }
    with pytest.raises(InvalidArgument) as bad_vip:
        parse("vip", ["kind,value\n", "email,x@y.z\n", "phone,12\n", "fault_number,12ab\n"])
    assert [v.field for v in bad_vip.value.violations] == ["line 2, kind", "line 3, value", "line 4, value"]
