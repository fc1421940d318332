"""Resolving a known outage (已修复): ``outage/<outage_id>``, a durable loop over the tickets linked to it.

ResolveOutage starts it, or joins the one running. It marks the outage resolved, so no new report is
linked to it, then resolves the linked tickets in batches, in ticket-id order: each batch is one
activity that reads the next tickets after the last one gone through and sends each ticket's
workflow its RESOLVE_BY_OUTAGE update, whose id (``outage/<outage_id>/<ticket_id>``) makes a resend
apply once. A crash of any process resumes at the batch that was under way. A long list continues as
new every ``batches_per_run`` batches with its cursor, so no history grows with the outage.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from services.intake import contract as intake
    from workflows.contract import OutageResolved, ResolveOutageInput

MARK_TIMEOUT = timedelta(seconds=30)
BATCH_TIMEOUT = timedelta(minutes=10)
BATCH_HEARTBEAT = timedelta(seconds=20)
"""A batch heartbeats after each ticket; one whose worker died is tried again after this."""
RETRIES = RetryPolicy(maximum_interval=timedelta(seconds=10))
"""Until it succeeds: the database or Temporal down only delays the resolution."""


@workflow.defn(name="OutageResolutionWorkflow")
class OutageResolutionWorkflow:
    @workflow.run
    async def run(self, input: ResolveOutageInput) -> OutageResolved:
        if not input.marked:
            await workflow.execute_activity(
                intake.MARK_OUTAGE_RESOLVED,
                intake.MarkOutageResolvedInput(input.outage_id, input.resolution, workflow.now()),
                start_to_close_timeout=MARK_TIMEOUT,
                retry_policy=RETRIES,
            )
        after, done = input.after, input.done
        for _ in range(input.batches_per_run):
            batch = await workflow.execute_activity(
                intake.RESOLVE_LINKED_TICKETS,
                intake.ResolveLinkedInput(input.outage_id, input.actor, after, input.batch_size),
                result_type=intake.LinkedResolved,
                start_to_close_timeout=BATCH_TIMEOUT,
                heartbeat_timeout=BATCH_HEARTBEAT,
                retry_policy=RETRIES,
            )
            done += len(batch.ticket_ids)
            if len(batch.ticket_ids) < input.batch_size:
                return OutageResolved(input.outage_id, done)
            after = batch.ticket_ids[-1]
        workflow.continue_as_new(dataclasses.replace(input, marked=True, after=after, done=done))
