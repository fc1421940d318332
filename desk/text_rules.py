"""What any text in any request may hold: one rule set, applied by the gRPC edge to every service.

Every string field of a request, however deep (nested messages, repeated fields, map keys and
values), is checked before the servicer runs, so no service can forget it:

- no control character but newline, carriage return and tab. PostgreSQL cannot store a NUL at all
  (text or jsonb): one that passed would fail every write of the change for good. The others (escape
  sequences, backspaces, C1 codes) have no place in a report and garble logs and terminals;
- at most :attr:`TextLimits.default_max_chars` characters per string, unless its field has a limit
  of its own in :attr:`TextLimits.max_chars`; and at most :attr:`TextLimits.max_request_chars` in
  the whole request, so that no request can make an event over NATS's 1 MB payload limit (a
  character is at most 4 bytes in UTF-8: 100,000 characters are at most 400 KB).

Services keep their own, tighter rules (a summary's 200 characters, a phone number's shape).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from desk.errors import FieldViolation, InvalidArgument

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Unicode's control characters (category Cc), newline, carriage return and tab aside."""
_LINE_BREAK = re.compile(r"[\t\n\r]")


@dataclass(frozen=True)
class TextLimits:
    """How long texts may be. ``max_chars`` overrides the default for fields named by their full
    proto name (``helpdesk.v1.ChaseWorkOrderRequest.note``) or, for every message, by their name
    (``note``); the full name wins."""

    default_max_chars: int = 10_000
    max_chars: Mapping[str, int] = field(default_factory=dict)
    max_request_chars: int = 100_000
    single_line: frozenset[str] = frozenset()
    """Fields (full proto names) of one line: ids, names, codes, titles take no newline nor tab."""

    def limit(self, descriptor: FieldDescriptor) -> int:
        by_name = self.max_chars.get(descriptor.name, self.default_max_chars)
        return self.max_chars.get(descriptor.full_name, by_name)


TEXT_LIMITS = TextLimits()
"""The desk's limits: the one table to extend when a field needs a limit of its own."""


def check_text(request: Message, limits: TextLimits = TEXT_LIMITS) -> None:
    """Raise InvalidArgument naming every string field of ``request`` that breaks the rules."""
    violations: list[FieldViolation] = []
    total = 0
    for path, descriptor, text in _strings(request, ""):
        total += len(text)
        one_line = descriptor.full_name in limits.single_line
        if problem := text_problem(text, limits.limit(descriptor), one_line):
            violations.append(FieldViolation(path, problem))
    if total > limits.max_request_chars:
        described = f"carries {total} characters of text; at most {limits.max_request_chars}"
        violations.append(FieldViolation("request", described))
    if violations:
        raise InvalidArgument(violations)


def text_problem(text: str, limit: int, single_line: bool = False) -> str | None:
    """What breaks the rules in ``text`` (None: nothing); also for texts that are not proto fields
    (the HTTP gateway's own)."""
    if single_line and (breaks := _LINE_BREAK.search(text)):
        return (
            f"contains the control character U+{ord(breaks.group()):04X} at position {breaks.start()};"
            " this field is one line: no newline, carriage return nor tab"
        )
    if control := _CONTROL.search(text):
        return (
            f"contains the control character U+{ord(control.group()):04X} at position {control.start()};"
            " only newline, carriage return and tab are allowed"
        )
    if len(text) > limit:
        return f"is {len(text)} characters long; at most {limit} are allowed"
    return None


Found = Iterator[tuple[str, FieldDescriptor, str]]
"""Strings found in a request: each with its path and its field."""


def _strings(message: Message, prefix: str) -> Found:
    """Every string set in ``message``, with its path (``onsite.parts[0].note``) and its field."""
    for descriptor, value in message.ListFields():
        path = f"{prefix}{descriptor.name}"
        if (entry := _map_entry(descriptor)) is not None:
            yield from _map_strings(path, entry, value)
        elif descriptor.is_repeated:
            for index, item in enumerate(value):
                yield from _value_strings(f"{path}[{index}]", descriptor, item)
        else:
            yield from _value_strings(path, descriptor, value)


def _map_strings(path: str, entry: Descriptor, entries: Mapping[Any, Any]) -> Found:
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    for key, value in entries.items():
        if isinstance(key, str):
            yield path, key_field, key  # a bad key is named by its map: the key itself may be unprintable
        yield from _value_strings(f"{path}[{_short(json.dumps(key))}]", value_field, value)


def _short(text: str, limit: int = 20) -> str:
    """At most a short prefix of a key: a path must not echo a 1 MB value into an error."""
    return text if len(text) <= limit else f"{text[:limit]}…"


def _value_strings(path: str, descriptor: FieldDescriptor, value: Any) -> Found:
    if descriptor.type == FieldDescriptor.TYPE_STRING:
        yield path, descriptor, value
    elif descriptor.type == FieldDescriptor.TYPE_MESSAGE:
        yield from _strings(value, f"{path}.")


def _map_entry(descriptor: FieldDescriptor) -> Descriptor | None:
    """The entry type of a map field (a repeated message marked map_entry), None for any other field."""
    entry = descriptor.message_type
    return entry if entry is not None and entry.GetOptions().map_entry else None
