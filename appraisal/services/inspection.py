"""What the inspection routes do: draw in the supervisor's bureau, read a
published draw and re-run it."""

import secrets
import uuid
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.inspection import InspectionSizes, draw, draw_and_store
from appraisal.db.models import Inspection
from appraisal.domain.errors import NotFound
from appraisal.domain.roles import Actor
from appraisal.schemas.registry import MAX_SEED, InspectionCreate, InspectionPublic


def to_public(row: Inspection) -> InspectionPublic:
    """The stored draw, with `reproduced`: the draw re-run from its seed and candidates."""
    sizes = InspectionSizes(row.institutions, row.case_files_per_institution, row.inspectors)
    return InspectionPublic.model_validate(
        {**row.model_dump(), "reproduced": draw(row.seed, row.candidates, sizes) == row.picks}
    )


async def create(
    *, session: AsyncSession, principal: Actor, body: InspectionCreate, now: datetime
) -> InspectionPublic:
    """A draw among the institutions active at `now` and the inspectors of the caller's bureau."""
    stored = await draw_and_store(
        session,
        inspection_id=str(uuid.uuid4()),
        bureau_id=principal.organisation_id,
        seed=secrets.randbelow(MAX_SEED + 1) if body.seed is None else body.seed,
        sizes=InspectionSizes(body.institutions, body.case_files_per_institution, body.inspectors),
        period=body.period or "",
        origin="manual",
        drawn_by=principal.subject,
        drawn_at=now,
    )
    return to_public(stored)


async def get(*, session: AsyncSession, inspection_id: str) -> InspectionPublic:
    row = await session.get(Inspection, inspection_id)
    if row is None:
        raise NotFound("inspection")
    return to_public(row)


async def list_inspections(
    *, session: AsyncSession, bureau_id: str | None, limit: int, offset: int
) -> tuple[list[InspectionPublic], int]:
    """Newest first."""
    query = select(Inspection)
    count = select(func.count()).select_from(Inspection)
    if bureau_id:
        query = query.where(Inspection.bureau_id == bureau_id)
        count = count.where(Inspection.bureau_id == bureau_id)
    rows = (
        await session.exec(
            query.order_by(col(Inspection.drawn_at).desc(), col(Inspection.id)).limit(limit).offset(offset)
        )
    ).all()
    return [to_public(r) for r in rows], (await session.exec(count)).one()
