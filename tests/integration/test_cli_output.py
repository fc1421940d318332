"""`helpdesk ticket …` against the test desk: JSON into a pipe, text on a real terminal (a pty)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import random
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass

from tests.stack import PROJECT_ROOT, RunningDesk


@dataclass
class Printed:
    status: int
    out: str
    err: str


def _helpdesk(desk: RunningDesk, *argv: str, terminal: bool) -> Printed:
    """`python -m cli ARGV`, its stdout a pipe or, with `terminal`, a pseudo-terminal."""
    env = {**os.environ, "HELPDESK_DATA_DIR": str(desk.data_dir), "TZ": "Asia/Shanghai"}
    command = [sys.executable, "-m", "cli", *argv]
    if not terminal:
        done = subprocess.run(
            command, check=False, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        return Printed(done.returncode, done.stdout, done.stderr)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 40 rows, 120 columns
    with subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE
    ) as process:
        os.close(follower)
        out = _read_all(leader)
        err = process.stderr.read().decode() if process.stderr else ""
        status = process.wait(timeout=60)
    return Printed(status, out.replace("\r\n", "\n"), err)


def _read_all(leader: int) -> str:
    chunks = []
    try:
        while chunk := os.read(leader, 65536):
            chunks.append(chunk)
    except OSError:  # EIO: the terminal's other end closed when the command ended
        pass
    finally:
        os.close(leader)
    return b"".join(chunks).decode()


def _create(desk: RunningDesk, *extra: str, terminal: bool) -> Printed:
    phone = "139" + "".join(random.choices("0123456789", k=8))  # a new caller: never a repeat
    report = ("--name", "Li Lei", "--phone", phone, "--category", "network", "--summary", "No dial tone")
    return _helpdesk(desk, "ticket", "create", *report, *extra, terminal=terminal)


async def test_piped_output_is_json_as_scripts_read_it(desk: RunningDesk) -> None:
    created = await asyncio.to_thread(_create, desk, terminal=False)
    assert created.status == 0, created.err
    ticket_id = json.loads(created.out)["ticket"]["ticketId"]

    shown = await asyncio.to_thread(_helpdesk, desk, "ticket", "show", ticket_id, terminal=False)
    assert shown.status == 0, shown.err
    ticket = json.loads(shown.out)
    assert (ticket["ticketId"], ticket["priority"]) == (ticket_id, "PRIORITY_P3")


async def test_a_terminal_reads_text_unless_json_is_asked_for(desk: RunningDesk) -> None:
    created = await asyncio.to_thread(_create, desk, terminal=True)
    assert created.status == 0, created.err
    [headline] = [line for line in created.out.splitlines() if line.startswith("Ticket TK")]
    ticket_id = headline.split()[1]
    assert headline.endswith(" · P3 · No dial tone")
    assert "outcome:  CREATED" in created.out
    assert "PRIORITY_" not in created.out and "{" not in created.out

    asked = await asyncio.to_thread(_helpdesk, desk, "ticket", "show", ticket_id, "--json", terminal=True)
    assert asked.status == 0, asked.err
    assert json.loads(asked.out)["ticketId"] == ticket_id

    forced = await asyncio.to_thread(_helpdesk, desk, "ticket", "show", ticket_id, "--human", terminal=False)
    assert forced.status == 0, forced.err
    assert forced.out.startswith(f"Ticket {ticket_id} · ")

    listed = await asyncio.to_thread(_helpdesk, desk, "ticket", "list", "--page-size", "1", terminal=True)
    assert listed.status == 0, listed.err
    header, row, footer = listed.out.splitlines()
    assert header.split()[:2] == ["TICKET", "STATUS"] and row.startswith("TK")
    assert footer.startswith("1 ticket")


async def test_a_refusal_is_one_line_on_stderr_either_way(desk: RunningDesk) -> None:
    for terminal in (False, True):
        missing = await asyncio.to_thread(
            _helpdesk, desk, "ticket", "show", "TK19990101999999", terminal=terminal
        )
        assert missing.status == 1 and missing.out == ""
        assert missing.err.startswith("NOT_FOUND: ") and missing.err.count("\n") == 1
