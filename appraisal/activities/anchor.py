"""The daily anchor of the audit trail: one hash over every chain's head."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.core import anchor_file
from appraisal.db.audit import hash_of_heads, heads_at
from appraisal.db.models import AuditAnchor


@dataclass
class AnchorRequest:
    day: str


@dataclass
class AnchorResult:
    day: str
    heads_hash: str
    chains: int


@dataclass(frozen=True)
class AnchorOutput:
    """Where each day's signed anchor file goes, and the bureau's key that signs it."""

    folder: Path
    key: Ed25519PrivateKey


class AnchorActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], output: AnchorOutput | None = None
    ) -> None:
        self.sessions = sessions
        self.output = output

    @activity.defn(name="write_daily_anchor")
    async def write_daily_anchor(self, request: AnchorRequest) -> AnchorResult:
        """Idempotent: the same day always yields the same row, and the same signed file."""
        day = date.fromisoformat(request.day)
        async with self.sessions() as session:
            heads = await heads_at(session, day)
            digest, chains = hash_of_heads(heads), len(heads)
            row = {"day": day, "heads_hash": digest, "chains": chains, "computed_at": datetime.now(UTC)}
            upsert = insert(AuditAnchor).values(**row)
            await session.exec(upsert.on_conflict_do_nothing(index_elements=["day"]))
            await session.commit()
            stored = await session.get(AuditAnchor, day)
        assert stored is not None
        if self.output is not None and stored.heads_hash == digest:
            signed = anchor_file.document(
                day=request.day, heads=heads, heads_hash=digest, key=self.output.key
            )
            anchor_file.write(self.output.folder, signed)
        return AnchorResult(request.day, stored.heads_hash, stored.chains)
