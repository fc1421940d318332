"""The embedded NATS's users and a team's permissions (deploy/nats_users.py, desk/nats_access.py): what the
server is configured with, checked by the real `nats-server -t`; the files and their modes."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cli.main import build_parser
from cli.ops import permissions_command
from deploy.nats_cluster import NatsNode, node_config
from deploy.nats_users import NatsUsers, users_config
from deploy.processes import find_binary
from desk.config import load_settings
from desk.errors import InvalidArgument
from desk.nats_access import team_inbox_prefix, team_permissions
from helpdesk.v1 import common_pb2
from services.dispatch.validation import team_from_proto


def test_a_team_may_read_and_ack_only_its_own_consumer_and_publish_nothing_else() -> None:
    assert team_permissions("network") == {
        "publish": {
            "allow": [
                "$JS.API.CONSUMER.INFO.HELPDESK.team-network",
                "$JS.API.CONSUMER.MSG.NEXT.HELPDESK.team-network",
                "$JS.ACK.HELPDESK.team-network.>",
            ]
        },
        "subscribe": {"allow": ["_INBOX.team-network.>", "helpdesk.dispatch.network.>"]},
    }


def test_a_dotted_team_id_gets_an_inbox_prefix_of_one_token() -> None:
    # A prefix "_INBOX.a.b" would lie under team "a"'s "_INBOX.a.>"; the consumer name has no dots.
    assert team_inbox_prefix("ops.east") == "_INBOX.team-ops_east"
    info = team_permissions("ops.east")["publish"]["allow"][0]
    assert info == "$JS.API.CONSUMER.INFO.HELPDESK.team-ops_east"


@pytest.mark.parametrize("team", ["", "net*", "net>", "net work", "../etc", "Network", "x" * 65])
def test_a_team_id_that_could_widen_a_subject_or_leave_the_directory_is_refused(team: str) -> None:
    with pytest.raises(InvalidArgument):
        team_permissions(team)


def test_the_generated_configuration_is_one_the_server_accepts(tmp_path: Path) -> None:
    store = tmp_path / "nats"
    store.mkdir()
    node = NatsNode(number=1, nodes=1, host="127.0.0.1", port=4222, monitor_port=0, cluster_port=0)
    (store / "nats-server.conf").write_text(node_config(node, [node], store))
    teams = {"network": "n-secret", "ops.east": "e-secret"}
    (store / "users.conf").write_text(users_config("desk-secret", teams))
    checked = subprocess.run(
        [find_binary("nats-server"), "-t", "-c", str(store / "nats-server.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_users_are_the_desk_and_every_team_with_a_password(tmp_path: Path) -> None:
    users = NatsUsers(tmp_path, "127.0.0.1", [14222])
    desk = urlsplit(users.desk_url())
    assert (desk.username, desk.hostname, desk.port) == ("desk", "127.0.0.1", 14222) and desk.password

    assert users.admit(["network", "software"])  # new users: the running server must reload
    assert not users.admit(["network"])  # nothing new
    assert users.admit(["machine-room"])
    assert users.team_ids() == ["machine-room", "network", "software"]

    document = json.loads(users.path.read_text().split("authorization:", 1)[1])
    by_name = {user["user"]: user for user in document["users"]}
    assert set(by_name) == {"desk", "team-machine-room", "team-network", "team-software"}
    assert "permissions" not in by_name["desk"]  # the desk may do everything
    assert by_name["team-network"]["permissions"] == team_permissions("network")

    credential = users.credential_path("network")
    [line] = credential.read_text().splitlines()
    url = urlsplit(line)
    assert (url.username, url.password) == ("team-network", by_name["team-network"]["password"])
    assert (url.hostname, url.port) == ("127.0.0.1", 14222)
    passwords = [users.secrets.path("nats-team-network"), users.secrets.path("nats-desk")]
    for private in (users.path, credential, *passwords):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private


def test_a_team_keeps_its_password_and_its_credential_follows_the_port(tmp_path: Path) -> None:
    before = NatsUsers(tmp_path, "127.0.0.1", [14222])
    before.admit(["network"])
    password = urlsplit(before.credential_path("network").read_text()).password
    after = NatsUsers(tmp_path, "127.0.0.1", [24222])  # the next `helpdesk up`, on another port
    assert not after.admit([])  # the same users ...
    moved = urlsplit(after.credential_path("network").read_text().strip())
    assert (moved.password, moved.port) == (password, 24222)  # ... and the credential's new address


def test_ops_nats_permissions_prints_the_user(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = build_parser().parse_args(["ops", "nats-permissions", "network"])
    assert permissions_command(args, load_settings({"HELPDESK_DATA_DIR": str(tmp_path)})) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["user"] == "team-network" and printed["permissions"] == team_permissions("network")


def test_a_new_team_id_with_a_dot_is_refused_by_dispatch() -> None:
    # Team "ops.east"'s subjects helpdesk.dispatch.ops.east.> lie under team "ops"'s filter and permission.
    with pytest.raises(InvalidArgument) as refused:
        team_from_proto(common_pb2.Team(team_id="ops.east", name="East"))
    assert refused.value.violations[0].field == "team.team_id"
    assert team_from_proto(common_pb2.Team(team_id="ops-east", name="East")).team_id == "ops-east"
