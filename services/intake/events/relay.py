"""Intake's event relay: the desk's outbox relay (:mod:`desk.outbox_relay`) over ``intake.outbox``."""

from __future__ import annotations

from desk.event_bus import EventPublisher
from desk.loops import Readiness
from desk.outbox_relay import OutboxRelay
from services.intake.events.outbox import INTAKE_OUTBOX


class EventRelay(OutboxRelay):
    def __init__(self, database_url: str, publisher: EventPublisher, readiness: Readiness) -> None:
        super().__init__(database_url, publisher, readiness, INTAKE_OUTBOX, loop_name="event relay")
