"""A port the desk wants is taken: each process says which setting to change, without a traceback.

Another program's socket is a socket of the test's own on the port: bound only, as an outgoing
connection holds its local port, or listening as a gRPC server does, which would let a second gRPC
server share the port (SO_REUSEPORT) unless the desk's refuses to.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack import RunningDesk, desk_environment, helpdesk, leftovers


@pytest.fixture(params=["a connection", "another gRPC server"])
def taken(request: pytest.FixtureRequest) -> Iterator[int]:
    """A port held by someone else for the duration of the test: a socket bound as an outgoing
    connection's, or listening as a gRPC server's, which offers to share its port (SO_REUSEPORT)."""
    with socket.socket() as holder:
        if request.param == "another gRPC server":
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        if request.param == "another gRPC server":
            holder.listen()
        yield holder.getsockname()[1]


def told(output: str, port: int, owner: str, setting: str) -> bool:
    return f"helpdesk: port {port} for {owner} is in use: set {setting} to a free port" in output


@pytest.mark.parametrize(
    ("setting", "owner"),
    [("HELPDESK_DISPATCH_PORT", "dispatch"), ("HELPDESK_EMBEDDED_NATS_PORT", "nats")],
)
async def test_up_names_the_setting_of_a_taken_port_and_starts_nothing(
    tmp_path: Path, taken: int, setting: str, owner: str
) -> None:
    env = {**desk_environment(tmp_path), setting: str(taken)}
    status, output = await helpdesk("up", env=env)
    assert status == 1 and told(output, taken, owner, setting), output
    assert "Traceback" not in output
    assert not leftovers(tmp_path) and not (tmp_path / "postgres").exists()  # it failed before starting


def _service_environment(desk: RunningDesk, data_dir: Path, **ports: int) -> dict[str, str]:
    """`serve dispatch` beside the desk, on the ports given (its metrics' off unless given)."""
    return {
        **os.environ,
        "HELPDESK_DATA_DIR": str(data_dir),
        "TEMPORAL_ADDRESS": desk.endpoints["temporal"],
        "NATS_URL": desk.endpoints["nats"],
        "DATABASE_URL": desk.endpoints["postgres"],
        "HELPDESK_PAYLOAD_KEY": (desk.data_dir / "payload.key").read_text().strip(),
        "HELPDESK_PAGE_TOKEN_KEY": Path(desk.endpoints["secrets"]["page-token-key"]).read_text().strip(),
        "HELPDESK_DISPATCH_METRICS_PORT": "0",
        "HELPDESK_DISPATCH_TEMPORAL_METRICS_PORT": "0",
        **{setting: str(port) for setting, port in ports.items()},
    }


async def test_a_service_names_the_setting_of_its_taken_port(
    desk: RunningDesk, tmp_path: Path, taken: int
) -> None:
    env = _service_environment(desk, tmp_path, HELPDESK_DISPATCH_PORT=taken)
    status, output = await helpdesk("serve", "dispatch", env=env)
    assert status == 1 and told(output, taken, "dispatch", "HELPDESK_DISPATCH_PORT"), output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("setting", "owner"),
    [
        ("HELPDESK_DISPATCH_METRICS_PORT", "dispatch metrics"),
        ("HELPDESK_DISPATCH_TEMPORAL_METRICS_PORT", "dispatch Temporal SDK metrics"),
    ],
)
async def test_a_service_names_the_setting_of_its_taken_metrics_port(
    desk: RunningDesk, tmp_path: Path, taken: int, setting: str, owner: str
) -> None:
    env = _service_environment(desk, tmp_path, **{setting: taken})
    status, output = await helpdesk("serve", "dispatch", env=env)
    assert status == 1 and told(output, taken, owner, setting), output
    assert "Traceback" not in output


async def test_the_http_gateway_names_the_setting_of_its_taken_port(tmp_path: Path, taken: int) -> None:
    env = {**os.environ, "HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_HTTP_PORT": str(taken)}
    status, output = await helpdesk("serve", "http", env=env)
    assert status == 1 and told(output, taken, "http", "HELPDESK_HTTP_PORT"), output
    assert "Traceback" not in output
