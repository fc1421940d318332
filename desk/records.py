"""Contract dataclasses to and from JSON: in Temporal payloads and in stored rows, the same way.

Using one converter for workflow payloads and stored rows means a record read back from PostgreSQL
is exactly the dataclass the workflow sent (datetimes, enums and nested records included).

Decoding is Temporal's own, with one change: a dataclass's field types are resolved once per class
instead of on every decode (`typing.get_type_hints` each time made decoding a ticket view 0.97 ms;
cached, 0.22 ms, measured on this project's machine). The result is the same dataclass either way.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, TypeVar, get_type_hints

from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    CompositePayloadConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    value_to_type,
)

T = TypeVar("T")


@functools.cache
def _fields(record_type: type) -> tuple[tuple[str, Any], ...]:
    hints = get_type_hints(record_type)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(record_type))


class CachedDataclassConverter(JSONTypeConverter):
    """Builds dataclasses as Temporal does (missing fields take their defaults), hints resolved once."""

    def to_typed_value(self, hint: type, value: Any) -> Any | None:
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, Mapping)):
            return JSONTypeConverter.Unhandled
        found = {
            name: value_to_type(field_hint, value[name], [self])
            for name, field_hint in _fields(hint)
            if name in value
        }
        return hint(**found)


_JSON = JSONPlainPayloadConverter(custom_type_converters=[CachedDataclassConverter()])


class RecordPayloadConverter(CompositePayloadConverter):
    """Temporal's default payload converter with the cached dataclass decoding."""

    def __init__(self) -> None:
        super().__init__(
            *(
                _JSON if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


def to_json(record: object) -> str:
    payload = _JSON.to_payload(record)
    assert payload is not None
    return payload.data.decode()


def from_json(data: str, record_type: type[T]) -> T:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=data.encode())
    value: T = _JSON.from_payload(payload, record_type)
    return value
