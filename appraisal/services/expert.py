"""The bureau's expert pool (专家库): who may be drawn to review a registration application,
with the key each signs their review with. Each entry is a link of the bureau's registry chain."""

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy.dialects.postgresql import array
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Expert, Institution
from appraisal.db.registry import record_change
from appraisal.domain.errors import InvalidInput, NotFound
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.admission import ExpertCreate


async def create_expert(*, session: AsyncSession, principal: Actor, body: ExpertCreate) -> Expert:
    if body.affiliation_institution_id:
        institution = await session.get(Institution, body.affiliation_institution_id)
        if institution is None:
            raise InvalidInput(
                "affiliation_institution_id", f"no institution {body.affiliation_institution_id}"
            )
    if (await session.exec(select(Expert.id).where(Expert.public_key == body.public_key))).first():
        raise InvalidInput("public_key", "that key is another expert's")
    expert = Expert(
        id=str(uuid4()),
        name=body.name,
        bureau_id=principal.organisation_id,
        categories=list(body.categories),
        title=body.title or "",
        affiliation_institution_id=body.affiliation_institution_id,
        public_key=body.public_key,
    )
    session.add(expert)
    await session.flush()
    await record_change(
        session,
        bureau_id=principal.organisation_id,
        entity=expert,
        action="created",
        principal=principal,
        before=None,
        reason="expert pool (专家库)",
        occurred_at=datetime.now(UTC),
    )
    await session.commit()
    await session.refresh(expert)
    return expert


async def list_experts(*, session: AsyncSession, bureau_id: str) -> list[Expert]:
    rows = await session.exec(select(Expert).where(Expert.bureau_id == bureau_id).order_by(col(Expert.name)))
    return list(rows.all())


async def expert_of(*, session: AsyncSession, principal: Actor) -> Expert:
    """The expert a principal of role expert is."""
    found = await session.get(Expert, principal.organisation_id) if principal.role == Role.EXPERT else None
    if found is None:
        raise NotFound("expert")
    return found


async def drawable(
    *,
    session: AsyncSession,
    bureau_id: str,
    categories: list[str],
    conflicted: list[str],
    excluded: list[str],
) -> list[Expert]:
    """Experts of the bureau who may be drawn: active, knowing one of the categories, not
    working for a conflicted institution (the applicant), not `excluded` (already on the
    panel, or recused)."""
    query = select(Expert).where(
        Expert.bureau_id == bureau_id,
        Expert.status == "active",
        col(Expert.categories).op("&&")(array(categories)),
        col(Expert.id).not_in(excluded),
    )
    rows = (await session.exec(query.order_by(col(Expert.id)))).all()
    return [e for e in rows if e.affiliation_institution_id not in conflicted]
