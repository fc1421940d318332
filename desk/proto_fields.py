"""Protobuf fields every edge converts the same way: enums by name, timestamps, durations.

Enum values travel in the contracts as the proto names without their prefix ("PHONE", "P2", "VIP").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2


def enum_name(enum: Any, value: int, prefix: str) -> str:
    """Proto enum value → contract name; "" for UNSPECIFIED or a value this server does not know."""
    try:
        name: str = enum.Name(value)
    except ValueError:
        return ""
    return "" if name.endswith("_UNSPECIFIED") else name.removeprefix(prefix)


def enum_value(enum: Any, name: str, prefix: str) -> Any:
    """Contract name → proto enum value (typed Any: each generated enum has its own ValueType)."""
    return enum.Value(prefix + name) if name else 0


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def from_timestamp(message: object, field: str) -> datetime | None:
    """The field's time in UTC, or None when the message does not carry it."""
    if not message.HasField(field):  # type: ignore[attr-defined]
        return None
    value: timestamp_pb2.Timestamp = getattr(message, field)
    return value.ToDatetime(tzinfo=UTC)


def duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(round(seconds * 1e9))
    return d
