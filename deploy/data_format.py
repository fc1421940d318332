"""The format of a desk's data directory: stamped by `helpdesk up` on a fresh one, checked before it starts.

A data directory holds the embedded stores (PostgreSQL's cluster, JetStream's store, Temporal's
database with the histories of running workflows) and the key of those histories' payloads. A desk
can only carry on with what its code can read and replay: from v1.0.0 on, migrations bring the
schemas forward and ``workflow.patched`` keeps running workflows replaying (docs/workflow-versions.md),
so a directory keeps its format across upgrades. A directory of another format is refused before
anything starts, with what to do, instead of a desk that starts and then fails replays in the
worker's log.
"""

from __future__ import annotations

import os
from pathlib import Path

from desk.errors import DeskError

DATA_FORMAT = 1
"""The format this code reads and writes: v1.0.0's, the first release's. Raised only by a release
that cannot carry an earlier directory forward (its release notes then say how to move the data)."""

FORMAT_FILE = "data-format"

PRE_RELEASE_STORES = ("postgres", "nats", "temporal.db", "payload.key")
"""What builds before v1.0.0 kept in a data directory, with no stamp: any of them in an unstamped
directory is such a build's data. Every directory written since is stamped, so this list never grows.
Logs, span files, pid files and endpoints.json are no data: a directory of only those is fresh."""

PROJECT_DATA_DIR = Path(__file__).resolve().parent.parent / ".data"
"""The project's own data directory, the one `make distclean` removes."""


class IncompatibleData(DeskError):
    """The data directory was written by a version of the desk this code cannot run on."""


def ensure_data_format(data_dir: Path) -> None:
    """Stamp a fresh directory with DATA_FORMAT; refuse one of any other format, saying what to do."""
    stamp = data_dir / FORMAT_FILE
    if not stamp.exists():
        if any((data_dir / store).exists() for store in PRE_RELEASE_STORES):
            raise IncompatibleData(_refusal(data_dir, "was written by a pre-release desk (before v1.0.0)"))
        _write_stamp(stamp)
        return
    found = _read_stamp(stamp)
    if found == DATA_FORMAT:
        return
    if found is None:
        raise IncompatibleData(_refusal(data_dir, f"has an unreadable {FORMAT_FILE} file"))
    if found > DATA_FORMAT:
        raise IncompatibleData(
            f"{data_dir} was written by a newer version of the desk (data format {found}; this one"
            f" runs format {DATA_FORMAT}): run that version, or set HELPDESK_DATA_DIR to another"
            " directory. Nothing was started."
        )
    raise IncompatibleData(
        _refusal(data_dir, f"was written by an earlier, incompatible version (data format {found})")
    )


def _refusal(data_dir: Path, why: str) -> str:
    remove = f"`rm -rf {data_dir}`"
    if data_dir.resolve() == PROJECT_DATA_DIR:
        remove = f"`make distclean` (which also removes .venv) or {remove}"
    return (
        f"{data_dir} {why}; this version (data format {DATA_FORMAT}) cannot run its tickets. To start"
        f" afresh, without them, remove it: {remove}, then run `helpdesk up` again; or set"
        " HELPDESK_DATA_DIR to another directory. Nothing was started."
    )


def _read_stamp(stamp: Path) -> int | None:
    text = stamp.read_text(errors="replace").strip()
    return int(text) if text.isdigit() else None


def _write_stamp(stamp: Path) -> None:
    """Whole or not at all: a crash while stamping leaves no half-written format behind."""
    partial = stamp.with_name(f"{stamp.name}.partial")
    partial.write_text(f"{DATA_FORMAT}\n")
    os.replace(partial, stamp)
