"""Channels to the desk's gRPC services, for every caller: the HTTP gateway, the command line, tests.

One place decides how a caller reaches a service (its target, its transport security), so that a change
there reaches every caller at once. ``tls`` is the caller's settings (``Settings.grpc_caller_tls``):
None, plaintext (the embedded desk on 127.0.0.1); else TLS with its roots and, if set, its certificate.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from desk.tls import CallerTLS


def aio_channel(
    target: str, tls: CallerTLS | None, *, interceptors: Sequence[grpc.aio.ClientInterceptor] = ()
) -> grpc.aio.Channel:
    """An asyncio channel to the service at ``target``."""
    chained = list(interceptors) or None
    if tls is None:
        return grpc.aio.insecure_channel(target, interceptors=chained)
    return grpc.aio.secure_channel(target, tls.credentials(), options=tls.options(), interceptors=chained)


def sync_channel(target: str, tls: CallerTLS | None) -> grpc.Channel:
    """A blocking channel to the service at ``target`` (the command line's)."""
    if tls is None:
        return grpc.insecure_channel(target)
    return grpc.secure_channel(target, tls.credentials(), options=tls.options())
