"""Customer data by role: the masks, the table, and a ticket built for each reader."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from desk.auth import ROLES, Principal
from desk.masks import mask_email, mask_name, mask_number
from domain.ticket import Reporter, TicketDraft, TicketStatus, TicketView
from services import customer_data
from services.customer_data import (
    ABSENT,
    CLEAR,
    MASKED,
    fault_number_for,
    free_text_for,
    policy_for,
    reporter_for,
)
from services.ticket_messages import ticket_to_proto

REPORTER = Reporter(
    name="张三丰",
    organization="Acme Trading",
    phone="13812346138",
    email="zhang.san@example.com",
    address="1 Wudang Road",
)


def reader(*roles: str, team_id: str = "") -> Principal:
    return Principal("someone", frozenset(roles), team_id)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13812346138", "138****6138"),
        ("138-1234-6138", "138-****-6138"),
        ("010 8888 9999", "010 **** 9999"),
        ("1234567", "*****67"),
        ("", ""),
    ],
)
def test_a_number_keeps_its_head_and_tail_only(number: str, masked: str) -> None:
    assert mask_number(number) == masked


def test_a_name_keeps_the_family_name_only() -> None:
    assert mask_name("张三丰") == "张*"
    assert mask_name("李四") == "李*"
    assert mask_name("John Smith") == "* Smith"
    assert mask_name("  ") == ""


def test_an_email_keeps_its_first_letter_and_domain() -> None:
    assert mask_email("zhang.san@example.com") == "z***@example.com"
    assert mask_email("not an address") == "***"


def test_every_role_is_in_the_table() -> None:
    assert set(customer_data.POLICIES) == set(ROLES)


@pytest.mark.parametrize("role", ["agent", "senior_agent", "manager", "admin", "surveyor"])
def test_the_desk_and_surveyors_see_the_whole_reporter(role: str) -> None:
    assert reporter_for(reader(role), REPORTER) == REPORTER
    assert fault_number_for(reader(role), "02188889999") == "02188889999"


def test_an_engineer_sees_what_a_repair_needs_but_not_the_email() -> None:
    shown = reporter_for(reader("ops_engineer", team_id="network"), REPORTER)
    assert (shown.name, shown.phone, shown.address) == ("张三丰", "13812346138", "1 Wudang Road")
    assert shown.email == "z***@example.com"
    assert fault_number_for(reader("ops_engineer", team_id="network"), "02188889999") == "02188889999"


@pytest.mark.parametrize("role", ["integrator", "qa_inspector"])
def test_integrators_and_inspectors_can_recognise_but_not_reach_the_customer(role: str) -> None:
    shown = reporter_for(reader(role), REPORTER)
    assert shown == Reporter(
        name="张*",
        organization="Acme Trading",
        phone="138****6138",
        email="z***@example.com",
        address="",
    )
    assert fault_number_for(reader(role), "02188889999") == "021****9999"


@pytest.mark.parametrize("role", ["statistician", "knowledge_manager"])
def test_statisticians_and_knowledge_managers_see_no_personal_data(role: str) -> None:
    assert reporter_for(reader(role), REPORTER) == Reporter()
    assert fault_number_for(reader(role), "02188889999") == ""


def test_several_roles_get_the_most_any_allows_field_by_field() -> None:
    policy = policy_for({"ops_engineer", "qa_inspector"})
    assert (policy.phone, policy.email, policy.address) == (CLEAR, MASKED, CLEAR)
    assert policy_for({"statistician", "surveyor"}).phone == CLEAR


def test_an_unknown_role_or_none_gets_nothing() -> None:
    assert policy_for({"someone_new"}).phone == ABSENT
    assert reporter_for(reader(), REPORTER) == Reporter()


def test_numbers_in_free_text_are_masked_for_readers_without_the_phone() -> None:
    text = "客户电话13812346138，备用 010-8888-9999；工单 TK-20261202-0001，约 2026-12-02 14:00"  # noqa: RUF001 - Chinese punctuation, as typed
    shown = free_text_for(reader("statistician"), text)
    assert "13812346138" not in shown and "138****6138" in shown
    assert "010-****-9999" in shown
    assert "TK-20261202-0001" in shown and "2026-12-02 14:00" in shown
    assert free_text_for(reader("surveyor"), text) == text


def test_a_ticket_built_outside_an_rpc_has_no_reader_and_is_refused() -> None:
    draft = TicketDraft(
        ticket_id="TK1",
        request_id="r1",
        channel="PHONE",
        kind="FAULT",
        reporter=REPORTER,
        category="network",
        priority="P3",
        customer_tier="STANDARD",
        summary="no dial tone",
        created_at=datetime(2026, 12, 2, tzinfo=UTC),
    )
    with pytest.raises(LookupError):
        ticket_to_proto(TicketView(draft=draft, status=TicketStatus.OPEN, updated_at=draft.created_at))
