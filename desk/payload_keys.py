"""The payload key ring kept in the data directory, and its rotation (`helpdesk keys rotate`).

Where the ring comes from, first found wins: the environment (``HELPDESK_PAYLOAD_KEYS``, or
``HELPDESK_PAYLOAD_KEY`` as a ring of one), ``payload.keys`` under the data dir (written by rotation),
``payload.key`` under the data dir (the single key `helpdesk up` made before rotation existed, kept
as the ring's oldest key). `helpdesk up` reads it once and hands it to every process it starts, so a
rotation takes effect when the desk is next started.
"""

from __future__ import annotations

import os
from pathlib import Path

from desk.config import Settings
from desk.errors import ConfigurationError
from desk.payload_codec import KeyRing, new_key, parse_key, parse_ring

PRIVATE_FILE_MODE = 0o600


def kept_ring(settings: Settings) -> KeyRing | None:
    """The ring kept under the data dir, if there is one."""
    if settings.payload_keys_file.exists():
        return parse_ring(settings.payload_keys_file.read_text(), setting=str(settings.payload_keys_file))
    if settings.payload_key_file.exists():
        key = parse_key(settings.payload_key_file.read_text().strip(), setting=str(settings.payload_key_file))
        return KeyRing(current=key)
    return None


def desk_ring(settings: Settings) -> KeyRing:
    """The ring `helpdesk up` gives its processes: configured, else kept, else a first key made and kept
    in ``payload.key`` (0600), with the data it protects: losing it makes histories unreadable."""
    ring = settings.payload_ring or kept_ring(settings)
    if ring is not None:
        return ring
    first = new_key()
    write_private(settings.payload_key_file, first)
    return KeyRing(current=parse_key(first))


def rotate(settings: Settings) -> KeyRing:
    """Make a new key current in the kept ring, the keys before it retired (they still decrypt).

    ``payload.key`` is left as it is: it holds the oldest key, which the new ring keeps too.
    """
    if settings.payload_ring is not None:
        raise ConfigurationError(
            "the payload keys are configured by HELPDESK_PAYLOAD_KEYS or HELPDESK_PAYLOAD_KEY: rotate them"
            " where that setting is kept (docs/security.md), not in the data directory"
        )
    ring = kept_ring(settings)
    fresh = parse_key(new_key())
    rotated = ring.rotated(fresh) if ring is not None else KeyRing(current=fresh)
    write_private(settings.payload_keys_file, rotated.to_text())
    return rotated


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, owner-only from the first byte; a crash leaves the old file whole."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
