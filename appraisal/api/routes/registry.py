from fastapi import APIRouter, Query
from sqlmodel import col, select

from appraisal.api.deps import SessionDep
from appraisal.api.policy import AuthorizedDep
from appraisal.api.routes.commissions import ERRORS
from appraisal.db.models import (
    Appraiser,
    AppraiserPublic,
    Institution,
    InstitutionPublic,
)

router = APIRouter(prefix="/v1/registry", tags=["registry"])


@router.get("/institutions", response_model=list[InstitutionPublic], responses=ERRORS)
async def list_institutions(
    _: AuthorizedDep,
    session: SessionDep,
    category: str | None = Query(default=None, max_length=60),
) -> list[Institution]:
    """Registered institutions, optionally only those registered for a category."""
    query = select(Institution).order_by(col(Institution.name))
    if category:
        query = query.where(col(Institution.categories).contains([category]))
    return list((await session.exec(query)).all())


@router.get("/appraisers", response_model=list[AppraiserPublic], responses=ERRORS)
async def list_appraisers(
    _: AuthorizedDep,
    session: SessionDep,
    institution_id: str | None = Query(default=None, max_length=36),
    category: str | None = Query(default=None, max_length=60),
) -> list[Appraiser]:
    """Registered appraisers, by institution and category."""
    query = select(Appraiser).order_by(col(Appraiser.name))
    if institution_id:
        query = query.where(Appraiser.institution_id == institution_id)
    if category:
        query = query.where(col(Appraiser.categories).contains([category]))
    return list((await session.exec(query)).all())
