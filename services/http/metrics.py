"""The HTTP gateway's request metrics (desk/metrics.py): each request counted by method, route
template and status, and timed. The template (``/v1/tickets/{ticket_id}``), never the path itself,
so a ticket id never becomes a label value; a path no route matches counts as ``unmatched``."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desk import metrics

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The matched route's path template, once the router has run (it puts the route in the scope)."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    """ASGI middleware around the whole app, so refusals of its own (401, 413, 415) count too."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500  # what the client gets if the app fails before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        watch = metrics.Stopwatch()
        try:
            await self._app(scope, receive, sending)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = route_template(scope)
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_DURATION.labels(method, route).observe(watch.seconds())
