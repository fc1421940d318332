"""Contract dataclasses to and from JSON for storage, with the same converter Temporal uses.

Using one converter for workflow payloads and stored rows means a record read back from PostgreSQL
is exactly the dataclass the workflow sent (datetimes, enums and nested records included).
"""

from __future__ import annotations

from typing import TypeVar

from temporalio.api.common.v1 import Payload
from temporalio.converter import JSONPlainPayloadConverter

T = TypeVar("T")

_CONVERTER = JSONPlainPayloadConverter()


def to_json(record: object) -> str:
    payload = _CONVERTER.to_payload(record)
    assert payload is not None
    return payload.data.decode()


def from_json(data: str, record_type: type[T]) -> T:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=data.encode())
    value: T = _CONVERTER.from_payload(payload, record_type)
    return value
