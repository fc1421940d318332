"""Customer data on a need-to-know basis: what of a ticket's reporter each role is answered.

Every answer carrying a ticket is built by :func:`services.ticket_messages.ticket_to_proto`, which
passes the reporter and the fault number through :func:`reporter_for` and :func:`fault_number_for`
with the caller's principal: a new RPC answering a ticket is covered without anyone remembering to.
The table is docs/security.md's; change both together.

A field is CLEAR (as recorded), MASKED (enough to recognise the customer on the phone, not to call
them: ``138****6138``, ``张*``, ``z***@example.com``) or ABSENT (empty). A principal with several
roles gets, field by field, the most its roles allow; a role not in the table gets nothing (fail
closed), so a new role sees no customer data until someone decides it needs some.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from desk.auth import Principal
from desk.masks import mask_email, mask_name, mask_number, mask_numbers_in
from domain.ticket import Reporter


class Exposure(enum.IntEnum):
    """Ordered: a principal with several roles gets the largest."""

    ABSENT = 0
    MASKED = 1
    CLEAR = 2


CLEAR, MASKED, ABSENT = Exposure.CLEAR, Exposure.MASKED, Exposure.ABSENT


@dataclass(frozen=True)
class Policy:
    """What one role is answered of each customer field."""

    name: Exposure
    organization: Exposure
    phone: Exposure
    email: Exposure
    address: Exposure
    fault_number: Exposure


FIELDS = ("name", "organization", "phone", "email", "address", "fault_number")

_EVERYTHING = Policy(CLEAR, CLEAR, CLEAR, CLEAR, CLEAR, CLEAR)
_NOTHING = Policy(ABSENT, ABSENT, ABSENT, ABSENT, ABSENT, ABSENT)
_RECOGNISE_ONLY = Policy(MASKED, CLEAR, MASKED, MASKED, ABSENT, MASKED)

POLICIES: Mapping[str, Policy] = {
    # The desk takes the report and talks to the customer: the whole record.
    "agent": _EVERYTHING,
    "senior_agent": _EVERYTHING,
    "manager": _EVERYTHING,
    "admin": _EVERYTHING,
    # Surveyors call the customer back (回访): whom to ask for, the number, the line.
    "surveyor": _EVERYTHING,
    # An engineer (own team's tickets only, desk.auth) calls the customer to arrange the visit, goes to
    # the address, tests the line; the e-mail is not needed to repair.
    "ops_engineer": Policy(CLEAR, CLEAR, CLEAR, MASKED, CLEAR, CLEAR),
    # The integrator already holds what it submitted; the desk does not hand back anyone's contact.
    "integrator": _RECOGNISE_ONLY,
    # Inspectors judge the handling (timeline, times, reasons), not the person; masked rather than
    # clear-in-samples: intake cannot read quality's samples (DESIGN principle 3) without a new call.
    "qa_inspector": _RECOGNISE_ONLY,
    # Counts and durations need no person.
    "statistician": _NOTHING,
    # Knowledge entries are written from faults and fixes, never from customers.
    "knowledge_manager": _NOTHING,
    # The desk's operators look at how it runs (traces, metrics), not at customers; no ticket RPC
    # answers them. A stuck workflow's decoded history is the codec endpoint's, logged per call.
    "sre": _NOTHING,
}


def policy_for(roles: Iterable[str]) -> Policy:
    """Field by field, the most any of ``roles`` allows; nothing for roles not in the table."""
    policies = [POLICIES.get(role, _NOTHING) for role in roles] or [_NOTHING]
    return Policy(*(max(getattr(p, field) for p in policies) for field in FIELDS))


def reporter_for(principal: Principal, reporter: Reporter) -> Reporter:
    policy = policy_for(principal.roles)
    return Reporter(
        name=_show(policy.name, reporter.name, mask_name),
        organization=_show(policy.organization, reporter.organization, mask_name),
        phone=_show(policy.phone, reporter.phone, mask_number),
        email=_show(policy.email, reporter.email, mask_email),
        address=_show(policy.address, reporter.address, lambda _: ""),
    )


def fault_number_for(principal: Principal, fault_number: str) -> str:
    return _show(policy_for(principal.roles).fault_number, fault_number, mask_number)


def free_text_for(principal: Principal, text: str) -> str:
    """Summaries, descriptions and reasons are typed by people: a number in them is masked for anyone
    not answered the phone in clear."""
    if policy_for(principal.roles).phone == CLEAR:
        return text
    return mask_numbers_in(text)


def _show(exposure: Exposure, value: str, mask: Callable[[str], str]) -> str:
    if exposure == CLEAR:
        return value
    return mask(value) if exposure == MASKED and value else ""
