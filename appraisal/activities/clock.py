from temporalio import activity

from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.clock import ClockPlan, ClockPlanRequest
from appraisal.domain.clock import plan_clock as plan


@activity.defn
async def plan_clock(request: ClockPlanRequest) -> ClockPlan:
    """Deadline and escalation instants of one clock segment."""
    return plan(WorkingCalendar(), request)
