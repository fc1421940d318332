"""Secrets `helpdesk up` generates for the embedded stack: one file each under ``.data/secrets/``.

Each secret is made once, from the operating system's random source, and kept: the embedded servers
(PostgreSQL's role passwords, NATS's users) are configured from these files at every start, so a
restarted desk finds the same credentials. Files are 0600 in a 0700 directory (desk/private_files.py);
`endpoints.json` names each file so a tool knows where to read it, and nothing prints a secret's value.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from desk.private_files import FILE_MODE, private_directory

SECRETS_DIRECTORY = "secrets"


class SecretFiles:
    """The secrets of one data directory, by name (``postgres-admin``, ``nats-desk``, …)."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / SECRETS_DIRECTORY

    def path(self, name: str) -> Path:
        return self.directory / name

    def kept(self, name: str) -> str:
        """The secret ``name``: read, or generated (256 random bits, URL-safe) and written the first time."""
        path = self.path(name)
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        private_directory(self.directory)
        value = secrets.token_urlsafe(32)
        # O_EXCL: two starts racing on a fresh directory cannot leave two different values behind.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(value + "\n")
        return value

    def named(self) -> dict[str, str]:
        """Every secret kept so far, name → path: what `endpoints.json` lists under ``secrets``."""
        if not self.directory.is_dir():
            return {}
        return {path.name: str(path) for path in sorted(self.directory.iterdir()) if path.is_file()}
