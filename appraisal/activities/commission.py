"""Side effects of the commission workflow: the audit trail and the read
model, written in one transaction, idempotent on (workflow id, seq)."""

from datetime import date

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.db.models import AuditEventRow, Commission, Notification, NotificationContact, Task, Webhook
from appraisal.domain.commission import CommissionSnapshot, TaskSnapshot
from appraisal.domain.events import AuditEvent, Receiver, RecordEventInput, RecordResult
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Role


def _next_due_on(snapshot: CommissionSnapshot) -> date | None:
    running = [c.due_on for c in snapshot.clocks if not c.stopped and not c.paused]
    return date.fromisoformat(min(running)) if running else None


def _escalated(snapshot: CommissionSnapshot) -> bool:
    """An overdue escalation to the bureau is among its open tasks (the overview counts these)."""
    return any(
        t.kind == "overdue_escalation" and t.assignee_role == Role.SUPERVISOR for t in snapshot.open_tasks
    )


async def _settle_receivers_without_endpoint(session: AsyncSession, workflow_id: str, seq: int) -> int:
    """A receiver with no webhook and no number or address to reach it (core/channels.py) gets
    nothing delivered: its notification is kept, readable through the API, and marked so in the
    same transaction. Returns how many remain to deliver."""
    of_event = (col(Notification.workflow_id) == workflow_id, col(Notification.event_seq) == seq)
    await session.exec(
        update(Notification)
        .where(
            *of_event,
            col(Notification.status) == "pending",
            col(Notification.receiver_id).not_in(select(Webhook.organisation_id)),
            col(Notification.receiver_id).not_in(
                select(NotificationContact.organisation_id).where(
                    (col(NotificationContact.phone) != "") | (col(NotificationContact.email) != "")
                )
            ),
        )
        .values(status="no_endpoint")
    )
    pending = await session.exec(
        select(func.count()).select_from(Notification).where(*of_event, col(Notification.status) == "pending")
    )
    return int(pending.one())


async def append_event(session: AsyncSession, event: AuditEvent, notify: list[Receiver], message: str) -> int:
    """Appends one event to its chain and queues its notifications, idempotent on
    (workflow id, seq); returns how many notifications wait for a webhook delivery."""
    await session.exec(
        insert(AuditEventRow)
        .values(
            workflow_id=event.workflow_id,
            commission_id=event.commission_id,
            seq=event.seq,
            kind=event.kind,
            actor_role=event.actor_role,
            actor_organisation_id=event.actor_organisation_id,
            actor_subject=event.actor_subject,
            occurred_at=event.occurred_at,
            data=jsonable(event.data),
            prev_hash=event.prev_hash,
            hash=event.hash,
        )
        .on_conflict_do_nothing(index_elements=["workflow_id", "seq"])
    )
    for receiver in notify:
        # A party gets its own line and what happened when, never the event's internals.
        payload = (
            {"kind": event.kind, "seq": event.seq, "occurred_at": event.occurred_at.isoformat()}
            if receiver.role == Role.PARTY
            else jsonable(event)
        )
        await session.exec(
            insert(Notification)
            .values(
                workflow_id=event.workflow_id,
                commission_id=event.commission_id,
                event_seq=event.seq,
                kind=event.kind,
                receiver_role=receiver.role,
                receiver_id=receiver.organisation_id,
                message=(receiver.message or message)[:1000],
                payload=payload,
                created_at=event.occurred_at,
            )
            .on_conflict_do_nothing(
                index_elements=["workflow_id", "event_seq", "receiver_role", "receiver_id"]
            )
        )
    pending = await _settle_receivers_without_endpoint(session, event.workflow_id, event.seq) if notify else 0
    return pending


async def replace_tasks(
    session: AsyncSession,
    open_tasks: list[TaskSnapshot],
    *,
    commission_id: str = "",
    complaint_id: str = "",
    penalty_case_id: str = "",
    admission_id: str = "",
    evaluation_id: str = "",
) -> None:
    """The inbox rows of one commission, complaint, penalty case, registration application or
    annual evaluation become its snapshot's open tasks."""
    owners = {
        "commission_id": commission_id,
        "complaint_id": complaint_id,
        "penalty_case_id": penalty_case_id,
        "admission_id": admission_id,
        "evaluation_id": evaluation_id,
    }
    column, owner_id = next((k, v) for k, v in owners.items() if v)
    await session.exec(delete(Task).where(col(getattr(Task, column)) == owner_id))
    for task in open_tasks:
        session.add(
            Task(
                commission_id=commission_id or None,
                complaint_id=complaint_id or None,
                penalty_case_id=penalty_case_id or None,
                admission_id=admission_id or None,
                evaluation_id=evaluation_id or None,
                kind=task.kind,
                assignee_role=task.assignee_role,
                assignee_id=task.assignee_id,
                due_on=date.fromisoformat(task.due_on) if task.due_on else None,
                rule=task.rule,
            )
        )


class CommissionActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="record_commission_event")
    async def record_commission_event(self, inp: RecordEventInput) -> RecordResult | None:
        """Returns how many of the event's notifications wait for a webhook delivery."""
        async with self.sessions() as session, session.begin():
            pending = await append_event(session, inp.event, inp.notify, inp.message)
            await self._project(session, inp)
        return RecordResult(pending_deliveries=pending)

    async def _project(self, session: AsyncSession, inp: RecordEventInput) -> None:
        """The read model and the inbox, unless a later event already projected a newer state.
        The upsert's statement also moves the commission between the overview's counts
        (`commission_count`, kept by a trigger in this transaction)."""
        event, snap = inp.event, inp.snapshot
        row = {
            "id": snap.id,
            "workflow_id": snap.workflow_id,
            "court_id": snap.court_id,
            "court_reference": snap.court_reference,
            "case_number": snap.case_number,
            "institution_id": snap.institution_id,
            "category": snap.category,
            "stage": snap.stage,
            "appraiser_ids": snap.appraiser_ids,
            "overdue": any(c.overdue and not c.stopped for c in snap.clocks),
            "escalated": _escalated(snap),
            "next_due_on": _next_due_on(snap),
            "snapshot": jsonable(snap),
            "last_event_seq": snap.last_event_seq,
            "created_at": event.occurred_at,
            "updated_at": event.occurred_at,
        }
        upsert = insert(Commission).values(**row)
        newer = upsert.on_conflict_do_update(
            index_elements=["id"],
            set_={k: upsert.excluded[k] for k in row if k not in ("id", "created_at")},
            where=col(Commission.last_event_seq) < upsert.excluded.last_event_seq,
        ).returning(col(Commission.id))
        projected = (await session.exec(newer)).first()
        if projected is None:
            return  # a later event already projected a newer state
        await replace_tasks(session, snap.open_tasks, commission_id=snap.id)
