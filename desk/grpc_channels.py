"""Channels to the desk's gRPC services, for every caller: the HTTP gateway, the command line, tests.

One place decides how a caller reaches a service (its target, its transport security), so that a change
there reaches every caller at once.

A target is one address (``127.0.0.1:20151``), a list of a service's replicas
(``ipv4:127.0.0.1:20151,127.0.0.1:21151``), or a name resolving to several (``dns:///intake:20151``).
Calls go round robin over the replicas that answer, so a replica that dies takes only its calls in
flight with it; those of the idempotent methods below are tried again on another replica.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import grpc

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
OPTIONS = (("grpc.service_config", SERVICE_CONFIG), ("grpc.enable_retries", 1))


def aio_channel(target: str, *, interceptors: Sequence[grpc.aio.ClientInterceptor] = ()) -> grpc.aio.Channel:
    """An asyncio channel to the service at ``target`` (one address or its replicas)."""
    return grpc.aio.insecure_channel(target, options=OPTIONS, interceptors=list(interceptors) or None)


def sync_channel(target: str) -> grpc.Channel:
    """A blocking channel to the service at ``target`` (the command line's)."""
    return grpc.insecure_channel(target, options=OPTIONS)
