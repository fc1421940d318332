"""A NATS URL naming one server or several, comma-separated, as NATS's own tools read it
(``nats://desk:secret@10.0.0.1:4222,nats://desk:secret@10.0.0.2:4222``): a NATS_URL, the embedded
cluster's, a team's credential file.

A client given every node of a cluster reconnects to another when the one it uses dies. The servers
also tell a client of the others (the INFO ``connect_urls``), without the user and password: nats-py
would then log in to a server it learnt of that way with none, so the URL's user and password are
given as options too, which nats-py offers to every server of its pool.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client as NatsClient

from desk.tls import NatsAccess


def server_urls(url: str) -> list[str]:
    """The servers of a NATS URL, in its order."""
    return [server.strip() for server in url.split(",") if server.strip()]


def connect_options(url: str) -> dict[str, Any]:
    """nats-py's ``connect`` keywords for the servers of ``url``, its user and password among them."""
    servers = server_urls(url)
    first = urlsplit(servers[0]) if servers else None
    options: dict[str, Any] = {"servers": servers}
    if first is not None and first.username is not None and first.password is not None:
        options.update(user=first.username, password=first.password)
    return options


async def connect(url: str, access: NatsAccess | None = None, **options: Any) -> NatsClient:
    """``nats.connect`` to the servers of ``url``, with ``access`` (TLS, a credentials file:
    ``Settings.nats_access``) and the other options given."""
    return await nats.connect(**connect_options(url), **(access or NatsAccess()).connect_options(), **options)
