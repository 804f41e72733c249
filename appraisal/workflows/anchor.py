"""Writes yesterday's audit anchor; a Temporal Schedule runs it every day. Each court's copy
goes to its webhook from a child of its own, so a court that stays unreachable for days
never holds back the next day's anchor (the schedule skips a run while one is running)."""

from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from appraisal.domain.calendar import local_today

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.anchor import (
        AnchorActivities,
        AnchorDeliveryRequest,
        AnchorDeliveryResult,
        AnchorRequest,
        AnchorResult,
    )

ANCHOR_SCHEDULE_ID = "audit-daily-anchor"
DELIVER_TO_COURTS = "anchor-delivered-to-courts"
"""Patch: after writing the anchor, start the child that delivers each court its copy."""
DELIVERY_GIVES_UP_AFTER = timedelta(days=7)
"""Then the delivery row stays pending, visible, and the file in ANCHOR_DIR is the copy."""
DELIVERY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=30), maximum_interval=timedelta(hours=1))
"""A court's endpoint down for hours is tried again hourly, not hammered."""


@dataclass
class DailyAnchorInput:
    day: str = ""
    """Empty: the day before today (Asia/Shanghai)."""


@dataclass
class AnchorDeliveryInput:
    day: str


def delivery_workflow_id(day: str) -> str:
    return f"{ANCHOR_SCHEDULE_ID}-delivery-{day}"


@workflow.defn
class DailyAnchorWorkflow:
    @workflow.run
    async def run(self, inp: DailyAnchorInput) -> AnchorResult:
        day = inp.day or (local_today(workflow.now()) - timedelta(days=1)).isoformat()
        result = await workflow.execute_activity_method(
            AnchorActivities.write_daily_anchor,
            AnchorRequest(day=day),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
            ),
        )
        if workflow.patched(DELIVER_TO_COURTS):
            # The same day anchored again while its delivery is still under way: leave that one.
            with suppress(WorkflowAlreadyStartedError):
                await workflow.start_child_workflow(
                    AnchorDeliveryWorkflow.run,
                    AnchorDeliveryInput(day=day),
                    id=delivery_workflow_id(day),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
        return result


@workflow.defn
class AnchorDeliveryWorkflow:
    @workflow.run
    async def run(self, inp: AnchorDeliveryInput) -> AnchorDeliveryResult:
        return await workflow.execute_activity_method(
            AnchorActivities.deliver_daily_anchor,
            AnchorDeliveryRequest(day=inp.day),
            start_to_close_timeout=timedelta(minutes=5),
            schedule_to_close_timeout=DELIVERY_GIVES_UP_AFTER,
            retry_policy=DELIVERY_RETRY,
        )
