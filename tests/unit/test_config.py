"""Settings are read once from the environment; a bad value stops the process with its name."""

from __future__ import annotations

from dataclasses import astuple

import pytest

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
    assert len(set(ports)) == len(ports) == 10
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
