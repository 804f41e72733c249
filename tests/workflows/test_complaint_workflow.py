"""The complaint workflow on the time-skipping server, with the production
worker and its real activities: each clock's deadline (CMP-5 working days,
CMP-6 natural days, CMP-7 working days), the extensions, the pause for
supplements, the integrity record, the time bar and the hash chain."""

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.activities.complaint import ComplaintActivities
from appraisal.db.models import AuditEventRow, Complaint, IntegrityEntryRow, Notification
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.clock import ClockPlanRequest, plan_clock
from appraisal.domain.commission import ClockSnapshot, Material
from appraisal.domain.complaint import (
    Complainant,
    ComplaintAcceptance,
    ComplaintDecision,
    ComplaintDecline,
    ComplaintExtension,
    ComplaintInput,
    ComplaintRegistration,
    ComplaintSnapshot,
    IntegrityEntriesInput,
    PartiesNotice,
    SupplementReceipt,
    SupplementRequest,
    workflow_id_for,
)
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.commission import CalendarYearPut
from appraisal.seed import BUREAU, OTHER_BUREAU
from appraisal.services.audit import verify_chain
from appraisal.services.calendar import load_year
from appraisal.workflows import search_attributes as sa
from appraisal.workflows.complaint import ComplaintWorkflow
from tests.factories import CLINICAL_APPRAISERS, INSTITUTION
from tests.workflows.test_commission_workflow import eventually, today

pytestmark = pytest.mark.dated

Handle = WorkflowHandle[ComplaintWorkflow, ComplaintSnapshot]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")
other_bureau = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspector")
APPRAISER = CLINICAL_APPRAISERS[0]


def complaint_input(received_on: str, **overrides: Any) -> ComplaintInput:
    values: dict[str, Any] = {
        "complaint_id": str(uuid.uuid4()),
        "bureau_id": BUREAU.id,
        "reference": f"渝司投〔2026〕{uuid.uuid4().hex[:6]}号",
        "received_on": received_on,
        "knew_on": received_on,
        "registered_by": supervisor,
        "complainant": Complainant("张三", "person", "被鉴定人，鉴定意见涉及其伤残等级"),
        "institution_id": INSTITUTION.id,
        "summary": "鉴定人未回避，超出执业类别鉴定",
        "appraiser_id": APPRAISER.id,
        "materials": [Material("投诉书", "c" * 64)],
    }
    values.update(overrides)
    return ComplaintInput(**values)


async def start(
    env: WorkflowEnvironment, task_queue: str, inp: ComplaintInput
) -> tuple[Handle, ComplaintSnapshot]:
    handle = await env.client.start_workflow(
        ComplaintWorkflow.run, inp, id=workflow_id_for(inp.complaint_id), task_queue=task_queue
    )
    snapshot = await handle.execute_update(ComplaintWorkflow.register, ComplaintRegistration(supervisor))
    return handle, snapshot


def clock_of(snapshot: ComplaintSnapshot, rule: str) -> ClockSnapshot:
    return next(c for c in snapshot.clocks if c.rule == rule)


async def rejected(handle: Handle, update: Any, message: Any) -> str | None:
    try:
        await handle.execute_update(update, message)
    except WorkflowUpdateFailedError as err:
        assert isinstance(err.cause, ApplicationError)
        return err.cause.type
    return None


async def events(sessions: async_sessionmaker[AsyncSession], workflow_id: str) -> list[AuditEventRow]:
    async with sessions() as session:
        rows = await session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.workflow_id == workflow_id)
            .order_by(col(AuditEventRow.seq))
        )
        return list(rows.all())


async def event_of(
    sessions: async_sessionmaker[AsyncSession], workflow_id: str, kind: str, rule: str
) -> AuditEventRow | None:
    return next(
        (e for e in await events(sessions, workflow_id) if e.kind == kind and e.data.get("rule") == rule),
        None,
    )


async def recorded_events(handle: Handle) -> list[str]:
    """History without workflow-task bookkeeping (see tests/workflows/test_commission_workflow.py)."""
    history = await handle.fetch_history()
    names = [EventType.Name(e.event_type) for e in history.events]
    return [n for n in names if "WORKFLOW_TASK" not in n]


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return date(day.year - years, 3, 1)


async def sleep_past(env: WorkflowEnvironment, instant: Any) -> None:
    await env.sleep(instant - await env.get_current_time() + timedelta(seconds=1))


async def test_acceptance_clock_climbs_its_ladder_at_each_computed_instant(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = await today(temporal_env)
    handle, snapshot = await start(temporal_env, task_queue, complaint_input(received))
    assert snapshot.created and snapshot.stage == "awaiting_acceptance"
    acceptance = clock_of(snapshot, "CMP-5")
    expected = WorkingCalendar().add_working_days(date.fromisoformat(received), 7)
    assert acceptance.unit == "working_day" and acceptance.budget_days == 7
    assert acceptance.due_on == expected.due_on.isoformat() and acceptance.due_at == expected.due_at
    plan = plan_clock(WorkingCalendar(), ClockPlanRequest("CMP-5", received, 7))
    assert [r.kind for r in plan.rungs] == ["warning", "overdue", "escalation"]
    for rung in plan.rungs:
        await temporal_env.sleep(rung.at - await temporal_env.get_current_time() - timedelta(seconds=1))
        assert rung.kind not in clock_of(await handle.query(ComplaintWorkflow.snapshot), "CMP-5").rungs_fired
        await temporal_env.sleep(timedelta(seconds=2))

        async def fired(kind: str = rung.kind) -> AuditEventRow | None:
            return await event_of(sessions, handle.id, f"clock.{kind}", "CMP-5")

        event = await eventually(fired)
        assert event.data["rung_at"] == rung.at.isoformat()
        assert abs(event.occurred_at - rung.at) < timedelta(seconds=1)
    state = await handle.query(ComplaintWorkflow.snapshot)
    assert clock_of(state, "CMP-5").overdue
    assert ("overdue_escalation", "supervisor", BUREAU.id) in {
        (t.kind, t.assignee_role, t.assignee_id) for t in state.open_tasks
    }
    async with sessions() as session:
        told = {
            (n.kind, n.receiver_role, n.receiver_id)
            for n in (
                await session.exec(select(Notification).where(Notification.workflow_id == handle.id))
            ).all()
        }
        row = await session.get(Complaint, snapshot.id)
    assert {(f"clock.{k}", "supervisor", BUREAU.id) for k in ("warning", "overdue", "escalation")} <= told
    assert row is not None and row.overdue
    described = await handle.describe()
    assert described.typed_search_attributes.get(sa.OVERDUE) is True
    assert described.typed_search_attributes.get(sa.ESCALATION) == "escalation"
    # Late, and still possible: the acceptance is recorded as overdue.
    accepted = await handle.execute_update(ComplaintWorkflow.accept, ComplaintAcceptance(supervisor))
    assert accepted.stage == "handling"
    assert clock_of(accepted, "CMP-5").stopped and clock_of(accepted, "CMP-5").overdue


async def test_acceptance_is_extended_once_by_at_most_15_working_days_before_the_deadline(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    received = await today(temporal_env)
    handle, snapshot = await start(temporal_env, task_queue, complaint_input(received))
    before = clock_of(snapshot, "CMP-5")
    extend = ComplaintWorkflow.extend_acceptance
    assert (
        await rejected(handle, extend, ComplaintExtension(supervisor, 16, "案情复杂")) == "extension_too_long"
    )
    assert await rejected(handle, extend, ComplaintExtension(supervisor, 10, " ")) == "reason_required"
    assert await rejected(handle, extend, ComplaintExtension(other_bureau, 10, "复杂")) == "wrong_actor"
    extended = await handle.execute_update(extend, ComplaintExtension(supervisor, 15, "案情复杂，需调查"))
    clock = clock_of(extended, "CMP-5")
    calendar = WorkingCalendar()
    assert clock.extended and clock.extension_days == 15 and clock.extension_reason == "案情复杂，需调查"
    assert clock.due_on == calendar.add_working_days(date.fromisoformat(before.due_on), 15).due_on.isoformat()
    assert clock.due_on == calendar.add_working_days(date.fromisoformat(received), 22).due_on.isoformat()
    assert (
        await rejected(handle, extend, ComplaintExtension(supervisor, 1, "再延"))
        == "extension_already_granted"
    )


async def test_no_acceptance_extension_once_the_deadline_has_passed(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    handle, snapshot = await start(temporal_env, task_queue, complaint_input(await today(temporal_env)))
    await sleep_past(temporal_env, clock_of(snapshot, "CMP-5").due_at)
    assert (
        await rejected(handle, ComplaintWorkflow.extend_acceptance, ComplaintExtension(supervisor, 5, "迟了"))
        == "deadline_passed"
    )


async def test_supplementing_materials_pauses_the_acceptance_clock_without_losing_a_day(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # RULES.md's example: received Thu 2026-09-24 → due Mon 2026-10-12 (Mid-Autumn, National Day).
    handle, snapshot = await start(temporal_env, task_queue, complaint_input("2026-09-24"))
    assert clock_of(snapshot, "CMP-5").due_on == "2026-10-12"
    request = ComplaintWorkflow.request_supplement
    assert await rejected(handle, request, SupplementRequest(supervisor, "  ")) == "description_required"
    assert (
        await rejected(handle, request, SupplementRequest(supervisor, "x", requested_on="2026-09-20"))
        == "date_out_of_range"
    )
    # Paused on Tue 9/29: 9/28 and 9/29 are spent, 5 working days remain.
    paused = await handle.execute_update(
        request, SupplementRequest(supervisor, "补充鉴定意见书复印件", requested_on="2026-09-29")
    )
    clock = clock_of(paused, "CMP-5")
    assert paused.stage == "awaiting_supplement" and clock.paused and clock.used_days == 2
    assert paused.pending_supplement == {"description": "补充鉴定意见书复印件", "requested_on": "2026-09-29"}
    assert await rejected(handle, ComplaintWorkflow.accept, ComplaintAcceptance(supervisor)) == "not_in_stage"
    assert (
        await rejected(
            handle,
            ComplaintWorkflow.receive_supplement,
            SupplementReceipt(supervisor, received_on="2026-09-28"),
        )
        == "date_out_of_range"
    )
    # Received Fri 10/9: counted again from Sat 10/10 (a make-up working day) → 10/10, 10/12–10/15.
    resumed = await handle.execute_update(
        ComplaintWorkflow.receive_supplement,
        SupplementReceipt(supervisor, received_on="2026-10-09", materials=[Material("复印件", "d" * 64)]),
    )
    clock = clock_of(resumed, "CMP-5")
    assert resumed.stage == "awaiting_acceptance" and not clock.paused
    assert clock.due_on == "2026-10-15" and clock.pauses[0].resumed_on == "2026-10-09"
    assert resumed.pending_supplement is None
    accepted = await handle.execute_update(
        ComplaintWorkflow.accept, ComplaintAcceptance(supervisor, accepted_on="2026-10-15")
    )
    acceptance = clock_of(accepted, "CMP-5")
    assert accepted.stage == "handling" and acceptance.stopped and not acceptance.overdue
    kinds = [e.kind for e in await events(sessions, handle.id)]
    assert [k for k in kinds if k in ("clock.paused", "clock.resumed", "complaint.accepted")] == [
        "clock.paused",
        "clock.resumed",
        "complaint.accepted",
    ]


async def test_handling_clock_counts_60_natural_days_and_rolls_over_rest_days(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    calendar = WorkingCalendar()
    handle, _ = await start(temporal_env, task_queue, complaint_input("2026-07-30"))
    accepted = await handle.execute_update(
        ComplaintWorkflow.accept, ComplaintAcceptance(supervisor, accepted_on="2026-08-04")
    )
    handling = clock_of(accepted, "CMP-6")
    # Day 60 is Sat 2026-10-03, inside the National Day holiday (10/1–10/7): the period
    # ends at the end of the first working day after it, Thu 2026-10-08.
    assert date(2026, 8, 4) + timedelta(days=60) == date(2026, 10, 3)
    assert not any(calendar.is_working_day(date(2026, 10, d)) for d in range(3, 8))
    assert handling.unit == "natural_day" and handling.budget_days == 60
    assert handling.started_on == "2026-08-04" and handling.due_on == "2026-10-08"
    assert accepted.accepted_on == "2026-08-04"
    decided = await handle.execute_update(
        ComplaintWorkflow.decide,
        ComplaintDecision(supervisor, "投诉事项不成立", "no_action", decided_on="2026-09-30"),
    )
    handling = clock_of(decided, "CMP-6")
    assert decided.stage == "decided" and handling.stopped and not handling.overdue
    notice = clock_of(decided, "CMP-7")
    assert notice.unit == "working_day" and notice.due_on == "2026-10-15"  # 10/8–10/10, 10/12–10/15
    assert decided.integrity_entries == []


async def test_handling_deadline_extension_once_with_approval_then_the_deadline_fires(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = await today(temporal_env)
    calendar = WorkingCalendar()
    handle, _ = await start(temporal_env, task_queue, complaint_input(received))
    assert (
        await rejected(
            handle, ComplaintWorkflow.extend_handling, ComplaintExtension(supervisor, 10, "复杂", "局长")
        )
        == "not_in_stage"
    )
    accepted = await handle.execute_update(ComplaintWorkflow.accept, ComplaintAcceptance(supervisor))
    handling = clock_of(accepted, "CMP-6")
    assert handling.due_on == calendar.add_natural_days(date.fromisoformat(received), 60).due_on.isoformat()
    extend = ComplaintWorkflow.extend_handling
    assert await rejected(handle, extend, ComplaintExtension(supervisor, 10, "复杂")) == "approval_required"
    assert (
        await rejected(handle, extend, ComplaintExtension(supervisor, 31, "复杂", "局长"))
        == "extension_too_long"
    )
    extended = await handle.execute_update(
        extend, ComplaintExtension(supervisor, 30, "需委托专家论证", approved_by="李局长")
    )
    handling = clock_of(extended, "CMP-6")
    assert handling.extended and handling.extension_days == 30
    assert handling.due_on == calendar.add_natural_days(date.fromisoformat(received), 90).due_on.isoformat()
    event = await event_of(sessions, handle.id, "clock.extended", "CMP-6")
    assert event is not None
    assert event.data["approved_by"] == "李局长" and event.data["complainant_told_on"] == received
    assert event.data["days"] == 30 and event.data["unit"] == "natural_day"
    assert (
        await rejected(handle, extend, ComplaintExtension(supervisor, 1, "再延", "局长"))
        == "extension_already_granted"
    )

    await sleep_past(temporal_env, handling.due_at)

    async def overdue() -> AuditEventRow | None:
        return await event_of(sessions, handle.id, "clock.overdue", "CMP-6")

    fired = await eventually(overdue)
    assert fired.data["due_on"] == handling.due_on
    assert abs(fired.occurred_at - handling.due_at) < timedelta(seconds=2)
    assert clock_of(await handle.query(ComplaintWorkflow.snapshot), "CMP-6").overdue


async def test_a_sanction_writes_both_integrity_records_once_and_the_notice_closes_the_complaint(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = await today(temporal_env)
    handle, snapshot = await start(temporal_env, task_queue, complaint_input(received))
    await handle.execute_update(ComplaintWorkflow.accept, ComplaintAcceptance(supervisor))
    decide = ComplaintWorkflow.decide
    assert (
        await rejected(handle, decide, ComplaintDecision(supervisor, " ", "no_action")) == "findings_required"
    )
    assert await rejected(handle, decide, ComplaintDecision(supervisor, "x", "fine")) == "unknown_outcome"
    decided = await handle.execute_update(
        decide, ComplaintDecision(supervisor, "鉴定人应回避而未回避", "industry_discipline")
    )
    assert decided.stage == "decided" and decided.decision is not None
    assert decided.decision["outcome"] == "industry_discipline"
    notice = clock_of(decided, "CMP-7")
    assert (
        notice.due_on
        == WorkingCalendar().add_working_days(date.fromisoformat(received), 7).due_on.isoformat()
    )
    assert {(e.subject_kind, e.subject_id) for e in decided.integrity_entries} == {
        ("appraiser", APPRAISER.id),
        ("institution", INSTITUTION.id),
    }
    async with sessions() as session:
        rows = (await session.exec(select(IntegrityEntryRow))).all()
    assert {(r.subject_kind, r.subject_id, r.outcome, r.complaint_id) for r in rows} == {
        ("appraiser", APPRAISER.id, "industry_discipline", snapshot.id),
        ("institution", INSTITUTION.id, "industry_discipline", snapshot.id),
    }
    assert all(r.findings == "鉴定人应回避而未回避" and r.decided_on.isoformat() == received for r in rows)
    # The activity again (a retry): nothing is written twice.
    again = await ComplaintActivities(sessions).write_integrity_entries(
        IntegrityEntriesInput(entries=decided.integrity_entries)
    )
    assert again.written == 0

    notified = await handle.execute_update(
        ComplaintWorkflow.notify_parties, PartiesNotice(supervisor, method="挂号信")
    )
    assert notified.stage == "closed" and clock_of(notified, "CMP-7").stopped
    assert notified.notice == {"notified_on": received, "method": "挂号信"}
    final = await handle.result()
    assert final.stage == "closed"

    trail = await events(sessions, handle.id)
    assert [e.kind for e in trail] == [
        "complaint.registered",
        "complaint.accepted",
        "complaint.decided",
        "integrity.recorded",
        "complaint.parties_notified",
    ]
    assert all(e.commission_id == snapshot.id for e in trail)
    notice_event = trail[-1]
    assert notice_event.data["told"] == ["complainant", "respondent"]
    assert {r["remedy"] for r in notice_event.data["remedies"]} == {
        "administrative_review",
        "administrative_lawsuit",
    }
    verdict = verify_chain(trail, last_seq=final.last_event_seq, last_hash=final.last_hash, keys={})
    assert verdict.ok and verdict.events == 5
    async with sessions() as session:
        told = {
            (n.kind, n.receiver_role, n.receiver_id)
            for n in (
                await session.exec(select(Notification).where(Notification.workflow_id == handle.id))
            ).all()
        }
        row = await session.get(Complaint, snapshot.id)
    assert {
        ("complaint.parties_notified", "institution", INSTITUTION.id),
        ("complaint.parties_notified", "appraiser", APPRAISER.id),
    } <= told
    assert row is not None and row.stage == "closed" and row.last_event_seq == 5


async def test_the_notice_clock_fires_when_the_parties_are_not_told_in_time(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handle, _ = await start(temporal_env, task_queue, complaint_input(await today(temporal_env)))
    await handle.execute_update(ComplaintWorkflow.accept, ComplaintAcceptance(supervisor))
    decided = await handle.execute_update(
        ComplaintWorkflow.decide, ComplaintDecision(supervisor, "投诉事项查无实据", "no_action")
    )
    notice = clock_of(decided, "CMP-7")
    await sleep_past(temporal_env, notice.due_at)

    async def overdue() -> AuditEventRow | None:
        return await event_of(sessions, handle.id, "clock.overdue", "CMP-7")

    assert (await eventually(overdue)).data["due_on"] == notice.due_on
    notified = await handle.execute_update(ComplaintWorkflow.notify_parties, PartiesNotice(supervisor))
    late = clock_of(notified, "CMP-7")
    assert notified.stage == "closed" and late.stopped and late.overdue
    async with sessions() as session:
        assert (await session.exec(select(IntegrityEntryRow))).all() == []


async def test_a_decline_needs_a_cmp4_ground_and_ends_a_pause(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    received = await today(temporal_env)
    handle, _ = await start(temporal_env, task_queue, complaint_input(received))
    await handle.execute_update(
        ComplaintWorkflow.request_supplement, SupplementRequest(supervisor, "补充证据")
    )
    decline = ComplaintWorkflow.decline
    assert await rejected(handle, decline, ComplaintDecline(supervisor, "PROC-05-1", "x")) == "unknown_ground"
    assert await rejected(handle, decline, ComplaintDecline(supervisor, "CMP-4-3", " ")) == "reason_required"
    declined = await handle.execute_update(
        decline, ComplaintDecline(supervisor, "CMP-4-3", "仅对鉴定意见有异议，应通过诉讼程序解决")
    )
    clock = clock_of(declined, "CMP-5")
    assert declined.stage == "declined" and clock.stopped and not clock.paused and not clock.overdue
    assert declined.decline is not None and declined.decline["ground"] == "CMP-4-3"
    assert (await handle.result()).stage == "declined"


async def test_validators_refuse_before_anything_is_written(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    handle, _ = await start(temporal_env, task_queue, complaint_input(await today(temporal_env)))
    before = await recorded_events(handle)
    refusals = [
        (ComplaintWorkflow.decide, ComplaintDecision(supervisor, "x", "no_action"), "not_in_stage"),
        (ComplaintWorkflow.notify_parties, PartiesNotice(supervisor), "not_in_stage"),
        (ComplaintWorkflow.receive_supplement, SupplementReceipt(supervisor), "not_in_stage"),
        (ComplaintWorkflow.accept, ComplaintAcceptance(other_bureau), "wrong_actor"),
        (
            ComplaintWorkflow.accept,
            ComplaintAcceptance(supervisor, accepted_on="2000-01-01"),
            "date_out_of_range",
        ),
    ]
    for update, message, code in refusals:
        assert await rejected(handle, update, message) == code
    after = await recorded_events(handle)
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED" not in after[len(before) :]
    assert "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED" not in after[len(before) :]
    assert "EVENT_TYPE_MARKER_RECORDED" not in after[len(before) :]


@pytest.mark.parametrize("years_and_days", [(3, 1), (4, 0)])
async def test_a_time_barred_complaint_is_refused_and_nothing_is_written(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
    years_and_days: tuple[int, int],
) -> None:
    received = date.fromisoformat(await today(temporal_env))
    years, days = years_and_days
    knew = years_before(received, years) - timedelta(days=days)
    inp = complaint_input(received.isoformat(), knew_on=knew.isoformat())
    start_op = WithStartWorkflowOperation(
        ComplaintWorkflow.run,
        inp,
        id=workflow_id_for(inp.complaint_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await temporal_env.client.execute_update_with_start_workflow(
            ComplaintWorkflow.register, ComplaintRegistration(supervisor), start_workflow_operation=start_op
        )
    assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == "time_barred"
    assert refused.value.cause.details[0] == {"rule": "CMP-1"}
    handle = temporal_env.client.get_workflow_handle(workflow_id_for(inp.complaint_id))
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, ApplicationError) and failed.value.cause.type == "time_barred"
    assert await events(sessions, handle.id) == []


async def test_a_complaint_made_on_the_last_day_of_the_three_years_is_registered(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    received = date.fromisoformat(await today(temporal_env))
    knew = years_before(received, 3)
    _, snapshot = await start(
        temporal_env, task_queue, complaint_input(received.isoformat(), knew_on=knew.isoformat())
    )
    assert snapshot.stage == "awaiting_acceptance" and snapshot.knew_on == knew.isoformat()


async def test_loading_a_calendar_recomputes_running_complaints_too(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = await today(temporal_env)
    handle, registered = await start(temporal_env, task_queue, complaint_input(received))
    before = clock_of(registered, "CMP-5")
    due = date.fromisoformat(before.due_on)
    calendar = WorkingCalendar()
    extra = next(
        d
        for d in (due - timedelta(days=n) for n in range(10))
        if d > date.fromisoformat(received) and calendar.is_working_day(d) and d.weekday() < 5
    )
    package = calendar.schedule(extra.year)
    body = CalendarYearPut(
        rest_days=sorted(package.rest_days | {extra}),
        makeup_workdays=sorted(package.makeup_workdays),
        source="国务院办公厅关于部分节假日安排的通知 (test)",
    )

    async def project_settled() -> bool | None:
        async with sessions() as session:
            return True if await session.get(Complaint, registered.id) else None

    await eventually(project_settled)
    async with sessions() as session:
        await load_year(
            session=session,
            client=temporal_env.client,
            task_queue=task_queue,
            principal=supervisor,
            year=extra.year,
            body=body,
        )

    async def moved() -> str | None:
        due_on = clock_of(await handle.query(ComplaintWorkflow.snapshot), "CMP-5").due_on
        return due_on if due_on != before.due_on else None

    assert date.fromisoformat(await eventually(moved)) > due
