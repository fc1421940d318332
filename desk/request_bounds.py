"""Every field of every request bounded at the edge: one rule set, driven by the request's descriptor.

desk/text_rules.py checks each string (control characters, length); this module gives it the
desk's table of string lengths by field kind and checks what text rules do not look at:

- repeated fields hold at most :data:`MAX_REPEATED` elements and maps :data:`MAX_MAP_ENTRIES`
  entries (per-field overrides in :data:`MAX_ELEMENTS`);
- timestamps fall in :data:`EARLIEST` .. :data:`LATEST` with valid nanoseconds: a year-9999 time
  would overflow Python's datetime or PostgreSQL's range deep in a servicer;
- durations are not negative and at most :data:`MAX_DURATION`;
- enum numbers are numbers of their enum (proto3 keeps 99 or -5 as they come).

Nested messages are walked, so a field added to any request is covered without anyone remembering
to. A violation names the field's path (``reporter.name``, ``scores[2].criterion``) and quotes at
most a short prefix of the value, so no error grows past gRPC's metadata limit.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from desk.errors import FieldViolation, InvalidArgument
from desk.text_rules import TextLimits

ID_CHARS = 64
NAME_CHARS = 100
TITLE_CHARS = 200
FREE_TEXT_CHARS = 10_000

_KIND_RULES: tuple[tuple[re.Pattern[str], int], ...] = (
    # ids of anything, request ids, and the people recorded as acting (staff ids)
    (
        re.compile(
            r"^(request_id|.*_id|.*_ids|.*_by|actor|engineer|inspector|surveyor|tester|on_behalf_of)$"
        ),
        ID_CHARS,
    ),
    (re.compile(r"^(page_token|next_page_token)$"), 512),  # base64 of (time, id): well under 512
    (re.compile(r"^(email)$"), 254),  # RFC 5321's longest address
    (re.compile(r"^(phone|caller_number|fault_number)$"), 32),
    # names, codes and short labels
    (
        re.compile(
            r"^(name|organization|code|fault_code|category|categories|channel|kind|type|unit|currency|time_zone"
            r"|region|regions|day|week|first_day|last_day|period_start|period_end|customer_tier|deadline_kind"
            r"|criterion|key|key_id|tags|model|violation_codes|exchanges)$"
        ),
        NAME_CHARS,
    ),
    (re.compile(r"^(summary|title|subject|excerpt|gloss|address|on_call_contacts)$"), TITLE_CHARS),
)
"""String limits by field name; anything not matched is free text (:data:`FREE_TEXT_CHARS`)."""

_MULTI_LINE = re.compile(r"^(address|on_call_contacts|excerpt|gloss)$")
"""Short fields that may still span lines."""

MAX_CHARS_OVERRIDES: Mapping[str, int] = {
    # by full proto name, where one field needs a limit other than its kind's
    "helpdesk.v1.Reporter.organization": TITLE_CHARS,
}
"""The one table of per-field string limits (full proto name → characters); it wins over the kinds."""

MAX_REPEATED = 1_000
MAX_MAP_ENTRIES = 100
MAX_ELEMENTS: Mapping[str, int] = {}
"""Per-field element limits for repeated fields and maps (full proto name → elements)."""

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_DURATION = timedelta(days=366)
_PREFIX_CHARS = 20

_TIMESTAMP = "google.protobuf.Timestamp"
_DURATION = "google.protobuf.Duration"


def max_chars_of(name: str) -> int:
    """The limit of a string field by its name's kind (ids 64, names 100, titles 200, else 10,000)."""
    return next((limit for pattern, limit in _KIND_RULES if pattern.match(name)), FREE_TEXT_CHARS)


def _request_fields() -> Iterator[FieldDescriptor]:
    """Every field of every message the desk's contracts define (generated helpdesk.v1 modules)."""
    package = importlib.import_module("helpdesk.v1")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.endswith("_pb2"):
            generated = importlib.import_module(f"helpdesk.v1.{module.name}")
            for message in generated.DESCRIPTOR.message_types_by_name.values():
                yield from _fields_of(message)


def _fields_of(message: Descriptor) -> Iterator[FieldDescriptor]:
    yield from message.fields
    for nested in message.nested_types:
        yield from _fields_of(nested)


@cache
def desk_text_limits() -> TextLimits:
    """The text limits the edge applies: every string field of the contracts by its kind, then overrides."""
    strings = [f for f in _request_fields() if f.type == FieldDescriptor.TYPE_STRING]
    by_field = {f.full_name: max_chars_of(f.name) for f in strings}
    return TextLimits(
        default_max_chars=FREE_TEXT_CHARS,
        max_chars={**by_field, **MAX_CHARS_OVERRIDES},
        single_line=frozenset(f.full_name for f in strings if _is_single_line(f.name)),
    )


def _is_single_line(name: str) -> bool:
    """Ids, names, codes, e-mails, tokens and summaries are one line; free text, addresses and
    contact lists may span several."""
    return max_chars_of(name) < FREE_TEXT_CHARS and not _MULTI_LINE.match(name)


def check_bounds(request: Message) -> None:
    """Raise InvalidArgument naming every element count, time, duration or enum number out of bounds."""
    violations = list(_violations(request, ""))
    if violations:
        raise InvalidArgument(violations)


def _violations(message: Message, prefix: str) -> Iterator[FieldViolation]:
    for descriptor, value in message.ListFields():
        path = f"{prefix}{descriptor.name}"
        if descriptor.is_repeated:
            limit = MAX_ELEMENTS.get(descriptor.full_name, _default_elements(descriptor))
            if len(value) > limit:
                yield FieldViolation(path, f"has {len(value)} elements; at most {limit} are allowed")
                continue
            if (entry := _map_entry(descriptor)) is not None:
                entry_value = entry.fields_by_name["value"]
                for key, item in value.items():
                    yield from _value_violations(f"{path}[{_quote(key)}]", entry_value, item)
            else:
                for index, item in enumerate(value):
                    yield from _value_violations(f"{path}[{index}]", descriptor, item)
        else:
            yield from _value_violations(path, descriptor, value)


def _default_elements(descriptor: FieldDescriptor) -> int:
    return MAX_REPEATED if _map_entry(descriptor) is None else MAX_MAP_ENTRIES


def _map_entry(descriptor: FieldDescriptor) -> Descriptor | None:
    """The entry type of a map field, None for any other field."""
    entry = descriptor.message_type
    return entry if entry is not None and entry.GetOptions().map_entry else None


def _value_violations(path: str, descriptor: FieldDescriptor, value: Any) -> Iterator[FieldViolation]:
    enum, message = descriptor.enum_type, descriptor.message_type
    if enum is not None:
        if enum.values_by_number.get(value) is None:
            yield FieldViolation(path, f"{value} is not a value of {enum.name}")
    elif message is not None:
        kind = message.full_name
        if kind == _TIMESTAMP:
            yield from _timestamp_violations(path, value)
        elif kind == _DURATION:
            yield from _duration_violations(path, value)
        else:
            yield from _violations(value, f"{path}.")


def _timestamp_violations(path: str, value: Any) -> Iterator[FieldViolation]:
    earliest, latest = int(EARLIEST.timestamp()), int(LATEST.timestamp())
    if not 0 <= value.nanos <= 999_999_999 or not earliest <= value.seconds < latest:
        yield FieldViolation(
            path,
            f"seconds={value.seconds} nanos={value.nanos} is not a time from {EARLIEST:%Y-%m-%d}"
            f" to {LATEST:%Y-%m-%d}",
        )


def _duration_violations(path: str, value: Any) -> Iterator[FieldViolation]:
    limit = int(MAX_DURATION.total_seconds())
    if value.seconds < 0 or value.nanos < 0 or value.nanos > 999_999_999 or value.seconds > limit:
        yield FieldViolation(
            path, f"seconds={value.seconds} nanos={value.nanos} is not a duration from 0 to {limit} seconds"
        )


def _quote(value: object) -> str:
    """At most a short prefix of a value, printable whatever it holds."""
    text = repr(value)
    return text if len(text) <= _PREFIX_CHARS else f"{text[:_PREFIX_CHARS]}…"
