"""The integrity record (诚信档案, REG-9) of an appraiser or an institution under
the supervisor's bureau, for one year."""

from typing import Annotated

from fastapi import APIRouter, Query

from appraisal.api.deps import READ_YOUR_WRITES, SessionDep, SettingsDep, TodayDep
from appraisal.api.errors import documented
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.integrity import IntegrityRecord
from appraisal.services import integrity as service

router = APIRouter(
    prefix="/v1/supervision/integrity",
    tags=["supervision"],
    dependencies=[READ_YOUR_WRITES],
    route_class=Utf8BodyRoute,
)

ERRORS = documented(
    {
        401: "no token or a bad one",
        403: "not allowed for this role",
        404: "no such appraiser or institution under the caller's bureau",
        422: "invalid input: which field and why (a year not yet begun)",
        503: "the database is unavailable",
    }
)

YearQuery = Annotated[
    int | None, Query(ge=2000, le=9999, description="the calendar year (China time); default: this year")
]


@router.get("/appraisers/{appraiser_id}", response_model=IntegrityRecord, responses=ERRORS)
async def appraiser_integrity(
    appraiser_id: str,
    principal: AuthorizedDep,
    session: SessionDep,
    settings: SettingsDep,
    today: TodayDep,
    year: YearQuery = None,
) -> IntegrityRecord:
    """An appraiser's year: overdue deadlines of the clocks appraisers answer for, refusals
    to testify, upheld complaints and their sanctions, the entries themselves, signed
    reports and dissents as context, and a provisional evaluation (REG-9)."""
    chosen = year or today.year
    service.check_year(chosen, today=today)
    return await service.appraiser_record(
        session=session,
        appraiser_id=appraiser_id,
        bureau_id=principal.organisation_id,
        year=chosen,
        rule=service.GradingRule.of(settings),
    )


@router.get("/institutions/{institution_id}", response_model=IntegrityRecord, responses=ERRORS)
async def institution_integrity(
    institution_id: str,
    principal: AuthorizedDep,
    session: SessionDep,
    settings: SettingsDep,
    today: TodayDep,
    year: YearQuery = None,
) -> IntegrityRecord:
    """An institution's year: overdue deadlines of its commissions (acceptance and
    examination), refusals to testify, upheld complaints and their sanctions, the entries,
    reports signed, dissented and issued as context, and a provisional evaluation (REG-9)."""
    chosen = year or today.year
    service.check_year(chosen, today=today)
    return await service.institution_record(
        session=session,
        institution_id=institution_id,
        bureau_id=principal.organisation_id,
        year=chosen,
        rule=service.GradingRule.of(settings),
    )
