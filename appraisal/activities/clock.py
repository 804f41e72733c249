from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.db.calendar import load_calendar
from appraisal.domain.calendar import HeldYear
from appraisal.domain.clock import CalendarYears, CalendarYearsRequest, ClockPlan, ClockPlanRequest
from appraisal.domain.clock import plan_clock as plan


class ClockActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="plan_clock")
    async def plan_clock(self, request: ClockPlanRequest) -> ClockPlan:
        """Deadline and escalation instants of one clock segment, on the calendar in force."""
        return plan(await load_calendar(self.sessions), request)

    @activity.defn(name="calendar_years")
    async def calendar_years(self, request: CalendarYearsRequest) -> CalendarYears:
        """The schedules in force of the years a workflow is about to plan on."""
        calendar = await load_calendar(self.sessions)
        return CalendarYears([HeldYear.of(calendar.schedule(year)) for year in request.years])
