from typing import Annotated

from fastapi import APIRouter, Path

from appraisal.api.deps import READ_YOUR_WRITES, SessionDep, SettingsDep, TemporalDep
from appraisal.api.errors import ERRORS
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.commission import CalendarYearPublic, CalendarYearPut
from appraisal.services import calendar as service

CalendarYearParam = Annotated[
    int,
    Path(
        ge=service.FIRST_YEAR,
        le=service.LAST_YEAR,
        description=f"the calendar year, {service.FIRST_YEAR} to {service.LAST_YEAR}",
    ),
]

router = APIRouter(
    prefix="/v1/calendar", tags=["calendar"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)


@router.get("/{year}", response_model=CalendarYearPublic, responses=ERRORS)
async def show_calendar_year(
    year: CalendarYearParam, _: AuthorizedDep, session: SessionDep
) -> CalendarYearPublic:
    """A year's holidays and make-up working days, and whether they are official
    (a year not yet published is computed by the statutory base rule: provisional)."""
    return await service.show_year(session=session, year=year)


@router.put("/{year}", response_model=CalendarYearPublic, responses=ERRORS)
async def load_calendar_year(
    year: CalendarYearParam,
    body: CalendarYearPut,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> CalendarYearPublic:
    """Load the State Council's official schedule of a year (supervisor); every running
    commission recomputes its deadlines, each change audited with the old and new due date."""
    return await service.load_year(
        session=session,
        client=client,
        task_queue=settings.task_queue,
        principal=principal,
        year=year,
        body=body,
    )
