"""The workflow worker's composition root: ticket, IVR call, outage and knowledge case workflows, their
activities.

The ticket workflow runs each service's persisting activities as local activities (measured: about
a third of the server work of regular ones), so this process hosts those activity classes. Each
class is still its service's own code over its service's own schema; only the process is shared (and,
for a change's writes, one local activity: ``ticket_persistence``). The IVR call workflow's lookups
are intake's too; some of them talk to ticket workflows, hence a Temporal client, as do the outage
resolution's batches (regular activities: they heartbeat and may take a while).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner

from desk.config import Settings
from desk.process import Runtime, close_runtime, make_worker, open_runtime
from services.dispatch.activities import DispatchActivities
from services.intake.activities import IntakeActivities
from services.intake.ivr.activities import IvrActivities
from services.intake.opening.line_test import line_tester_from
from services.intake.outages.activities import OutageActivities
from services.knowledge.activities import KnowledgeActivities
from services.quality.activities import QualityActivities
from services.stats.activities import StatsActivities
from services.survey.activities import SurveyActivities
from workflows.contract import TASK_QUEUE
from workflows.inspection_violations import InspectionViolationsWorkflow
from workflows.ivr import IvrCallWorkflow
from workflows.knowledge import KnowledgeCaseWorkflow
from workflows.outage import OutageResolutionWorkflow
from workflows.quality_report import WeeklyReportWorkflow
from workflows.quality_sampling import DailySamplingWorkflow
from workflows.stats_report import StatsReportWorkflow
from workflows.ticket import TicketWorkflow
from workflows.ticket_client import TicketWorkflows
from workflows.ticket_persistence import TicketPersistence

log = logging.getLogger(__name__)


def ticket_activities(runtime: Runtime) -> list[Callable[..., Any]]:
    intake = IntakeActivities(runtime.pool, line_tester_from(runtime.settings.line_tester))
    dispatch = DispatchActivities(runtime.pool)
    survey = SurveyActivities(runtime.pool)
    tickets = TicketWorkflows(runtime.temporal)
    return [
        *intake.all(),
        *IvrActivities(runtime.pool, tickets).all(),
        *OutageActivities(runtime.pool, tickets).all(),
        *dispatch.all(),
        *KnowledgeActivities(runtime.pool).all(),
        *survey.all(),
        *TicketPersistence(intake=intake, dispatch=dispatch, survey=survey).all(),
        *QualityActivities(runtime.pool, runtime.settings.require_quality_sampling_secret()).all(),
        *StatsActivities(runtime.pool).all(),
    ]


def workflow_runner() -> WorkflowRunner:
    """Ticket workflows run outside the sandbox here; the tests run them inside it.

    The sandbox re-imports and re-compiles the workflow's module for every new workflow run: over a
    quarter of this worker's CPU when tickets arrive quickly (py-spy, `make bench`). Its protection
    is kept where it catches mistakes: the time-skipping tests run TicketWorkflow sandboxed, and the
    replay test replays recorded histories, before any workflow change lands.
    """
    return UnsandboxedWorkflowRunner()


def workflow_worker(runtime: Runtime) -> Worker:
    """Its cache of workflows is bounded by a setting: an open ticket's workflow stays in the cache of
    the worker that ran it last until evicted, and costs memory there (docs/performance.md); an
    evicted one is replayed from its history when it next has work."""
    return make_worker(
        runtime,
        TASK_QUEUE,
        workflows=[
            TicketWorkflow,
            IvrCallWorkflow,
            OutageResolutionWorkflow,
            KnowledgeCaseWorkflow,
            DailySamplingWorkflow,
            InspectionViolationsWorkflow,
            WeeklyReportWorkflow,
            StatsReportWorkflow,
        ],
        activities=ticket_activities(runtime),
        workflow_runner=workflow_runner(),
        max_cached_workflows=runtime.settings.max_cached_workflows,
    )


async def run(settings: Settings) -> None:
    runtime = await open_runtime(settings, "worker")
    try:
        worker = workflow_worker(runtime)
        log.info("workflow worker polling %s", TASK_QUEUE)
        await worker.run()
    finally:
        await close_runtime(runtime)
