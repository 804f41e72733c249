"""The audit trail in SQL: one hash over every chain's head at the end of a day."""

from datetime import date

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.domain.audit import hash_of_heads
from appraisal.domain.calendar import end_of_day

HEADS_AT = text(
    """
    select distinct on (workflow_id) workflow_id, seq, hash
    from audit_event
    where occurred_at < :until
    order by workflow_id, seq desc
    """
)


Head = tuple[str, int, str]
"""(workflow id, seq, hash) of a chain's last event."""


async def heads_at(session: AsyncSession, day: date) -> list[Head]:
    """Each chain's last event before the day ends (Asia/Shanghai), in workflow id order."""
    rows = (await session.execute(HEADS_AT, {"until": end_of_day(day)})).all()
    return [(str(workflow_id), int(seq), str(head)) for workflow_id, seq, head in rows]


COURTS_OF_CHAINS = text(
    """
    select workflow_id, court_id from commission where workflow_id = any(:workflow_ids)
    """
)


async def courts_of_chains(session: AsyncSession, workflow_ids: list[str]) -> dict[str, str]:
    """The court that entrusted each commission's chain among `workflow_ids` (complaints have none)."""
    rows = (await session.execute(COURTS_OF_CHAINS, {"workflow_ids": workflow_ids})).all()
    return {str(workflow_id): str(court_id) for workflow_id, court_id in rows}


async def heads_hash(session: AsyncSession, day: date) -> tuple[str, int]:
    """The day's anchor: the hash of every chain's head at its end, and how many chains."""
    heads = await heads_at(session, day)
    return hash_of_heads(heads), len(heads)
