"""The knowledge case workflow's activity: raise the case's alarm, unless its entry is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from desk import metrics
from desk.db import Executor
from desk.outbox import trace_context
from services.knowledge import repository
from services.knowledge.contract import RAISE_CASE_ALARM, CaseAlarmInput, CaseAlarmResult
from services.knowledge.entries import Case, CaseState, alarm_event
from services.knowledge.library import KNOWLEDGE_OUTBOX

_RAISES = {"warning": (CaseState.PENDING,), "overdue": (CaseState.PENDING, CaseState.WARNED)}
_RAISED = {"warning": CaseState.WARNED, "overdue": CaseState.OVERDUE}


class KnowledgeActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=RAISE_CASE_ALARM)
    async def raise_case_alarm(self, request: CaseAlarmInput) -> CaseAlarmResult:
        """Warn or mark overdue, with its ``sla.*`` event, unless the entry is written: then it is met.

        Once per alarm: a retry finds the state moved on and queues nothing again.
        """
        raised = None
        async with self._pool.acquire() as conn, conn.transaction():
            case = await repository.get_case(db=conn, ticket_id=request.ticket_id, for_update=True)
            if case is None:  # the workflow starts only after its case is stored
                raise RuntimeError(f"no knowledge case for ticket {request.ticket_id}")
            entry_id = case.entry_id or await repository.entry_for_ticket(db=conn, ticket_id=case.ticket_id)
            if entry_id:
                await _met(conn, case, entry_id, request)
                return CaseAlarmResult(entry_id)
            if case.state in _RAISES[request.alarm]:
                case.state = _RAISED[request.alarm]
                await repository.save_case_state(db=conn, case=case)
                sequence = await repository.next_case_sequence(db=conn, ticket_id=case.ticket_id)
                raised = alarm_event(case, request.alarm, sequence, request.raised_at)
                await KNOWLEDGE_OUTBOX.enqueue(db=conn, events=[raised], trace=trace_context())
        if raised is not None:  # counted once committed: a retry raises nothing again
            metrics.count_alarm(raised)
        return CaseAlarmResult("")

    def all(self) -> list[Callable[..., Any]]:
        return [self.raise_case_alarm]


async def _met(conn: Executor, case: Case, entry_id: str, request: CaseAlarmInput) -> None:
    if case.state != CaseState.MET:
        case.state, case.entry_id, case.met_at = CaseState.MET, entry_id, case.met_at or request.raised_at
        await repository.save_case_state(db=conn, case=case)
