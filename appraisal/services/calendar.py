"""Loading a year's official working-day schedule, and showing any year's."""

import hashlib
from datetime import UTC, date, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from appraisal.db.calendar import calendar_in_force
from appraisal.db.models import CalendarYear
from appraisal.domain.errors import InvalidInput
from appraisal.domain.roles import Actor
from appraisal.schemas.commission import CalendarYearPublic, CalendarYearPut
from appraisal.workflows.calendar import CalendarReloadInput, CalendarReloadWorkflow

FIRST_YEAR, LAST_YEAR = 2000, 2100


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput("year", f"between {FIRST_YEAR} and {LAST_YEAR}")


def _check_schedule(year: int, body: CalendarYearPut) -> None:
    for name, days in (("rest_days", body.rest_days), ("makeup_workdays", body.makeup_workdays)):
        for day in days:
            if day.year != year:
                raise InvalidInput(name, f"{day} is not in {year}")
    for day in body.makeup_workdays:
        if day.weekday() < 5:
            raise InvalidInput(
                "makeup_workdays", f"{day} is a weekday; make-up working days fall on weekends"
            )
    both = set(body.rest_days) & set(body.makeup_workdays)
    if both:
        raise InvalidInput("makeup_workdays", f"{min(both)} is also a rest day")


async def show_year(*, session: AsyncSession, year: int) -> CalendarYearPublic:
    check_year(year)
    loaded = await session.get(CalendarYear, year)
    schedule = (await calendar_in_force(session)).schedule(year)
    return CalendarYearPublic(
        year=year,
        official=schedule.official,
        source=schedule.source,
        rest_days=sorted(schedule.rest_days),
        makeup_workdays=sorted(schedule.makeup_workdays),
        loaded_by=loaded.loaded_by if loaded else None,
        loaded_at=loaded.loaded_at if loaded else None,
    )


async def load_year(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    year: int,
    body: CalendarYearPut,
) -> CalendarYearPublic:
    """Stores the official schedule, then starts the durable fan-out that makes
    every running commission recompute its clocks (each change audited there)."""
    check_year(year)
    _check_schedule(year, body)
    rest_days: list[date] = sorted(set(body.rest_days))
    makeup: list[date] = sorted(set(body.makeup_workdays))
    row = {
        "year": year,
        "rest_days": rest_days,
        "makeup_workdays": makeup,
        "source": body.source,
        "official": True,
        "loaded_by": principal.subject,
        "loaded_at": datetime.now(UTC),
    }
    upsert = insert(CalendarYear).values(**row)
    await session.exec(
        upsert.on_conflict_do_update(
            index_elements=["year"], set_={k: upsert.excluded[k] for k in row if k != "year"}
        )
    )
    await session.commit()
    fingerprint = hashlib.sha256(repr((rest_days, makeup)).encode()).hexdigest()[:16]
    handle = await client.start_workflow(
        CalendarReloadWorkflow.run,
        CalendarReloadInput(year=year, loaded_by=principal.subject),
        id=f"calendar-{year}-{fingerprint}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    public = await show_year(session=session, year=year)
    public.reload_workflow_id = handle.id
    return public
