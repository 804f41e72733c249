"""The institution's selection re-run (SEL-1 … SEL-3): the random draw's seed and
candidates as the entrustment event recorded them, and the pick computed again."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import AuditEventRow, Commission
from appraisal.domain.audit import chain_hash
from appraisal.domain.commission import random_pick
from appraisal.domain.errors import NotFound
from appraisal.domain.events import chained_fields
from appraisal.schemas.registry import SelectionPublic


async def selection(*, session: AsyncSession, commission: Commission) -> SelectionPublic:
    """Reads the `commission.entrusted` event, re-runs a random draw from its seed and
    candidates, and checks the event still hashes to what the chain recorded."""
    event = (
        await session.exec(
            select(AuditEventRow)
            .where(
                AuditEventRow.workflow_id == commission.workflow_id,
                AuditEventRow.kind == "commission.entrusted",
            )
            .order_by(col(AuditEventRow.seq))
            .limit(1)
        )
    ).first()
    if event is None:
        raise NotFound("entrustment event")
    data = event.data
    mode = str(data.get("selection_mode", ""))
    seed = str(data.get("selection_seed", ""))
    candidates = [str(c) for c in data.get("selection_candidates", [])]
    institution_id = str(data.get("institution_id", ""))
    recomputed = random_pick(seed, candidates) if mode == "random" and candidates else None
    return SelectionPublic(
        commission_id=commission.id,
        mode=mode,
        institution_id=institution_id,
        seed=seed,
        candidates=candidates,
        recomputed_institution_id=recomputed,
        reproduced=recomputed == institution_id if mode == "random" else None,
        event_verified=chain_hash(event.prev_hash, chained_fields(event)) == event.hash,
    )


async def selection_if_recorded(*, session: AsyncSession, commission: Commission) -> SelectionPublic | None:
    """The selection, or None in the moment between an entrustment's answer and its event
    reaching the trail (a page opened then shows the commission without the re-draw)."""
    try:
        return await selection(session=session, commission=commission)
    except NotFound:
        return None
