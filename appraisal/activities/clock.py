from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.db.calendar import load_calendar
from appraisal.domain.clock import ClockPlan, ClockPlanRequest
from appraisal.domain.clock import plan_clock as plan


class ClockActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="plan_clock")
    async def plan_clock(self, request: ClockPlanRequest) -> ClockPlan:
        """Deadline and escalation instants of one clock segment, on the calendar in force."""
        return plan(await load_calendar(self.sessions), request)
