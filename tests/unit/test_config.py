"""Settings are read once from the environment; a bad value stops the process with its name."""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from desk.config import FileLimits, load_settings
from desk.errors import ConfigurationError


def test_an_empty_environment_gives_the_embedded_defaults() -> None:
    settings = load_settings({})
    assert settings.temporal_address is None  # `helpdesk up` starts its own
    assert settings.pending_lease_seconds == 30.0
    assert settings.worker_nice == 19
    assert settings.workflow_workers == 2
    assert settings.temporal_nice == 10
    assert settings.logs == FileLimits(max_bytes=10 * 2**20, files_kept=3, max_age_seconds=7 * 24 * 3600)
    assert settings.spans == FileLimits(max_bytes=16 * 2**20, files_kept=8, max_age_seconds=7 * 24 * 3600)
    assert settings.log_repeat_seconds == 10.0
    assert settings.max_cached_workflows == 500


def test_every_default_port_is_below_the_ephemeral_range() -> None:
    """Linux gives ports from 32768 to 60999 to outgoing connections: a default among them may be held
    by any program's connection when the desk starts."""
    settings = load_settings({})
    ports = [*settings.grpc_ports.values(), settings.http_port, *astuple(settings.embedded)]
    ports += [*settings.metrics_ports.values(), *settings.temporal_metrics_ports.values()]
    # 5 services, the gateway, 7 embedded; metrics of the 5, the gateway and 16 workers; 21 SDKs'
    assert len(set(ports)) == len(ports) == 13 + 22 + 21
    assert all(1024 <= port < 32768 for port in ports), ports


def test_the_lease_and_the_priorities_are_read() -> None:
    settings = load_settings(
        {"HELPDESK_PENDING_LEASE_SECONDS": "2.5", "HELPDESK_WORKER_NICE": "0", "HELPDESK_TEMPORAL_NICE": "0"}
    )
    assert (settings.pending_lease_seconds, settings.worker_nice, settings.temporal_nice) == (2.5, 0, 0)


def test_the_disk_caps_and_the_workflow_cache_are_read() -> None:
    settings = load_settings(
        {
            "HELPDESK_LOG_MAX_BYTES": "65536",
            "HELPDESK_LOG_FILES_KEPT": "2",
            "HELPDESK_SPAN_FILE_MAX_BYTES": "1048576",
            "HELPDESK_SPAN_FILES_KEPT": "20",
            "HELPDESK_LOG_MAX_AGE_HOURS": "0.5",
            "HELPDESK_LOG_REPEAT_SECONDS": "30",
            "HELPDESK_MAX_CACHED_WORKFLOWS": "250",
        }
    )
    assert settings.logs == FileLimits(max_bytes=65536, files_kept=2, max_age_seconds=1800)
    assert settings.spans == FileLimits(max_bytes=1048576, files_kept=20, max_age_seconds=1800)
    assert settings.log_repeat_seconds == 30.0
    assert settings.max_cached_workflows == 250


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HELPDESK_PENDING_LEASE_SECONDS", "0"),
        ("HELPDESK_PENDING_LEASE_SECONDS", "soon"),
        ("HELPDESK_WORKER_NICE", "-5"),  # raising a priority needs privileges the desk does not ask for
        ("HELPDESK_WORKER_NICE", "20"),
        ("HELPDESK_TEMPORAL_NICE", "-1"),
        ("HELPDESK_WORKFLOW_WORKERS", "0"),
        ("HELPDESK_INTAKE_PORT", "70000"),
        ("HELPDESK_LOG_MAX_BYTES", "10M"),
        ("HELPDESK_SPAN_FILE_MAX_BYTES", "100"),  # below one span batch's worth
        ("HELPDESK_LOG_FILES_KEPT", "0"),
        ("HELPDESK_LOG_MAX_AGE_HOURS", "-1"),
        ("HELPDESK_LOG_REPEAT_SECONDS", "0"),
        ("HELPDESK_MAX_CACHED_WORKFLOWS", "-1"),
    ],
)
def test_a_bad_value_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load_settings({name: value})


def test_tokens_last_twelve_hours_and_the_desk_is_in_development_unless_told() -> None:
    assert (load_settings({}).dev_token_hours, load_settings({}).production) == (12.0, False)
    settings = load_settings({"HELPDESK_DEV_TOKEN_HOURS": "0.5", "HELPDESK_MODE": "Production"})
    assert (settings.dev_token_hours, settings.mode, settings.production) == (0.5, "production", True)


@pytest.mark.parametrize(("name", "value"), [("HELPDESK_DEV_TOKEN_HOURS", "0"), ("HELPDESK_MODE", "prod")])
def test_a_bad_token_setting_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load_settings({name: value})


def test_temporal_access_is_off_unless_temporal_asks_for_it() -> None:
    access = load_settings({"TEMPORAL_ADDRESS": "temporal.example:7233"}).temporal_access
    assert not access.configured
    assert access.connect_options() == {"tls": False, "api_key": None, "rpc_metadata": {}}


def test_temporal_access_reads_temporals_own_settings(tmp_path: Path) -> None:
    ca, cert, key = (tmp_path / name for name in ("ca.pem", "client.pem", "client.key"))
    for path in (ca, cert, key):
        path.write_bytes(f"-- {path.name} --".encode())
    access = load_settings(
        {
            "TEMPORAL_ADDRESS": "desk.a1b2c.tmprl.cloud:7233",
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(ca),
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(cert),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(key),
            "TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
            "TEMPORAL_GRPC_META_X_TENANT": "fault-desk",
        }
    ).temporal_access
    assert isinstance(access.tls, TLSConfig)
    assert access.tls.server_root_ca_cert == b"-- ca.pem --"
    assert access.tls.client_cert == b"-- client.pem --"
    assert access.tls.client_private_key == b"-- client.key --"
    assert access.tls.domain == "temporal.internal"
    assert access.rpc_metadata == {"x-tenant": "fault-desk"}


def test_an_api_key_turns_tls_on() -> None:
    access = load_settings({"TEMPORAL_ADDRESS": "cloud:7233", "TEMPORAL_API_KEY": "k-123"}).temporal_access
    assert access.api_key == "k-123"
    assert access.tls is not False


def test_temporal_access_without_an_address_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="TEMPORAL_API_KEY set without TEMPORAL_ADDRESS"):
        load_settings({"TEMPORAL_API_KEY": "k-123"})


def test_a_missing_certificate_file_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="TEMPORAL_TLS_CLIENT_CERT_PATH"):
        load_settings({"TEMPORAL_ADDRESS": "t:7233", "TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/c.pem"})
