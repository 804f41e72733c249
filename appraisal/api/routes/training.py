"""Training (TRN-1, TRN-2): courses, attendance entered or imported by the organiser, and an
appraiser's hours of a year against the minimum."""

from typing import Annotated

from fastapi import APIRouter, Query

from appraisal.api.deps import READ_YOUR_WRITES, NowDep, SessionDep, SettingsDep, TodayDep
from appraisal.api.errors import ERRORS
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.training import (
    AppraiserTraining,
    AttendanceCreate,
    AttendanceResult,
    CourseCreate,
    CoursePublic,
)
from appraisal.services import evaluation
from appraisal.services import training as service

router = APIRouter(
    prefix="/v1/training", tags=["training"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)

YearQuery = Annotated[int | None, Query(ge=2000, le=9999, description="the calendar year; default this year")]


@router.post("/courses", response_model=CoursePublic, status_code=201, responses=ERRORS)
async def create_course(
    body: CourseCreate, principal: AuthorizedDep, session: SessionDep, now: NowDep
) -> CoursePublic:
    """A pre-service (岗前) or in-service (岗位) course of the caller's bureau (supervisor)."""
    course = await service.create_course(session=session, principal=principal, body=body, now=now)
    return CoursePublic.model_validate(course.model_dump())


@router.get("/courses", response_model=list[CoursePublic], responses=ERRORS)
async def list_courses(
    principal: AuthorizedDep, session: SessionDep, year: YearQuery = None
) -> list[CoursePublic]:
    """The courses of the caller's bureau (or its institution's bureau), newest first."""
    bureau = await evaluation.bureau_of(session=session, principal=principal)
    return await service.list_courses(session=session, bureau_id=bureau or "", year=year)


@router.post("/courses/{course_id}/attendance", response_model=AttendanceResult, responses=ERRORS)
async def record_attendance(
    course_id: str,
    body: AttendanceCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> AttendanceResult:
    """Attendance entered or imported by the organiser (supervisor): a completed pre-service
    course makes an appraiser admitted here assignable (TRN-1); in-service hours count
    towards the year's minimum and close its task once reached (TRN-2, TRN-3)."""
    return await service.record_attendance(
        session=session,
        principal=principal,
        course_id=course_id,
        body=body,
        now=now,
        min_hours=settings.training_min_hours,
    )


@router.get("/appraisers/{appraiser_id}", response_model=AppraiserTraining, responses=ERRORS)
async def appraiser_training(
    appraiser_id: str,
    principal: AuthorizedDep,
    session: SessionDep,
    settings: SettingsDep,
    today: TodayDep,
    year: YearQuery = None,
) -> AppraiserTraining:
    """An appraiser's training: the year's in-service hours against the minimum, whether
    pre-service training is still due, and every attendance (the bureau, their institution,
    or the appraiser themself)."""
    return await service.appraiser_training(
        session=session,
        principal=principal,
        appraiser_id=appraiser_id,
        year=service.default_year(today, year),
        min_hours=settings.training_min_hours,
    )
