"""Files owner-only (issue 16, item 6): after a real `helpdesk up`, everything the desk made under its
data dir is 0600, every directory 0700. The embedded PostgreSQL's directory is its own account's (as
root the server runs as `embedded_postgres`): 0700 and that account's, which leaves the data dir 0711
as root: others pass through (the server's account must) but list nothing and open nothing below."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

from deploy.postgres import OS_USER, PGDATA
from tests.stack import RunningDesk

NOT_THE_DESKS = {"up.out"}  # the test harness's copy of `helpdesk up`'s output


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_everything_the_desk_wrote_is_owner_only(desk: RunningDesk) -> None:
    root = desk.data_dir
    assert (root / "logs").is_dir() and (root / "spans").is_dir() and (root / "endpoints.json").exists()
    readable = []
    for directory, subdirectories, files in os.walk(root):
        here = Path(directory)
        subdirectories[:] = [name for name in subdirectories if here / name != root / PGDATA]
        readable += [here / name for name in subdirectories if mode(here / name) != 0o700]
        readable += [
            here / name
            for name in files
            if name not in NOT_THE_DESKS
            and not stat.S_ISSOCK((here / name).lstat().st_mode)
            and mode(here / name) != 0o600
        ]
    assert not readable, [f"{path.relative_to(root)} {oct(mode(path))}" for path in readable]


def test_the_data_dir_admits_only_the_database_servers_account(desk: RunningDesk) -> None:
    pgdata = desk.data_dir / PGDATA
    assert mode(pgdata) == 0o700
    if os.geteuid() == 0:
        server = pwd.getpwnam(OS_USER)
        assert pgdata.stat().st_uid == server.pw_uid
        assert mode(desk.data_dir) == 0o711
    else:
        assert mode(desk.data_dir) == 0o700
