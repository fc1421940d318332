"""Who may do what on NATS: the desk's user, and one user per ops team limited to its own work orders.

The desk's processes connect as :data:`DESK_USER` and may do everything (publish the events, keep the
stream and the consumers). An ops team's user ``team-<team_id>`` may only read its own durable
consumer ``team-<team_id>`` (consumer info, fetch, ack/nak/term/in-progress), receive on its own inbox
prefix, and watch its own subjects live; it may publish nothing else, so it can neither forge a work
order nor read, ack, create, change or delete any consumer. :func:`team_permissions` is the one
definition: the embedded server's configuration (deploy/nats_users.py), `helpdesk ops nats-permissions`
(for a NATS run elsewhere) and the tests all take it from here.

Why no consumer of its own for ``--observe``: JetStream's create subject names the consumer in one
token (``$JS.API.CONSUMER.CREATE.HELPDESK.<name>.<filter>``), so a permission that lets a team create
consumers of any name also lets it *update* any existing one (a service's ``stats``, another team's
``team-…``) to a filter of its own subjects. Observing is a core subscription to the team's subjects.
"""

from __future__ import annotations

import re
from typing import Any

from desk.errors import InvalidArgument
from desk.events import STREAM, team_consumer_name, team_consumer_subject

DESK_USER = "desk"

TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
"""What dispatch accepts as a team id (services/dispatch/validation.py); here it also keeps NATS
wildcards, spaces and path separators out of a subject, a user name and a file name."""


def checked_team_id(team_id: str) -> str:
    if not TEAM_ID.match(team_id):
        raise InvalidArgument.one("team", f"{team_id!r}: lowercase letters, digits, '.', '_', '-'; 1-64")
    return team_id


def team_user(team_id: str) -> str:
    return f"team-{team_id}"


def team_inbox_prefix(team_id: str) -> str:
    """The inbox prefix a team's connection uses (nats-py's ``inbox_prefix``): its replies, and the
    deliveries of its consumer, come on subjects only its own user may subscribe to. The consumer name
    is one token (no dots), so no team's prefix is another's with more tokens."""
    return f"_INBOX.{team_consumer_name(team_id)}"


def team_permissions(team_id: str) -> dict[str, Any]:
    """The NATS permissions of the team's user, as the server configuration's ``permissions`` block."""
    consumer = team_consumer_name(checked_team_id(team_id))
    return {
        "publish": {
            "allow": [
                f"$JS.API.CONSUMER.INFO.{STREAM}.{consumer}",  # bind checks the consumer exists
                f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{consumer}",  # fetch
                f"$JS.ACK.{STREAM}.{consumer}.>",  # ack, nak, term, in progress
            ]
        },
        "subscribe": {
            "allow": [
                f"{team_inbox_prefix(team_id)}.>",  # API replies and fetched messages
                team_consumer_subject(team_id),  # `ops watch --observe`: its events live, no consumer
            ]
        },
    }
