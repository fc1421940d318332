"""An ops team's work orders, read from its durable JetStream consumer.

**At-least-once delivery + idempotent handling = exactly-once effect.** JetStream keeps every
`helpdesk.dispatch.<team>.>` event in the team's durable consumer `team-<team>` until it is acked:
a team that was down resumes where it stopped, and a message not acked (the handler failed, the
process died, the ack was lost) comes again. So an event may arrive more than once; a
:class:`TeamFeed` acks only after the handler succeeded and skips (acks without handling) an event
whose id it has handled before. The event id is the envelope's ``event_id``, also the message's
``Nats-Msg-Id``. The default :class:`SeenIds` remembers ids in memory, boundedly; a team that must
not repeat an effect across a restart passes a :class:`SeenStore` over its own database (best written
in the same transaction as the effect), or makes the effect idempotent by ``work_order_id``.

::

    async def handle(event: TeamEvent) -> None:
        if event.type == "dispatch.created":
            await my_queue.add(event.work_order_id, event.envelope.payload["response_due_at"])

    async with open_team_feed(nats_url, "network", handle) as feed:
        await feed.run()  # until cancelled

``nats_url`` is the team's credential: the URL with the team's NATS user and password in it
(`helpdesk ops credential TEAM` writes it to a file). The team's user may read only its own consumer
and receive only on its own inbox prefix (desk/nats_access.py), so every connection of a team's is
made by :func:`connect_team`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.errors import NotFoundError

from desk import nats_servers
from desk.errors import NotFound
from desk.event_consumer import Delivery, EventFeed, Fetching
from desk.events import STREAM, team_consumer_name, team_consumer_subject
from desk.nats_access import team_inbox_prefix
from desk.tls import NatsAccess


@dataclass(frozen=True)
class TeamEvent(Delivery):
    """One delivered event of the team's: the decoded envelope, its subject, how often it was delivered."""

    @property
    def type(self) -> str:
        """e.g. dispatch.created, dispatch.accepted, dispatch.chased, dispatch.returned, dispatch.resolved."""
        return str(self.envelope.type)

    @property
    def work_order_id(self) -> str:
        return str(self.envelope.payload["work_order_id"]) if "work_order_id" in self.envelope.payload else ""


Handler = Callable[[TeamEvent], Awaitable[None]]


class SeenStore(Protocol):
    """Which event ids were handled already. Implement it over your own database to survive restarts."""

    async def seen(self, event_id: str) -> bool: ...

    async def remember(self, event_id: str) -> None: ...


class SeenIds:
    """The last ``capacity`` handled event ids, in memory; the oldest is forgotten first.

    Redeliveries come within minutes (a nak, a 30 s ack wait), so a few thousand ids cover them.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    async def seen(self, event_id: str) -> bool:
        return event_id in self._ids

    async def remember(self, event_id: str) -> None:
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)


class TeamFeed(EventFeed):
    """Pulls a team's events, hands each new one to ``handler``, acks after it succeeded.

    A handler that raises gets the event again after ``retry_delay`` seconds (nak), as often as it
    takes: the team consumer has no delivery limit. An undecodable message is logged and terminated.
    The pulling, acking and naking are :class:`desk.event_consumer.EventFeed`'s; this adds the skipping
    of event ids handled before. ``acks=False`` for a :class:`LiveSubscription`'s messages.
    """

    def __init__(
        self,
        subscription: Fetching,
        handler: Handler,
        *,
        seen: SeenStore | None = None,
        retry_delay: float = 1.0,
        acks: bool = True,
    ) -> None:
        super().__init__(
            subscription, self._handle_new, retry_delay=retry_delay, most_retry_delay=retry_delay, acks=acks
        )
        self._team_handler = handler
        self._seen: SeenStore = seen if seen is not None else SeenIds()
        self.duplicates = 0  # redelivered events acked without calling the handler

    async def handle(self, delivery: Delivery) -> None:
        """Skip an event handled before (counted in ``duplicates``), else handle it and remember it."""
        if await self._seen.seen(delivery.event_id):
            self.duplicates += 1
            return
        await super().handle(delivery)

    async def _handle_new(self, delivery: Delivery) -> None:
        await self._team_handler(
            TeamEvent(delivery.envelope, delivery.subject, delivery.delivered, delivery._msg)
        )
        await self._seen.remember(delivery.event_id)


class LiveSubscription:
    """A core subscription to the team's subjects, fetched like a pull subscription: the events
    published from now on, each once, none kept for later and none acked."""

    def __init__(self, subscription: Subscription) -> None:
        self._subscription = subscription

    async def fetch(self, batch: int = 1, timeout: float | None = 5) -> list[Msg]:  # noqa: ASYNC109
        """What has come, up to ``batch``, waiting up to ``timeout`` s for the first (then
        nats.errors.TimeoutError, as a pull subscription's fetch)."""
        messages = [await self._subscription.next_msg(timeout=timeout)]
        while len(messages) < batch and self._subscription.pending_msgs:
            messages.append(await self._subscription.next_msg())
        return messages


async def connect_team(nats_url: str, team_id: str, access: NatsAccess | None = None) -> NatsClient:
    """A connection as the team's user: its replies and deliveries on the team's own inbox prefix.
    ``access``: the team's own TLS and credentials file, for a NATS that asks for them."""
    return await nats_servers.connect(
        nats_url,  # one server, or a cluster's, comma-separated (desk/nats_servers.py)
        access,
        inbox_prefix=team_inbox_prefix(team_id),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
    )


async def bind_team_feed(
    nc: NatsClient,
    team_id: str,
    handler: Handler,
    *,
    seen: SeenStore | None = None,
    retry_delay: float = 1.0,
    observe: bool = False,
) -> TeamFeed:
    """A feed on the team's durable consumer (created by the dispatch service for every team).

    ``observe``: only events published from now on, through a core subscription to the team's
    subjects, leaving the durable consumer (and its backlog) to the team's integration. Nothing is
    acked, and an event whose handler failed is not delivered again. (A team's user may create no
    consumer: desk/nats_access.py says why.) ``nc`` is a connection made by :func:`connect_team`
    (or one with the desk's own user).
    """
    if observe:
        live = await nc.subscribe(team_consumer_subject(team_id))
        await nc.flush()  # a round trip: the server has the subscription, so "from now on" holds
        return TeamFeed(LiveSubscription(live), handler, seen=seen, retry_delay=retry_delay, acks=False)
    js, durable = nc.jetstream(), team_consumer_name(team_id)
    try:
        await js.consumer_info(STREAM, durable)
    except NotFoundError as missing:
        raise NotFound("team consumer", durable) from missing
    sub = await js.pull_subscribe_bind(durable=durable, stream=STREAM)
    return TeamFeed(sub, handler, seen=seen, retry_delay=retry_delay)


@asynccontextmanager
async def open_team_feed(
    nats_url: str,
    team_id: str,
    handler: Handler,
    *,
    seen: SeenStore | None = None,
    retry_delay: float = 1.0,
    observe: bool = False,
    access: NatsAccess | None = None,
) -> AsyncIterator[TeamFeed]:
    """Connect as the team (:func:`connect_team`), bind the team's feed (as :func:`bind_team_feed`),
    and close the connection after."""
    nc = await connect_team(nats_url, team_id, access)
    try:
        yield await bind_team_feed(nc, team_id, handler, seen=seen, retry_delay=retry_delay, observe=observe)
    finally:
        await nc.close()
