"""Side effects of the complaint workflow: the audit trail, the notification
outbox and the complaint read model in one transaction, idempotent on
(workflow id, seq); and the integrity record, idempotent on (complaint,
subject)."""

from datetime import UTC, date, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.activities.commission import append_event, replace_tasks
from appraisal.db.models import Complaint, IntegrityEntryRow
from appraisal.domain.complaint import (
    ComplaintSnapshot,
    IntegrityEntriesInput,
    IntegrityEntriesResult,
    RecordComplaintEventInput,
)
from appraisal.domain.events import RecordResult
from appraisal.domain.plain import jsonable


def _next_due_on(snapshot: ComplaintSnapshot) -> date | None:
    running = [c.due_on for c in snapshot.clocks if not c.stopped and not c.paused]
    return date.fromisoformat(min(running)) if running else None


class ComplaintActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="record_complaint_event")
    async def record_complaint_event(self, inp: RecordComplaintEventInput) -> RecordResult:
        """Returns how many of the event's notifications wait for a webhook delivery."""
        async with self.sessions() as session, session.begin():
            pending = await append_event(session, inp.event, inp.notify, inp.message)
            await self._project(session, inp)
        return RecordResult(pending_deliveries=pending)

    async def _project(self, session: AsyncSession, inp: RecordComplaintEventInput) -> None:
        """The read model, unless a later event already projected a newer state."""
        event, snap = inp.event, inp.snapshot
        row = {
            "id": snap.id,
            "workflow_id": snap.workflow_id,
            "bureau_id": snap.bureau_id,
            "reference": snap.reference,
            "institution_id": snap.institution_id,
            "appraiser_id": snap.appraiser_id or None,
            "commission_id": snap.commission_id or None,
            "stage": snap.stage,
            "overdue": any(c.overdue and not c.stopped for c in snap.clocks),
            "next_due_on": _next_due_on(snap),
            "snapshot": jsonable(snap),
            "last_event_seq": snap.last_event_seq,
            "created_at": event.occurred_at,
            "updated_at": event.occurred_at,
        }
        upsert = insert(Complaint).values(**row)
        newer = upsert.on_conflict_do_update(
            index_elements=["id"],
            set_={k: upsert.excluded[k] for k in row if k not in ("id", "created_at")},
            where=col(Complaint.last_event_seq) < upsert.excluded.last_event_seq,
        ).returning(col(Complaint.id))
        if (await session.exec(newer)).first() is None:
            return  # a later event already projected a newer state
        await replace_tasks(session, snap.open_tasks, complaint_id=snap.id)

    @activity.defn(name="write_integrity_entries")
    async def write_integrity_entries(self, inp: IntegrityEntriesInput) -> IntegrityEntriesResult:
        """Writes each entry once: a retry, or a replayed decision, adds nothing."""
        written = 0
        recorded_at = inp.recorded_at or datetime.now(UTC)
        async with self.sessions() as session, session.begin():
            for entry in inp.entries:
                inserted = await session.exec(
                    insert(IntegrityEntryRow)
                    .values(
                        subject_kind=entry.subject_kind,
                        subject_id=entry.subject_id,
                        complaint_id=entry.complaint_id,
                        bureau_id=entry.bureau_id,
                        rule=entry.rule,
                        outcome=entry.outcome,
                        findings=entry.findings,
                        decided_on=date.fromisoformat(entry.decided_on),
                        recorded_at=recorded_at,
                    )
                    .on_conflict_do_nothing(index_elements=["complaint_id", "subject_kind", "subject_id"])
                    .returning(col(IntegrityEntryRow.id))
                )
                written += len(inserted.all())
        return IntegrityEntriesResult(written=written)
