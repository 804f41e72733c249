"""`record_commission_event` against PostgreSQL when a workflow task is tried again: the
recording runs inside the step's workflow task, so an attempt whose worker died may have
written events that never became the workflow's history. The attempt Temporal completes
replaces them; a write of an abandoned attempt arriving late is refused and changes
nothing; the same event again changes nothing."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.exceptions import ApplicationError

from appraisal.activities.commission import CommissionActivities
from appraisal.db.models import AuditEventRow, Commission, Notification
from appraisal.domain.audit import chain_hash
from appraisal.domain.events import Receiver, RecordEventInput
from appraisal.domain.roles import Role
from appraisal.seed import COURTS
from appraisal.services.audit import verify_chain
from tests.workflows.test_commission_projection import step

STARTED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def chained(commission_id: str, seq: int, prev_hash: str, *, at: datetime, kind: str) -> RecordEventInput:
    """Event `seq` of the commission, hashed onto `prev_hash`, the court notified of it."""
    inp = step(commission_id, seq)
    event = replace(inp.event, kind=kind, occurred_at=at, prev_hash=prev_hash)
    event.hash = chain_hash(prev_hash, event.chained_fields())
    snapshot = replace(inp.snapshot, stage=kind.removeprefix("test."), last_hash=event.hash)
    return RecordEventInput(event, snapshot, [Receiver(Role.COURT, COURTS[0].id)], kind)


async def trail(sessions: async_sessionmaker[AsyncSession], commission_id: str) -> list[AuditEventRow]:
    async with sessions() as session:
        rows = await session.exec(
            select(AuditEventRow)
            .where(col(AuditEventRow.commission_id) == commission_id)
            .order_by(col(AuditEventRow.seq))
        )
        return list(rows.all())


async def notified(sessions: async_sessionmaker[AsyncSession], commission_id: str) -> list[tuple[int, str]]:
    async with sessions() as session:
        rows = await session.exec(
            select(Notification.event_seq, Notification.kind)
            .where(col(Notification.commission_id) == commission_id)
            .order_by(col(Notification.event_seq))
        )
        return [(seq, kind) for seq, kind in rows.all()]


async def read_model(sessions: async_sessionmaker[AsyncSession], commission_id: str) -> tuple[str, int]:
    async with sessions() as session:
        row = await session.get(Commission, commission_id)
        assert row is not None
        return row.stage, row.last_event_seq


async def test_the_completed_attempt_replaces_what_an_abandoned_one_wrote(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    record = CommissionActivities(sessions).record_commission_event
    cid = str(uuid.uuid4())
    first = chained(cid, 1, "", at=STARTED, kind="test.entrusted")
    await record(first)
    # The attempt that dies: two steps' events in one workflow task, never completed.
    dead_at = STARTED + timedelta(minutes=5)
    dead_second = chained(cid, 2, first.event.hash, at=dead_at, kind="test.accepted")
    await record(dead_second)
    await record(chained(cid, 3, dead_second.event.hash, at=dead_at, kind="test.reported"))
    # The attempt Temporal completes started after it and took another Update first.
    retried_at = dead_at + timedelta(seconds=10)
    second = chained(cid, 2, first.event.hash, at=retried_at, kind="test.withdrawn")
    await record(second)

    rows = await trail(sessions, cid)
    assert [(r.seq, r.kind, r.hash) for r in rows] == [
        (1, "test.entrusted", first.event.hash),
        (2, "test.withdrawn", second.event.hash),
    ]
    assert verify_chain(rows, last_seq=2, last_hash=second.event.hash, keys={}).ok
    assert await notified(sessions, cid) == [(1, "test.entrusted"), (2, "test.withdrawn")]
    assert await read_model(sessions, cid) == ("withdrawn", 2)


async def test_a_late_write_of_an_abandoned_attempt_is_refused_and_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    record = CommissionActivities(sessions).record_commission_event
    cid = str(uuid.uuid4())
    first = chained(cid, 1, "", at=STARTED, kind="test.entrusted")
    await record(first)
    completed = chained(cid, 2, first.event.hash, at=STARTED + timedelta(minutes=1), kind="test.accepted")
    await record(completed)
    await record(completed)  # a retried recording of the same event
    before = (await trail(sessions, cid), await notified(sessions, cid), await read_model(sessions, cid))

    # An attempt that ran past its task's timeout, still writing after the retry completed.
    late = chained(cid, 2, first.event.hash, at=STARTED + timedelta(seconds=50), kind="test.withdrawn")
    with pytest.raises(ApplicationError) as refused:
        await record(late)
    assert refused.value.type == "AbandonedAttempt"
    assert not refused.value.non_retryable  # retried until that attempt is evicted

    after = (await trail(sessions, cid), await notified(sessions, cid), await read_model(sessions, cid))
    assert [(r.seq, r.hash) for r in after[0]] == [(r.seq, r.hash) for r in before[0]]
    assert after[1:] == before[1:] == ([(1, "test.entrusted"), (2, "test.accepted")], ("accepted", 2))
