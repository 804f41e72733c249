"""The daily anchor of the audit trail: one hash over every chain's head."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.db.models import AuditAnchor
from appraisal.domain.calendar import end_of_day

HEADS_AT = text(
    """
    select distinct on (workflow_id) workflow_id, seq, hash
    from audit_event
    where occurred_at < :until
    order by workflow_id, seq desc
    """
)


@dataclass
class AnchorRequest:
    day: str


@dataclass
class AnchorResult:
    day: str
    heads_hash: str
    chains: int


async def heads_hash(session: AsyncSession, day: date) -> tuple[str, int]:
    """SHA-256 over `workflow_id:seq:hash` of each chain's last event before the
    day ends (Asia/Shanghai), one per line, in workflow id order."""
    heads = (await session.execute(HEADS_AT, {"until": end_of_day(day)})).all()
    lines = "\n".join(f"{workflow_id}:{seq}:{head}" for workflow_id, seq, head in heads)
    return hashlib.sha256(lines.encode()).hexdigest(), len(heads)


class AnchorActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="write_daily_anchor")
    async def write_daily_anchor(self, request: AnchorRequest) -> AnchorResult:
        """Idempotent: the same day always yields the same row."""
        day = date.fromisoformat(request.day)
        async with self.sessions() as session:
            digest, chains = await heads_hash(session, day)
            row = {"day": day, "heads_hash": digest, "chains": chains, "computed_at": datetime.now(UTC)}
            upsert = insert(AuditAnchor).values(**row)
            await session.exec(upsert.on_conflict_do_nothing(index_elements=["day"]))
            await session.commit()
            stored = await session.get(AuditAnchor, day)
        assert stored is not None
        return AnchorResult(request.day, stored.heads_hash, stored.chains)
