"""What the annual integrity evaluation's routes and pages do, as keyword-only functions:
start a bureau's evaluation of a year (the schedule starts the same workflow every 1
January), take each step through its workflow's Update, read the evaluation and its grades,
and the published grades wherever an institution or an appraiser is chosen."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from appraisal.db.models import Appraiser, AuditEventRow, Institution, IntegrityEvaluation, IntegrityGrade
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.commission import Material
from appraisal.domain.errors import InvalidInput, NotFound, RuleViolation
from appraisal.domain.evaluation import (
    EvaluationInput,
    EvaluationRegistration,
    EvaluationSnapshot,
    EvaluationStage,
    GradeAdjustment,
    GradeObjectionFiling,
    GradesConfirmation,
    ObjectionDecision,
    ProposedGradesPublication,
    SelfAssessment,
    evaluation_id_for,
    evaluation_workflow_id,
)
from appraisal.domain.integrity import GradingRule
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.commission import ClockPublic
from appraisal.schemas.evaluation import (
    EvaluationPublic,
    EvaluationStepCreate,
    GradeObjectionCreate,
    GradePublic,
    SelfAssessmentCreate,
)
from appraisal.services import steps
from appraisal.services.starting import start_once
from appraisal.workflows.evaluation import IntegrityEvaluationWorkflow

STEP_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "adjust_grade": (("subject_kind", "subject_id", "grade", "reason"), ()),
    "publish_proposed": ((), ("note", "objection_days")),
    "decide_objection": (("objection_id", "upheld", "reason"), ("grade",)),
    "confirm": ((), ("note",)),
}


async def bureau_of(*, session: AsyncSession, principal: Actor) -> str | None:
    """The bureau a principal is under: its own, or its institution's."""
    if principal.role == Role.SUPERVISOR:
        return principal.organisation_id
    institution_id = principal.organisation_id
    if principal.role == Role.APPRAISER:
        appraiser = await session.get(Appraiser, principal.organisation_id)
        institution_id = appraiser.institution_id if appraiser else ""
    if principal.role in (Role.INSTITUTION, Role.INSTITUTION_HEAD, Role.APPRAISER):
        institution = await session.get(Institution, institution_id)
        return institution.bureau_id if institution else None
    return None


async def _scope(session: AsyncSession, principal: Actor) -> ColumnElement[bool]:
    """Everyone under a bureau sees its evaluations (the grades are published, 公示)."""
    bureau = await bureau_of(session=session, principal=principal)
    return col(IntegrityEvaluation.bureau_id) == bureau if bureau else false()


async def load_in_scope(
    *, session: AsyncSession, principal: Actor, evaluation_id: str
) -> IntegrityEvaluation:
    row = (
        await session.exec(
            select(IntegrityEvaluation).where(
                IntegrityEvaluation.id == evaluation_id, await _scope(session, principal)
            )
        )
    ).first()
    if row is None:
        raise NotFound("evaluation")
    return row


async def list_evaluations(*, session: AsyncSession, principal: Actor) -> list[IntegrityEvaluation]:
    rows = await session.exec(
        select(IntegrityEvaluation)
        .where(await _scope(session, principal))
        .order_by(col(IntegrityEvaluation.year).desc())
    )
    return list(rows.all())


async def start(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    year: int,
    today: date,
    rule: GradingRule,
    training_min_hours: int,
) -> tuple[EvaluationSnapshot | IntegrityEvaluation, bool]:
    """The bureau's evaluation of `year`: started, or the one already running (the schedule's
    or an earlier start's)."""
    if year > today.year:
        raise InvalidInput("year", f"{year} has not begun")
    evaluation_id = evaluation_id_for(principal.organisation_id, year)
    existing = await session.get(IntegrityEvaluation, evaluation_id)
    if existing is not None:
        return existing, False
    inp = EvaluationInput(
        evaluation_id=evaluation_id,
        bureau_id=principal.organisation_id,
        year=year,
        started_by=principal,
        grading=rule,
        training_min_hours=training_min_hours,
    )
    return await start_once(
        client=client,
        session=session,
        run=IntegrityEvaluationWorkflow.run,
        inp=inp,
        workflow_id=evaluation_workflow_id(evaluation_id),
        task_queue=task_queue,
        register=IntegrityEvaluationWorkflow.register,
        request=EvaluationRegistration(actor=principal),
        stored=IntegrityEvaluation,
        row_id=evaluation_id,
    )


async def _update(*, client: Client, row: IntegrityEvaluation, update: Any, message: Any) -> dict[str, Any]:
    if row.stage == EvaluationStage.PUBLISHED:
        raise RuleViolation("not_in_stage", "the evaluation is published; no step remains")
    snapshot = await steps.update_workflow(
        client=client, workflow_id=row.workflow_id, update=update, message=message, what="evaluation"
    )
    return dict(jsonable(snapshot))


async def grade_of(
    *, session: AsyncSession, evaluation_id: str, subject_kind: str, subject_id: str
) -> IntegrityGrade:
    grade = await session.get(IntegrityGrade, (evaluation_id, subject_kind, subject_id))
    if grade is None:
        raise InvalidInput(
            "subject_id", f"no proposed grade of {subject_kind} {subject_id} in this evaluation"
        )
    return grade


async def step(
    *, session: AsyncSession, client: Client, principal: Actor, evaluation_id: str, body: EvaluationStepCreate
) -> dict[str, Any]:
    """The bureau's next step on the evaluation."""
    required, optional = STEP_FIELDS[body.decision]
    for name in required:
        if getattr(body, name) is None:
            raise InvalidInput(name, f"required when decision is {body.decision}")
    for name in sorted(body.model_fields_set - {"decision", *required, *optional}):
        if getattr(body, name) is not None:
            raise InvalidInput(name, f"not used when decision is {body.decision}")
    row = await load_in_scope(session=session, principal=principal, evaluation_id=evaluation_id)
    update: Any
    message: Any
    match body.decision:
        case "adjust_grade":
            await grade_of(
                session=session,
                evaluation_id=row.id,
                subject_kind=body.subject_kind or "",
                subject_id=body.subject_id or "",
            )
            update = IntegrityEvaluationWorkflow.adjust_grade
            message = GradeAdjustment(
                principal, body.subject_kind or "", body.subject_id or "", body.grade or "", body.reason or ""
            )
        case "publish_proposed":
            update, message = (
                IntegrityEvaluationWorkflow.publish_proposed,
                ProposedGradesPublication(principal, body.note or "", body.objection_days or 0),
            )
        case "decide_objection":
            if body.upheld and not body.grade:
                raise InvalidInput("grade", "an upheld objection says the grade it is now")
            update = IntegrityEvaluationWorkflow.decide_objection
            message = ObjectionDecision(
                principal, body.objection_id or 0, bool(body.upheld), body.reason or "", body.grade or ""
            )
        case _:
            update, message = (
                IntegrityEvaluationWorkflow.confirm,
                GradesConfirmation(principal, body.note or ""),
            )
    return await _update(client=client, row=row, update=update, message=message)


async def self_assess(
    *, session: AsyncSession, client: Client, principal: Actor, evaluation_id: str, body: SelfAssessmentCreate
) -> dict[str, Any]:
    row = await load_in_scope(session=session, principal=principal, evaluation_id=evaluation_id)
    message = SelfAssessment(
        principal, body.summary, body.score, [Material(m.name, m.sha256) for m in body.materials]
    )
    return await _update(
        client=client, row=row, update=IntegrityEvaluationWorkflow.self_assess, message=message
    )


async def object_to_grade(
    *, session: AsyncSession, client: Client, principal: Actor, evaluation_id: str, body: GradeObjectionCreate
) -> dict[str, Any]:
    """An objection during 公示: the subject's own (an appraiser's) or its institution's."""
    row = await load_in_scope(session=session, principal=principal, evaluation_id=evaluation_id)
    grade = await grade_of(
        session=session, evaluation_id=row.id, subject_kind=body.subject_kind, subject_id=body.subject_id
    )
    message = GradeObjectionFiling(
        principal,
        subject_kind=body.subject_kind,
        subject_id=body.subject_id,
        subject_institution_id=grade.institution_id,
        reason=body.reason,
        proposed_grade=grade.grade,
    )
    return await _update(
        client=client, row=row, update=IntegrityEvaluationWorkflow.file_objection, message=message
    )


async def grades(
    *, session: AsyncSession, evaluation: IntegrityEvaluation, subject_kind: str | None = None
) -> list[GradePublic]:
    query = select(IntegrityGrade).where(IntegrityGrade.evaluation_id == evaluation.id)
    if subject_kind:
        query = query.where(IntegrityGrade.subject_kind == subject_kind)
    rows = await session.exec(
        query.order_by(
            col(IntegrityGrade.subject_kind).desc(),
            col(IntegrityGrade.grade).desc(),
            col(IntegrityGrade.name),
        )
    )
    return [GradePublic.model_validate(r, from_attributes=True) for r in rows.all()]


async def latest_grades(*, session: AsyncSession, ids: list[str]) -> dict[str, str]:
    """Each of these institutions' or appraisers' grade of its latest published evaluation."""
    if not ids:
        return {}
    rows = await session.exec(
        select(IntegrityGrade.subject_id, IntegrityGrade.grade, IntegrityGrade.year)
        .where(col(IntegrityGrade.subject_id).in_(ids), IntegrityGrade.status == "published")
        .order_by(col(IntegrityGrade.year))
    )
    return {subject_id: f"{grade}（{year}）" for subject_id, grade, year in rows.all()}


def to_public(snapshot: dict[str, Any], *, calendar: WorkingCalendar, today: date) -> EvaluationPublic:
    clocks = []
    for clock in snapshot["clocks"]:
        left = None
        if not clock["stopped"] and not clock.get("paused"):
            left = calendar.working_days_between(today, date.fromisoformat(clock["due_on"]))
        clocks.append(ClockPublic.model_validate({**clock, "working_days_left": left}))
    return EvaluationPublic.model_validate({**snapshot, "clocks": clocks})


def public_of(
    result: EvaluationSnapshot | IntegrityEvaluation, *, calendar: WorkingCalendar, today: date
) -> EvaluationPublic:
    snapshot = result.snapshot if isinstance(result, IntegrityEvaluation) else jsonable(result)
    return to_public(snapshot, calendar=calendar, today=today)


async def audit_trail(*, session: AsyncSession, evaluation: IntegrityEvaluation) -> list[AuditEventRow]:
    rows = await session.exec(
        select(AuditEventRow)
        .where(AuditEventRow.workflow_id == evaluation.workflow_id)
        .order_by(col(AuditEventRow.seq))
    )
    return list(rows.all())
