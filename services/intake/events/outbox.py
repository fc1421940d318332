"""``intake.outbox``: the events ticket workflows record, queued with the ticket's record.

Events are queued by the ticket's record (``repository.record_ticket``, in its transaction, which
notifies :data:`NOTIFY_CHANNEL` by name: migrations/006), so an event is queued exactly when the
change that decided it is recorded; the relay (services/intake/events/relay.py) publishes and then
deletes them. The queue itself is the desk's generic :class:`desk.outbox.Outbox`.
"""

from __future__ import annotations

from desk.db import Executor
from desk.outbox import DeadLetter, Outbox, Queued, trace_context

INTAKE_OUTBOX = Outbox(schema="intake", relay_lock=0x6865_6C72)
NOTIFY_CHANNEL = INTAKE_OUTBOX.notify_channel  # "intake_outbox"

__all__ = ["INTAKE_OUTBOX", "NOTIFY_CHANNEL", "DeadLetter", "Queued", "trace_context"]


async def oldest(*, db: Executor, limit: int) -> list[Queued]:
    return await INTAKE_OUTBOX.oldest(db=db, limit=limit)


async def forget(*, db: Executor, positions: list[int]) -> None:
    await INTAKE_OUTBOX.forget(db=db, positions=positions)


async def dead_letter_count(*, db: Executor) -> int:
    return await INTAKE_OUTBOX.dead_letter_count(db=db)


async def dead_letters(*, db: Executor, limit: int) -> list[DeadLetter]:
    return await INTAKE_OUTBOX.dead_letters(db=db, limit=limit)


async def requeue(*, db: Executor, letter_id: int) -> int | None:
    return await INTAKE_OUTBOX.requeue(db=db, letter_id=letter_id)
