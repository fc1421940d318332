"""Is a report acceptable? Every bad field is named at once; nothing is created for a bad report."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from desk import proto_fields
from desk.errors import FieldViolation, InvalidArgument
from domain.ticket import Reporter
from helpdesk.v1 import common_pb2, intake_pb2

MAX_SUMMARY = 200
MAX_DESCRIPTION = 10_000
MAX_NAME = 100
CLOCK_SKEW = timedelta(minutes=5)
TIME_RELATIVE_FIELDS = frozenset({"occurred_at", "expected_by"})
"""Fields judged against the clock: a report valid when accepted may fail them on a later retry."""

_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,22}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FAULT_NUMBER = re.compile(r"^[0-9]{5,20}$")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


@dataclass
class ValidReport:
    request_id: str
    channel: str
    kind: str
    reporter: Reporter
    fault_number: str
    category: str
    priority: str
    customer_tier: str
    summary: str
    description: str
    occurred_at: datetime | None
    expected_by: datetime | None
    agent_id: str  # as the request names it; CreateTicket then sets the caller (desk/actors.py)
    region: str = ""
    on_behalf_of: str = ""  # the person an integrator names in agent_id, when not itself
    via: str = ""  # the principal whose token drove the IVR call that took the report


class _Checker:
    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def fail(self, field: str, description: str) -> None:
        self.violations.append(FieldViolation(field, description))

    def enum(self, field: str, enum: object, value: int, prefix: str, *, default: str = "") -> str:
        name = proto_fields.enum_name(enum, value, prefix)
        if value == 0 and not default:
            self.fail(field, "is required")
        elif value != 0 and not name:
            self.fail(field, f"unknown value {value}")
        return name or default

    def text(self, field: str, value: str, *, limit: int, required: bool = False) -> str:
        value = value.strip()
        if required and not value:
            self.fail(field, "is required")
        elif len(value) > limit:
            self.fail(field, f"is {len(value)} characters long; at most {limit} are allowed")
        return value

    def pattern(self, field: str, value: str, regex: re.Pattern[str], what: str, *, required: bool) -> str:
        value = value.strip()
        if required and not value:
            self.fail(field, "is required")
        elif value and not regex.match(value):
            self.fail(field, f"is not {what}")
        return value


def _phone(check: _Checker, value: str) -> str:
    phone = check.pattern("reporter.phone", value, _PHONE, "a telephone number", required=True)
    digits = sum(c.isdigit() for c in phone)
    if phone and _PHONE.match(phone) and not 7 <= digits <= 15:
        check.fail("reporter.phone", f"has {digits} digits; a telephone number has 7 to 15")
    return phone


def _reporter(check: _Checker, request: intake_pb2.CreateTicketRequest) -> Reporter:
    r = request.reporter
    return Reporter(
        name=check.text("reporter.name", r.name, limit=MAX_NAME, required=True),
        organization=check.text("reporter.organization", r.organization, limit=200),
        phone=_phone(check, r.phone),
        email=check.pattern("reporter.email", r.email, _EMAIL, "an e-mail address", required=False),
        address=check.text("reporter.address", r.address, limit=500),
    )


def _times(
    check: _Checker, request: intake_pb2.CreateTicketRequest, now: datetime
) -> tuple[datetime | None, ...]:
    occurred_at = proto_fields.from_timestamp(request, "occurred_at")
    expected_by = proto_fields.from_timestamp(request, "expected_by")
    if occurred_at and occurred_at > now + CLOCK_SKEW:
        check.fail("occurred_at", "is in the future")
    if expected_by and expected_by <= now:
        check.fail("expected_by", "is in the past")
    return occurred_at, expected_by


def validate_report(request: intake_pb2.CreateTicketRequest, *, now: datetime) -> ValidReport:
    check = _Checker()
    request_id = check.pattern(
        "request_id", request.request_id, _REQUEST_ID, "1-128 of A-Z a-z 0-9 . _ : -", required=True
    )
    report = ValidReport(
        request_id=request_id,
        channel=check.enum("channel", common_pb2.Channel, request.channel, "CHANNEL_"),
        kind=check.enum("kind", common_pb2.TicketKind, request.kind, "TICKET_KIND_"),
        reporter=_reporter(check, request),
        fault_number=check.pattern(
            "fault_number", request.fault_number, _FAULT_NUMBER, "5 to 20 digits", required=False
        ),
        category=check.pattern(
            "category", request.category, _CATEGORY, "a category id (a-z 0-9 . _ -)", required=True
        ),
        priority=check.enum("priority", common_pb2.Priority, request.priority, "PRIORITY_", default="P3"),
        customer_tier=check.enum(
            "customer_tier",
            common_pb2.CustomerTier,
            request.customer_tier,
            "CUSTOMER_TIER_",
            default="STANDARD",
        ),
        summary=check.text("summary", request.summary, limit=MAX_SUMMARY, required=True),
        description=check.text("description", request.description, limit=MAX_DESCRIPTION),
        occurred_at=None,
        expected_by=None,
        agent_id=check.text("agent_id", request.agent_id, limit=64),
        region=check.text("region", request.region, limit=64),
    )
    report.occurred_at, report.expected_by = _times(check, request, now)
    if not request.HasField("reporter"):
        check.violations = [v for v in check.violations if not v.field.startswith("reporter.")]
        check.fail("reporter", "is required")
    if check.violations:
        raise InvalidArgument(check.violations)
    return report
