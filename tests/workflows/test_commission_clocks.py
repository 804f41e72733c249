"""Statutory clocks on the time-skipping server: every rung at its computed
instant, pauses, the extension, and calendar reloads."""

from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.db.models import AuditEventRow, Notification
from appraisal.domain.calendar import WorkingCalendar, YearSchedule
from appraisal.domain.clock import ClockPlanRequest, plan_clock
from appraisal.domain.commission import AcceptanceDecision, ExtensionRequest, MaterialRequest, MaterialSupply
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.commission import CalendarYearPut
from appraisal.seed import BUREAU
from appraisal.services.calendar import load_year
from appraisal.workflows import search_attributes as sa
from appraisal.workflows.commission import CommissionWorkflow
from tests.factories import CLINICAL_APPRAISERS, commission_input, court_actor, head_actor, institution_actor
from tests.workflows.test_commission_workflow import eventually, start, today

pytestmark = pytest.mark.dated

APPRAISER_IDS = [a.id for a in CLINICAL_APPRAISERS]


async def event_of(
    sessions: async_sessionmaker[AsyncSession], workflow_id: str, kind: str
) -> AuditEventRow | None:
    async with sessions() as session:
        return (
            await session.exec(
                select(AuditEventRow)
                .where(AuditEventRow.workflow_id == workflow_id, AuditEventRow.kind == kind)
                .order_by(col(AuditEventRow.seq).desc())
            )
        ).first()


async def test_each_rung_fires_at_its_computed_instant(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = await today(temporal_env)
    handle, _ = await start(temporal_env, task_queue, commission_input(received, bureau_id=BUREAU.id))
    plan = plan_clock(WorkingCalendar(), ClockPlanRequest("PROC-03", received, 7))
    assert [r.kind for r in plan.rungs] == ["warning", "overdue", "escalation"]
    for rung in plan.rungs:
        now = await temporal_env.get_current_time()
        await temporal_env.sleep(rung.at - now - timedelta(seconds=1))
        assert rung.kind not in (await handle.query(CommissionWorkflow.snapshot)).clocks[0].rungs_fired
        await temporal_env.sleep(timedelta(seconds=2))

        async def fired(kind: str = rung.kind) -> AuditEventRow | None:
            return await event_of(sessions, handle.id, f"clock.{kind}")

        event = await eventually(fired)
        assert event.data["rung_at"] == rung.at.isoformat()
        assert abs(event.occurred_at - rung.at) < timedelta(seconds=1)

    async with sessions() as session:
        receivers = {
            (n.kind, n.receiver_role)
            for n in (
                await session.exec(select(Notification).where(Notification.workflow_id == handle.id))
            ).all()
        }
    assert {
        ("clock.warning", "institution"),
        ("clock.warning", "institution_head"),
        ("clock.overdue", "institution_head"),
        ("clock.escalation", "supervisor"),
        ("clock.escalation", "court"),
    } <= receivers
    snapshot = await handle.query(CommissionWorkflow.snapshot)
    kinds = {(t.kind, t.assignee_role) for t in snapshot.open_tasks}
    assert {
        ("overdue_escalation", "institution_head"),
        ("overdue_escalation", "supervisor"),
        ("overdue_remedy", "court"),
    } <= kinds
    described = await handle.describe()
    assert described.typed_search_attributes.get(sa.ESCALATION) == "escalation"
    assert described.typed_search_attributes.get(sa.OVERDUE) is True


async def test_pause_for_materials_across_a_holiday_keeps_the_budget(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    handle, _ = await start(temporal_env, task_queue, commission_input("2026-03-30"))
    await handle.execute_update(
        CommissionWorkflow.decide_acceptance,
        AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS, agreement_effective_on="2026-04-01"),
    )
    paused = await handle.execute_update(
        CommissionWorkflow.request_materials,
        MaterialRequest(institution_actor, "补充影像资料", requested_on="2026-04-10"),
    )
    assert paused.stage == "awaiting_materials"
    examination = next(c for c in paused.clocks if c.rule == "PROC-17")
    assert examination.paused and examination.used_days == 6
    resumed = await handle.execute_update(
        CommissionWorkflow.supply_materials, MaterialSupply(court_actor, received_on="2026-04-30")
    )
    examination = next(c for c in resumed.clocks if c.rule == "PROC-17")
    assert resumed.stage == "examining"
    assert examination.due_on == "2026-06-05" and not examination.paused
    assert examination.pauses[0].resumed_on == "2026-04-30"


async def test_extension_once_within_30_working_days_before_the_deadline(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    received = await today(temporal_env)
    handle, _ = await start(temporal_env, task_queue, commission_input(received))
    accepted = await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    before = next(c for c in accepted.clocks if c.rule == "PROC-17")

    async def rejected(request: ExtensionRequest) -> str | None:
        try:
            await handle.execute_update(CommissionWorkflow.extend_examination, request)
        except WorkflowUpdateFailedError as err:
            assert isinstance(err.cause, ApplicationError)
            return err.cause.type
        return None

    assert await rejected(ExtensionRequest(head_actor, 31, "复杂")) == "extension_too_long"
    assert await rejected(ExtensionRequest(institution_actor, 10, "复杂")) == "wrong_actor"
    assert await rejected(ExtensionRequest(head_actor, 10, "  ")) == "reason_required"
    extended = await handle.execute_update(
        CommissionWorkflow.extend_examination, ExtensionRequest(head_actor, 30, "案情复杂")
    )
    clock = next(c for c in extended.clocks if c.rule == "PROC-17")
    calendar = WorkingCalendar()
    assert clock.extended and clock.extension_days == 30
    assert clock.due_on == calendar.add_working_days(date.fromisoformat(before.due_on), 30).due_on.isoformat()
    assert await rejected(ExtensionRequest(head_actor, 5, "再延")) == "extension_already_granted"


async def test_no_extension_once_the_deadline_has_passed(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    received = await today(temporal_env)
    handle, _ = await start(temporal_env, task_queue, commission_input(received))
    accepted = await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    due_at = next(c for c in accepted.clocks if c.rule == "PROC-17").due_at
    await temporal_env.sleep(due_at - await temporal_env.get_current_time() + timedelta(seconds=1))

    async def overdue() -> bool | None:
        state = await handle.query(CommissionWorkflow.snapshot)
        return True if next(c for c in state.clocks if c.rule == "PROC-17").overdue else None

    await eventually(overdue)
    try:
        await handle.execute_update(
            CommissionWorkflow.extend_examination, ExtensionRequest(head_actor, 10, "迟了")
        )
    except WorkflowUpdateFailedError as err:
        assert isinstance(err.cause, ApplicationError) and err.cause.type == "deadline_passed"
    else:
        raise AssertionError("an extension after the deadline was accepted")


async def test_loading_a_calendar_moves_a_running_deadline_and_ends_provisional(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = await today(temporal_env)
    handle, _ = await start(temporal_env, task_queue, commission_input(received))
    accepted = await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    clock = next(c for c in accepted.clocks if c.rule == "PROC-17")
    calendar = WorkingCalendar()
    due = date.fromisoformat(clock.due_on)
    year = due.year
    package = calendar.schedule(year)
    assert clock.provisional == (not package.official)
    # The official schedule adds one more day off before the deadline: it moves one working day later.
    extra = next(
        d
        for d in (due - timedelta(days=n) for n in range(40))
        if d.year == year
        and d > date.fromisoformat(received)
        and calendar.is_working_day(d)
        and d.weekday() < 5
    )
    body = CalendarYearPut(
        rest_days=sorted(package.rest_days | {extra}),
        makeup_workdays=sorted(package.makeup_workdays),
        source="国务院办公厅关于部分节假日安排的通知 (test)",
    )
    supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")
    async with sessions() as session:
        loaded = await load_year(
            session=session,
            client=temporal_env.client,
            task_queue=task_queue,
            principal=supervisor,
            year=year,
            body=body,
        )
    assert loaded.official and loaded.reload_workflow_id

    async def recomputed() -> AuditEventRow | None:
        return await event_of(sessions, handle.id, "clock.recomputed")

    event = await eventually(recomputed)
    official = YearSchedule(year, frozenset(body.rest_days), frozenset(body.makeup_workdays), official=True)
    expected = WorkingCalendar({year: official}).add_working_days(date.fromisoformat(received), 30).due_on
    assert expected > due
    assert event.data["old_due_on"] == clock.due_on
    assert event.data["new_due_on"] == expected.isoformat()
    assert event.data["provisional"] is False
    state = await handle.query(CommissionWorkflow.snapshot)
    moved = next(c for c in state.clocks if c.rule == "PROC-17")
    assert moved.due_on == expected.isoformat() and not moved.provisional
