"""Channels to the desk's gRPC services, for every caller: the HTTP gateway, the command line, tests.

One place decides how a caller reaches a service (its target, its transport security), so that a change
there reaches every caller at once. ``tls`` is the caller's settings (``Settings.grpc_caller_tls``):
None, plaintext (the embedded desk on 127.0.0.1); else TLS with its roots and, if set, its certificate.

A target is one address (``127.0.0.1:20151``), a list of a service's replicas
(``ipv4:127.0.0.1:20151,127.0.0.1:21151``), or a name resolving to several (``dns:///intake:20151``).
Calls go round robin over the replicas that answer, so a replica that dies takes only its calls in
flight with it; those of the idempotent methods below are tried again on another replica.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import grpc

from desk.tls import CallerTLS

RETRIED = (
    ("helpdesk.v1.IntakeService", "CreateTicket"),  # idempotent by its request_id
    ("helpdesk.v1.IntakeService", "GetTicket"),
    ("helpdesk.v1.IntakeService", "ListTickets"),
    ("helpdesk.v1.QualityService", "GetQualityReport"),
    ("helpdesk.v1.StatsService", "GetReport"),
)
"""Methods a call is safe to repeat on another replica when the one it reached answered UNAVAILABLE."""

SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [{"service": service, "method": method} for service, method in RETRIED],
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)
OPTIONS = (
    ("grpc.service_config", SERVICE_CONFIG),
    ("grpc.enable_retries", 1),
    # round_robin reconnects to a replica that went away at once and then backs off, up to 120 s by
    # default: a replica restarted by its supervisor would sit out that long, failing calls fast
    # while it is the only one. 5 s bounds it.
    ("grpc.max_reconnect_backoff_ms", 5000),
)


def aio_channel(
    target: str, tls: CallerTLS | None, *, interceptors: Sequence[grpc.aio.ClientInterceptor] = ()
) -> grpc.aio.Channel:
    """An asyncio channel to the service at ``target`` (one address or its replicas)."""
    chained = list(interceptors) or None
    if tls is None:
        return grpc.aio.insecure_channel(target, options=OPTIONS, interceptors=chained)
    options = (*OPTIONS, *tls.options())
    return grpc.aio.secure_channel(target, tls.credentials(), options=options, interceptors=chained)


def sync_channel(target: str, tls: CallerTLS | None) -> grpc.Channel:
    """A blocking channel to the service at ``target`` (the command line's)."""
    if tls is None:
        return grpc.insecure_channel(target, options=OPTIONS)
    return grpc.secure_channel(target, tls.credentials(), options=(*OPTIONS, *tls.options()))
