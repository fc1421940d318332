"""The desk's gRPC services over mutual TLS, on a real desk (docs/deployment.md): `helpdesk up` started
with a server certificate and a client CA. A caller presenting a certificate of that CA is answered; a
caller without one, with one of another CA, or in plaintext is refused; the HTTP gateway and the command
line reach the services with the settings alone."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from cli.client import run_client_command
from cli.main import build_parser
from desk.config import Settings, load_settings
from desk.grpc_channels import aio_channel
from desk.tls import CallerTLS, read_identity
from helpdesk.v1 import intake_pb2, intake_pb2_grpc
from tests.certificates import TestAuthority
from tests.integration.desk_client import auth, report
from tests.stack import RunningDesk, running_desk


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki")


@pytest.fixture(scope="module")
def environment(pki: Path) -> dict[str, str]:
    authority = TestAuthority(pki / "desk")
    server, client = authority.issue("services", server=True), authority.issue("gateway", server=False)
    return {
        "HELPDESK_TLS_CERT_FILE": str(server.cert_file),
        "HELPDESK_TLS_KEY_FILE": str(server.key_file),
        "HELPDESK_TLS_CLIENT_CA_FILE": str(authority.ca_file),
        "HELPDESK_TLS_CA_FILE": str(authority.ca_file),
        "HELPDESK_TLS_CLIENT_CERT_FILE": str(client.cert_file),
        "HELPDESK_TLS_CLIENT_KEY_FILE": str(client.key_file),
        "HELPDESK_WORKFLOW_WORKERS": "1",
    }


@pytest.fixture(scope="module")
async def tls_desk(
    tmp_path_factory: pytest.TempPathFactory, environment: dict[str, str]
) -> AsyncIterator[RunningDesk]:
    async with running_desk(tmp_path_factory.mktemp("tls-desk"), environment) as desk:
        yield desk


def _settings(desk: RunningDesk, environment: dict[str, str]) -> Settings:
    """A caller's settings: what the desk was started with, as the gateway and the command line read them."""
    return load_settings({**environment, "HELPDESK_DATA_DIR": str(desk.data_dir)})


async def _create(address: str, tls: CallerTLS | None, token: str) -> intake_pb2.CreateTicketResponse:
    async with aio_channel(address, tls) as channel:
        stub = intake_pb2_grpc.IntakeServiceStub(channel)
        answer: intake_pb2.CreateTicketResponse = await stub.CreateTicket(
            report(category="network", wait_for_routing=False), metadata=auth(token), timeout=30
        )
        return answer


async def test_a_caller_with_a_client_certificate_is_answered(
    tls_desk: RunningDesk, environment: dict[str, str]
) -> None:
    settings = _settings(tls_desk, environment)
    created = await _create(
        tls_desk.endpoints["services"]["intake"], settings.grpc_caller_tls, tls_desk.token("agent")
    )
    assert created.ticket.ticket_id


async def test_callers_without_the_desks_client_certificate_are_refused(
    tls_desk: RunningDesk, environment: dict[str, str], pki: Path
) -> None:
    settings = _settings(tls_desk, environment)
    address, token = tls_desk.endpoints["services"]["intake"], tls_desk.token("agent")
    stranger = TestAuthority(pki / "stranger", "stranger-ca").issue("stranger", server=False)
    trusted_roots = settings.grpc_caller_tls.roots if settings.grpc_caller_tls else None
    callers = {
        "no client certificate": CallerTLS(roots=trusted_roots),
        "another CA's certificate": CallerTLS(
            roots=trusted_roots,
            identity=read_identity(("cert", str(stranger.cert_file)), ("key", str(stranger.key_file))),
        ),
        "plaintext": None,
    }
    for name, tls in callers.items():
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _create(address, tls, token)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, name
        # The server hung up in the handshake (the same address answers a certified caller above).
        assert "Connection refused" not in (refused.value.details() or ""), name


async def test_a_caller_that_does_not_trust_the_services_ca_is_refused(
    tls_desk: RunningDesk, environment: dict[str, str]
) -> None:
    """The system's roots do not hold the test CA: the services' certificate is not taken on trust."""
    settings = _settings(tls_desk, environment)
    assert settings.grpc_caller_tls is not None
    system_roots = CallerTLS(identity=settings.grpc_caller_tls.identity)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _create(tls_desk.endpoints["services"]["intake"], system_roots, tls_desk.token("agent"))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_the_http_gateway_reaches_the_services_over_mutual_tls(tls_desk: RunningDesk) -> None:
    async with httpx.AsyncClient(base_url=tls_desk.endpoints["http"]["intake"], timeout=30) as http:
        ready = await http.get("/readyz")  # ready: intake answered the gateway's own call
    assert ready.status_code == 200, ready.text


async def test_the_command_line_reaches_the_services_with_the_settings(
    tls_desk: RunningDesk, environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tls_desk, environment)
    created = await _create(
        tls_desk.endpoints["services"]["intake"], settings.grpc_caller_tls, tls_desk.token("agent")
    )
    argv = ["ticket", "show", created.ticket.ticket_id, "--as", "agent", "--json"]
    assert run_client_command(build_parser().parse_args(argv), settings) == 0
    assert json.loads(capsys.readouterr().out)["ticketId"] == created.ticket.ticket_id
    plaintext = load_settings({"HELPDESK_DATA_DIR": str(tls_desk.data_dir)})
    assert run_client_command(build_parser().parse_args(argv), plaintext) == 1  # refused, said on stderr
