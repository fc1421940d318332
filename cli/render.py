"""Any protobuf answer as a person reads it, driven by the message's descriptor alone.

A record starts with one line naming it (type, id, status: ``Ticket TK… · DISPATCHED · P3 · summary``),
then its fields as aligned ``label: value`` lines, then its lists as tables and its larger nested
messages as indented sections. An answer that is only a list (``ListTicketsResponse``) is its table
with a count under it. Values: enums without their type's prefix (``DISPATCHED``), timestamps in the
local time zone, durations as ``1h 30m``, booleans as yes/no; fields left empty are left out.

Nothing here knows a particular message: cli/render_hints.py may reorder a record or pick a list's
columns, so a new command's answer reads well without code of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, cast

from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from cli.render_hints import Hint, hint_for
from cli.tables import labelled, table

MAX_COLUMNS = 7
"""Columns a list gets when no hint picks them: the rest are in the record (`show`) and in --json."""

INLINE_FIELDS = 5
"""A nested message type of at most this many fields, none of them a list, goes on one line."""

PAGE_TOKEN = "next_page_token"

INDENT = "  "
SEPARATOR = " · "
TIMESTAMP = timestamp_pb2.Timestamp.DESCRIPTOR.full_name
DURATION = duration_pb2.Duration.DESCRIPTOR.full_name
WRAPPERS = re.compile(r"google\.protobuf\.(Bool|Bytes|Double|Float|U?Int(32|64)|String)Value")


def render(message: Message, *, zone: tzinfo | None = None, width: int | None = None) -> str:
    """The message for a person; times in `zone` (default: the local time zone), tables narrowed to
    `width` display columns (default: as wide as their cells)."""
    return "\n".join(_Renderer(zone, width).answer(message))


class _Renderer:
    def __init__(self, zone: tzinfo | None, width: int | None) -> None:
        self.zone = zone
        self.width = width

    def answer(self, message: Message) -> list[str]:
        listed = _listed_field(message)
        if listed is not None:
            return self.list_answer(message, listed)
        if _headline_fields(message) or _own_id(_type_of(message)) in _present(message):
            return self.record(message, indent="")
        if not _type_of(message).fields:  # google.protobuf.Empty: the call did what it says
            return ["done"]
        return self.body(message, indent="") or ["(empty answer)"]

    def list_answer(self, message: Message, field: FieldDescriptor) -> list[str]:
        rows: Sequence[Message] = getattr(message, field.name)
        label = _label(field)
        if not rows:
            return [f"no {label}"]
        footer = f"{len(rows)} {label if len(rows) != 1 else _singular(label)}"
        if token := getattr(message, PAGE_TOKEN, ""):
            footer += f"; next page: --page-token {token}"
        return [*self.table(_nested_type(field), rows, indent=""), footer]

    def record(self, message: Message, *, indent: str) -> list[str]:
        return [indent + self.headline(message), *self.body(message, indent=indent + INDENT)]

    def headline(self, message: Message) -> str:
        descriptor = _type_of(message)
        own = _own_id(descriptor)
        title = _words(descriptor.name)
        if own and own in _present(message):
            title += f" {getattr(message, own)}"
        shown = [self.value(f, getattr(message, f.name), compact=False) for f in _headline_fields(message)]
        return SEPARATOR.join([title, *shown])

    def body(self, message: Message, *, indent: str) -> list[str]:
        descriptor = _type_of(message)
        skipped = {_own_id(descriptor), *(f.name for f in _headline_fields(message))}
        pairs: list[tuple[str, str]] = []
        sections: list[str] = []
        for field in _ordered_fields(message):
            if field.name in skipped:
                continue
            value = getattr(message, field.name)
            if _is_list(field) or _is_section(field):
                sections += [""] if len(indent) <= len(INDENT) else []  # apart from the lines above
            if _is_list(field):
                sections += [f"{indent}{_label(field)} ({len(value)})"]
                sections += self.table(_nested_type(field), value, indent=indent + INDENT)
            elif _is_section(field):
                sections += self.section(field, value, indent=indent)
            else:
                pairs.append((_label(field), self.value(field, value, compact=False)))
        return labelled(pairs, indent=indent) + sections

    def section(self, field: FieldDescriptor, nested: Message, *, indent: str) -> list[str]:
        if _own_id(_type_of(nested)) in _present(nested):
            return self.record(nested, indent=indent)
        return [f"{indent}{_label(field)}", *self.body(nested, indent=indent + INDENT)]

    def table(self, row_type: Descriptor, rows: Sequence[Message], *, indent: str) -> list[str]:
        columns = _columns(row_type, rows)
        headers = [_label(c).removesuffix(" id").upper() for c in columns]  # TICKET, WORK ORDER: ids
        cells = [
            [self.value(c, getattr(row, c.name), compact=True) if _shown(row, c) else "" for c in columns]
            for row in rows
        ]
        return table(headers, cells, indent=indent, width=self.width)

    def value(self, field: FieldDescriptor, value: Any, *, compact: bool) -> str:
        if _is_map(field):
            entry = _nested_type(field).fields_by_name["value"]
            return ", ".join(f"{k}={self.single(entry, v, compact)}" for k, v in sorted(value.items()))
        if _is_list(field):
            return f"{len(value)} {_label(field)}"
        if field.is_repeated:
            return ", ".join(self.single(field, v, compact) for v in value)
        return self.single(field, value, compact)

    def single(self, field: FieldDescriptor, value: Any, compact: bool) -> str:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return self.message_value(value, compact)
        if field.type == FieldDescriptor.TYPE_ENUM:
            return enum_text(_enum_type(field), value)
        if field.type == FieldDescriptor.TYPE_BOOL:
            return "yes" if value else "no"
        if field.type == FieldDescriptor.TYPE_BYTES:
            return f"{len(value)} bytes"
        if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return f"{value:g}"
        return str(value)

    def message_value(self, message: Message, compact: bool) -> str:
        if isinstance(message, timestamp_pb2.Timestamp):
            return local_time(message.ToDatetime(tzinfo=UTC), self.zone, seconds=not compact)
        if isinstance(message, duration_pb2.Duration):
            return readable_duration(message.ToTimedelta())
        if WRAPPERS.fullmatch(_type_of(message).full_name):
            wrapped = _type_of(message).fields_by_name["value"]
            return self.single(wrapped, getattr(message, wrapped.name), compact)
        return self.summary(message)

    def summary(self, message: Message) -> str:
        """A nested message on one line: its texts and enums as they are, other values labelled."""
        parts = []
        for field in _ordered_fields(message):
            value = getattr(message, field.name)
            text = self.value(field, value, compact=True)
            plain = field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_ENUM)
            if field.type == FieldDescriptor.TYPE_BOOL and not field.is_repeated:
                text = _label(field) if value else f"not {_label(field)}"
            elif not plain and not _is_list(field):
                text = f"{_label(field)} {text}"
            parts.append(text)
        return ", ".join(parts)


def enum_text(enum: EnumDescriptor, number: int) -> str:
    """The value's name without its type's prefix (TICKET_STATUS_OPEN → OPEN); a number it lacks as is."""
    value = enum.values_by_number.get(number)
    if value is None:
        return str(number)
    prefix = _upper_snake(enum.name) + "_"
    return value.name.removeprefix(prefix) or value.name


def local_time(moment: datetime, zone: tzinfo | None = None, *, seconds: bool = True) -> str:
    """E.g. ``2026-11-23 09:40:12 CST``; without seconds and zone name (``2026-11-23 09:40``) in tables."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S %Z}".rstrip() if seconds else f"{local:%Y-%m-%d %H:%M}"


def readable_duration(span: timedelta) -> str:
    """E.g. ``2d 4h``, ``1h 30m``, ``45s``, ``0.5s``."""
    total = span.total_seconds()
    if total < 0:
        return "-" + readable_duration(-span)
    if total < 60:
        return f"{total:g}s"
    days, rest = divmod(round(total), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    units = zip((days, hours, minutes, secs), "dhms", strict=True)
    return " ".join(f"{amount}{unit}" for amount, unit in units if amount)


def _type_of(message: Message) -> Descriptor:
    return cast(Descriptor, message.DESCRIPTOR)  # the stubs also name upb's class: the same at run time


def _nested_type(field: FieldDescriptor) -> Descriptor:
    assert field.message_type is not None, f"{field.full_name} is not a message field"
    return field.message_type


def _enum_type(field: FieldDescriptor) -> EnumDescriptor:
    assert field.enum_type is not None, f"{field.full_name} is not an enum field"
    return field.enum_type


def _present(message: Message) -> set[str]:
    return {field.name for field, _ in message.ListFields()}


def _shown(message: Message, field: FieldDescriptor) -> bool:
    return field.name in _present(message) or field.name in hint_for(_type_of(message).full_name).always


def _ordered_fields(message: Message) -> list[FieldDescriptor]:
    """The fields worth showing: the hint's `first` ones, then the rest in declared order."""
    descriptor = _type_of(message)
    first = [descriptor.fields_by_name[n] for n in _hint(descriptor).first if n in descriptor.fields_by_name]
    rest = [f for f in descriptor.fields if f not in first]
    return [f for f in first + rest if _shown(message, f)]


def _headline_fields(message: Message) -> list[FieldDescriptor]:
    descriptor = _type_of(message)
    names = _hint(descriptor).headline or tuple(
        f.name for f in descriptor.fields if f.name in ("status", "state") or f.name.endswith("_status")
    )
    return [descriptor.fields_by_name[n] for n in names if n in _present(message)]


def _own_id(descriptor: Descriptor) -> str:
    """The field that names this record: `<type>_id`, else a first field that is a string `…_id`."""
    own = _upper_snake(descriptor.name).lower() + "_id"
    if own in descriptor.fields_by_name:
        return own
    first = descriptor.fields[0] if descriptor.fields else None
    if first and first.name.endswith("_id") and first.type == FieldDescriptor.TYPE_STRING:
        return str(first.name)
    return ""


def _listed_field(message: Message) -> FieldDescriptor | None:
    """The one list of an answer that is nothing but a list (and its next page token)."""
    lists = [f for f in _type_of(message).fields if _is_list(f)]
    others = _present(message) - {PAGE_TOKEN} - {f.name for f in lists}
    return lists[0] if len(lists) == 1 and not others else None


def _columns(row_type: Descriptor, rows: Sequence[Message]) -> list[FieldDescriptor]:
    """The hint's columns, else the id, the status and the declared fields; only those some row holds."""
    hint = _hint(row_type)
    if hint.columns:
        wanted = [row_type.fields_by_name[n] for n in hint.columns if n in row_type.fields_by_name]
    else:
        leading = [_own_id(row_type), *(f.name for f in row_type.fields if f.name in ("status", "state"))]
        firsts = [row_type.fields_by_name[n] for n in leading if n]
        wanted = firsts + [f for f in row_type.fields if f not in firsts and not _is_list(f)]
    held = [c for c in wanted if any(_shown(row, c) for row in rows)]
    return held if hint.columns else held[:MAX_COLUMNS]


def _is_map(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and _nested_type(field).GetOptions().map_entry


def _is_list(field: FieldDescriptor) -> bool:
    """A repeated message field (not a map): shown as a table."""
    return field.is_repeated and field.type == FieldDescriptor.TYPE_MESSAGE and not _is_map(field)


def _is_section(field: FieldDescriptor) -> bool:
    """A singular nested record too large for one line."""
    if field.is_repeated or field.type != FieldDescriptor.TYPE_MESSAGE:
        return False
    nested = _nested_type(field)
    if nested.full_name in (TIMESTAMP, DURATION) or WRAPPERS.fullmatch(nested.full_name):
        return False
    inline = _hint(nested).inline
    if inline is not None:
        return not inline
    return len(nested.fields) > INLINE_FIELDS or any(_is_list(f) for f in nested.fields)


def _hint(descriptor: Descriptor) -> Hint:
    return hint_for(descriptor.full_name)


def _label(field: FieldDescriptor) -> str:
    return field.name.replace("_", " ")


def _singular(label: str) -> str:
    return label[:-1] if label.endswith("s") else label


def _upper_snake(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", camel).upper()


def _words(camel: str) -> str:
    return _upper_snake(camel).replace("_", " ").capitalize()
