"""The monthly random inspection draw (双随机一公开): for every bureau, a seeded
draw of institutions, case files of the month before and inspectors; a Temporal
Schedule runs it on the 1st of each month."""

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from appraisal.domain.calendar import local_today

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.inspection import (
        BureauListRequest,
        InspectionActivities,
        ScheduledDrawRequest,
    )

INSPECTION_SCHEDULE_ID = "supervision-monthly-inspection"
DRAW_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5))
MAX_SEED = 2**63 - 1


@dataclass
class InspectionDrawInput:
    institutions: int = 3
    case_files_per_institution: int = 2
    inspectors: int = 2
    period: str = ""
    """YYYY-MM of the case files; empty: the month before the run (Asia/Shanghai)."""


@dataclass
class InspectionDrawOutcome:
    period: str
    inspection_ids: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Bureau id → why nothing was drawn there."""


def previous_month(year: int, month: int) -> str:
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


@workflow.defn
class InspectionDrawWorkflow:
    @workflow.run
    async def run(self, inp: InspectionDrawInput) -> InspectionDrawOutcome:
        today = local_today(workflow.now())
        outcome = InspectionDrawOutcome(period=inp.period or previous_month(today.year, today.month))
        bureaus = await workflow.execute_activity_method(
            InspectionActivities.list_bureaus,
            BureauListRequest(),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=DRAW_RETRY,
        )
        for bureau_id in bureaus.bureau_ids:
            result = await workflow.execute_activity_method(
                InspectionActivities.draw_scheduled_inspection,
                ScheduledDrawRequest(
                    bureau_id=bureau_id,
                    period=outcome.period,
                    seed=workflow.random().randint(0, MAX_SEED),
                    institutions=inp.institutions,
                    case_files_per_institution=inp.case_files_per_institution,
                    inspectors=inp.inspectors,
                    drawn_at=workflow.now().isoformat(),
                ),
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=DRAW_RETRY,
            )
            if result.inspection_id:
                outcome.inspection_ids.append(result.inspection_id)
            else:
                outcome.skipped[bureau_id] = result.skipped
        return outcome
