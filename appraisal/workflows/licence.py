"""REG-8: every day, raise a task for the supervising bureau for each licence
expiring within 60 days, and close those renewed; a Temporal Schedule runs it."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from appraisal.domain.calendar import local_today

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.registry import LicenceSweepRequest, LicenceSweepResult, RegistryActivities

LICENCE_SCHEDULE_ID = "registry-licence-expiry"
SWEEP_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5))


@dataclass
class LicenceExpiryInput:
    day: str = ""
    """Empty: today (Asia/Shanghai)."""


@workflow.defn
class LicenceExpiryWorkflow:
    @workflow.run
    async def run(self, inp: LicenceExpiryInput) -> LicenceSweepResult:
        day = inp.day or local_today(workflow.now()).isoformat()
        return await workflow.execute_activity_method(
            RegistryActivities.sweep_licence_tasks,
            LicenceSweepRequest(day=day),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=SWEEP_RETRY,
        )
