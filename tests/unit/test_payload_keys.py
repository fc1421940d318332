"""The payload key ring: the current key encrypts, every key of the ring decrypts, nothing leaks a key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from desk.config import load_settings
from desk.errors import ConfigurationError
from desk.payload_codec import (
    ENCODING,
    KEY_ID_METADATA,
    NONCE_BYTES,
    EncryptionCodec,
    KeyRing,
    PayloadKeyError,
    encode_key,
    key_id,
    parse_ring,
)
from desk.payload_keys import desk_ring, rotate

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))
PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"phone": "13912345678"}')


async def sealed(ring: KeyRing | bytes, payload: Payload = PLAIN) -> Payload:
    [encrypted] = await EncryptionCodec(ring).encode([payload])
    return encrypted


async def opened(ring: KeyRing | bytes, payload: Payload) -> Payload:
    [decrypted] = await EncryptionCodec(ring).decode([payload])
    return decrypted


async def test_a_payload_round_trips_and_names_its_key_not_the_key_itself() -> None:
    encrypted = await sealed(KEY_A)
    assert encrypted.metadata["encoding"] == ENCODING
    assert encrypted.metadata[KEY_ID_METADATA] == key_id(KEY_A).encode()
    assert b"13912345678" not in encrypted.SerializeToString()
    assert KEY_A not in encrypted.SerializeToString()
    assert await opened(KEY_A, encrypted) == PLAIN


async def test_the_current_key_encrypts_after_rotation() -> None:
    rotated = KeyRing(current=KEY_A).rotated(KEY_B)
    encrypted = await sealed(rotated)
    assert encrypted.metadata[KEY_ID_METADATA] == key_id(KEY_B).encode()
    assert await opened(rotated, encrypted) == PLAIN


async def test_a_payload_under_a_retired_key_decodes_after_rotation() -> None:
    before = await sealed(KEY_A)
    assert await opened(KeyRing(current=KEY_A).rotated(KEY_B), before) == PLAIN


async def test_a_payload_without_a_key_id_decodes_with_the_original_key() -> None:
    encrypted = await sealed(KEY_A)
    del encrypted.metadata[KEY_ID_METADATA]
    assert await opened(KeyRing(current=KEY_A).rotated(KEY_B), encrypted) == PLAIN
    with pytest.raises(PayloadKeyError, match="no key of the ring"):
        await opened(KEY_B, encrypted)


async def test_an_unknown_key_id_is_a_clear_error_naming_it() -> None:
    encrypted = await sealed(KEY_B)
    with pytest.raises(PayloadKeyError, match=f"key {key_id(KEY_B)}, not in this process's ring"):
        await opened(KEY_A, encrypted)


@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag"])
async def test_tampering_is_detected(where: str) -> None:
    encrypted = await sealed(KEY_A)
    data = bytearray(encrypted.data)
    data[{"nonce": 0, "ciphertext": NONCE_BYTES + 1, "tag": -1}[where]] ^= 1
    encrypted.data = bytes(data)
    with pytest.raises(PayloadKeyError, match="fails authentication"):
        await opened(KEY_A, encrypted)


async def test_a_payload_that_is_not_encrypted_passes_through() -> None:
    assert await opened(KEY_A, PLAIN) == PLAIN


def test_a_ring_reads_back_as_written() -> None:
    ring = KeyRing(current=KEY_A).rotated(KEY_B)
    assert parse_ring(ring.to_text()) == ring
    assert parse_ring(f"retired:{encode_key(KEY_A)}, current:{encode_key(KEY_B)}") == ring


@pytest.mark.parametrize(
    "text",
    [
        "",
        f"retired:{encode_key(KEY_A)}",
        f"current:{encode_key(KEY_A)} current:{encode_key(KEY_B)}",
        f"newest:{encode_key(KEY_A)}",
        "current:not-a-key",
    ],
)
def test_a_malformed_ring_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="HELPDESK_PAYLOAD_KEYS"):
        parse_ring(text)


def test_the_single_key_setting_is_a_ring_of_one(tmp_path: Path) -> None:
    settings = load_settings({"HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_PAYLOAD_KEY": encode_key(KEY_A)})
    assert settings.payload_ring == KeyRing(current=KEY_A)


def test_the_key_ring_setting_wins_and_must_agree_with_the_single_key(tmp_path: Path) -> None:
    ring = KeyRing(current=KEY_A).rotated(KEY_B)
    env = {"HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_PAYLOAD_KEYS": ring.to_text()}
    assert load_settings({**env, "HELPDESK_PAYLOAD_KEY": encode_key(KEY_A)}).payload_ring == ring
    with pytest.raises(ConfigurationError, match="HELPDESK_PAYLOAD_KEY is not in HELPDESK_PAYLOAD_KEYS"):
        load_settings({**env, "HELPDESK_PAYLOAD_KEY": encode_key(bytes(32))})


def test_rotation_keeps_the_first_key_and_the_files_owner_only(tmp_path: Path) -> None:
    settings = load_settings({"HELPDESK_DATA_DIR": str(tmp_path)})
    first = desk_ring(settings)  # what `helpdesk up` makes: payload.key
    second = rotate(settings)
    third = rotate(settings)
    assert first.current in second.retired and second.current in third.retired
    assert third.keys[0] == first.current  # oldest first
    assert desk_ring(settings) == third  # what the desk is given at its next start
    assert settings.payload_key_file.read_text().strip() == encode_key(first.current)  # left as a backup
    for path in (settings.payload_key_file, settings.payload_keys_file):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["payload.key", "payload.keys"]  # no staging left


def test_rotation_refuses_a_ring_configured_in_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_PAYLOAD_KEY": encode_key(KEY_A)})
    with pytest.raises(ConfigurationError, match="configured by"):
        rotate(settings)
    assert not settings.payload_keys_file.exists()


def run_keys(argv: list[str], data_dir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    from cli.main import build_parser

    args = build_parser().parse_args(["keys", *argv])
    assert args.entry(args, load_settings({"HELPDESK_DATA_DIR": str(data_dir)})) == 0
    return capsys.readouterr().out


def test_keys_rotate_and_list_show_ids_never_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = desk_ring(load_settings({"HELPDESK_DATA_DIR": str(tmp_path)})).current
    said = run_keys(["rotate"], tmp_path, capsys)
    ring = parse_ring((tmp_path / "payload.keys").read_text())
    assert ring.current_id in said and "restart" in said
    listed = run_keys(["list"], tmp_path, capsys)
    assert f"{ring.current_id}  current" in listed and f"{key_id(first)}  retired" in listed
    for key in ring.keys:
        for shown in (said, listed, run_keys(["list", "--json"], tmp_path, capsys)):
            assert encode_key(key) not in shown and encode_key(key)[:12] not in shown
