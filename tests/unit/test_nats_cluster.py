"""The embedded NATS cluster's configuration (deploy/nats_cluster.py) and the settings refused before
anything starts: checked by the real `nats-server -t`, the settings parser and `helpdesk up` itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from deploy.nats_cluster import check_embedded, nats_nodes, node_config
from deploy.nats_users import NatsUsers, users_config
from deploy.processes import find_binary
from deploy.up import ensure_distinct, listening_ports
from desk.config import load_settings
from desk.errors import ConfigurationError
from desk.nats_servers import connect_options, server_urls
from tests.stack import PROJECT_ROOT


def _settings(tmp_path: Path, **env: str) -> dict[str, str]:
    return {"HELPDESK_DATA_DIR": str(tmp_path), **env}


def test_each_node_gets_its_ports_store_and_name_and_routes_to_every_node(tmp_path: Path) -> None:
    settings = load_settings(_settings(tmp_path, HELPDESK_NATS_CLUSTER="3"))
    nodes = nats_nodes(settings, "127.0.0.1")
    assert [(n.name, n.port, n.monitor_port, n.cluster_port) for n in nodes] == [
        ("nats", 14222, 18222, 16222),
        ("nats-2", 14223, 18223, 16223),
        ("nats-3", 14224, 18224, 16224),
    ]
    nats_dir = tmp_path / "nats"
    second = node_config(nodes[1], nodes, nats_dir)
    assert 'server_name: "helpdesk-dev-2"' in second
    assert f'store_dir: "{nats_dir / "node-2"}"' in second
    assert "sync_interval: always" in second
    assert 'routes: ["nats://127.0.0.1:16222", "nats://127.0.0.1:16223", "nats://127.0.0.1:16224"]' in second
    assert 'include "users.conf"' in second
    assert len({node.server_name for node in nodes}) == 3


def test_every_node_configuration_is_one_the_server_accepts(tmp_path: Path) -> None:
    nodes = nats_nodes(load_settings(_settings(tmp_path, HELPDESK_NATS_CLUSTER="3")), "127.0.0.1")
    nats_dir = tmp_path / "nats"
    nats_dir.mkdir()
    (nats_dir / "users.conf").write_text(users_config("desk-secret", {"network": "n-secret"}))
    for node in nodes:
        node.config_path(nats_dir).write_text(node_config(node, nodes, nats_dir))
        checked = subprocess.run(
            [find_binary("nats-server"), "-t", "-c", str(node.config_path(nats_dir))],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_single_server_keeps_the_name_ports_and_files_of_old(tmp_path: Path) -> None:
    [node] = nats_nodes(load_settings(_settings(tmp_path)), "127.0.0.1")
    config = node_config(node, [node], tmp_path / "nats")
    assert (node.name, node.port, node.config_path(tmp_path / "nats").name) == (
        "nats",
        14222,
        "nats-server.conf",
    )
    assert 'server_name: "helpdesk-dev"' in config and "cluster {" not in config
    assert f'store_dir: "{tmp_path / "nats"}"' in config


@pytest.mark.parametrize("value", ["2", "4", "6", "0", "three", "-1"])
def test_a_cluster_without_a_majority_to_survive_a_loss_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="HELPDESK_NATS_CLUSTER") as refused:
        load_settings(_settings(tmp_path, HELPDESK_NATS_CLUSTER=value))
    assert "1, 3 or 5" in str(refused.value)
    with pytest.raises(ConfigurationError, match="HELPDESK_STREAM_REPLICAS"):
        load_settings(_settings(tmp_path, HELPDESK_STREAM_REPLICAS=value))


def test_up_with_a_cluster_of_two_stops_before_starting_anything(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "HELPDESK_NATS_CLUSTER")}
    ran = subprocess.run(
        [sys.executable, "-m", "cli", "up", "--nats-cluster", "2"],
        env={**env, "HELPDESK_DATA_DIR": str(tmp_path / "data")},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 1
    assert "HELPDESK_NATS_CLUSTER='2'" in ran.stderr and "1, 3 or 5" in ran.stderr
    assert not (tmp_path / "data").exists()  # refused while reading the settings: nothing made, none started


def test_the_stream_is_replicated_three_times_on_a_cluster_and_once_otherwise(tmp_path: Path) -> None:
    assert load_settings(_settings(tmp_path)).jetstream_replicas == 1
    assert load_settings(_settings(tmp_path, HELPDESK_NATS_CLUSTER="3")).jetstream_replicas == 3
    assert load_settings(_settings(tmp_path, HELPDESK_NATS_CLUSTER="5")).jetstream_replicas == 3
    five = load_settings(_settings(tmp_path, HELPDESK_NATS_CLUSTER="5", HELPDESK_STREAM_REPLICAS="5"))
    assert five.jetstream_replicas == 5
    elsewhere = load_settings(_settings(tmp_path, NATS_URL="nats://a:4222,nats://b:4222"))
    assert elsewhere.jetstream_replicas == 1  # another NATS: its operator says (HELPDESK_STREAM_REPLICAS)
    production = _settings(tmp_path, NATS_URL="nats://a:4222", HELPDESK_STREAM_REPLICAS="3")
    assert load_settings(production).jetstream_replicas == 3


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"HELPDESK_NATS_CLUSTER": "3", "NATS_URL": "nats://elsewhere:4222"},
            "HELPDESK_NATS_CLUSTER=3 with NATS_URL",
        ),
        ({"HELPDESK_STREAM_REPLICAS": "3"}, "HELPDESK_STREAM_REPLICAS=3 on an embedded NATS of 1 node"),
        ({"HELPDESK_NATS_CLUSTER": "3", "HELPDESK_STREAM_REPLICAS": "5"}, "HELPDESK_STREAM_REPLICAS=5"),
    ],
)
def test_settings_up_could_not_run_are_refused(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        check_embedded(load_settings(_settings(tmp_path, **env)))


def test_a_data_directory_keeps_the_topology_its_stream_was_written_by(tmp_path: Path) -> None:
    single = load_settings(_settings(tmp_path))
    cluster = load_settings(_settings(tmp_path, HELPDESK_NATS_CLUSTER="3"))
    check_embedded(cluster)  # a fresh directory takes either
    (tmp_path / "nats" / "jetstream").mkdir(parents=True)  # a single server's stream
    check_embedded(single)
    with pytest.raises(
        ConfigurationError, match=r"HELPDESK_NATS_CLUSTER=3: .* a single NATS server"
    ) as refused:
        check_embedded(cluster)
    assert "--nats-cluster 1" in str(refused.value) and "Nothing was started" in str(refused.value)

    (tmp_path / "nats" / "jetstream").rmdir()
    for number in (1, 2, 3):
        (tmp_path / "nats" / f"node-{number}" / "jetstream").mkdir(parents=True)
    check_embedded(cluster)
    with pytest.raises(ConfigurationError, match=r"HELPDESK_NATS_CLUSTER=1: .* a NATS cluster of 3 nodes"):
        check_embedded(single)
    with pytest.raises(ConfigurationError, match="HELPDESK_NATS_CLUSTER=5"):
        check_embedded(load_settings(_settings(tmp_path, HELPDESK_NATS_CLUSTER="5")))


def test_up_checks_every_node_port_and_names_the_setting_that_moves_it(tmp_path: Path) -> None:
    settings = load_settings(_settings(tmp_path, HELPDESK_NATS_CLUSTER="3"))
    ports = {port.port: port for port in listening_ports(settings, with_services=False)}
    assert {14222, 14223, 14224, 18222, 18223, 18224, 16222, 16223, 16224} <= set(ports)
    assert ports[14224].setting == "HELPDESK_EMBEDDED_NATS_PORT (node 3 listens on it plus 2)"
    assert ports[16223].setting.startswith("HELPDESK_EMBEDDED_NATS_CLUSTER_PORT")

    # The largest cluster's default ports are distinct and below Linux's ephemeral range (32768 on).
    largest = listening_ports(
        load_settings(_settings(tmp_path, HELPDESK_NATS_CLUSTER="5")), with_services=True
    )
    ensure_distinct(largest)
    assert all(port.port < 32768 for port in largest) and len(largest) > 15 + 5 * 3

    # Node 2's monitoring port would be Temporal UI's: refused, naming both settings.
    overlapping = _settings(tmp_path, HELPDESK_NATS_CLUSTER="3", HELPDESK_EMBEDDED_TEMPORAL_UI_PORT="18223")
    with pytest.raises(ConfigurationError, match=r"NATS_MONITOR_PORT.*HELPDESK_EMBEDDED_TEMPORAL_UI_PORT"):
        ensure_distinct(listening_ports(load_settings(overlapping), with_services=False))


def test_the_desk_and_each_team_get_every_node_in_their_url(tmp_path: Path) -> None:
    users = NatsUsers(tmp_path, "127.0.0.1", [14222, 14223, 14224])
    servers = server_urls(users.desk_url())
    assert [(urlsplit(s).username, urlsplit(s).port) for s in servers] == [
        ("desk", 14222),
        ("desk", 14223),
        ("desk", 14224),
    ]
    assert server_urls(users.desk_url(2)) == [servers[1]]  # one node's alone: its readiness probe
    users.admit(["network"])
    credential = server_urls(users.credential_path("network").read_text().strip())
    assert [urlsplit(s).port for s in credential] == [14222, 14223, 14224]
    # The user and password go to every server, those the cluster tells of too (INFO connect_urls).
    options = connect_options(users.desk_url())
    assert options["servers"] == servers
    assert (options["user"], options["password"]) == ("desk", urlsplit(servers[0]).password)
