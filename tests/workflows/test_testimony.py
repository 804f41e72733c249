"""The court-testimony child workflow on the time-skipping server, with the
production worker (real activities, real PostgreSQL) and a small parent,
defined here, standing in for the commission: it starts the testimony as its
child and collects the `testimony_event` signals the commission records."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import workflow
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.db.models import IntegrityEntryRow

# Module aliases: pytest would try to collect the Test-prefixed names as test classes.
from appraisal.domain import testimony as tm
from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar, end_of_day, local_today
from appraisal.domain.clock import ClockPlanRequest, plan_clock
from appraisal.domain.commission import ClockSnapshot
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU
from appraisal.workflows import testimony as tw
from tests.factories import (
    CLINICAL_APPRAISERS,
    COURT,
    ELSEWHERE,
    INSTITUTION,
    OTHER_COURT,
    appraiser_actor,
    court_actor,
)
from tests.workflows.test_commission_workflow import eventually, recorded_events

pytestmark = pytest.mark.dated

A, B = (a.id for a in CLINICAL_APPRAISERS[:2])
other_court = Actor(Role.COURT, OTHER_COURT.id, "clerk")
Handle = WorkflowHandle[Any, Any]


@dataclass
class ParentInput:
    testimony: tm.TestimonyInput
    task_queue: str


@workflow.defn(sandboxed=False)
class CollectingParent:
    """What the commission does with its testimony child, minus the recording."""

    def __init__(self) -> None:
        self.events: list[tm.TestimonyEvent] = []

    @workflow.run
    async def run(self, inp: ParentInput) -> tm.TestimonyResult:
        t = inp.testimony
        return await workflow.execute_child_workflow(
            tw.TestimonyWorkflow.run,
            t,
            id=tm.testimony_workflow_id(t.commission_id, t.testimony_id),
            task_queue=inp.task_queue,
        )

    @workflow.signal(name="testimony_event")
    def testimony_event(self, event: tm.TestimonyEvent) -> None:
        self.events.append(event)

    @workflow.query
    def collected(self) -> list[tm.TestimonyEvent]:
        return self.events


@pytest.fixture
async def parent_worker(temporal_env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[str]:
    queue = f"{task_queue}-parent"
    async with Worker(temporal_env.client, task_queue=queue, workflows=[CollectingParent]):
        yield queue


@dataclass
class Summons:
    inp: tm.TestimonyInput
    parent: WorkflowHandle[CollectingParent, tm.TestimonyResult]
    child: Handle

    async def events(self) -> list[tm.TestimonyEvent]:
        return await self.parent.query(CollectingParent.collected)

    async def kinds(self) -> list[str]:
        return [e.kind for e in await self.events()]

    async def event(self, kind: str, count: int = 1) -> tm.TestimonyEvent:
        """The `count`-th event of that kind, once the parent has it."""

        async def probe() -> tm.TestimonyEvent | None:
            found = [e for e in await self.events() if e.kind == kind]
            return found[count - 1] if len(found) >= count else None

        return await eventually(probe)

    async def snapshot(self) -> tm.TestimonySnapshot:
        result: tm.TestimonySnapshot = await self.child.query(tw.TestimonyWorkflow.snapshot)
        return result

    async def update(self, update: Any, message: Any) -> tm.TestimonySnapshot:
        result: tm.TestimonySnapshot = await self.child.execute_update(update, message)
        return result

    async def rejected(self, update: Any, message: Any) -> str | None:
        try:
            await self.child.execute_update(update, message)
        except WorkflowUpdateFailedError as err:
            assert isinstance(err.cause, ApplicationError)
            return err.cause.type
        return None


def hearing_day(env_now: datetime, days_ahead: int) -> datetime:
    """09:30 in Chongqing, `days_ahead` local days from now."""
    return datetime.combine(local_today(env_now) + timedelta(days=days_ahead), time(9, 30), tzinfo=CHINA_TZ)


async def summon(
    env: WorkflowEnvironment,
    task_queue: str,
    parent_queue: str,
    days_ahead: int,
    case_kind: tm.CaseKind = tm.CaseKind.CIVIL,
) -> Summons:
    now = await env.get_current_time()
    commission_id = str(uuid.uuid4())
    inp = tm.TestimonyInput(
        commission_id=commission_id,
        parent_workflow_id=f"commission-{commission_id}",
        testimony_id=str(uuid.uuid4()),
        court_id=COURT.id,
        institution_id=INSTITUTION.id,
        bureau_id=BUREAU.id,
        court_reference=f"(2026)渝0103民初{uuid.uuid4().hex[:6]}号",
        appraiser_ids=[A, B],
        hearing_at=hearing_day(now, days_ahead),
        place="第三法庭",
        summoned_at=now.astimezone(CHINA_TZ),
        requirements="携带鉴定档案",
        reason="原告对鉴定意见有异议 (CRT-8)",
        summoned_by=court_actor,
        case_kind=case_kind,
    )
    parent = await env.client.start_workflow(
        CollectingParent.run, ParentInput(inp, task_queue), id=inp.parent_workflow_id, task_queue=parent_queue
    )
    child = env.client.get_workflow_handle(tm.testimony_workflow_id(commission_id, inp.testimony_id))
    summons = Summons(inp, parent, child)
    await summons.event("testimony.summoned")
    return summons


async def skip_to(env: WorkflowEnvironment, instant: datetime, by: timedelta = timedelta(0)) -> None:
    """Skips time to `instant + by` (a negative `by`: just before it)."""
    await env.sleep(instant + by - await env.get_current_time())


def answer(appraiser_id: str, response: str, ground: str = "", reason: str = "") -> tm.TestimonyConfirmation:
    return tm.TestimonyConfirmation(appraiser_actor(appraiser_id), response, ground, reason)


def tasks_of(snapshot: tm.TestimonySnapshot) -> set[tuple[str, str, str]]:
    return {(t.kind, t.assignee_role, t.assignee_id) for t in snapshot.open_tasks}


def told(event: tm.TestimonyEvent) -> set[tuple[str, str]]:
    return {(r.role, r.organisation_id) for r in event.notify}


def state_of(snapshot: tm.TestimonySnapshot, appraiser_id: str) -> str:
    appraiser = snapshot.appraiser(appraiser_id)
    assert appraiser is not None
    return appraiser.state


def clock_of(snapshot: tm.TestimonySnapshot, rule: str) -> ClockSnapshot:
    clock = snapshot.clock(rule)
    assert clock is not None
    return clock


async def test_short_notice_is_recorded_and_makes_late_notice_a_valid_ground(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker, parent_worker: str
) -> None:
    ample = await summon(temporal_env, task_queue, parent_worker, days_ahead=20)
    summoned = await ample.event("testimony.summoned")
    assert summoned.data["notice_days"] == 20 and summoned.data["short_notice"] is False
    assert summoned.actor == court_actor and summoned.seq == 1
    assert {("appraiser", A), ("appraiser", B), ("institution", INSTITUTION.id)} == told(summoned)
    late = answer(A, "decline", tm.LATE_NOTICE_GROUND, "通知过晚")
    assert await ample.rejected(tw.TestimonyWorkflow.confirm, late) == "notice_not_late"
    assert await ample.kinds() == ["testimony.summoned"]

    short = await summon(temporal_env, task_queue, parent_worker, days_ahead=2)
    summoned = await short.event("testimony.summoned")
    assert summoned.data["notice_days"] == 2 and summoned.snapshot.short_notice
    declined = await short.update(tw.TestimonyWorkflow.confirm, late)
    assert state_of(declined, A) == "decline_requested"
    event = await short.event("testimony.decline_requested")
    assert event.data["ground"] == tm.LATE_NOTICE_GROUND and event.actor == appraiser_actor(A)
    assert ("court", COURT.id) in told(event)
    assert ("rule_on_testimony_request", "court", COURT.id) in tasks_of(event.snapshot)
    # Summoned two days ahead, the 3-day reminder was already past: only the 1-day one comes.
    await skip_to(temporal_env, short.inp.hearing_at, timedelta(minutes=1))
    reminder = await short.event("testimony.reminder")
    assert reminder.data["reminder"] == "hearing_in_1_day"
    assert reminder.data["at"] == (short.inp.hearing_at - timedelta(days=1)).isoformat()
    assert [e.data["reminder"] for e in await short.events() if e.kind == "testimony.reminder"] == [
        "hearing_in_1_day"
    ]
    # Once the hearing has begun nobody can still answer; the court records what happened.
    assert await short.rejected(tw.TestimonyWorkflow.confirm, answer(B, "confirm")) == "hearing_passed"
    assert clock_of(await short.snapshot(), "TST-7").stopped


async def test_validators_reject_what_is_not_allowed_now_before_history(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker, parent_worker: str
) -> None:
    s = await summon(temporal_env, task_queue, parent_worker, days_ahead=6)
    confirm, rule = tw.TestimonyWorkflow.confirm, tw.TestimonyWorkflow.rule_on_request
    outcome, refund = tw.TestimonyWorkflow.record_outcome, tw.TestimonyWorkflow.rule_on_refund
    before = await recorded_events(s.child)
    assert await s.rejected(confirm, answer(ELSEWHERE.id, "confirm")) == "wrong_actor"
    assert await s.rejected(confirm, answer(A, "maybe")) == "unknown_response"
    assert await s.rejected(confirm, answer(A, "decline", "TST-8-9", "其他")) == "unknown_ground"
    assert await s.rejected(confirm, answer(A, "decline", "TST-8-2", " ")) == "reason_required"
    assert await s.rejected(confirm, answer(A, "confirm", "TST-8-2")) == "ground_not_applicable"
    assert await s.rejected(confirm, answer(A, "remote")) == "reason_required"
    assert await s.rejected(rule, tm.TestimonyRuling(court_actor, A, allow=True)) == "no_pending_request"
    assert (
        await s.rejected(rule, tm.TestimonyRuling(court_actor, ELSEWHERE.id, allow=True))
        == "unknown_appraiser"
    )
    appeared = {A: "appeared", B: "appeared"}
    assert await s.rejected(outcome, tm.TestimonyOutcome(court_actor, appeared)) == "hearing_not_held"
    assert await s.rejected(refund, tm.RefundRuling(court_actor, ordered=True)) == "no_refund_ruling_due"
    assert await recorded_events(s.child) == before
    assert await s.kinds() == ["testimony.summoned"]

    await s.update(confirm, answer(A, "decline", "TST-8-2", "住院手术"))
    assert await s.rejected(confirm, answer(A, "confirm")) == "already_answered"
    assert await s.rejected(rule, tm.TestimonyRuling(other_court, A, allow=True)) == "wrong_actor"
    ruled = await s.update(rule, tm.TestimonyRuling(court_actor, A, allow=True, note="准许"))
    assert state_of(ruled, A) == "excused"
    await s.update(confirm, answer(B, "remote", reason="异地，申请视频出庭"))
    refused = await s.update(rule, tm.TestimonyRuling(court_actor, B, allow=False, note="须到庭"))
    assert state_of(refused, B) == "appearance_required"
    assert ("appear_in_court", "appraiser", B) in tasks_of(refused)
    assert ("confirm_testimony", "appraiser", A) not in tasks_of(refused)

    await skip_to(temporal_env, s.inp.hearing_at, timedelta(minutes=1))
    await s.event("testimony.reminder", count=2)
    reminders = [e for e in await s.events() if e.kind == "testimony.reminder"]
    # A was excused: only B is reminded of the hearing.
    assert [e.data["appraiser_ids"] for e in reminders] == [[B], [B]]
    before = await recorded_events(s.child)
    assert await s.rejected(outcome, tm.TestimonyOutcome(court_actor, {A: "excused"})) == "results_incomplete"
    assert (
        await s.rejected(outcome, tm.TestimonyOutcome(court_actor, {A: "excused", B: "late"}))
        == "unknown_result"
    )
    assert (
        await s.rejected(outcome, tm.TestimonyOutcome(court_actor, {**appeared, ELSEWHERE.id: "appeared"}))
        == "unknown_appraiser"
    )
    excused_absent = {A: "absent_without_valid_reason", B: "appeared"}
    assert await s.rejected(outcome, tm.TestimonyOutcome(court_actor, excused_absent)) == "excused_by_ruling"
    assert await s.rejected(outcome, tm.TestimonyOutcome(other_court, appeared)) == "wrong_actor"
    assert await recorded_events(s.child) == before


async def test_reminders_fire_at_their_instants(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker, parent_worker: str
) -> None:
    s = await summon(temporal_env, task_queue, parent_worker, days_ahead=20)
    summoned_on = local_today(s.inp.summoned_at)
    sla_ends = end_of_day(WorkingCalendar().add_working_days(summoned_on, 2).due_on)
    snapshot = await s.snapshot()
    assert clock_of(snapshot, "TST-7").due_at == sla_ends
    assert {("confirm_testimony", "appraiser", A), ("confirm_testimony", "appraiser", B)} <= tasks_of(
        snapshot
    )
    await s.update(tw.TestimonyWorkflow.confirm, answer(A, "confirm"))

    await skip_to(temporal_env, sla_ends, -timedelta(minutes=1))
    assert "testimony.confirmation_overdue" not in await s.kinds()
    await skip_to(temporal_env, sla_ends, timedelta(seconds=1))
    overdue = await s.event("testimony.confirmation_overdue")
    assert overdue.data["rung_at"] == sla_ends.isoformat() and overdue.data["unanswered"] == [B]
    assert overdue.occurred_at is not None and abs(overdue.occurred_at - sla_ends) < timedelta(seconds=1)
    assert told(overdue) == {("appraiser", B), ("institution_head", INSTITUTION.id)}
    assert ("overdue_escalation", "institution_head", INSTITUTION.id) in tasks_of(overdue.snapshot)

    for count, (name, days) in enumerate(tm.HEARING_REMINDERS, start=1):
        at = s.inp.hearing_at - timedelta(days=days)
        await skip_to(temporal_env, at, -timedelta(minutes=1))
        assert name not in [e.data.get("reminder") for e in await s.events()]
        await skip_to(temporal_env, at, timedelta(seconds=1))
        reminder = await s.event("testimony.reminder", count=count)
        assert reminder.data["reminder"] == name and reminder.data["at"] == at.isoformat()
        assert reminder.data["appraiser_ids"] == [A, B]
        assert reminder.occurred_at is not None and abs(reminder.occurred_at - at) < timedelta(seconds=1)
    # B answers late: the SLA clock stops, still overdue.
    answered = await s.update(tw.TestimonyWorkflow.confirm, answer(B, "confirm"))
    clock = clock_of(answered, "TST-7")
    assert clock.stopped and clock.overdue
    events = await s.events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_the_court_is_reminded_to_record_the_outcome_a_day_after_the_hearing(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker, parent_worker: str
) -> None:
    s = await summon(temporal_env, task_queue, parent_worker, days_ahead=4)
    await s.update(tw.TestimonyWorkflow.confirm, answer(A, "confirm"))
    await s.update(tw.TestimonyWorkflow.confirm, answer(B, "confirm"))
    at = s.inp.hearing_at + tm.OUTCOME_REMINDER_AFTER
    await skip_to(temporal_env, at, -timedelta(minutes=1))
    assert "testimony.outcome_reminder" not in await s.kinds()
    await skip_to(temporal_env, at, timedelta(seconds=1))
    reminder = await s.event("testimony.outcome_reminder")
    assert told(reminder) == {("court", COURT.id)} and reminder.data["at"] == at.isoformat()
    assert ("record_testimony_outcome", "court", COURT.id) in tasks_of(reminder.snapshot)


async def test_no_outcome_reminder_once_the_outcome_is_recorded(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker, parent_worker: str
) -> None:
    s = await summon(temporal_env, task_queue, parent_worker, days_ahead=4)
    await s.update(tw.TestimonyWorkflow.confirm, answer(A, "confirm"))
    await s.update(tw.TestimonyWorkflow.confirm, answer(B, "confirm"))
    await skip_to(temporal_env, s.inp.hearing_at, timedelta(hours=2))
    results = {A: "appeared", B: "absent_without_valid_reason"}
    recorded = await s.update(tw.TestimonyWorkflow.record_outcome, tm.TestimonyOutcome(court_actor, results))
    assert recorded.stage == "awaiting_refund_ruling"  # still running past the reminder's instant
    await skip_to(temporal_env, s.inp.hearing_at + tm.OUTCOME_REMINDER_AFTER, timedelta(minutes=1))
    # The ruling comes after the reminder's instant, so the testimony has passed it when it ends.
    await s.update(tw.TestimonyWorkflow.rule_on_refund, tm.RefundRuling(court_actor, ordered=True))
    await s.event("testimony.concluded")
    assert "testimony.outcome_reminder" not in await s.kinds()


async def test_refusal_to_testify_excludes_the_opinion_refers_records_and_starts_the_refund_ruling(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    parent_worker: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    s = await summon(temporal_env, task_queue, parent_worker, days_ahead=5)
    for appraiser_id in (A, B):
        await s.update(tw.TestimonyWorkflow.confirm, answer(appraiser_id, "confirm"))
    await skip_to(temporal_env, s.inp.hearing_at, timedelta(hours=3))
    results = {A: "appeared", B: "absent_without_valid_reason"}
    recorded = await s.update(
        tw.TestimonyWorkflow.record_outcome, tm.TestimonyOutcome(court_actor, results, note="B 经传唤未到庭")
    )
    assert recorded.excluded_from_fact_finding and recorded.stage == "awaiting_refund_ruling"
    assert recorded.results == results and recorded.penalty_referred == [B]
    ruled_from = local_today(await temporal_env.get_current_time())
    refund_clock = clock_of(recorded, "TST-4")
    expected = WorkingCalendar().add_natural_days(ruled_from, 3)
    assert refund_clock.due_on == expected.due_on.isoformat() and refund_clock.unit == "natural_day"
    assert ("rule_on_testimony_refund", "court", COURT.id) in tasks_of(recorded)

    kinds = await s.kinds()
    assert kinds[-3:] == [
        "testimony.outcome_recorded",
        "testimony.opinion_excluded",
        "testimony.penalty_referred",
    ]
    excluded = await s.event("testimony.opinion_excluded")
    assert excluded.data["appraiser_ids"] == [B] and excluded.snapshot.excluded_from_fact_finding
    referral = await s.event("testimony.penalty_referred")
    assert ("supervisor", BUREAU.id) in told(referral) and referral.data["bureau_id"] == BUREAU.id
    assert referral.data["integrity_entries_written"] == 1
    async with sessions() as session:
        rows = (
            await session.exec(
                select(IntegrityEntryRow).where(IntegrityEntryRow.complaint_id == s.inp.testimony_id)
            )
        ).all()
    assert [(r.subject_kind, r.subject_id, r.rule, r.outcome, r.bureau_id) for r in rows] == [
        ("appraiser", B, "TST-9", tm.REFUSED_TO_TESTIFY, BUREAU.id)
    ]
    assert rows[0].decided_on == ruled_from

    # The court does not rule within 3 days: it is told at the deadline, the bureau 5 working days on.
    plan = plan_clock(WorkingCalendar(), ClockPlanRequest("TST-4", ruled_from.isoformat(), 3))
    assert [r.kind for r in plan.rungs] == ["overdue", "escalation"]
    assert plan.rungs[0].at == expected.due_at
    for rung in plan.rungs:
        await skip_to(temporal_env, rung.at, -timedelta(minutes=1))
        assert f"testimony.refund_ruling_{rung.kind}" not in await s.kinds()
        await skip_to(temporal_env, rung.at, timedelta(seconds=1))
        fired = await s.event(f"testimony.refund_ruling_{rung.kind}")
        assert fired.data["rung_at"] == rung.at.isoformat() and fired.data["rule"] == "TST-4"
        assert ("court", COURT.id) in told(fired)
    escalation = await s.event("testimony.refund_ruling_escalation")
    assert ("supervisor", BUREAU.id) in told(escalation)
    assert ("overdue_escalation", "supervisor", BUREAU.id) in tasks_of(escalation.snapshot)
    assert clock_of(escalation.snapshot, "TST-4").overdue

    # Late, and still possible: the ruling ends the testimony.
    ruled = await s.update(
        tw.TestimonyWorkflow.rule_on_refund, tm.RefundRuling(court_actor, ordered=True, note="退还")
    )
    assert ruled.refund_ruling is not None and ruled.refund_ruling["ordered"] and ruled.refund_ruling["late"]
    result = await s.parent.result()
    assert result.snapshot.stage == "concluded" and result.snapshot.open_tasks == []
    events = await s.events()
    assert [e.kind for e in events][-2:] == ["testimony.refund_ruled", "testimony.concluded"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].snapshot.excluded_from_fact_finding


async def test_in_a_criminal_case_a_refusal_excludes_the_opinion_without_a_refund_ruling(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    parent_worker: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    s = await summon(temporal_env, task_queue, parent_worker, days_ahead=5, case_kind=tm.CaseKind.CRIMINAL)
    assert (await s.event("testimony.summoned")).data["case_kind"] == "criminal"
    for appraiser_id in (A, B):
        await s.update(tw.TestimonyWorkflow.confirm, answer(appraiser_id, "confirm"))
    await skip_to(temporal_env, s.inp.hearing_at, timedelta(hours=3))
    results = {A: "appeared", B: "absent_without_valid_reason"}
    await s.update(tw.TestimonyWorkflow.record_outcome, tm.TestimonyOutcome(court_actor, results))
    result = await s.parent.result()
    snapshot = result.snapshot
    assert snapshot.stage == "concluded" and snapshot.excluded_from_fact_finding
    assert snapshot.case_kind == "criminal" and snapshot.penalty_referred == [B]
    assert snapshot.clock("TST-4") is None and snapshot.refund_ruling is None
    assert not [t for t in snapshot.open_tasks if t.kind == "rule_on_testimony_refund"]
    kinds = await s.kinds()
    assert kinds[-4:] == [
        "testimony.outcome_recorded",
        "testimony.opinion_excluded",
        "testimony.penalty_referred",
        "testimony.concluded",
    ]
    excluded = await s.event("testimony.opinion_excluded")
    assert excluded.data["rule"] == "TST-6" and "refund_ruling_due_on" not in excluded.data
    assert "conviction" in excluded.message
    async with sessions() as session:
        rows = (
            await session.exec(
                select(IntegrityEntryRow).where(IntegrityEntryRow.complaint_id == s.inp.testimony_id)
            )
        ).all()
    assert [(r.subject_id, r.rule) for r in rows] == [(B, "TST-9")]


async def test_the_testimony_ends_with_the_outcome_when_nobody_refused(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    parent_worker: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    s = await summon(temporal_env, task_queue, parent_worker, days_ahead=4)
    await s.update(tw.TestimonyWorkflow.confirm, answer(A, "confirm"))
    await s.update(tw.TestimonyWorkflow.confirm, answer(B, "remote", reason="外地，申请视频作证"))
    await s.update(tw.TestimonyWorkflow.rule_on_request, tm.TestimonyRuling(court_actor, B, allow=True))
    await skip_to(temporal_env, s.inp.hearing_at, timedelta(hours=2))
    results = {A: "appeared", B: "appeared_remotely"}
    await s.update(tw.TestimonyWorkflow.record_outcome, tm.TestimonyOutcome(court_actor, results))
    result = await s.parent.result()
    assert result.snapshot.results == results and not result.snapshot.excluded_from_fact_finding
    assert result.snapshot.clock("TST-4") is None and result.snapshot.refund_ruling is None
    kinds = await s.kinds()
    assert kinds[-2:] == ["testimony.outcome_recorded", "testimony.concluded"]
    assert "testimony.penalty_referred" not in kinds
    async with sessions() as session:
        assert (await session.exec(select(IntegrityEntryRow))).all() == []
