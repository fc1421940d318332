"""`helpdesk up --replicas N`: N processes of each service and of the gateway, each on ports of its own,
named for its setting; a port two of them would share stops the desk before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.endpoints import service_target
from deploy.stack import StackAddresses
from deploy.up import desk_processes, listening_ports
from desk.config import MAX_REPLICAS, SERVICES, load_settings, port_setting
from desk.errors import ConfigurationError

STACK = StackAddresses("127.0.0.1:17233", None, "nats://127.0.0.1:14222", "postgresql://127.0.0.1:15432/x")


def test_one_replica_by_default_and_two_workers() -> None:
    settings = load_settings({})
    assert settings.replicas == 1 and settings.workflow_workers == 2
    assert settings.replicas_of("intake") == ["intake"]
    assert settings.target("intake") == "127.0.0.1:20151"


def test_replica_k_listens_on_the_first_one_s_ports_plus_k_minus_one_thousand() -> None:
    settings = load_settings({"HELPDESK_REPLICAS": "3", "HELPDESK_STATS_PORT": "25000"})
    assert settings.replicas_of("intake") == ["intake", "intake-2", "intake-3"]
    assert [settings.grpc_ports[n] for n in settings.replicas_of("intake")] == [20151, 21151, 22151]
    assert [settings.grpc_ports[n] for n in settings.replicas_of("stats")] == [25000, 26000, 27000]
    assert [settings.http_port_of(n) for n in settings.replicas_of("http")] == [20180, 21180, 22180]
    assert (
        settings.metrics_ports["intake-3"] == 22251 and settings.temporal_metrics_ports["intake-3"] == 22351
    )
    assert settings.metrics_ports["http-2"] == 21280 and "http-2" not in settings.temporal_metrics_ports
    assert settings.workflow_workers == 3  # as many workers as replicas, unless set
    assert settings.target("intake") == "ipv4:127.0.0.1:20151,127.0.0.1:21151,127.0.0.1:22151"


def test_a_replica_s_own_settings_and_a_configured_target_win() -> None:
    settings = load_settings(
        {
            "HELPDESK_REPLICAS": "2",
            "HELPDESK_INTAKE_2_PORT": "23456",
            "HELPDESK_WORKFLOW_WORKERS": "1",
            "HELPDESK_QUALITY_TARGET": "dns:///quality.desk:20154",
        }
    )
    assert settings.grpc_ports["intake-2"] == 23456 and port_setting("intake-2") == "HELPDESK_INTAKE_2_PORT"
    assert settings.workflow_workers == 1
    assert settings.target("quality") == "dns:///quality.desk:20154"


def test_every_default_port_of_the_most_replicas_is_distinct_and_below_the_ephemeral_range(
    tmp_path: Path,
) -> None:
    env = {"HELPDESK_REPLICAS": str(MAX_REPLICAS), "HELPDESK_DATA_DIR": str(tmp_path)}
    ports = [p.port for p in listening_ports(load_settings(env), with_services=True)]
    assert all(1024 <= port < 32768 for port in ports)


@pytest.mark.parametrize("value", ["0", str(MAX_REPLICAS + 1), "two", "-1"])
def test_a_replica_count_out_of_range_names_the_setting(value: str) -> None:
    with pytest.raises(ConfigurationError, match="HELPDESK_REPLICAS must be 1 to"):
        load_settings({"HELPDESK_REPLICAS": value})


def test_two_replicas_on_one_port_stop_the_desk_naming_both_settings(tmp_path: Path) -> None:
    env = {"HELPDESK_REPLICAS": "2", "HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_DISPATCH_2_PORT": "21151"}
    with pytest.raises(ConfigurationError, match="HELPDESK_DISPATCH_2_PORT and HELPDESK_INTAKE_2_PORT"):
        listening_ports(load_settings(env), with_services=True)
    clash = {**env, "HELPDESK_DISPATCH_2_PORT": "", "HELPDESK_HTTP_2_METRICS_PORT": "20151"}
    with pytest.raises(ConfigurationError, match="HELPDESK_HTTP_2_METRICS_PORT and HELPDESK_INTAKE_PORT"):
        listening_ports(load_settings(clash), with_services=True)


def test_each_replica_runs_as_its_service_on_its_own_ports(tmp_path: Path) -> None:
    settings = load_settings({"HELPDESK_REPLICAS": "2", "HELPDESK_DATA_DIR": str(tmp_path)})
    specs = {spec.name: spec for spec in desk_processes(settings, STACK)}
    env = {name: dict(spec.env or {}) for name, spec in specs.items()}
    assert set(specs) == {
        *SERVICES,
        *(f"{s}-2" for s in SERVICES),
        "http",
        "http-2",
        "worker",
        "worker-2",
    }
    assert list(specs["intake-2"].argv[-2:]) == ["serve", "intake"]
    second = env["intake-2"]
    assert second["HELPDESK_INTAKE_PORT"] == "21151"
    assert second["HELPDESK_INTAKE_METRICS_PORT"] == "21251"
    assert second["HELPDESK_INTAKE_TEMPORAL_METRICS_PORT"] == "21351"
    assert env["intake"]["HELPDESK_INTAKE_PORT"] == "20151"
    assert env["http-2"]["HELPDESK_HTTP_PORT"] == "21180"
    # Every caller reaches both intake replicas, and each replica logs in as its service's role.
    assert env["http-2"]["HELPDESK_INTAKE_TARGET"] == "ipv4:127.0.0.1:20151,127.0.0.1:21151"
    assert env["intake-2"]["DATABASE_URL"] == env["intake"]["DATABASE_URL"]
    assert load_settings(second).grpc_address("intake") == "127.0.0.1:21151"


def test_the_command_line_calls_every_replica_listed_in_endpoints_json() -> None:
    endpoints = {
        "services": {"intake": "127.0.0.1:20151", "survey": "desk.example:20153"},
        "replicas": {"intake": ["127.0.0.1:20151", "127.0.0.1:21151"], "survey": ["desk.example:20153"]},
    }
    assert service_target(endpoints, "intake") == "ipv4:127.0.0.1:20151,127.0.0.1:21151"
    assert service_target(endpoints, "survey") == "desk.example:20153"
    named = {"replicas": {"stats": ["a.example:20155", "b.example:20155"]}}
    assert service_target(named, "stats") == "a.example:20155"  # gRPC lists only addresses
    older = {"services": {"intake": "127.0.0.1:20151"}}  # written before replicas were listed
    assert service_target(older, "intake") == "127.0.0.1:20151"
    with pytest.raises(SystemExit, match="no 'quality' service"):
        service_target(older, "quality")
