"""Personal data stays out of Temporal's histories: every payload is encrypted (AES-256-GCM) by a codec.

Tickets carry reporters' names, phones and addresses; Temporal keeps workflow inputs, update
arguments and activity results in its histories, readable by anyone with access to the cluster or
its UI. Every client and worker of the desk encodes payloads with the same key, so Temporal stores
only ciphertext. A payload that is not encrypted (written before the codec, or by a tool) is passed
through on decode.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from desk.errors import ConfigurationError
from desk.records import RecordPayloadConverter

ENCODING = b"binary/encrypted"
NONCE_BYTES = 12
KEY_BYTES = 32


def parse_key(encoded: str) -> bytes:
    """A key as configured: URL-safe base64 of 32 random bytes (`helpdesk up` makes one)."""
    try:
        key = base64.urlsafe_b64decode(encoded.encode())
    except ValueError as exc:
        raise ConfigurationError("HELPDESK_PAYLOAD_KEY is not base64") from exc
    if len(key) != KEY_BYTES:
        raise ConfigurationError(f"HELPDESK_PAYLOAD_KEY must be {KEY_BYTES} bytes, got {len(key)}")
    return key


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


class EncryptionCodec(PayloadCodec):
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        # Names the key without revealing it, so a payload encrypted under another key fails clearly.
        self._key_id = hashlib.sha256(key).hexdigest()[:16].encode()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, "encryption-key-id": self._key_id}, data=nonce + sealed
        )

    def _decrypt(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get("encryption-key-id")
        if key_id != self._key_id:
            raise ValueError(f"payload encrypted under key {key_id!r}, this process has {self._key_id!r}")
        plain = self._aead.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
        return Payload.FromString(plain)


def encrypted_converter(key: bytes) -> DataConverter:
    """The desk's data converter: contract records as JSON (see :mod:`desk.records`), then encrypted."""
    return dataclasses.replace(
        DataConverter.default,
        payload_converter_class=RecordPayloadConverter,
        payload_codec=EncryptionCodec(key),
    )
