"""Side effects of the annual integrity evaluation: its audit trail, read model and inbox in
one transaction, idempotent on (workflow id, seq); the institutions it asks to assess
themselves; the training tasks (TRN-3); the year's assessment (training shortfalls entered in
the integrity record, then each institution's and appraiser's proposed grade), and the grades
changed and published, each idempotent."""

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.activities.commission import append_event, replace_tasks
from appraisal.db import integrity as record_of
from appraisal.db.models import Institution, IntegrityEntryRow, IntegrityEvaluation, IntegrityGrade
from appraisal.db.training import close_training_tasks, practising, sync_training_tasks
from appraisal.domain.evaluation import (
    AssessmentRequest,
    AssessmentSummary,
    EvaluationSnapshot,
    GradeChange,
    GradesPublicationRequest,
    InstitutionsRequest,
    InstitutionsResult,
    RecordEvaluationEventInput,
)
from appraisal.domain.events import RecordResult
from appraisal.domain.integrity import TRAINING_SHORTFALL, deduction_items, score
from appraisal.domain.plain import jsonable
from appraisal.domain.training import TrainingSweep, TrainingSweepResult


def _next_due_on(snapshot: EvaluationSnapshot) -> date | None:
    running = [c.due_on for c in snapshot.clocks if not c.stopped and not c.paused]
    return date.fromisoformat(min(running)) if running else None


class EvaluationActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="record_evaluation_event")
    async def record_evaluation_event(self, inp: RecordEvaluationEventInput) -> RecordResult:
        async with self.sessions() as session, session.begin():
            pending = await append_event(session, inp.event, inp.notify, inp.message)
            await self._project(session, inp)
        return RecordResult(pending_deliveries=pending)

    async def _project(self, session: AsyncSession, inp: RecordEvaluationEventInput) -> None:
        event, snap = inp.event, inp.snapshot
        row = {
            "id": snap.id,
            "workflow_id": snap.workflow_id,
            "bureau_id": snap.bureau_id,
            "year": snap.year,
            "stage": snap.stage,
            "overdue": any(c.overdue and not c.stopped for c in snap.clocks),
            "next_due_on": _next_due_on(snap),
            "snapshot": jsonable(snap),
            "last_event_seq": snap.last_event_seq,
            "created_at": event.occurred_at,
            "updated_at": event.occurred_at,
        }
        upsert = insert(IntegrityEvaluation).values(**row)
        newer = upsert.on_conflict_do_update(
            index_elements=["id"],
            set_={k: upsert.excluded[k] for k in row if k not in ("id", "created_at")},
            where=col(IntegrityEvaluation.last_event_seq) < upsert.excluded.last_event_seq,
        ).returning(col(IntegrityEvaluation.id))
        if (await session.exec(newer)).first() is None:
            return
        await replace_tasks(session, snap.open_tasks, evaluation_id=snap.id)

    @activity.defn(name="list_evaluated_institutions")
    async def list_institutions(self, request: InstitutionsRequest) -> InstitutionsResult:
        """The bureau's institutions whose registration is not revoked."""
        async with self.sessions() as session:
            rows = await session.exec(
                select(Institution.id)
                .where(Institution.bureau_id == request.bureau_id, Institution.status != "revoked")
                .order_by(col(Institution.id))
            )
            return InstitutionsResult(list(rows.all()))

    @activity.defn(name="sync_training_tasks")
    async def sync_training_tasks(self, sweep: TrainingSweep) -> TrainingSweepResult:
        async with self.sessions() as session, session.begin():
            return await sync_training_tasks(session, sweep)

    @activity.defn(name="assess_year")
    async def assess_year(self, request: AssessmentRequest) -> AssessmentSummary:
        """Enters each appraiser's training shortfall in the integrity record, closes the
        year's training tasks, then proposes every institution's and appraiser's grade from
        the year's record; one transaction, and a retry writes nothing twice."""
        now = request.assessed_at or datetime.now(UTC)
        year_last_day = date(request.year, 12, 31)
        async with self.sessions() as session, session.begin():
            institutions = list(
                (
                    await session.exec(
                        select(Institution)
                        .where(Institution.bureau_id == request.bureau_id, Institution.status != "revoked")
                        .order_by(col(Institution.id))
                    )
                ).all()
            )
            appraisers = await practising(session, bureau_id=request.bureau_id)
            hours = await record_of.training_hours(
                session, appraiser_ids=[a.id for a in appraisers], year=request.year
            )
            for appraiser in appraisers:
                done = hours.get(appraiser.id, 0)
                if done < request.training_min_hours:
                    await session.exec(
                        insert(IntegrityEntryRow)
                        .values(
                            subject_kind="appraiser",
                            subject_id=appraiser.id,
                            complaint_id=request.evaluation_id,
                            bureau_id=request.bureau_id,
                            rule="TRN-2",
                            outcome=TRAINING_SHORTFALL,
                            findings=f"{done} of {request.training_min_hours} in-service training hours in "
                            f"{request.year}",
                            decided_on=year_last_day,
                            recorded_at=now,
                        )
                        .on_conflict_do_nothing(index_elements=["complaint_id", "subject_kind", "subject_id"])
                    )
            await close_training_tasks(
                session, bureau_id=request.bureau_id, year=request.year, reason="year evaluated", now=now
            )
            for institution in institutions:
                counted = await record_of.institution_counts(
                    session, institution_id=institution.id, year=request.year
                )
                await self._propose(
                    session, request, "institution", institution.id, institution.name, institution.id, counted
                )
            for appraiser in appraisers:
                counted = await record_of.appraiser_counts(
                    session, appraiser_id=appraiser.id, year=request.year
                )
                await self._propose(
                    session,
                    request,
                    "appraiser",
                    appraiser.id,
                    appraiser.name,
                    appraiser.institution_id,
                    counted,
                )
            await session.flush()
            grades = (
                await session.exec(
                    select(IntegrityGrade.subject_kind, IntegrityGrade.grade).where(
                        IntegrityGrade.evaluation_id == request.evaluation_id
                    )
                )
            ).all()
            shortfalls = (
                await session.exec(
                    select(IntegrityEntryRow.id).where(
                        IntegrityEntryRow.complaint_id == request.evaluation_id,
                        IntegrityEntryRow.outcome == TRAINING_SHORTFALL,
                    )
                )
            ).all()
        return AssessmentSummary(
            institutions=sum(1 for kind, _ in grades if kind == "institution"),
            appraisers=sum(1 for kind, _ in grades if kind == "appraiser"),
            by_grade=dict(sorted(Counter(grade for _, grade in grades).items())),
            training_shortfalls=len(shortfalls),
        )

    async def _propose(
        self,
        session: AsyncSession,
        request: AssessmentRequest,
        subject_kind: str,
        subject_id: str,
        name: str,
        institution_id: str,
        counted: dict[str, int],
    ) -> None:
        items = deduction_items(counted)
        scored = score(items, request.grading)
        await session.exec(
            insert(IntegrityGrade)
            .values(
                evaluation_id=request.evaluation_id,
                subject_kind=subject_kind,
                subject_id=subject_id,
                bureau_id=request.bureau_id,
                year=request.year,
                name=name[:200],
                institution_id=institution_id,
                score=scored.score,
                computed_grade=scored.grade,
                grade=scored.grade,
                status="proposed",
                counts=items,
                deductions=[vars(d) for d in scored.deductions if d.count],
                note="",
            )
            .on_conflict_do_nothing(index_elements=["evaluation_id", "subject_kind", "subject_id"])
        )

    @activity.defn(name="change_grade")
    async def change_grade(self, change: GradeChange) -> None:
        """The bureau's adjustment or an upheld objection: idempotent, proposed grades only."""
        async with self.sessions() as session, session.begin():
            await session.exec(
                update(IntegrityGrade)
                .where(
                    col(IntegrityGrade.evaluation_id) == change.evaluation_id,
                    col(IntegrityGrade.subject_kind) == change.subject_kind,
                    col(IntegrityGrade.subject_id) == change.subject_id,
                    col(IntegrityGrade.status) == "proposed",
                )
                .values(grade=change.grade, note=change.note[:4000])
            )

    @activity.defn(name="publish_grades")
    async def publish_grades(self, request: GradesPublicationRequest) -> None:
        async with self.sessions() as session, session.begin():
            await session.exec(
                update(IntegrityGrade)
                .where(
                    col(IntegrityGrade.evaluation_id) == request.evaluation_id,
                    col(IntegrityGrade.status) == "proposed",
                )
                .values(status="published", published_on=date.fromisoformat(request.published_on))
            )
