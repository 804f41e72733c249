"""REG-8: every day, raise a task for the supervising bureau for each licence
expiring within 60 days, and close those renewed; a Temporal Schedule runs it."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from appraisal.domain.calendar import local_today
from appraisal.domain.exit import exit_workflow_id

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.exit import ExitActivities
    from appraisal.activities.registry import LicenceSweepRequest, LicenceSweepResult, RegistryActivities

LICENCE_LAPSE_EXIT = "licence-lapse-exit"
"""Patch: the sweep also writes each lapsed licence as an exit notice and starts the fan-out
of every notice not yet started (REG-8 reaching the running commissions)."""
EXIT_WORKFLOW = "RegistryExitWorkflow"

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
        result = await workflow.execute_activity_method(
            RegistryActivities.sweep_licence_tasks,
            LicenceSweepRequest(day=day),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=SWEEP_RETRY,
        )
        if workflow.patched(LICENCE_LAPSE_EXIT):
            pending = await workflow.execute_activity_method(
                ExitActivities.pending_exits,
                day,
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=SWEEP_RETRY,
            )
            for fan_out in pending:
                try:  # by name: the sweep's sandbox need not load the fan-out's module
                    await workflow.start_child_workflow(
                        EXIT_WORKFLOW,
                        fan_out,
                        id=exit_workflow_id(fan_out.exit_id),
                        parent_close_policy=ParentClosePolicy.ABANDON,
                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    )
                except WorkflowAlreadyStartedError:
                    continue  # started already (by the registry write, or a sweep before)
                result.exits_started += 1
        return result
