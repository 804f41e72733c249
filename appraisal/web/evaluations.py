"""The annual integrity evaluation in the workspace: the bureau starts a year's, reviews and
adjusts the proposed grades, publishes them for objection, decides the objections and
confirms; an institution assesses itself and objects to its own or its appraisers' grades;
an appraiser objects to their own. Each form goes through the same service and the same
Temporal Update as the REST API's /v1/evaluations."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from appraisal.api.deps import CalendarDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.evaluation import EvaluationStage
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.evaluation import (
    EvaluationCreate,
    EvaluationStepCreate,
    GradeObjectionCreate,
    SelfAssessmentCreate,
)
from appraisal.services import evaluation as evaluations
from appraisal.services import registry
from appraisal.services.integrity import GradingRule
from appraisal.web.pages import render
from appraisal.web.routes import viewer_of
from appraisal.web.session import (
    PREFIX,
    REFUSALS,
    PagePrincipalDep,
    PageRoute,
    read_form_lists,
    refusal_of,
    refusal_status,
)

router = APIRouter(
    prefix=PREFIX, route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


def _fields(posted: dict[str, list[str]]) -> dict[str, Any]:
    return {
        k: v[0].replace("\r\n", "\n").strip()
        for k, v in posted.items()
        if k != "csrftoken" and v and v[0].strip()
    }


@router.get("/evaluations")
async def evaluations_page(
    request: Request, principal: PagePrincipalDep, session: SessionDep, today: TodayDep
) -> Response:
    return await _list_page(request, principal=principal, session=session, today=today)


async def _list_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    today: Any,
    refused: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "evaluations.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "evaluations",
            "evaluations": await evaluations.list_evaluations(session=session, principal=principal),
            "this_year": today.year,
            "refused": refused,
        },
        status_code=status_code,
    )


@router.post("/evaluations")
async def start_evaluation(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    posted = await read_form_lists(request)
    try:
        result, _ = await evaluations.start(
            session=session,
            client=client,
            task_queue=settings.task_queue,
            principal=principal,
            year=EvaluationCreate.model_validate(_fields(posted)).year,
            today=today,
            rule=GradingRule.of(settings).plain(),
            training_min_hours=settings.training_min_hours,
        )
    except REFUSALS as err:
        return await _list_page(
            request,
            principal=principal,
            session=session,
            today=today,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    evaluation = evaluations.public_of(result, calendar=calendar, today=today)
    return RedirectResponse(f"{PREFIX}/evaluations/{evaluation.id}", status_code=303)


async def _evaluation_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    calendar: WorkingCalendar,
    today: Any,
    evaluation_id: str,
    refused: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    row = await evaluations.load_in_scope(session=session, principal=principal, evaluation_id=evaluation_id)
    evaluation = evaluations.to_public(row.snapshot, calendar=calendar, today=today)
    grades = await evaluations.grades(session=session, evaluation=row)
    stage = evaluation.stage
    mine = principal.organisation_id
    objectable = []
    if stage == EvaluationStage.OBJECTION_PERIOD:
        objected = {(o.subject_kind, o.subject_id) for o in evaluation.objections}
        objectable = [
            g
            for g in grades
            if (g.subject_kind, g.subject_id) not in objected
            and (
                (principal.role == Role.INSTITUTION and g.institution_id == mine)
                or (
                    principal.role == Role.APPRAISER
                    and g.subject_kind == "appraiser"
                    and g.subject_id == mine
                )
            )
        ]
    return render(
        request,
        "evaluation.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "evaluations",
            "e": evaluation,
            "grades": grades,
            "names": {i.id: i.name for i in await registry.list_institutions(session=session, category=None)}
            | {g.subject_id: g.name for g in grades},
            "grade_names": evaluation.grading.get("grade_floors", {}),
            "lowest_grade": evaluation.grading.get("lowest_grade", "D"),
            "bureau": principal.role == Role.SUPERVISOR,
            "may_self_assess": principal.role == Role.INSTITUTION
            and stage == EvaluationStage.SELF_ASSESSMENT
            and mine in evaluation.institutions
            and mine not in evaluation.self_assessments,
            "objectable": objectable,
            "undecided": [o for o in evaluation.objections if not o.decision],
            "trail": await evaluations.audit_trail(session=session, evaluation=row),
            "refused": refused,
        },
        status_code=status_code,
    )


@router.get("/evaluations/{evaluation_id}")
async def evaluation_page(
    request: Request,
    evaluation_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    return await _evaluation_page(
        request,
        principal=principal,
        session=session,
        calendar=calendar,
        today=today,
        evaluation_id=evaluation_id,
    )


def _step_page(step: str) -> Any:
    async def take_step(
        request: Request,
        evaluation_id: str,
        principal: PagePrincipalDep,
        session: SessionDep,
        client: TemporalDep,
        calendar: CalendarDep,
        today: TodayDep,
    ) -> Response:
        """One step of the evaluation, as the API's POST …/{step} takes it."""
        posted = await read_form_lists(request)
        fields = _fields(posted)
        key = str(fields.get("decision", step))
        try:
            if step == "decision":
                if "subject" in fields:
                    kind, _, subject_id = str(fields.pop("subject")).partition(":")
                    fields |= {"subject_kind": kind, "subject_id": subject_id}
                if "upheld" in fields:
                    fields["upheld"] = fields["upheld"] == "true"
                    if not fields["upheld"]:
                        fields.pop("grade", None)
                await evaluations.step(
                    session=session,
                    client=client,
                    principal=principal,
                    evaluation_id=evaluation_id,
                    body=EvaluationStepCreate.model_validate(fields),
                )
            elif step == "self-assessment":
                await evaluations.self_assess(
                    session=session,
                    client=client,
                    principal=principal,
                    evaluation_id=evaluation_id,
                    body=SelfAssessmentCreate.model_validate(fields),
                )
            else:
                subject_kind, _, subject_id = str(fields.pop("subject", "")).partition(":")
                await evaluations.object_to_grade(
                    session=session,
                    client=client,
                    principal=principal,
                    evaluation_id=evaluation_id,
                    body=GradeObjectionCreate.model_validate(
                        {**fields, "subject_kind": subject_kind, "subject_id": subject_id}
                    ),
                )
        except REFUSALS as err:
            return await _evaluation_page(
                request,
                principal=principal,
                session=session,
                calendar=calendar,
                today=today,
                evaluation_id=evaluation_id,
                refused={"key": key, "message": refusal_of(err)},
                status_code=refusal_status(err),
            )
        return RedirectResponse(f"{PREFIX}/evaluations/{evaluation_id}", status_code=303)

    take_step.__name__ = f"evaluation_{step.replace('-', '_')}"
    return take_step


for _step in ("decision", "self-assessment", "objections"):
    router.add_api_route(f"/evaluations/{{evaluation_id}}/{_step}", _step_page(_step), methods=["POST"])
