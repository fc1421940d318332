"""Where the running desk is: its endpoints file, written by `helpdesk up`, and its database."""

from __future__ import annotations

import argparse
import json
from typing import Any

import grpc

from desk.config import Settings, replicas_target
from desk.grpc_channels import sync_channel

CALLER_TLS = "caller_tls"
"""Where :func:`read_endpoints` puts the caller's TLS for the services (from its settings, not the file)."""


def read_endpoints(settings: Settings) -> dict[str, Any]:
    """The running desk's endpoints file; under :data:`CALLER_TLS`, the TLS its services are called with."""
    path = settings.endpoints_file
    if not path.exists():
        raise SystemExit(f"no running desk: {path} does not exist (start one with `make run`)")
    endpoints: dict[str, Any] = json.loads(path.read_text())
    endpoints[CALLER_TLS] = settings.grpc_caller_tls
    return endpoints


def service_target(endpoints: dict[str, Any], service: str) -> str:
    """The gRPC target of a service of the running desk: all its replicas (``endpoints["replicas"]``),
    so that a call reaches whichever answers; its one address (``endpoints["services"]``) in an
    endpoints file from before replicas were listed."""
    replicas: list[str] = endpoints.get("replicas", {}).get(service) or []
    if replicas:
        return replicas_target(replicas)
    try:
        return str(endpoints["services"][service])
    except KeyError:
        raise SystemExit(f"the running desk lists no {service!r} service in its endpoints file") from None


def service_channel(endpoints: dict[str, Any], service: str) -> grpc.Channel:
    """A blocking channel to a service of the running desk, round robin over its replicas."""
    return sync_channel(service_target(endpoints, service), endpoints[CALLER_TLS])


def database_url(args: argparse.Namespace, settings: Settings) -> str:
    if args.database_url:
        return str(args.database_url)
    if settings.endpoints_file.exists():
        return str(json.loads(settings.endpoints_file.read_text())["postgres"])
    if settings.database_url:
        return settings.database_url
    raise SystemExit(
        f"no database: {settings.endpoints_file} does not exist (start the desk with `make run`),"
        " DATABASE_URL is not set and --database-url was not given"
    )
