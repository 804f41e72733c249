"""A year's official schedule was loaded: tell every running commission to
plan its clocks again. Durable fan-out: the activity walks the read model
and signals each workflow, heartbeating its progress so a retry resumes."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from appraisal.domain.commission import CalendarChanged

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.calendar import CalendarActivities


@dataclass
class CalendarReloadInput:
    year: int
    loaded_by: str = ""


@dataclass
class CalendarReloadResult:
    signalled: int = 0


@workflow.defn
class CalendarReloadWorkflow:
    @workflow.run
    async def run(self, inp: CalendarReloadInput) -> CalendarReloadResult:
        signalled = await workflow.execute_activity_method(
            CalendarActivities.signal_running_commissions,
            CalendarChanged(year=inp.year, loaded_by=inp.loaded_by),
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
            ),
        )
        return CalendarReloadResult(signalled=signalled)
