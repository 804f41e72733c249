from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import CalendarYear
from appraisal.domain.calendar import WorkingCalendar, YearSchedule


def schedule_of(row: CalendarYear) -> YearSchedule:
    return YearSchedule(
        row.year,
        frozenset(row.rest_days),
        frozenset(row.makeup_workdays),
        official=row.official,
        source=row.source,
    )


async def calendar_in_force(session: AsyncSession) -> WorkingCalendar:
    """The package's schedules with every year an operator has loaded on top."""
    rows = (await session.exec(select(CalendarYear))).all()
    return WorkingCalendar({row.year: schedule_of(row) for row in rows})


async def load_calendar(sessions: async_sessionmaker[AsyncSession]) -> WorkingCalendar:
    async with sessions() as session:
        return await calendar_in_force(session)
