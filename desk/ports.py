"""Listening ports: bind one as the desk's servers do, and say which setting to change when it is taken."""

from __future__ import annotations

import errno
import socket

from desk.errors import ConfigurationError, PortInUse


def bound_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port, or PortInUse when another socket holds the port.

    Bound as gRPC, uvicorn, PostgreSQL, NATS and Temporal bind theirs (SO_REUSEADDR): a connection of
    an earlier run waiting in TIME_WAIT does not hold the port, a listener or a live connection does.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(port) from None
        raise ConfigurationError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sock


def ensure_free(host: str, port: int, *, owner: str = "", setting: str = "") -> None:
    """Raise PortInUse (naming `setting`, if given) unless a server could listen on host:port now."""
    try:
        bound_socket(host, port).close()
    except PortInUse as taken:
        if setting:
            raise taken.of(owner, setting) from None
        raise


def split_address(address: str) -> tuple[str, int]:
    """("127.0.0.1", 20151) from "127.0.0.1:20151"; ("::1", 20151) from "[::1]:20151"."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)
