"""The annual integrity evaluation (年度诚信执业评价, EVL-1): started by a yearly Schedule
or by the bureau; self-assessment, review, 公示 and objections, confirmation; the grades."""

from typing import Any, Literal

from fastapi import APIRouter, Response

from appraisal.api.deps import READ_YOUR_WRITES, CalendarDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.api.errors import documented, repeated
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.commission import AuditEventPublic
from appraisal.schemas.evaluation import (
    EvaluationCreate,
    EvaluationPublic,
    EvaluationStepCreate,
    GradeObjectionCreate,
    GradePublic,
    SelfAssessmentCreate,
)
from appraisal.services import evaluation as service
from appraisal.services.integrity import GradingRule

router = APIRouter(
    prefix="/v1/evaluations", tags=["supervision"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)

ERRORS = documented(
    {
        401: "no token or a bad one",
        403: "not allowed for this role",
        404: "no such evaluation in the caller's scope",
        409: "the step is not allowed in the evaluation's current stage, or the rule refuses it",
        422: "invalid input: which field and why",
        503: "Temporal or the database is unavailable; nothing was changed",
    }
)


@router.post(
    "",
    response_model=EvaluationPublic,
    status_code=201,
    responses={**ERRORS, **repeated(EvaluationPublic, "evaluation")},
)
async def start_evaluation(
    body: EvaluationCreate,
    response: Response,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> EvaluationPublic:
    """Start the caller's bureau's evaluation of a year (supervisor); the yearly schedule
    starts the same one on 1 January, so a repeat (or the schedule's) answers 200. A year not
    over waits for its end; a past year opens its self-assessment at once."""
    result, created = await service.start(
        session=session,
        client=client,
        task_queue=settings.task_queue,
        principal=principal,
        year=body.year,
        today=today,
        rule=GradingRule.of(settings).plain(),
        training_min_hours=settings.training_min_hours,
    )
    response.status_code = 201 if created else 200
    return service.public_of(result, calendar=calendar, today=today)


@router.get("", response_model=list[EvaluationPublic], responses=ERRORS)
async def list_evaluations(
    principal: AuthorizedDep, session: SessionDep, calendar: CalendarDep, today: TodayDep
) -> list[EvaluationPublic]:
    """The evaluations of the caller's bureau (or its institution's), newest year first."""
    rows = await service.list_evaluations(session=session, principal=principal)
    return [service.to_public(r.snapshot, calendar=calendar, today=today) for r in rows]


@router.get("/{evaluation_id}", response_model=EvaluationPublic, responses=ERRORS)
async def get_evaluation(
    evaluation_id: str, principal: AuthorizedDep, session: SessionDep, calendar: CalendarDep, today: TodayDep
) -> EvaluationPublic:
    row = await service.load_in_scope(session=session, principal=principal, evaluation_id=evaluation_id)
    return service.to_public(row.snapshot, calendar=calendar, today=today)


@router.get("/{evaluation_id}/grades", response_model=list[GradePublic], responses=ERRORS)
async def evaluation_grades(
    evaluation_id: str,
    principal: AuthorizedDep,
    session: SessionDep,
    subject_kind: Literal["institution", "appraiser"] | None = None,
) -> list[GradePublic]:
    """The year's grades once proposed: `proposed` while open to objection (公示), then
    `published`; each with its score, the items counted and the deductions."""
    row = await service.load_in_scope(session=session, principal=principal, evaluation_id=evaluation_id)
    return await service.grades(session=session, evaluation=row, subject_kind=subject_kind)


async def _answer(snapshot: dict[str, Any], calendar: CalendarDep, today: TodayDep) -> EvaluationPublic:
    return service.to_public(snapshot, calendar=calendar, today=today)


@router.post("/{evaluation_id}/decision", response_model=EvaluationPublic, responses=ERRORS)
async def evaluation_step(
    evaluation_id: str,
    body: EvaluationStepCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> EvaluationPublic:
    """The bureau's next step (supervisor): `adjust_grade`, `publish_proposed`,
    `decide_objection` or `confirm`."""
    snapshot = await service.step(
        session=session, client=client, principal=principal, evaluation_id=evaluation_id, body=body
    )
    return await _answer(snapshot, calendar, today)


@router.post("/{evaluation_id}/self-assessment", response_model=EvaluationPublic, responses=ERRORS)
async def self_assessment(
    evaluation_id: str,
    body: SelfAssessmentCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> EvaluationPublic:
    """An institution's self-assessment of its year (EVL-2)."""
    snapshot = await service.self_assess(
        session=session, client=client, principal=principal, evaluation_id=evaluation_id, body=body
    )
    return await _answer(snapshot, calendar, today)


@router.post("/{evaluation_id}/objections", response_model=EvaluationPublic, responses=ERRORS)
async def object_to_grade(
    evaluation_id: str,
    body: GradeObjectionCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> EvaluationPublic:
    """An objection to a proposed grade during 公示 (EVL-4): an appraiser to their own, an
    institution to its own or its appraisers'."""
    snapshot = await service.object_to_grade(
        session=session, client=client, principal=principal, evaluation_id=evaluation_id, body=body
    )
    return await _answer(snapshot, calendar, today)


@router.get("/{evaluation_id}/audit", response_model=list[AuditEventPublic], responses=ERRORS)
async def evaluation_audit_trail(
    evaluation_id: str, principal: AuthorizedDep, session: SessionDep
) -> list[AuditEventPublic]:
    """Every step of the evaluation, in order, hash-chained."""
    row = await service.load_in_scope(session=session, principal=principal, evaluation_id=evaluation_id)
    rows = await service.audit_trail(session=session, evaluation=row)
    return [AuditEventPublic.model_validate(r, from_attributes=True) for r in rows]
