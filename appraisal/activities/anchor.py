"""The daily anchor of the audit trail: one hash over every chain's head."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.db.audit import heads_hash
from appraisal.db.models import AuditAnchor


@dataclass
class AnchorRequest:
    day: str


@dataclass
class AnchorResult:
    day: str
    heads_hash: str
    chains: int


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
