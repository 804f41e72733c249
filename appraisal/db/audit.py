"""The audit trail in SQL: one hash over every chain's head at the end of a day."""

import hashlib
from datetime import date

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.domain.calendar import end_of_day

HEADS_AT = text(
    """
    select distinct on (workflow_id) workflow_id, seq, hash
    from audit_event
    where occurred_at < :until
    order by workflow_id, seq desc
    """
)


async def heads_hash(session: AsyncSession, day: date) -> tuple[str, int]:
    """SHA-256 over `workflow_id:seq:hash` of each chain's last event before the
    day ends (Asia/Shanghai), one per line, in workflow id order."""
    heads = (await session.execute(HEADS_AT, {"until": end_of_day(day)})).all()
    lines = "\n".join(f"{workflow_id}:{seq}:{head}" for workflow_id, seq, head in heads)
    return hashlib.sha256(lines.encode()).hexdigest(), len(heads)
