"""NATS over TLS with client certificates (docs/deployment.md): the wheel's nats-server with a `tls` block
that verifies clients, and the desk's own connect (desk/event_bus.py) given NATS_TLS_* settings keeps
the stream and publishes; a client without a certificate, or in plaintext, is refused."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError

from deploy.processes import find_binary
from desk import event_bus
from desk.config import Settings, load_settings
from desk.events import STREAM, EventSpec
from desk.tls import NatsAccess
from tests.certificates import TestAuthority
from tests.stack import free_ports


@pytest.fixture(scope="module")
def nats_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A TLS-only NATS with JetStream that asks every client for a certificate of its CA; the settings a
    desk process would be given for it."""
    directory = tmp_path_factory.mktemp("nats-tls")
    authority = TestAuthority(directory / "pki")
    server, client = authority.issue("nats", server=True), authority.issue("desk", server=False)
    (port,) = free_ports(1)
    config = directory / "nats-server.conf"
    config.write_text(
        "\n".join(
            [
                f"listen: {json.dumps(f'127.0.0.1:{port}')}",
                f"jetstream {{ store_dir: {json.dumps(str(directory / 'store'))} }}",
                "tls {",
                f"  cert_file: {json.dumps(str(server.cert_file))}",
                f"  key_file: {json.dumps(str(server.key_file))}",
                f"  ca_file: {json.dumps(str(authority.ca_file))}",
                "  verify: true",  # a client certificate signed by ca_file, or no connection
                "}",
            ]
        )
    )
    log = (directory / "nats.log").open("w")
    process = subprocess.Popen([find_binary("nats-server"), "-c", str(config)], stdout=log, stderr=log)
    try:
        yield load_settings(
            {
                "NATS_URL": f"nats://127.0.0.1:{port}",
                "NATS_TLS_CA_FILE": str(authority.ca_file),
                "NATS_TLS_CERT_FILE": str(client.cert_file),
                "NATS_TLS_KEY_FILE": str(client.key_file),
            }
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


async def _desk_connection(settings: Settings) -> NatsClient:
    """The desk's connect, once the server listens (it was started just now)."""
    assert settings.nats_url is not None
    for _ in range(100):
        try:
            probe = await nats.connect(
                settings.nats_url,
                allow_reconnect=False,
                connect_timeout=2,
                **settings.nats_access.connect_options(),
            )
        except (OSError, NatsError):
            await asyncio.sleep(0.2)
            continue
        await probe.close()
        return await event_bus.connect(settings.nats_url, settings.nats_access)
    raise AssertionError("the TLS NATS never admitted the desk's connection")


async def test_the_desk_keeps_its_stream_and_publishes_over_tls(nats_tls: Settings) -> None:
    nc = await _desk_connection(nats_tls)
    try:
        assert nc.connected_url is not None
        js = nc.jetstream()
        await event_bus.ensure_stream(js, replicas=nats_tls.jetstream_replicas)
        event = EventSpec(
            event_id="tls-test-1",
            type="ticket.created",
            subject="helpdesk.ticket.created",
            ticket_id="T-TLS-1",
            sequence=1,
            occurred_at=datetime.now(UTC),
            actor="test",
            reason="",
            payload={},
        )
        await event_bus.EventPublisher(js).publish(event)
        assert (await js.stream_info(STREAM)).state.messages == 1
    finally:
        await nc.close()


@pytest.mark.parametrize("access", ["no client certificate", "plaintext"])
async def test_a_client_without_the_desks_certificate_is_refused(nats_tls: Settings, access: str) -> None:
    await (await _desk_connection(nats_tls)).close()  # the server is up and admits the desk
    assert nats_tls.nats_url is not None
    options = NatsAccess(ca_file=nats_tls.nats_access.ca_file, tls=True).connect_options()
    with pytest.raises((OSError, NatsError)):
        await nats.connect(
            nats_tls.nats_url,
            allow_reconnect=False,
            connect_timeout=5,
            **(options if access == "no client certificate" else {}),
        )
