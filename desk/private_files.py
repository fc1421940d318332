"""Owner-only files: everything the desk writes under its data directory is 0600, each directory 0700.

Logs and spans hold what callers sent, endpoints.json holds bearer tokens, the key files keep the
payload key and the sampling secret: none is for another account on the machine. The processes of
`helpdesk up`, `serve` and `worker` run under :data:`UMASK` (children inherit it: NATS's and Temporal's
stores too), and the writers below also set the modes themselves, so a file made by an older desk, or
under another umask, is tightened when it is next opened.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
UMASK = 0o077


def private_directory(path: Path) -> Path:
    """``path`` and any missing parents made 0700; ``path`` itself made 0700 if it existed."""
    if not path.parent.exists():
        private_directory(path.parent)
    path.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
    path.chmod(DIRECTORY_MODE)  # mkdir's mode passes through the umask, and an old one stays as it was
    return path


def open_private_append(path: Path, *, buffering: int = -1) -> IO[bytes]:
    """``path`` opened for appending, created 0600, or made 0600 if it was not."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    return os.fdopen(descriptor, "ab", buffering=buffering)


def restrict_tree(root: Path, *, leave: Iterable[Path] = ()) -> None:
    """Every directory under ``root`` made 0700 and every file 0600, except the subtrees in ``leave``
    (another account's, such as the embedded PostgreSQL's) and anything owned by another account."""
    left = {path.resolve() for path in leave}
    for directory, subdirectories, files in os.walk(root):
        here = Path(directory)
        subdirectories[:] = [name for name in subdirectories if (here / name).resolve() not in left]
        for name in subdirectories:
            _restrict(here / name, DIRECTORY_MODE)
        for name in files:
            _restrict(here / name, FILE_MODE)


def _restrict(path: Path, mode: int) -> None:
    try:
        found = path.lstat()
    except FileNotFoundError:
        return  # gone meanwhile (a rotated log, a finished temporary file)
    if stat.S_ISLNK(found.st_mode) or found.st_uid != os.geteuid():
        return
    if stat.S_IMODE(found.st_mode) != mode and (stat.S_ISDIR(found.st_mode) or stat.S_ISREG(found.st_mode)):
        path.chmod(mode)
