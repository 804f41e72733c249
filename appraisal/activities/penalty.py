"""Side effects of the penalty workflow: the audit trail, the outbox and the `penalty_case`
read model in one transaction, idempotent on (workflow id, seq); and the served decision's
outcome (the integrity record, the public record, the registry through its one hook), in
one transaction, idempotent on the case."""

from datetime import UTC, date, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.activities.commission import append_event, replace_tasks
from appraisal.db.models import (
    Appraiser,
    Institution,
    IntegrityEntryRow,
    PenaltyCase,
    PenaltyPublication,
    RegistryExit,
)
from appraisal.db.registry import Registered, fan_out_input, record_change, standing_changed
from appraisal.domain.events import RecordResult
from appraisal.domain.integrity import ADMINISTRATIVE_PENALTY
from appraisal.domain.penalty import (
    Penalty,
    PenaltyOutcome,
    PenaltyOutcomeResult,
    PenaltySnapshot,
    RecordPenaltyEventInput,
)
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Actor


def _next_due_on(snapshot: PenaltySnapshot) -> date | None:
    running = [c.due_on for c in snapshot.clocks if not c.stopped and not c.paused]
    return date.fromisoformat(min(running)) if running else None


class PenaltyActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="record_penalty_event")
    async def record_penalty_event(self, inp: RecordPenaltyEventInput) -> RecordResult:
        async with self.sessions() as session, session.begin():
            pending = await append_event(session, inp.event, inp.notify, inp.message)
            await self._project(session, inp)
        return RecordResult(pending_deliveries=pending)

    async def _project(self, session: AsyncSession, inp: RecordPenaltyEventInput) -> None:
        event, snap = inp.event, inp.snapshot
        row = {
            "id": snap.id,
            "workflow_id": snap.workflow_id,
            "bureau_id": snap.bureau_id,
            "reference": snap.reference,
            "subject_kind": snap.subject_kind,
            "subject_id": snap.subject_id,
            "institution_id": snap.institution_id,
            "source": snap.source,
            "source_id": snap.source_id or None,
            "stage": snap.stage,
            "overdue": any(c.overdue and not c.stopped for c in snap.clocks),
            "next_due_on": _next_due_on(snap),
            "snapshot": jsonable(snap),
            "last_event_seq": snap.last_event_seq,
            "created_at": event.occurred_at,
            "updated_at": event.occurred_at,
        }
        upsert = insert(PenaltyCase).values(**row)
        newer = upsert.on_conflict_do_update(
            index_elements=["id"],
            set_={k: upsert.excluded[k] for k in row if k not in ("id", "created_at")},
            where=col(PenaltyCase.last_event_seq) < upsert.excluded.last_event_seq,
        ).returning(col(PenaltyCase.id))
        if (await session.exec(newer)).first() is None:
            return  # a later event already projected a newer state
        await replace_tasks(session, snap.open_tasks, penalty_case_id=snap.id)

    @activity.defn(name="apply_penalty_outcome")
    async def apply_penalty_outcome(self, outcome: PenaltyOutcome) -> PenaltyOutcomeResult:
        """The served decision, once: its integrity entries (the party, and the institution of
        an appraiser), its publication where Art 48 asks for it, and a suspension or revocation
        written to the registry through its one hook (whose exit notice the workflow then fans
        out). A retry finds everything written and changes nothing."""
        recorded_at = outcome.recorded_at or datetime.now(UTC)
        penalties = [p for p in outcome.penalties if p != Penalty.NO_PENALTY]
        result = PenaltyOutcomeResult()
        async with self.sessions() as session, session.begin():
            if penalties:
                subjects = [(outcome.subject_kind, outcome.subject_id)]
                if outcome.subject_kind == "appraiser":
                    subjects.append(("institution", outcome.institution_id))
                for kind, subject_id in subjects:
                    written = await session.exec(
                        insert(IntegrityEntryRow)
                        .values(
                            subject_kind=kind,
                            subject_id=subject_id,
                            complaint_id=outcome.case_id,
                            bureau_id=outcome.bureau_id,
                            rule="CMP-9",
                            outcome=ADMINISTRATIVE_PENALTY,
                            findings=f"{', '.join(penalties)}: {outcome.reasons}"[:4000],
                            decided_on=date.fromisoformat(outcome.decided_on),
                            recorded_at=recorded_at,
                        )
                        .on_conflict_do_nothing(index_elements=["complaint_id", "subject_kind", "subject_id"])
                        .returning(col(IntegrityEntryRow.id))
                    )
                    result.integrity_entries_written += len(written.all())
            institution = await session.get(Institution, outcome.institution_id)
            subject: Registered | None = (
                institution
                if outcome.subject_kind == "institution"
                else await session.get(Appraiser, outcome.subject_id)
            )
            if outcome.publish and penalties and subject is not None and institution is not None:
                await session.exec(
                    insert(PenaltyPublication)
                    .values(
                        case_id=outcome.case_id,
                        bureau_id=outcome.bureau_id,
                        decision_number=outcome.decision_number,
                        subject_kind=outcome.subject_kind,
                        subject_id=outcome.subject_id,
                        subject_name=subject.name,
                        institution_id=institution.id,
                        institution_name=institution.name,
                        penalties=penalties,
                        suspension_months=outcome.suspension_months,
                        suspended_until=date.fromisoformat(outcome.suspended_until)
                        if outcome.suspended_until
                        else None,
                        fine_yuan=outcome.fine_yuan,
                        basis=outcome.basis[:1000],
                        decided_on=date.fromisoformat(outcome.decided_on),
                        served_on=date.fromisoformat(outcome.served_on),
                        published_at=recorded_at,
                    )
                    .on_conflict_do_nothing(index_elements=["case_id"])
                )
                result.published = True
            status = (
                "revoked"
                if Penalty.REVOCATION in penalties
                else "suspended"
                if Penalty.SUSPENSION in penalties
                else ""
            )
            if status and subject is not None:
                result.registry_exit_id = await self._sanction(session, outcome, subject, status)
                if result.registry_exit_id:
                    row = await session.get(RegistryExit, result.registry_exit_id)
                    assert row is not None
                    result.registry_exit = fan_out_input(row)
        return result

    async def _sanction(
        self, session: AsyncSession, outcome: PenaltyOutcome, subject: Registered, status: str
    ) -> int:
        """The registry change the decision orders, once per case (its exit notice's key)."""
        key = f"penalty:{outcome.case_id}"
        done = (await session.exec(select(RegistryExit.id).where(RegistryExit.dedupe_key == key))).first()
        if done is not None:
            return int(done)
        if subject.status in ("revoked", "deregistered"):
            return 0  # already out for good: nothing changes
        actor = outcome.actor or Actor("system", outcome.bureau_id, "penalty")
        before = subject.model_dump(mode="json")
        subject.status = status
        subject.status_until = (
            date.fromisoformat(outcome.suspended_until) if outcome.suspended_until else None
        )
        reason = (
            f"penalty decision {outcome.decision_number or outcome.reference} served on {outcome.served_on}"
        )
        await record_change(
            session,
            principal=actor,
            entity=subject,
            bureau_id=outcome.bureau_id,
            action="status",
            before=before,
            reason=reason,
        )
        session.add(subject)
        await session.flush()
        today = date.fromisoformat(outcome.served_on)
        row = await standing_changed(
            session,
            entity=subject,
            before=before,
            principal=actor,
            reason=reason,
            today=today,
            bureau_id=outcome.bureau_id,
            dedupe_key=key,
        )
        return row.id or 0 if row is not None else 0
