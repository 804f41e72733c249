"""What the inspection routes do: draw in the supervisor's bureau, read a
published draw and re-run it."""

import secrets
import uuid
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.inspection import InspectionSizes, draw, draw_and_store
from appraisal.db.models import Inspection, IntegrityEntryRow
from appraisal.domain.calendar import local_today
from appraisal.domain.errors import InvalidInput, NotFound, RuleViolation
from appraisal.domain.integrity import FINDING_CONCLUSIONS, INSPECTION_FINDING
from appraisal.domain.roles import Actor
from appraisal.schemas.penalty import InspectionResultsCreate
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


async def require_in_bureau(*, session: AsyncSession, principal: Actor, inspection_id: str) -> None:
    """NotFound unless the draw is the supervisor's bureau's: what a form checks before it reads
    its fields, so a refusal never tells what exists elsewhere."""
    row = await session.get(Inspection, inspection_id)
    if row is None or row.bureau_id != principal.organisation_id:
        raise NotFound("inspection")


async def close(
    *,
    session: AsyncSession,
    principal: Actor,
    inspection_id: str,
    body: InspectionResultsCreate,
    now: datetime,
) -> InspectionPublic:
    """Records what the inspection found at each institution drawn and closes it: its results
    are then public (双随机一公开, `/v1/public/inspections`), and a rectification or a penalty
    referral enters the institution's integrity record. A `penalty_referral` conclusion is what a
    penalty case may be filed from (source `inspection`)."""
    row = (
        await session.exec(
            select(Inspection)
            .where(Inspection.id == inspection_id, Inspection.bureau_id == principal.organisation_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("inspection")
    if row.closed_at is not None:
        raise RuleViolation("inspection_closed", f"the inspection was closed on {row.closed_at:%Y-%m-%d}")
    drawn = list(row.picks.get("institutions", []))
    given = [r.institution_id for r in body.results]
    stray = [i for i in given if i not in drawn]
    if stray or len(set(given)) != len(given):
        raise InvalidInput(
            "results", f"one result for each institution drawn, and only those: {', '.join(stray)}"
        )
    missing = [i for i in drawn if i not in given]
    if missing:
        raise InvalidInput("results", f"no result for {', '.join(missing)}")
    row.results = [r.model_dump(exclude_none=True) for r in body.results]
    row.closed_at = now
    row.closed_by = principal.subject
    session.add(row)
    findings = [r for r in body.results if r.conclusion in FINDING_CONCLUSIONS]
    if findings:  # each in the institution's integrity record (REG-9), once per inspection
        await session.exec(
            insert(IntegrityEntryRow)
            .values(
                [
                    {
                        "subject_kind": "institution",
                        "subject_id": r.institution_id,
                        "complaint_id": row.id,
                        "bureau_id": row.bureau_id,
                        "rule": "REG-9",
                        "outcome": INSPECTION_FINDING,
                        "findings": r.summary or r.conclusion,
                        "decided_on": local_today(now),
                        "recorded_at": now,
                    }
                    for r in findings
                ]
            )
            .on_conflict_do_nothing(index_elements=["complaint_id", "subject_kind", "subject_id"])
        )
    await session.commit()
    await session.refresh(row)
    return to_public(row)
