"""`appraisal rebuild`: the audit trail, read model and inbox of PostgreSQL derived again
from Temporal's histories, after a restore from an older backup or a lost database.

Every event a commission or complaint recorded is in its workflow's history: the input of
the recording activity (the event, its hash, the snapshot after it, who is notified). The
rebuild walks every commission and complaint workflow Temporal still keeps, and for each
recording in order: an event PostgreSQL lacks is recorded again by the same activity code
the worker runs (idempotent per (workflow id, seq), the read model moving only forward);
one PostgreSQL holds with the same hash is left as it is, and projected again (a read model
lost on its own comes back); one PostgreSQL holds with another hash is reported and left
alone, since one of the two stores was rewritten (docs/operations.md)."""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from appraisal.activities.commission import CommissionActivities
from appraisal.activities.complaint import ComplaintActivities
from appraisal.db.models import AuditEventRow
from appraisal.domain.events import RecordEventInput
from appraisal.services.audit import recordings

RECORDED_WORKFLOWS = "WorkflowType = 'CommissionWorkflow' OR WorkflowType = 'ComplaintWorkflow'"


@dataclass
class RebuildReport:
    workflows: int = 0
    events: int = 0
    restored: int = 0
    """Events PostgreSQL lacked, recorded again from the history."""
    matching: int = 0
    differing: list[str] = field(default_factory=list)
    """`<workflow id> #<seq>`: PostgreSQL holds another event under that number."""

    @property
    def clean(self) -> bool:
        return not self.differing


async def _stored_hashes(sessions: async_sessionmaker[AsyncSession], workflow_id: str) -> dict[int, str]:
    async with sessions() as session:
        rows = await session.exec(
            select(AuditEventRow.seq, AuditEventRow.hash).where(col(AuditEventRow.workflow_id) == workflow_id)
        )
        return dict(rows.all())


async def rebuild(
    *, client: Client, sessions: async_sessionmaker[AsyncSession], dry_run: bool = False
) -> RebuildReport:
    """With `dry_run`, only counts what it would restore and what differs."""
    commission = CommissionActivities(sessions).record_commission_event
    complaint = ComplaintActivities(sessions).record_complaint_event
    report = RebuildReport()
    async for execution in client.list_workflows(RECORDED_WORKFLOWS):
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        report.workflows += 1
        stored_hashes = await _stored_hashes(sessions, execution.id)
        for recording in recordings(history):
            event = recording.event
            report.events += 1
            stored = stored_hashes.get(event.seq)
            if stored is not None and stored != event.hash:
                report.differing.append(f"{event.workflow_id} #{event.seq}")
                continue
            if stored is None:
                report.restored += 1
            else:
                report.matching += 1
            if dry_run:
                continue
            if isinstance(recording, RecordEventInput):
                await commission(recording)
            else:
                await complaint(recording)
    return report
