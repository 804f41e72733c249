"""Public disclosure without a token (公开): the registry, closed random inspections' results,
published penalty decisions and the integrity grades. Nothing confidential: no commission,
no case facts, no party."""

from typing import Annotated

from fastapi import APIRouter, Query

from appraisal.api.deps import SessionDep, SettingsDep, TodayDep
from appraisal.api.errors import documented
from appraisal.schemas.penalty import (
    PublicAppraiser,
    PublicGrades,
    PublicInspection,
    PublicInstitution,
    PublicPenalty,
)
from appraisal.services import integrity
from appraisal.services import public as service

router = APIRouter(prefix="/v1/public", tags=["public"])

ERRORS = documented({422: "invalid input: which field and why", 503: "the database is unavailable"})


@router.get("/registry/institutions", response_model=list[PublicInstitution], responses=ERRORS)
async def public_institutions(
    session: SessionDep, today: TodayDep, category: str | None = Query(default=None, max_length=60)
) -> list[PublicInstitution]:
    """Every registered institution: its categories, status, licence validity, and whether it may
    practise today."""
    return await service.institutions(session=session, today=today, category=category)


@router.get("/registry/appraisers", response_model=list[PublicAppraiser], responses=ERRORS)
async def public_appraisers(
    session: SessionDep,
    today: TodayDep,
    institution_id: str | None = Query(default=None, max_length=36),
    category: str | None = Query(default=None, max_length=60),
) -> list[PublicAppraiser]:
    """Every registered appraiser: institution, categories, senior title, status, licence validity."""
    return await service.appraisers(
        session=session, today=today, institution_id=institution_id, category=category
    )


@router.get("/inspections", response_model=list[PublicInspection], responses=ERRORS)
async def public_inspections(session: SessionDep) -> list[PublicInspection]:
    """Each closed random inspection (双随机一公开): the draw's seed, the institutions inspected, how
    many case files of each, and the conclusion; not which case files."""
    return await service.inspections(session=session)


@router.get("/penalties", response_model=list[PublicPenalty], responses=ERRORS)
async def public_penalties(session: SessionDep) -> list[PublicPenalty]:
    """The published penalty decisions (行政处罚法 Art 48): who, what penalty, on what basis, when."""
    return await service.penalties(session=session)


@router.get("/grades", response_model=PublicGrades, responses=ERRORS)
async def public_grades(
    session: SessionDep,
    settings: SettingsDep,
    today: TodayDep,
    year: Annotated[int | None, Query(ge=2000, le=9999, description="default: last year")] = None,
) -> PublicGrades:
    """Each institution's integrity grade for a year: the one the bureau's annual evaluation
    published (`confirmed: true`), else a provisional one computed from the integrity record."""
    chosen = year or today.year - 1
    integrity.check_year(chosen, today=today)
    return await service.grades(session=session, year=chosen, rule=integrity.GradingRule.of(settings))
