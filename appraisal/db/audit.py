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


Head = tuple[str, int, str]
"""(workflow id, seq, hash) of a chain's last event."""


async def heads_at(session: AsyncSession, day: date) -> list[Head]:
    """Each chain's last event before the day ends (Asia/Shanghai), in workflow id order."""
    rows = (await session.execute(HEADS_AT, {"until": end_of_day(day)})).all()
    return [(str(workflow_id), int(seq), str(head)) for workflow_id, seq, head in rows]


def hash_of_heads(heads: list[Head]) -> str:
    """SHA-256 over `workflow_id:seq:hash` of each head, one per line, in workflow id order."""
    lines = "\n".join(f"{workflow_id}:{seq}:{head}" for workflow_id, seq, head in sorted(heads))
    return hashlib.sha256(lines.encode()).hexdigest()


async def heads_hash(session: AsyncSession, day: date) -> tuple[str, int]:
    """The day's anchor: the hash of every chain's head at its end, and how many chains."""
    heads = await heads_at(session, day)
    return hash_of_heads(heads), len(heads)
