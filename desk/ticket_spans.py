"""`helpdesk.ticket_id` on every span of a ticket, by one mechanism: the ticket in the trace context.

Code that knows which ticket it works on enters :func:`ticket_scope`: the span already running (a gRPC
server span, an activity's) gets the attribute, and the ticket id goes into the context's W3C baggage.
:class:`TicketSpanProcessor` then copies it onto every span started under that context, in this
process and in the next ones: the baggage travels wherever the trace context does (gRPC metadata,
Temporal headers, the outbox's stored context, NATS headers). A Temporal span of a ticket's workflow
(``ticket/<id>``) gets it from the workflow id, for workflows started outside any scope.

Where the scope is entered: the gRPC edge, from the request's ``ticket_id`` field; intake's ticket
starter, once a report has its ticket; and :class:`TicketActivityInterceptor`, from an activity's
argument. Only the desk says which ticket a span is about: a span that enters the process from a
caller (kind SERVER under a remote parent) takes no ticket from the caller's baggage, and the edge
drops a caller's entry for the spans under it. Only the ticket id is carried, never customer data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from opentelemetry import baggage, context, trace
from opentelemetry.sdk.trace import Span, SpanProcessor
from temporalio import client, worker

TICKET_ID = "helpdesk.ticket_id"
"""The span attribute and the baggage entry."""

_TICKET_WORKFLOW_PREFIX = "ticket/"  # workflows.contract's ticket_workflow_id; desk/ may not import it
_TEMPORAL_WORKFLOW_ID = "temporalWorkflowID"  # the attribute Temporal's TracingInterceptor sets


@contextlib.contextmanager
def ticket_scope(ticket_id: str | None) -> Iterator[None]:
    """Within: the current span and every span started under it say `ticket_id`.

    None or empty clears a ticket id the context carried (the edge's way of ignoring a caller's)."""
    if ticket_id:
        label_current_span(ticket_id)
        scoped = baggage.set_baggage(TICKET_ID, ticket_id)
    else:
        scoped = baggage.remove_baggage(TICKET_ID)
    token = context.attach(scoped)
    try:
        yield
    finally:
        context.detach(token)


def label_current_span(ticket_id: str) -> None:
    """The running span is about this ticket (learnt after it began: CreateTicket's new ticket)."""
    trace.get_current_span().set_attribute(TICKET_ID, ticket_id)


def ticket_of(request: Any) -> str | None:
    """The `ticket_id` field of a request or an activity's argument, if it has a non-empty one."""
    value = getattr(request, "ticket_id", None)
    return value if isinstance(value, str) and value else None


class TicketSpanProcessor(SpanProcessor):
    """Puts the context's ticket id (or a ticket workflow's) on each span as it starts."""

    def on_start(self, span: Span, parent_context: context.Context | None = None) -> None:
        if span.attributes and TICKET_ID in span.attributes:
            return
        carried = None if _enters_from_a_caller(span) else baggage.get_baggage(TICKET_ID, parent_context)
        ticket_id = carried or _from_workflow_id(span)
        if isinstance(ticket_id, str) and ticket_id:
            span.set_attribute(TICKET_ID, ticket_id)


def _enters_from_a_caller(span: Span) -> bool:
    return span.kind == trace.SpanKind.SERVER and span.parent is not None and span.parent.is_remote


def _from_workflow_id(span: Span) -> str | None:
    workflow_id = (span.attributes or {}).get(_TEMPORAL_WORKFLOW_ID)
    if isinstance(workflow_id, str) and workflow_id.startswith(_TICKET_WORKFLOW_PREFIX):
        return workflow_id.removeprefix(_TICKET_WORKFLOW_PREFIX)
    return None


class TicketActivityInterceptor(client.Interceptor, worker.Interceptor):
    """Runs each activity whose argument names a ticket inside that ticket's scope.

    A client interceptor too, as Temporal's TracingInterceptor is: workers take their client's. Listed after
    that one, so it runs inside the activity's span and context."""

    def intercept_activity(
        self, next: worker.ActivityInboundInterceptor
    ) -> worker.ActivityInboundInterceptor:
        return _TicketActivityInbound(next)


class _TicketActivityInbound(worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: worker.ExecuteActivityInput) -> Any:
        ticket_id = ticket_of(input.args[0]) if len(input.args) == 1 else None
        if ticket_id is None:
            return await super().execute_activity(input)
        with ticket_scope(ticket_id):
            return await super().execute_activity(input)
