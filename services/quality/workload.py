"""Which event is an item of whose work: the workload ledger's one decision, pure.

An item is one piece of a person's work that an inspector may be asked to look at: a report
recorded, a dispatch proposed, a review, a callback, a knowledge entry, an archive, a report. Each
has a stable id built from the ticket and what the event names (``T/record``, ``T/dispatch/W``,
``T/callback/R``), so an event delivered twice, or two events about the same piece of work (a
dispatch proposed, then sent), make one item: the first one wins.

Which post a person held when doing it: the event's type implies one; where more than one post does
such work (recording, dispatching, chasing, answering at first contact) the actor's roles decide
(:mod:`services.quality.staff` looks them up), and a person the desk issued no token to (an
integrator's own agent, named in the event's ``on_behalf_of`` beside the integrator as the actor,
and credited as ``<integrator>/<agent>``: desk/actors.py) holds the implied post. An actor whose
roles hold none of the possible posts (a manager, an ops engineer, an integrator, the IVR) did no
sampled work: no item.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from google.protobuf import struct_pb2

from domain.ticket_state import ON_BEHALF_OF
from helpdesk.v1 import events_pb2
from services.quality.contract import LedgerItem
from services.quality.scorecards import ItemKind, Post

SYSTEM_ACTORS = frozenset({"", "system", "ivr"})
"""The desk itself (timers, automatic routing, the archive) and its IVR (the actor of what a caller
reports by telephone, services/intake/ivr): no person's work."""

POST_ROLES: dict[Post, str] = {
    Post.AGENT: "agent",
    Post.SENIOR_AGENT: "senior_agent",
    Post.SURVEYOR: "surveyor",
    Post.DATA_MANAGER: "knowledge_manager",
    Post.STATISTICIAN: "statistician",
}
"""The role (desk/auth.py) that holds each sampled post."""

DETAIL_LENGTH = 120
_DESK_AGENTS = (Post.SENIOR_AGENT, Post.AGENT)  # a senior agent who records or dispatches does so as one
_CHASERS = (Post.SURVEYOR, Post.SENIOR_AGENT, Post.AGENT)
# 7+ digits, spaces or dashes between: a phone or line number in free text (not a ticket id's tail).
_PHONE_LIKE = re.compile(r"(?<![A-Za-z0-9])\+?\d[\d\s-]{5,}\d")

Roles = frozenset[str] | None
"""An actor's roles, or None when the desk issued the actor no token."""


@dataclass(frozen=True)
class _Work:
    """What an event says was done: the item's kind and id (after the ticket), and who may do it."""

    kind: ItemKind
    key: str  # the item id: T/<key> for a ticket's work, else the whole id
    posts: Sequence[Post]  # who may do it, in order of preference; the last is the default
    staff_id: str = ""  # whose work it is when not the actor's (a dispatch is its proposer's)
    subject_staff_id: str = ""
    outcome: str = ""
    ticket_id: str = ""  # when the envelope names none (knowledge entries)
    system_work: bool = False  # done by the desk itself, yet sampled (the archive)


def ledger_item(envelope: events_pb2.EventEnvelope, *, zone: tzinfo, roles: Roles) -> LedgerItem | None:
    """The item ``envelope`` is of someone's work, or None. ``roles`` are :func:`worker`'s (staff.py)."""
    work = _work(envelope)
    if work is None:
        return None
    staff_id = _doer(envelope, work)
    if staff_id in SYSTEM_ACTORS and not work.system_work:
        return None
    post = work.posts[0] if work.system_work else post_of(work.posts, roles)
    if post is None:
        return None
    ticket_id = envelope.ticket_id or work.ticket_id
    occurred_at = envelope.occurred_at.ToDatetime(tzinfo=UTC)
    return LedgerItem(
        item_id=f"{ticket_id}/{work.key}" if envelope.ticket_id else work.key,
        day=local_day(occurred_at, zone),
        post=post,
        staff_id=staff_id or "system",
        kind=work.kind,
        event_id=envelope.event_id,
        occurred_at=occurred_at,
        ticket_id=ticket_id,
        team_id=_text(envelope.payload, "team_id"),
        detail=detail(envelope),
        subject_staff_id=work.subject_staff_id,
        outcome=work.outcome,
    )


def worker(envelope: events_pb2.EventEnvelope) -> str:
    """Whose roles deciding the event's item needs: the person whose work it may be, else ""."""
    work = _work(envelope)
    if work is None or work.system_work:
        return ""
    person = _doer(envelope, work)
    return "" if person in SYSTEM_ACTORS else person


def _doer(envelope: events_pb2.EventEnvelope, work: _Work) -> str:
    """Whose work it is: the one the work names, else the person an integrator acted for (the actor
    is the integrator itself, desk/actors.py), else the actor.

    An integrator's person is qualified by the integrator (``crm/agent-12``): its names are its own,
    so naming a desk principal cannot put work on that principal's ledger.
    """
    on_behalf_of = _text(envelope.payload, ON_BEHALF_OF)
    return work.staff_id or (f"{envelope.actor}/{on_behalf_of}" if on_behalf_of else envelope.actor)


def post_of(posts: Sequence[Post], roles: Roles) -> Post | None:
    """The first of ``posts`` the actor holds; the last (the implied one) for an actor without a token."""
    if roles is None:
        return posts[-1]
    return next((post for post in posts if POST_ROLES[post] in roles), None)


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The desk's day of ``moment``: 16:00 UTC is already the next day in Asia/Shanghai."""
    return moment.astimezone(zone).date()


def detail(envelope: events_pb2.EventEnvelope) -> str:
    """A line for the inspector: the event's type, its team, and its reason cut short, numbers masked.

    Reasons are free text (a summary, a note): they may hold a phone number, never read in full here.
    """
    team = _text(envelope.payload, "team_id")
    head = f"{envelope.type} ({team})" if team else envelope.type
    reason = _PHONE_LIKE.sub("…", " ".join(envelope.reason.split()))
    text = f"{head}: {reason}" if reason else head
    return text if len(text) <= DETAIL_LENGTH else text[: DETAIL_LENGTH - 1] + "…"


# --- what each event type says was done ---


def _work(envelope: events_pb2.EventEnvelope) -> _Work | None:
    decide = _DECIDERS.get(envelope.type)
    return decide(envelope) if decide is not None else None


def _created(envelope: events_pb2.EventEnvelope) -> _Work:
    return _Work(ItemKind.RECORD, "record", _DESK_AGENTS)


def _supplemented(envelope: events_pb2.EventEnvelope) -> _Work:
    return _Work(ItemKind.SUPPLEMENT, f"supplement/{envelope.sequence}", _DESK_AGENTS)


def _resolved(envelope: events_pb2.EventEnvelope) -> _Work | None:
    if not _flag(envelope.payload, "first_contact"):  # a team's or an outage's resolution: no desk work
        return None
    return _Work(ItemKind.FIRST_CONTACT_ANSWER, "first-contact", _DESK_AGENTS)


def _dispatched(envelope: events_pb2.EventEnvelope) -> _Work:
    """review.requested (the proposal) and dispatch.created: one item per work order, the proposer's.

    A reviewed dispatch.created has the reviewer as actor and names the proposer in ``dispatched_by``
    (from issue 14 on; before, the actor stands in): ``system`` for automatic routing, nobody's work.
    """
    proposer = _text(envelope.payload, "dispatched_by") or envelope.actor
    key = f"dispatch/{_text(envelope.payload, 'work_order_id')}"
    return _Work(ItemKind.DISPATCH, key, _DESK_AGENTS, staff_id=proposer)


def _chased(envelope: events_pb2.EventEnvelope) -> _Work:
    work_order, count = _text(envelope.payload, "work_order_id"), _text(envelope.payload, "chase_count")
    return _Work(ItemKind.CHASE, f"chase/{work_order}/{count}", _CHASERS)


def _reviewed(envelope: events_pb2.EventEnvelope) -> _Work:
    """The senior agent grades the junior agent's dispatch (seed 002 三.3)."""
    return _Work(
        ItemKind.REVIEW,
        f"review/{_text(envelope.payload, 'work_order_id')}",
        (Post.SENIOR_AGENT,),
        subject_staff_id=_text(envelope.payload, "proposed_by"),
        outcome="APPROVED" if envelope.type == "review.approved" else "REJECTED",
    )


def _called_back(envelope: events_pb2.EventEnvelope) -> _Work:
    # The request id names one attempt; without one, the event's place in the ticket does (an attempt
    # number starts again at 1 with each callback, so it would not).
    attempt = _text(envelope.payload, "request_id") or f"#{envelope.sequence}"
    return _Work(ItemKind.CALLBACK, f"callback/{attempt}", (Post.SURVEYOR,))


def _surveyed(envelope: events_pb2.EventEnvelope) -> _Work:
    return _Work(ItemKind.SURVEY, f"survey/{_text(envelope.payload, 'round')}", (Post.SURVEYOR,))


def _investigated(envelope: events_pb2.EventEnvelope) -> _Work:
    return _Work(
        ItemKind.INVESTIGATION, f"investigation/{_text(envelope.payload, 'round')}", (Post.SURVEYOR,)
    )


def _knowledge(envelope: events_pb2.EventEnvelope) -> _Work:
    entry, version = _text(envelope.payload, "entry_id"), _text(envelope.payload, "version")
    return _Work(
        ItemKind.KNOWLEDGE_ENTRY,
        f"knowledge/{entry}/{version}",
        (Post.DATA_MANAGER,),
        ticket_id=_text(envelope.payload, "ticket_id"),
    )


def _archived(envelope: events_pb2.EventEnvelope) -> _Work:
    """Filed by the desk itself; the inspector checks the archive is complete (seed 002 六.6)."""
    return _Work(ItemKind.ARCHIVE, "archive", (Post.DATA_MANAGER,), system_work=True)


def _reported(envelope: events_pb2.EventEnvelope) -> _Work:
    report_id = _text(envelope.payload, "report_id") or envelope.event_id
    return _Work(ItemKind.REPORT, f"report/{report_id}", (Post.STATISTICIAN,))


_DECIDERS: dict[str, Callable[[events_pb2.EventEnvelope], _Work | None]] = {
    "ticket.created": _created,
    "ticket.supplemented": _supplemented,
    "ticket.resolved": _resolved,
    "review.requested": _dispatched,
    "dispatch.created": _dispatched,
    "dispatch.chased": _chased,
    "review.approved": _reviewed,
    "review.rejected": _reviewed,
    "survey.callback_recorded": _called_back,
    "survey.submitted": _surveyed,
    "survey.investigated": _investigated,
    "knowledge.published": _knowledge,
    "knowledge.revised": _knowledge,
    "ticket.archived": _archived,
    "report.generated": _reported,
}


def _text(payload: struct_pb2.Struct, key: str) -> str:
    """A payload field as text; a Struct's numbers are floats, so 2.0 is "2"."""
    if key not in payload:
        return ""
    value = payload[key]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _flag(payload: struct_pb2.Struct, key: str) -> bool:
    return key in payload and payload[key] is True
