"""Who acts: the caller, always; a person a request names is honoured only on a person's behalf.

The acting principal comes from the token (desk.grpc_edge.current_principal), never from a request
field, so no caller can write someone else's name into a ticket's timeline or the events (issue 16,
docs/security.md). A field naming a person (``agent_id`` on CreateTicket, AddSupplement,
ResolveAtFirstContact) is honoured only for roles that act on a person's behalf: an integrator (the
HTTP gateway's web form, mail and chat channels, a CRM) whose own systems name their agents, which the
desk cannot know. Then both are recorded: the principal as the actor, the named person as
``on_behalf_of``. Anyone else may leave the field empty or name themselves; naming another person is
refused (INVALID_ARGUMENT naming the field) rather than silently dropped, so a client that believed it
could record for someone learns it cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

from desk.auth import INTEGRATORS, Principal
from desk.errors import InvalidArgument

ON_BEHALF_ROLES = INTEGRATORS
"""The roles that may name the person they act for. Checked on the token's own roles: an admin's
wildcard does not make an admin an integrator."""


@dataclass(frozen=True)
class Acting:
    actor: str  # the principal: who did it
    on_behalf_of: str = ""  # the person an integrator named, when it is not the principal


def acts_on_behalf(principal: Principal) -> bool:
    return not principal.roles.isdisjoint(ON_BEHALF_ROLES)


def acting(principal: Principal, field: str, named: str) -> Acting:
    """Who acts for a request whose ``field`` names ``named`` (empty: nobody).

    Raises InvalidArgument naming ``field`` when a caller who acts only for itself names another.
    """
    named = named.strip()
    if not named or named == principal.principal_id:
        return Acting(principal.principal_id)
    if acts_on_behalf(principal):
        return Acting(principal.principal_id, named)
    raise InvalidArgument.one(
        field,
        "names someone other than the caller: the desk records the token's own principal "
        "(only an integrator records on a person's behalf); leave it empty",
    )
