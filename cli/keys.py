"""`helpdesk keys`: the key ring Temporal payloads are encrypted with (docs/security.md).

`keys rotate` adds a new key to the ring kept under the data dir and makes it current; the keys before
it stay, retired, so histories written under them still decode. `keys list` shows each key's id (a
fingerprint) and which one is current, never the keys themselves. Both work on files alone: the running
desk reads the ring when it starts, so a rotation takes effect at its next start.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from desk.config import Settings
from desk.payload_codec import KeyRing, key_id
from desk.payload_keys import kept_ring, rotate


def register(sub: Any) -> None:
    keys = sub.add_parser("keys", help="the payload key ring: rotate the key, list key ids")
    verbs = keys.add_subparsers(dest="verb", required=True, metavar="VERB")
    rotating = verbs.add_parser(
        "rotate", help="add a new payload key and make it current; the old keys stay to decrypt"
    )
    rotating.add_argument("--json", action="store_true", help="say it as a JSON object")
    rotating.set_defaults(entry=rotate_command)
    listing = verbs.add_parser("list", help="the payload keys' ids, which is current, where they come from")
    listing.add_argument("--json", action="store_true", help="say it as a JSON object")
    listing.set_defaults(entry=list_command)


def rotate_command(args: argparse.Namespace, settings: Settings) -> int:
    ring = rotate(settings)
    if args.json:
        print(json.dumps({**_described(ring), "file": str(settings.payload_keys_file), "restart": True}))
        return 0
    print(f"new current payload key {ring.current_id} in {settings.payload_keys_file} (0600)")
    retired = [key_id(k) for k in ring.keys[:-1]]
    print(f"retired, still decrypting: {', '.join(retired) if retired else 'none'}")
    print("the running desk still encrypts with the old key: restart it (stop `helpdesk up`, start it again)")
    print("to use the new one. Back up the keys file with the data: without it, histories do not decode.")
    return 0


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    ring, source = _ring_and_source(settings)
    if args.json:
        print(json.dumps({**(_described(ring) if ring else {"current": None, "keys": []}), "source": source}))
        return 0
    if ring is None:
        print(f"no payload keys yet ({source}): `helpdesk up` makes the first")
        return 0
    print(f"source: {source}")
    for key in reversed(ring.keys):
        print(f"{key_id(key)}  {'current' if key == ring.current else 'retired'}")
    return 0


def _ring_and_source(settings: Settings) -> tuple[KeyRing | None, str]:
    if settings.payload_keys is not None:
        return settings.payload_keys, "HELPDESK_PAYLOAD_KEYS"
    if settings.payload_ring is not None:
        return settings.payload_ring, "HELPDESK_PAYLOAD_KEY"
    kept = kept_ring(settings)
    if settings.payload_keys_file.exists():
        return kept, str(settings.payload_keys_file)
    return kept, str(settings.payload_key_file)


def _described(ring: KeyRing) -> dict[str, Any]:
    """Ids only, newest first: a key's material never leaves the ring's file or setting."""
    keys = [{"id": key_id(k), "current": k == ring.current} for k in reversed(ring.keys)]
    return {"current": ring.current_id, "keys": keys}
