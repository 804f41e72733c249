"""Writes yesterday's audit anchor; a Temporal Schedule runs it every day."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from appraisal.domain.calendar import local_today

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.anchor import AnchorActivities, AnchorRequest, AnchorResult

ANCHOR_SCHEDULE_ID = "audit-daily-anchor"


@dataclass
class DailyAnchorInput:
    day: str = ""
    """Empty: the day before today (Asia/Shanghai)."""


@workflow.defn
class DailyAnchorWorkflow:
    @workflow.run
    async def run(self, inp: DailyAnchorInput) -> AnchorResult:
        day = inp.day or (local_today(workflow.now()) - timedelta(days=1)).isoformat()
        return await workflow.execute_activity_method(
            AnchorActivities.write_daily_anchor,
            AnchorRequest(day=day),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
            ),
        )
