"""The embedded NATS's users: the desk's, and one per ops team, each with a password kept in `.data/secrets/`.

No anonymous connection: the server configuration includes ``nats/users.conf``, written here from the
secrets present (``nats-desk``; ``nats-team-<team>`` for each team given a user), with each team's
permissions from :func:`desk.nats_access.team_permissions`. The users stay in NATS's global account,
where JetStream has always kept the ``HELPDESK`` stream, so a data directory keeps its stream.

A team's user is made by `helpdesk up` for every active team, and by `helpdesk ops credential TEAM`
for a team created later; both rewrite the users file and have the running server read it again
(SIGHUP, every node of a cluster; their pids are in ``run/nats.json``, ``run/nats-2.json`` …). Each
team's credential file ``secrets/nats-credential-<team>`` is one line, the NATS URL with the team's
user and password in it, every node's comma-separated in a cluster (desk/nats_servers.py): what the
team's tools connect with.
The files are 0600 (the server's configuration holds the passwords as they are: no bcrypt here).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import Iterable, Sequence
from pathlib import Path

from nats.errors import Error as NatsError

from deploy.nats_cluster import NODE_NAMES, USERS_FILE
from deploy.processes import runs
from deploy.secrets import SecretFiles
from desk.nats_access import DESK_USER, TEAM_ID, checked_team_id, team_permissions, team_user
from desk.nats_servers import connect
from desk.private_files import FILE_MODE, private_directory

log = logging.getLogger(__name__)

DESK_SECRET = "nats-desk"
TEAM_SECRET_PREFIX = "nats-team-"  # the team's password
CREDENTIAL_PREFIX = "nats-credential-"  # the team's URL, password included


class NatsUsers:
    """The users of the embedded NATS of one data directory, its nodes listening on ``host`` at ``ports``
    (node 1's first)."""

    def __init__(self, data_dir: Path, host: str, ports: Sequence[int]) -> None:
        self.secrets = SecretFiles(data_dir)
        self.path = data_dir / "nats" / USERS_FILE
        self.pid_files = [data_dir / "run" / f"{name}.json" for name in NODE_NAMES[: len(ports)]]
        self.host = host
        self.ports = list(ports)

    def desk_url(self, node: int | None = None) -> str:
        """The URL the desk's processes connect with (its password made the first time): every node's,
        or node ``node``'s alone."""
        return self._url(DESK_USER, self.secrets.kept(DESK_SECRET), node)

    def credential_path(self, team_id: str) -> Path:
        return self.secrets.path(CREDENTIAL_PREFIX + checked_team_id(team_id))

    def admit(self, team_ids: Iterable[str]) -> bool:
        """Give each team a password if it has none; write every team's credential file and the users
        file. True when the users file changed, so a running server must read it again."""
        for team_id in team_ids:
            self.secrets.kept(TEAM_SECRET_PREFIX + checked_team_id(team_id))
        passwords = self._team_passwords()
        private_directory(self.path.parent)
        for team_id, password in passwords.items():
            write_private(self.credential_path(team_id), self._url(team_user(team_id), password) + "\n")
        return write_private(self.path, users_config(self.secrets.kept(DESK_SECRET), passwords))

    def reload(self) -> bool:
        """Have the running embedded servers read their configuration again; False when none runs."""
        reloaded = [_reload(pid_file) for pid_file in self.pid_files]  # every node, not up to the first
        return any(reloaded)

    def team_ids(self) -> list[str]:
        """The teams that have a user: those with a password file."""
        prefix = TEAM_SECRET_PREFIX
        teams = [name.removeprefix(prefix) for name in self.secrets.named() if name.startswith(prefix)]
        return [team for team in teams if TEAM_ID.match(team)]

    def _team_passwords(self) -> dict[str, str]:
        return {team: self.secrets.kept(TEAM_SECRET_PREFIX + team) for team in self.team_ids()}

    def _url(self, user: str, password: str, node: int | None = None) -> str:
        ports = self.ports if node is None else [self.ports[node - 1]]
        return ",".join(f"nats://{user}:{password}@{self.host}:{port}" for port in ports)


def _reload(pid_file: Path) -> bool:
    """SIGHUP to the server a pid file names, if it runs; whether it did."""
    try:
        record = json.loads(pid_file.read_text())
    except (FileNotFoundError, ValueError):
        return False
    if not runs(record["pid"], record["executable"]):
        return False
    os.kill(record["pid"], signal.SIGHUP)
    return True


def users_config(desk_password: str, team_passwords: dict[str, str]) -> str:
    """The ``authorization`` block: the desk may do everything, each team what its permissions allow."""
    users: list[dict[str, object]] = [{"user": DESK_USER, "password": desk_password}]
    users += [
        {"user": team_user(team), "password": password, "permissions": team_permissions(team)}
        for team, password in sorted(team_passwords.items())
    ]
    # NATS reads JSON as its configuration format; json.dumps quotes what must be quoted.
    block = json.dumps({"users": users}, indent=2)
    heading = "# Written by `helpdesk up` and `helpdesk ops credential`; edits are overwritten."
    return f"{heading}\nauthorization: {block}\n"


def write_private(path: Path, text: str) -> bool:
    """``text`` written to ``path`` (0600, through a rename) unless it is there; True if it changed."""
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        pass
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
    return True


async def connects(url: str) -> bool:
    """Whether a user's URL is accepted: the server answers, and knows the user and the password."""

    async def quiet(_: Exception) -> None:
        pass  # a refused user is the answer, not an error to log

    try:
        nc = await connect(url, connect_timeout=1, allow_reconnect=False, error_cb=quiet)
    except (OSError, NatsError, TimeoutError):
        return False
    await nc.close()
    return True


async def admitted(url: str, *, within: float = 5.0) -> bool:
    """Whether ``url`` is accepted within ``within`` s: the server reads its configuration again soon
    after SIGHUP, not at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await connects(url):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True
