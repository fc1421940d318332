"""NATS over TLS with client certificates (docs/deployment.md): the wheel's nats-server with a `tls` block
that verifies clients, and the desk's own connect (desk/event_bus.py) given NATS_TLS_* settings keeps
the stream and publishes; a client without a certificate, or in plaintext, is refused; `helpdesk ops
watch` given the same settings follows a team's work orders."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

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
from tests.integration.watch_screen import WatchScreen
from tests.stack import PROJECT_ROOT, free_ports


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


def _watcher_environment(settings: Settings, data_dir: Path) -> dict[str, str]:
    """What a team's engineer sets to watch a NATS that asks for TLS and a client certificate."""
    access, url = settings.nats_access, settings.nats_url
    assert access.ca_file and access.identity and url
    own = ("HELPDESK_", "NATS_", "DATABASE_", "TEMPORAL_")  # none of this shell's desk
    env = {key: value for key, value in os.environ.items() if not key.startswith(own)}
    return env | {
        "HELPDESK_DATA_DIR": str(data_dir),
        "NATS_URL": url,
        "NATS_TLS_CA_FILE": access.ca_file,
        "NATS_TLS_CERT_FILE": access.identity.cert_file,
        "NATS_TLS_KEY_FILE": access.identity.key_file,
    }


async def test_ops_watch_follows_a_team_over_tls(nats_tls: Settings, tmp_path: Path) -> None:
    nc = await _desk_connection(nats_tls)
    try:
        js = nc.jetstream()
        await event_bus.ensure_stream(js, replicas=nats_tls.jetstream_replicas)
        # The desk's endpoints as `helpdesk up` publishes them, on a NATS run elsewhere (NATS_URL): the
        # watcher connects as given. No dispatch service: nothing here is typed that would call it.
        endpoints = {
            "services": {"dispatch": "127.0.0.1:9"},
            "nats": nats_tls.nats_url,
            "tokens": {"ops_engineer:network": "not-called"},
        }
        (tmp_path / "endpoints.json").write_text(json.dumps(endpoints))
        watch = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "cli", "ops", "watch", "--team", "network", "--observe"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_watcher_environment(nats_tls, tmp_path),
            cwd=PROJECT_ROOT,
        )
        screen = WatchScreen(watch)
        try:
            await screen.line(lambda line: line.startswith("watching team network"))
            work_order = EventSpec(
                event_id="tls-watch-1",
                type="dispatch.created",
                subject="helpdesk.dispatch.network.created",
                ticket_id="T-TLS-2",
                sequence=1,
                occurred_at=datetime.now(UTC),
                actor="test",
                reason="",
                payload={"work_order_id": "T-TLS-2-W1"},
            )
            await event_bus.EventPublisher(js).publish(work_order)
            shown = await screen.line(lambda line: "T-TLS-2-W1" in line)
            assert "dispatch.created" in shown and "ticket T-TLS-2" in shown
            assert await screen.quit() == 0
        finally:
            await screen.close()
    finally:
        await nc.close()
