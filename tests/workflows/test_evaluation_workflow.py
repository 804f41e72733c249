"""The annual integrity evaluation on the time-skipping server, with the production worker
and its real activities: the training warning as the year's end nears (TRN-3), the sleep to
the year's end, the institutions' self-assessment window (EVL-2), the proposed grades from
the year's record with the training shortfalls entered first, the bureau's review, the
objection period (EVL-4) closing by itself, the objections decided and the grades published."""

from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.core.settings import DEFAULT_INTEGRITY_DEDUCTIONS, DEFAULT_INTEGRITY_GRADE_FLOORS
from appraisal.db.models import (
    AuditEventRow,
    IntegrityEntryRow,
    IntegrityGrade,
    Notification,
    Task,
    TrainingTask,
)
from appraisal.domain.calendar import WorkingCalendar, local_today
from appraisal.domain.evaluation import (
    EvaluationInput,
    EvaluationRegistration,
    EvaluationSnapshot,
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
from appraisal.domain.roles import Actor, Role
from appraisal.domain.training import warning_at, year_end
from appraisal.seed import APPRAISERS, BUREAU, INSTITUTIONS
from appraisal.workflows.evaluation import IntegrityEvaluationWorkflow
from tests.workflows.test_commission_workflow import eventually

pytestmark = pytest.mark.dated

Handle = WorkflowHandle[IntegrityEvaluationWorkflow, EvaluationSnapshot]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "evaluator")
RULE = GradingRule(dict(DEFAULT_INTEGRITY_DEDUCTIONS), dict(DEFAULT_INTEGRITY_GRADE_FLOORS))


def desk(institution_id: str) -> Actor:
    return Actor(Role.INSTITUTION, institution_id, "desk")


async def start(env: WorkflowEnvironment, task_queue: str, year: int) -> tuple[Handle, EvaluationSnapshot]:
    evaluation_id = evaluation_id_for(BUREAU.id, year)
    handle = await env.client.start_workflow(
        IntegrityEvaluationWorkflow.run,
        EvaluationInput(evaluation_id, BUREAU.id, year, supervisor, RULE, training_min_hours=40),
        id=evaluation_workflow_id(evaluation_id),
        task_queue=task_queue,
    )
    return handle, await handle.execute_update(
        IntegrityEvaluationWorkflow.register, EvaluationRegistration(supervisor)
    )


async def rejected(handle: Handle, update: object, message: object) -> str | None:
    try:
        await handle.execute_update(update, message)  # type: ignore[call-overload]
    except WorkflowUpdateFailedError as err:
        assert isinstance(err.cause, ApplicationError)
        return err.cause.type
    return None


async def stage_is(handle: Handle, stage: str) -> EvaluationSnapshot:
    async def reached() -> EvaluationSnapshot | None:
        state = await handle.query(IntegrityEvaluationWorkflow.snapshot)
        return state if state.stage == stage else None

    return await eventually(reached)


def clock(snapshot: EvaluationSnapshot, rule: str) -> object:
    return next(c for c in snapshot.clocks if c.rule == rule)


async def test_a_past_year_is_self_assessed_graded_objected_to_and_published(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = local_today(await temporal_env.get_current_time())
    calendar = WorkingCalendar()
    year = now.year - 1
    handle, snapshot = await start(temporal_env, task_queue, year)
    state = await stage_is(handle, "self_assessment")
    assert snapshot.created and sorted(state.institutions) == sorted(i.id for i in INSTITUTIONS)
    window = next(c for c in state.clocks if c.rule == "EVL-2")
    assert window.due_on == calendar.add_working_days(now, 15).due_on.isoformat()
    assert sorted(t.assignee_id for t in state.open_tasks) == sorted(i.id for i in INSTITUTIONS)
    assert (
        await rejected(
            handle, IntegrityEvaluationWorkflow.self_assess, SelfAssessment(desk(INSTITUTIONS[0].id), " ", 90)
        )
        == "summary_required"
    )
    for institution in INSTITUTIONS:
        await handle.execute_update(
            IntegrityEvaluationWorkflow.self_assess,
            SelfAssessment(desk(institution.id), "依法执业，无违规", 92),
        )
    state = await stage_is(handle, "reviewing")
    assert state.assessment is not None
    assert (state.assessment.institutions, state.assessment.appraisers) == (
        len(INSTITUTIONS),
        len(APPRAISERS),
    )
    # Nobody trained in that year: every appraiser's shortfall is in the integrity record first.
    assert state.assessment.training_shortfalls == len(APPRAISERS)
    async with sessions() as session:
        shortfalls = (
            await session.exec(
                select(IntegrityEntryRow).where(IntegrityEntryRow.outcome == "training_shortfall")
            )
        ).all()
        grades = {
            (g.subject_kind, g.subject_id): g
            for g in (await session.exec(select(IntegrityGrade).where(IntegrityGrade.year == year))).all()
        }
    assert {e.subject_id for e in shortfalls} == {a.id for a in APPRAISERS}
    assert all(e.decided_on == date(year, 12, 31) and e.rule == "TRN-2" for e in shortfalls)
    appraiser = grades[("appraiser", APPRAISERS[0].id)]
    assert (appraiser.score, appraiser.grade, appraiser.status) == (95, "A", "proposed")
    assert appraiser.counts["training_shortfall"] == 1
    assert grades[("institution", INSTITUTIONS[0].id)].score == 100
    adjust = IntegrityEvaluationWorkflow.adjust_grade
    assert (
        await rejected(
            handle, adjust, GradeAdjustment(supervisor, "institution", INSTITUTIONS[1].id, "E", "x")
        )
        == "unknown_grade"
    )
    await handle.execute_update(
        adjust, GradeAdjustment(supervisor, "institution", INSTITUTIONS[1].id, "B", "检查发现档案管理不规范")
    )
    proposed = await handle.execute_update(
        IntegrityEvaluationWorkflow.publish_proposed, ProposedGradesPublication(supervisor)
    )
    period = next(c for c in proposed.clocks if c.rule == "EVL-4")
    assert (
        proposed.stage == "objection_period"
        and period.due_on == calendar.add_working_days(now, 10).due_on.isoformat()
    )
    objection = GradeObjectionFiling(
        desk(INSTITUTIONS[1].id), "institution", INSTITUTIONS[1].id, INSTITUTIONS[1].id, "已整改完毕", "B"
    )
    assert (
        await rejected(
            handle,
            IntegrityEvaluationWorkflow.file_objection,
            GradeObjectionFiling(
                desk(INSTITUTIONS[0].id), "institution", INSTITUTIONS[1].id, INSTITUTIONS[1].id, "代为异议"
            ),
        )
        == "wrong_actor"
    )
    await handle.execute_update(IntegrityEvaluationWorkflow.file_objection, objection)
    assert await rejected(handle, IntegrityEvaluationWorkflow.file_objection, objection) == "already_objected"
    # The period closes by itself at its end; the objection then waits for the bureau.
    await temporal_env.sleep(period.due_at - await temporal_env.get_current_time() + timedelta(seconds=5))
    deciding = await stage_is(handle, "deciding_objections")
    assert [t.kind for t in deciding.open_tasks] == ["decide_grade_objection"]
    decided = await handle.execute_update(
        IntegrityEvaluationWorkflow.decide_objection,
        ObjectionDecision(supervisor, 1, True, "整改属实，恢复原等级", "A"),
    )
    assert decided.stage == "awaiting_confirmation" and decided.objections[0].decision is not None
    published = await handle.execute_update(
        IntegrityEvaluationWorkflow.confirm, GradesConfirmation(supervisor)
    )
    assert published.stage == "published"
    assert (await handle.result()).published_on == published.published_on
    async with sessions() as session:
        rows = (await session.exec(select(IntegrityGrade).where(IntegrityGrade.year == year))).all()
        kinds = [
            e.kind
            for e in (
                await session.exec(
                    select(AuditEventRow)
                    .where(AuditEventRow.workflow_id == handle.id)
                    .order_by(col(AuditEventRow.seq))
                )
            ).all()
        ]
    assert {r.status for r in rows} == {"published"}
    assert next(r for r in rows if r.subject_id == INSTITUTIONS[1].id).grade == "A"
    assert kinds[0] == "evaluation.started" and kinds[-1] == "evaluation.published"
    assert "evaluation.objection_period_closed" in kinds


async def test_the_self_assessment_window_closes_at_its_deadline(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    now = local_today(await temporal_env.get_current_time())
    handle, _ = await start(temporal_env, task_queue, now.year - 1)
    state = await stage_is(handle, "self_assessment")
    await handle.execute_update(
        IntegrityEvaluationWorkflow.self_assess, SelfAssessment(desk(INSTITUTIONS[0].id), "自评", 95)
    )
    window = next(c for c in state.clocks if c.rule == "EVL-2")
    await temporal_env.sleep(window.due_at - await temporal_env.get_current_time() + timedelta(seconds=5))
    reviewing = await stage_is(handle, "reviewing")
    assert list(reviewing.self_assessments) == [INSTITUTIONS[0].id]
    assert [t.kind for t in reviewing.open_tasks] == ["review_proposed_grades"]


async def test_this_year_warns_whoever_is_short_of_training_and_then_waits_for_its_end(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    current = await temporal_env.get_current_time()
    year = local_today(current).year
    handle, snapshot = await start(temporal_env, task_queue, year)
    assert snapshot.stage == "in_year"
    if current < warning_at(year):
        await temporal_env.sleep(warning_at(year) - current + timedelta(seconds=5))

    async def warned() -> EvaluationSnapshot | None:
        state = await handle.query(IntegrityEvaluationWorkflow.snapshot)
        return state if state.training_warning else None

    state = await eventually(warned)
    assert state.training_warning is not None and state.training_warning["appraisers_short"] == len(
        APPRAISERS
    )
    async with sessions() as session:
        tasks = (await session.exec(select(TrainingTask).where(TrainingTask.year == year))).all()
        inbox = (await session.exec(select(Task).where(col(Task.training_task_id).is_not(None)))).all()
    assert len(tasks) == len(APPRAISERS)
    assert {(t.assignee_role, t.kind) for t in inbox} == {
        ("appraiser", "complete_training_hours"),
        ("institution", "complete_training_hours"),
    }
    assert all(t.due_on == date(year, 12, 31) for t in inbox)

    async def notified_all() -> list[Notification] | None:
        """The warning's notifications, once its event is recorded (a moment after the query shows it)."""
        async with sessions() as session:
            rows = (
                await session.exec(select(Notification).where(Notification.kind == "training.warning_issued"))
            ).all()
        return (
            list(rows)
            if {("appraiser", a.id) for a in APPRAISERS} <= {(n.receiver_role, n.receiver_id) for n in rows}
            else None
        )

    notified = await eventually(notified_all)
    assert {n.receiver_id for n in notified if n.receiver_role == "institution"} == {
        i.id for i in INSTITUTIONS
    }
    await temporal_env.sleep(year_end(year) - await temporal_env.get_current_time() + timedelta(seconds=5))
    assert (await stage_is(handle, "self_assessment")).year == year
