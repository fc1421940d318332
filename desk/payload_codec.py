"""Personal data stays out of Temporal's histories: every payload is encrypted (AES-256-GCM) by a codec.

Tickets carry reporters' names, phones and addresses; Temporal keeps workflow inputs, update
arguments and activity results in its histories, readable by anyone with access to the cluster or
its UI. Every client and worker of the desk encodes payloads with the same key ring, so Temporal
stores only ciphertext. A payload that is not encrypted (written before the codec, or by a tool) is
passed through on decode.

Keys rotate (docs/security.md): a :class:`KeyRing` holds the current key, which encrypts, and
the retired ones, which still decrypt. Each encrypted payload names its key in the metadata
(``encryption-key-id``: a fingerprint, never the key), so a history written under any key of the
ring replays. A payload without a key id (none are known, but the format allowed it) is tried
against every key of the ring: GCM's tag tells the right one.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from desk.errors import ConfigurationError
from desk.records import RecordPayloadConverter

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32
CURRENT = "current"
RETIRED = "retired"


class PayloadKeyError(ValueError):
    """A payload this process cannot open: its key is not in the ring, or it fails authentication."""


def parse_key(encoded: str, *, setting: str = "HELPDESK_PAYLOAD_KEY") -> bytes:
    """A key as configured: URL-safe base64 of 32 random bytes (`helpdesk up` makes one)."""
    try:
        key = base64.urlsafe_b64decode(encoded.encode())
    except ValueError as exc:
        raise ConfigurationError(f"{setting} is not base64") from exc
    if len(key) != KEY_BYTES:
        raise ConfigurationError(f"{setting} must be {KEY_BYTES} bytes, got {len(key)}")
    return key


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def key_id(key: bytes) -> str:
    """Names a key without revealing it: the first 64 bits of its SHA-256, as payloads record it."""
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True)
class KeyRing:
    """The current key (encrypts) and the retired ones (decrypt only), oldest first."""

    current: bytes
    retired: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        for key in (self.current, *self.retired):
            if len(key) != KEY_BYTES:
                raise ConfigurationError(f"payload keys must be {KEY_BYTES} bytes, got {len(key)}")

    @property
    def keys(self) -> tuple[bytes, ...]:
        """Every key, oldest first: the retired ones in the order they were retired, then the current."""
        return (*[k for k in self.retired if k != self.current], self.current)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def rotated(self, new: bytes) -> KeyRing:
        """This ring with ``new`` current and the present current key retired (kept, to decrypt)."""
        return KeyRing(current=new, retired=tuple(k for k in self.keys if k != new))

    def to_text(self) -> str:
        """The ring as ``HELPDESK_PAYLOAD_KEYS`` and the keys file hold it: one ``state:key`` a line."""
        lines = [f"{RETIRED}:{encode_key(k)}" for k in self.keys[:-1]]
        return "\n".join([*lines, f"{CURRENT}:{encode_key(self.current)}"]) + "\n"


def parse_ring(text: str, *, setting: str = "HELPDESK_PAYLOAD_KEYS") -> KeyRing:
    """A ring as written by :meth:`KeyRing.to_text`: ``current:KEY`` once and ``retired:KEY`` any number
    of times, separated by newlines, commas or spaces, in the order the keys were made; ``#`` comments."""
    current: bytes | None = None
    retired: list[bytes] = []
    entries = re.split(r"[\s,]+", re.sub(r"#[^\n]*", "", text))
    for entry in filter(None, entries):
        state, _, encoded = entry.partition(":")
        if state not in (CURRENT, RETIRED) or not encoded:
            raise ConfigurationError(f"{setting}: each entry is current:KEY or retired:KEY")
        key = parse_key(encoded, setting=setting)
        if state == RETIRED:
            retired.append(key)
        elif current is not None:
            raise ConfigurationError(f"{setting} marks more than one key current")
        else:
            current = key
    if current is None:
        raise ConfigurationError(f"{setting} marks no key current")
    return KeyRing(current=current, retired=tuple(retired))


class EncryptionCodec(PayloadCodec):
    def __init__(self, ring: KeyRing | bytes) -> None:
        ring = ring if isinstance(ring, KeyRing) else KeyRing(current=ring)
        self._current_id = ring.current_id.encode()
        self._by_id = {key_id(key).encode(): AESGCM(key) for key in ring.keys}
        self._oldest_first = [self._by_id[key_id(key).encode()] for key in ring.keys]

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._by_id[self._current_id].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: self._current_id}, data=nonce + sealed
        )

    def _decrypt(self, payload: Payload) -> Payload:
        named = payload.metadata.get(KEY_ID_METADATA)
        if named is None:
            return self._decrypt_with_any(payload)
        aead = self._by_id.get(named)
        if aead is None:
            known = ", ".join(sorted(k.decode() for k in self._by_id))
            raise PayloadKeyError(
                f"payload encrypted under key {named.decode(errors='replace')}, not in this process's"
                f" ring ({known}): add that key to the ring as retired (docs/security.md)"
            )
        try:
            return _open(aead, payload)
        except InvalidTag:
            raise PayloadKeyError(
                f"payload under key {named.decode()} fails authentication: altered after encryption"
            ) from None

    def _decrypt_with_any(self, payload: Payload) -> Payload:
        for aead in self._oldest_first:
            try:
                return _open(aead, payload)
            except InvalidTag:
                continue  # GCM's tag says this is not the key: try the next one
        raise PayloadKeyError("payload without a key id opens with no key of the ring (or was altered)")


def _open(aead: AESGCM, payload: Payload) -> Payload:
    plain = aead.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
    return Payload.FromString(plain)


def encrypted_converter(ring: KeyRing | bytes) -> DataConverter:
    """The desk's data converter: contract records as JSON (see :mod:`desk.records`), then encrypted
    with the ring's current key; any key of the ring decrypts.

    Failures' messages and stack traces are encrypted too: Temporal keeps them in the history beside
    the payloads, and a refusal's message may quote what was refused."""
    return dataclasses.replace(
        DataConverter.default,
        payload_converter_class=RecordPayloadConverter,
        payload_codec=EncryptionCodec(ring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
