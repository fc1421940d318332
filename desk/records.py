"""Contract dataclasses to and from JSON: in Temporal payloads and in stored rows, the same way.

Using one converter for workflow payloads and stored rows means a record read back from PostgreSQL
is exactly the dataclass the workflow sent (datetimes, enums and nested records included). A ticket
lifecycle converts the ticket's view some twenty times (each record, each update's answer, each
stored row), so both directions are made fast here. They write the same JSON values as Temporal's
own JSON converter (in field order rather than sorted) and read what it wrote, so histories recorded
before keep replaying (``tests/unit/test_records.py`` holds them to it):

- Encoding uses orjson, which writes dataclasses, datetimes and enums itself (a ticket view: 204 µs
  with Temporal's encoder, 5 µs with orjson, measured on this project's machine). A value orjson
  cannot write goes to Temporal's encoder.
- Decoding builds each dataclass with a decoder made once per class from its field types (264 µs →
  31 µs for a ticket view), instead of Temporal's ``value_to_type`` working the hints out again for
  every field of every record (see ``_decoder`` for what it knows; the rest is ``value_to_type``'s).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

import orjson
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    CompositePayloadConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    value_to_type,
)

T = TypeVar("T")
Decode = Callable[[Any], Any]

_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS  # a dict keyed by numbers, as json.dumps writes it


class RecordDecoding(JSONTypeConverter):
    """Dataclasses through their compiled decoders, for hints ``value_to_type`` is left with."""

    def to_typed_value(self, hint: type, value: Any) -> Any | None:
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            return JSONTypeConverter.Unhandled
        return _decoder(hint)(value)


_CUSTOM = [RecordDecoding()]


class RecordJSON(JSONPlainPayloadConverter):
    """Temporal's ``json/plain`` encoding, written by orjson and read by the compiled decoders."""

    def __init__(self) -> None:
        super().__init__(custom_type_converters=_CUSTOM)

    def to_payload(self, value: Any) -> Payload | None:
        try:
            data = orjson.dumps(value, option=_ORJSON_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: a type only Temporal's encoder knows
            return super().to_payload(value)
        return Payload(metadata={"encoding": self.encoding.encode()}, data=data)

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        try:
            value = orjson.loads(payload.data)
        except orjson.JSONDecodeError as err:
            raise RuntimeError("Failed parsing") from err  # as Temporal's converter says it
        return value if type_hint is None else _decoder(type_hint)(value)


_JSON = RecordJSON()


class RecordPayloadConverter(CompositePayloadConverter):
    """Temporal's default payload converter with the desk's faster JSON."""

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


def from_json(data: str | bytes, record_type: type[T]) -> T:
    value: T = _decoder(record_type)(orjson.loads(data))
    return value


# --- decoders, one per type hint, made on first use ---


_DECODERS: dict[Any, Decode] = {}


def _decoder(hint: Any) -> Decode:
    """How to turn a JSON value into ``hint``, checking it as strictly as ``value_to_type`` does."""
    decode = _DECODERS.get(hint)
    if decode is None:
        decode = _DECODERS[hint] = _class_decoder(hint) if isinstance(hint, type) else _generic_decoder(hint)
    return decode


def _class_decoder(hint: type) -> Decode:
    if hint in _SCALARS:
        return _SCALARS[hint]
    if issubclass(hint, Enum) and issubclass(hint, (str, int)):
        return functools.partial(_enum, hint)
    if dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    return _temporals(hint)


def _generic_decoder(hint: Any) -> Decode:
    """``Any``, ``X | None``, ``list[X]``, ``dict[str, X]``; other generics are Temporal's to decode."""
    if hint is Any:
        return _same
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return functools.partial(_optional, _decoder(next(a for a in args if a is not type(None))))
    if origin is list and len(args) == 1:
        return functools.partial(_list, _decoder(args[0]))
    if origin is dict and len(args) == 2 and args[0] is str:
        return functools.partial(_str_dict, _decoder(args[1]))
    return _temporals(hint)


def _temporals(hint: Any) -> Decode:
    return functools.partial(value_to_type, hint, custom_converters=_CUSTOM)


def _dataclass_decoder(record_type: type) -> Decode:
    """Missing fields take their defaults and unknown ones are ignored, as in ``value_to_type``."""
    fields: tuple[tuple[str, Decode], ...] | None = None  # resolved on first use: records may nest

    def decode(value: Any) -> Any:
        nonlocal fields
        if fields is None:
            hints = get_type_hints(record_type)
            fields = tuple((f.name, _decoder(hints[f.name])) for f in dataclasses.fields(record_type))
        if not isinstance(value, Mapping):
            raise TypeError(f"Cannot convert to dataclass {record_type}, value is {type(value)} not dict")
        return record_type(**{name: field(value[name]) for name, field in fields if name in value})

    return decode


def _same(value: Any) -> Any:
    return value


def _exactly(kind: type, value: Any) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"Expected value to be {kind.__name__}, was {type(value)}")
    return value


def _number(kind: type, value: Any) -> Any:
    if not isinstance(value, (int, float)):
        raise TypeError(f"Expected value to be int|float, was {type(value)}")
    return kind(value)


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"Expected datetime or ISO8601 string, got {type(value)}")
    try:
        return datetime.fromisoformat(value)
    except ValueError as err:
        raise TypeError(f"Failed parsing datetime string: {value}") from err


def _enum(kind: type[Enum], value: Any) -> Enum:
    return kind(value)


def _optional(decode: Decode, value: Any) -> Any:
    return None if value is None else decode(value)


def _list(decode: Decode, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"Expected a list, value was {type(value)}")
    return [decode(v) for v in value]


def _str_dict(decode: Decode, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"Expected a mapping, value was {type(value)}")
    return {k: decode(v) for k, v in value.items()}


_SCALARS: dict[type, Decode] = {
    object: _same,
    str: functools.partial(_exactly, str),
    bool: functools.partial(_exactly, bool),
    int: functools.partial(_number, int),
    float: functools.partial(_number, float),
    datetime: _datetime,
}
