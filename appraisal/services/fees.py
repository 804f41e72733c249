"""The fee (鉴定费): the charging standard each bureau keeps (FEE-1), and what a quote is checked
against — the workflow's validator refuses a quote above it (domain/commission_checks.py)."""

import uuid
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Commission, FeeStandard, Institution
from appraisal.db.registry import record_change
from appraisal.domain.errors import InvalidInput
from appraisal.domain.fees import FeeItem, fen_of
from appraisal.domain.roles import Actor
from appraisal.schemas.fees import FeeQuoteCreate, FeeStandardCreate


async def standards(
    *, session: AsyncSession, bureau_id: str | None = None, category: str | None = None, history: bool = False
) -> list[FeeStandard]:
    """The standards in force (or every version, with `history`), by bureau and category."""
    query = select(FeeStandard)
    if bureau_id:
        query = query.where(FeeStandard.bureau_id == bureau_id)
    if category:
        query = query.where(FeeStandard.category == category)
    if not history:
        query = query.where(col(FeeStandard.superseded_at).is_(None))
    query = query.order_by(
        col(FeeStandard.bureau_id),
        col(FeeStandard.category),
        col(FeeStandard.matter),
        col(FeeStandard.created_at),
    )
    return list((await session.exec(query)).all())


async def set_standard(
    *, session: AsyncSession, principal: Actor, body: FeeStandardCreate, now: datetime, today: date
) -> FeeStandard:
    """A new standard of the caller's bureau for a category (or one of its matters): it replaces
    the one in force, both recorded in the bureau's registry chain. Committed."""
    bureau_id = principal.organisation_id
    effective_from = body.effective_from or today
    if effective_from < today:
        raise InvalidInput("effective_from", f"{effective_from} is past: a standard applies from today on")
    current = (
        await session.exec(
            select(FeeStandard)
            .where(
                FeeStandard.bureau_id == bureau_id,
                FeeStandard.category == body.category,
                FeeStandard.matter == body.matter.strip(),
                col(FeeStandard.superseded_at).is_(None),
            )
            .with_for_update()
        )
    ).first()
    before = current.model_dump(mode="json") if current else None
    if current is not None:
        current.superseded_at = now
        session.add(current)
        await session.flush()
    standard = FeeStandard(
        id=str(uuid.uuid4()),
        bureau_id=bureau_id,
        category=body.category,
        matter=body.matter.strip(),
        ceiling_fen=fen_of(body.ceiling),
        source=body.source,
        effective_from=effective_from,
        created_by=principal.subject,
        created_at=now,
    )
    session.add(standard)
    await record_change(
        session,
        principal=principal,
        entity=standard,
        bureau_id=bureau_id,
        action="updated" if current else "created",
        before=before,
        reason=body.reason or f"charging standard: {body.category} {body.matter or '(any matter)'}",
    )
    await session.commit()
    return standard


async def in_force(
    *, session: AsyncSession, bureau_id: str, category: str, matter: str, today: date
) -> FeeStandard | None:
    """The standard a matter is quoted against: the matter's own, else the category's."""
    found = (
        await session.exec(
            select(FeeStandard).where(
                FeeStandard.bureau_id == bureau_id,
                FeeStandard.category == category,
                col(FeeStandard.matter).in_([matter, ""]),
                col(FeeStandard.superseded_at).is_(None),
                col(FeeStandard.effective_from) <= today,
            )
        )
    ).all()
    own = [s for s in found if s.matter == matter]
    chosen = own or list(found)
    return chosen[0] if chosen else None


async def quote_items(
    *, session: AsyncSession, commission: Commission, body: FeeQuoteCreate, today: date
) -> list[FeeItem]:
    """Each matter's quote beside the standard of the institution's bureau it is checked against
    (none found: the validator refuses it, `no_fee_standard`)."""
    institution = await session.get(Institution, commission.institution_id)
    bureau_id = institution.bureau_id if institution else ""
    items: list[FeeItem] = []
    for item in body.items:
        standard = await in_force(
            session=session,
            bureau_id=bureau_id,
            category=commission.category,
            matter=item.matter,
            today=today,
        )
        items.append(
            FeeItem(
                matter=item.matter,
                amount=fen_of(item.amount),
                standard_ceiling=standard.ceiling_fen if standard else 0,
                standard_id=standard.id if standard else "",
                standard_source=standard.source if standard else "",
            )
        )
    return items
