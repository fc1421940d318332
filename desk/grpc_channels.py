"""Channels to the desk's gRPC services, for every caller: the HTTP gateway, the command line, tests.

One place decides how a caller reaches a service (its target, its transport security), so that a change
there reaches every caller at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc


def aio_channel(target: str, *, interceptors: Sequence[grpc.aio.ClientInterceptor] = ()) -> grpc.aio.Channel:
    """An asyncio channel to the service at ``target``."""
    return grpc.aio.insecure_channel(target, interceptors=list(interceptors) or None)


def sync_channel(target: str) -> grpc.Channel:
    """A blocking channel to the service at ``target`` (the command line's)."""
    return grpc.insecure_channel(target)
