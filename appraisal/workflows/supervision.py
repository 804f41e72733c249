"""SUP-1: every day, each institution's refusal, termination, overdue and complaint rates are
compared with the province's; an unusual one raises a task for the bureau (a Temporal Schedule
runs it)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.supervision import RateAlertsResult, SupervisionActivities

RATES_SCHEDULE_ID = "supervision-daily-rates"


@workflow.defn
class SupervisionRatesWorkflow:
    @workflow.run
    async def run(self) -> RateAlertsResult:
        return await workflow.execute_activity_method(
            SupervisionActivities.sync_rate_alerts,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
            ),
        )
