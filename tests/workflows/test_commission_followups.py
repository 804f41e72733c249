"""After acceptance and after issue: recusal, objections, supplementary
appraisal, correction and re-appraisal on the time-skipping server, with the
production worker writing to real PostgreSQL."""

from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.db.models import AuditEventRow
from appraisal.domain import testimony as tm
from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar
from appraisal.domain.commission import (
    AcceptanceDecision,
    ClosureRequest,
    CommissionSnapshot,
    EligibleAppraiser,
    IssueRequest,
    ReportSubmission,
    SignatureSubmission,
)
from appraisal.domain.objection import ObjectionForward, ObjectionReply, ObjectionResolution
from appraisal.domain.reappraisal import ReappraisalOrder
from appraisal.domain.recusal import RecusalDecision, RecusalRequest
from appraisal.domain.report_changes import CorrectionSubmission, SupplementaryRequest
from appraisal.seed import APPRAISERS, BUREAU
from appraisal.workflows import testimony as tw
from appraisal.workflows.commission import CommissionWorkflow
from tests.factories import (
    CLINICAL_APPRAISERS,
    ELSEWHERE,
    OTHER_INSTITUTION,
    RESERVE_APPRAISER,
    SENIOR_ELSEWHERE,
    appraiser_actor,
    commission_input,
    court_actor,
    head_actor,
    institution_actor,
)
from tests.workflows.test_commission_clocks import event_of
from tests.workflows.test_commission_workflow import eventually, settled_events, start, today

APPRAISER_IDS = [a.id for a in CLINICAL_APPRAISERS]
FIRST, SECOND = (appraiser_actor(a) for a in APPRAISER_IDS)
Handle = WorkflowHandle[CommissionWorkflow, CommissionSnapshot]


async def rejected(handle: Handle, update: object, message: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(update, message)  # type: ignore[call-overload]
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    return str(cause.type)


async def accepted(env: WorkflowEnvironment, task_queue: str, **overrides: object) -> Handle:
    received = await today(env)
    handle, _ = await start(env, task_queue, commission_input(received, bureau_id=BUREAU.id, **overrides))
    await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    return handle


async def issued(env: WorkflowEnvironment, task_queue: str) -> Handle:
    handle = await accepted(env, task_queue)
    await handle.execute_update(
        CommissionWorkflow.submit_report, ReportSubmission(FIRST, "检验所见……", "构成十级伤残")
    )
    await sign_and_issue(handle)
    return handle


async def sign_and_issue(handle: Handle) -> CommissionSnapshot:
    for actor in (FIRST, SECOND):
        await handle.execute_update(CommissionWorkflow.sign_report, SignatureSubmission(actor, "sign"))
    return await handle.execute_update(CommissionWorkflow.issue_report, IssueRequest(head_actor))


async def test_recusal_declared_and_granted_with_a_qualified_replacement(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    handle = await accepted(temporal_env, task_queue)
    snapshot = await handle.execute_update(
        CommissionWorkflow.request_recusal,
        RecusalRequest(SECOND, SECOND.organisation_id, "PROC-10-1", "表兄弟"),
    )
    recusal = snapshot.recusals[0]
    assert recusal.status == "pending" and recusal.requested_by_role == "appraiser"
    decision_clock = next(c for c in snapshot.clocks if c.rule == "PROC-11")
    assert decision_clock.budget_days == 3 and not decision_clock.stopped
    assert ("decide_recusal", "institution") in {(t.kind, t.assignee_role) for t in snapshot.open_tasks}

    court_request = RecusalRequest(court_actor, FIRST.organisation_id, "PROC-10-2", "曾鉴定")
    assert await rejected(handle, CommissionWorkflow.request_recusal, court_request) == "recusal_pending"
    someone_else = RecusalRequest(FIRST, SECOND.organisation_id, "PROC-10-1", "x")
    assert await rejected(handle, CommissionWorkflow.request_recusal, someone_else) == "wrong_actor"

    for replacement, code in [
        ("", "replacement_required"),
        (ELSEWHERE.id, "appraiser_not_qualified"),
        (FIRST.organisation_id, "duplicate_appraiser"),
        (SECOND.organisation_id, "appraiser_recused"),
    ]:
        decision = RecusalDecision(institution_actor, recusal.id, True, "回避成立", replacement)
        assert await rejected(handle, CommissionWorkflow.decide_recusal, decision) == code
    snapshot = await handle.execute_update(
        CommissionWorkflow.decide_recusal,
        RecusalDecision(institution_actor, recusal.id, True, "回避成立", RESERVE_APPRAISER.id),
    )
    assert snapshot.appraiser_ids == [FIRST.organisation_id, RESERVE_APPRAISER.id]
    assert snapshot.recusals[0].status == "granted"
    assert next(c for c in snapshot.clocks if c.rule == "PROC-11").stopped
    report = ReportSubmission(SECOND, "x", "y")
    assert await rejected(handle, CommissionWorkflow.submit_report, report) == "wrong_actor"


@pytest.mark.dated
async def test_recusal_undecided_climbs_the_ladder_and_a_refusal_tells_the_court(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handle = await accepted(temporal_env, task_queue)
    snapshot = await handle.execute_update(
        CommissionWorkflow.request_recusal,
        RecusalRequest(court_actor, FIRST.organisation_id, "PROC-10-2", "曾鉴定"),
    )
    due = next(c for c in snapshot.clocks if c.rule == "PROC-11").due_at
    await temporal_env.sleep(due - await temporal_env.get_current_time() + timedelta(minutes=1))

    async def overdue() -> AuditEventRow | None:
        event = await event_of(sessions, handle.id, "clock.overdue")
        return event if event and event.data["rule"] == "PROC-11" else None

    await eventually(overdue)
    snapshot = await handle.execute_update(
        CommissionWorkflow.decide_recusal, RecusalDecision(institution_actor, "1", False, "理由不成立")
    )
    assert snapshot.recusals[0].status == "denied"
    assert snapshot.appraiser_ids == APPRAISER_IDS
    decided = await eventually(lambda: event_of(sessions, handle.id, "recusal.decided"))
    assert decided.data["late"] is True


@pytest.mark.dated
async def test_objection_answered_in_writing_within_the_court_set_days(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handle = await issued(temporal_env, task_queue)
    reply_by = (date.fromisoformat(await today(temporal_env)) + timedelta(days=3)).isoformat()
    before = await settled_events(handle)
    for bad, code in [
        (ObjectionForward(FIRST, "被告", "异议", reply_by), "wrong_actor"),
        (ObjectionForward(court_actor, "被告", "异议", await today(temporal_env)), "date_out_of_range"),
        (ObjectionForward(court_actor, "", "异议", reply_by), "objection_incomplete"),
    ]:
        assert await rejected(handle, CommissionWorkflow.forward_objection, bad) == code
    assert await settled_events(handle) == before

    snapshot = await handle.execute_update(
        CommissionWorkflow.forward_objection, ObjectionForward(court_actor, "被告", "伤残等级过高", reply_by)
    )
    clock = next(c for c in snapshot.clocks if c.rule == "CRT-7")
    # The court's date, rolled to the next working day when it is a rest day (CAL-3).
    rolled = WorkingCalendar().add_natural_days(date.fromisoformat(await today(temporal_env)), 3).due_on
    assert clock.unit == "natural_day" and clock.due_on == rolled.isoformat()
    assert clock.court_set_on == (None if rolled.isoformat() == reply_by else reply_by)
    assert {(t.kind, t.assignee_id) for t in snapshot.open_tasks} >= {
        ("answer_objection", a) for a in APPRAISER_IDS
    }
    again = ObjectionForward(court_actor, "原告", "另一异议", reply_by)
    assert await rejected(handle, CommissionWorkflow.forward_objection, again) == "objection_pending"
    early = ObjectionResolution(court_actor, "1", "maintained")
    assert await rejected(handle, CommissionWorkflow.resolve_objection, early) == "objection_not_answered"

    await temporal_env.sleep(clock.due_at - await temporal_env.get_current_time() + timedelta(minutes=1))

    async def overdue() -> AuditEventRow | None:
        event = await event_of(sessions, handle.id, "clock.overdue")
        return event if event and event.data["rule"] == "CRT-7" else None

    await eventually(overdue)
    snapshot = await handle.execute_update(
        CommissionWorkflow.answer_objection, ObjectionReply(SECOND, "1", "依据《人体损伤致残程度分级》5.10")
    )
    objection = snapshot.objections[0]
    assert (
        objection.status == "answered" and objection.late and objection.replied_by == SECOND.organisation_id
    )
    assert ("resolve_objection", "court") in {(t.kind, t.assignee_role) for t in snapshot.open_tasks}
    snapshot = await handle.execute_update(
        CommissionWorkflow.resolve_objection,
        ObjectionResolution(court_actor, "1", "maintained", "预交出庭费"),
    )
    assert snapshot.objections[0].status == "maintained" and snapshot.stage == "issued"


async def test_supplementary_appraisal_makes_a_linked_second_version(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    handle = await issued(temporal_env, task_queue)
    bad = SupplementaryRequest(court_actor, "PROC-31-1", "x")
    assert await rejected(handle, CommissionWorkflow.request_supplementary, bad) == "unknown_ground"
    snapshot = await handle.execute_update(
        CommissionWorkflow.request_supplementary,
        SupplementaryRequest(court_actor, "PROC-30-1", "遗漏后续治疗费评估"),
    )
    assert snapshot.stage == "examining" and snapshot.supplementary is not None
    clock = next(c for c in snapshot.clocks if c.rule == "PROC-30")
    assert clock.budget_days == 30 and not clock.stopped
    assert {t.rule for t in snapshot.open_tasks if t.kind == "submit_report"} == {"PROC-30"}
    snapshot = await handle.execute_update(
        CommissionWorkflow.submit_report, ReportSubmission(FIRST, "补充检验所见", "后续治疗费约两万元")
    )
    assert snapshot.report is not None and snapshot.report.version == 2
    assert snapshot.report.kind == "supplementary" and snapshot.report.previous_version == 1
    assert [r.version for r in snapshot.earlier_reports] == [1]
    assert snapshot.earlier_reports[0].issued_at is not None
    assert next(c for c in snapshot.clocks if c.rule == "PROC-30").stopped
    snapshot = await sign_and_issue(handle)
    assert (
        snapshot.stage == "issued" and snapshot.report is not None and snapshot.report.issued_at is not None
    )


async def test_correction_keeps_the_opinion_and_collects_signatures_again(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    handle = await issued(temporal_env, task_queue)
    for bad, code in [
        (CorrectionSubmission(FIRST, "PROC-28-9", "x", "c", "构成十级伤残"), "not_correctable"),
        (
            CorrectionSubmission(FIRST, "PROC-28-1", "图片不清", "c", "构成九级伤残"),
            "correction_changes_opinion",
        ),
        (CorrectionSubmission(head_actor, "PROC-28-1", "图片不清", "c", "构成十级伤残"), "wrong_actor"),
    ]:
        assert await rejected(handle, CommissionWorkflow.submit_correction, bad) == code
    snapshot = await handle.execute_update(
        CommissionWorkflow.submit_correction,
        CorrectionSubmission(
            FIRST, "PROC-28-1", "附图三不清晰，重新附图", "检验所见（附图清晰）", "构成十级伤残"
        ),
    )
    assert snapshot.stage == "signing" and snapshot.report is not None
    assert snapshot.report.kind == "correction" and snapshot.report.version == 2
    assert (
        snapshot.report.signatures == []
        and snapshot.earlier_reports[0].content_hash != snapshot.report.content_hash
    )
    assert len(snapshot.earlier_reports[0].signatures) == 2
    assert (await sign_and_issue(handle)).stage == "issued"


async def test_reappraisal_supersedes_the_opinion_and_its_team_is_checked(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handle = await issued(temporal_env, task_queue)
    original = await handle.query(CommissionWorkflow.snapshot)
    order = ReappraisalOrder(court_actor, "new-commission", OTHER_INSTITUTION.id, "PROC-31-3", "应回避未回避")
    snapshot = await handle.execute_update(CommissionWorkflow.order_reappraisal, order)
    assert snapshot.opinion_status == "superseded" and snapshot.reappraisals == ["new-commission"]
    assert snapshot.refund is not None and snapshot.refund["rule"] == "PROC-35"
    again = await handle.execute_update(CommissionWorkflow.order_reappraisal, order)
    assert again.last_event_seq == snapshot.last_event_seq  # repeated: nothing new
    supplement = SupplementaryRequest(court_actor, "PROC-30-1", "x")
    assert (
        await rejected(handle, CommissionWorkflow.request_supplementary, supplement) == "opinion_superseded"
    )

    others = [a for a in APPRAISERS if a.institution_id == OTHER_INSTITUTION.id]
    new_handle, _ = await start(
        temporal_env,
        task_queue,
        commission_input(
            await today(temporal_env),
            institution_id=OTHER_INSTITUTION.id,
            eligible_appraisers=[EligibleAppraiser(a.id, a.name, a.senior_title) for a in others],
            reappraisal_of=original.id,
            excluded_appraiser_ids=original.appraiser_ids,
        ),
    )
    other_desk = institution_actor.__class__("institution", OTHER_INSTITUTION.id, "desk")
    juniors = [a.id for a in others if not a.senior_title and "forensic_clinical" in a.categories]
    cases = [
        (juniors[:2], "senior_title_required"),
        ([SENIOR_ELSEWHERE.id, APPRAISER_IDS[0]], "appraiser_not_qualified"),
    ]
    for team, code in cases:
        decision = AcceptanceDecision(other_desk, "accept", team)
        assert await rejected(new_handle, CommissionWorkflow.decide_acceptance, decision) == code
    snapshot = await new_handle.execute_update(
        CommissionWorkflow.decide_acceptance,
        AcceptanceDecision(other_desk, "accept", [SENIOR_ELSEWHERE.id, juniors[0]]),
    )
    assert snapshot.reappraisal_of == original.id and snapshot.stage == "examining"


async def test_an_appraiser_of_an_earlier_commission_on_the_matter_cannot_be_assigned(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    handle, _ = await start(
        temporal_env,
        task_queue,
        commission_input(await today(temporal_env), excluded_appraiser_ids=[APPRAISER_IDS[0]]),
    )
    decision = AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    assert (
        await rejected(handle, CommissionWorkflow.decide_acceptance, decision)
        == "appraiser_previously_appraised"
    )
    snapshot = await handle.execute_update(
        CommissionWorkflow.decide_acceptance,
        AcceptanceDecision(institution_actor, "accept", [APPRAISER_IDS[1], RESERVE_APPRAISER.id]),
    )
    assert snapshot.stage == "examining"


@pytest.mark.dated
async def test_testimony_runs_as_a_child_and_every_step_lands_in_the_commission_chain(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handle = await issued(temporal_env, task_queue)
    now = await temporal_env.get_current_time()
    hearing_at = (now + timedelta(days=2)).astimezone(CHINA_TZ)
    stranger = tm.TestimonySummons(court_actor, hearing_at, "第三法庭", [ELSEWHERE.id])
    assert await rejected(handle, CommissionWorkflow.summon_testimony, stranger) == "not_assigned"
    past = tm.TestimonySummons(court_actor, now - timedelta(hours=1), "第三法庭", APPRAISER_IDS)
    assert await rejected(handle, CommissionWorkflow.summon_testimony, past) == "date_out_of_range"

    snapshot = await handle.execute_update(
        CommissionWorkflow.summon_testimony,
        tm.TestimonySummons(court_actor, hearing_at, "第三法庭", APPRAISER_IDS),
    )
    assert snapshot.stage == "in_testimony"
    (testimony,) = snapshot.testimonies
    assert testimony["short_notice"]  # two days' notice: TST-3 not met
    assert {t.assignee_id for t in snapshot.open_tasks if t.assignee_role == "appraiser"} == set(
        APPRAISER_IDS
    )
    close = ClosureRequest(court_actor)
    assert await rejected(handle, CommissionWorkflow.close, close) == "not_in_stage"

    child = temporal_env.client.get_workflow_handle(
        tm.testimony_workflow_id(snapshot.id, testimony["testimony_id"]), result_type=tm.TestimonyResult
    )
    await child.execute_update(tw.TestimonyWorkflow.confirm, tm.TestimonyConfirmation(FIRST, "confirm"))
    await child.execute_update(
        tw.TestimonyWorkflow.confirm,
        tm.TestimonyConfirmation(SECOND, "decline", "TST-8-1", "通知不足三日，已有手术安排"),
    )
    await child.execute_update(
        tw.TestimonyWorkflow.rule_on_request,
        tm.TestimonyRuling(court_actor, SECOND.organisation_id, True, "准许"),
    )
    await temporal_env.sleep(hearing_at - await temporal_env.get_current_time() + timedelta(hours=2))
    await child.execute_update(
        tw.TestimonyWorkflow.record_outcome,
        tm.TestimonyOutcome(
            court_actor,
            {FIRST.organisation_id: "absent_without_valid_reason", SECOND.organisation_id: "excused"},
        ),
    )

    async def excluded() -> CommissionSnapshot | None:
        state = await handle.query(CommissionWorkflow.snapshot)
        return state if state.opinion_status == "excluded" else None

    state = await eventually(excluded)
    assert state.stage == "in_testimony"
    assert ("rule_on_testimony_refund", "court") in {(t.kind, t.assignee_role) for t in state.open_tasks}
    await child.execute_update(
        tw.TestimonyWorkflow.rule_on_refund, tm.RefundRuling(court_actor, True, "裁定退还鉴定费")
    )
    await child.result()

    async def back_to_issued() -> CommissionSnapshot | None:
        state = await handle.query(CommissionWorkflow.snapshot)
        return state if state.stage == "issued" else None

    await eventually(back_to_issued)
    await handle.execute_update(CommissionWorkflow.close, close)
    await handle.result()
    async with sessions() as session:
        events = (
            await session.exec(
                select(AuditEventRow)
                .where(AuditEventRow.workflow_id == handle.id)
                .order_by(col(AuditEventRow.seq))
            )
        ).all()
    kinds = [e.kind for e in events]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {
        "testimony.summoned",
        "testimony.confirmed",
        "testimony.outcome_recorded",
        "testimony.concluded",
    } <= set(kinds)
    assert (
        kinds.index("testimony.summoned")
        < kinds.index("testimony.outcome_recorded")
        < kinds.index("commission.closed")
    )
    assert all(
        e.data["testimony_id"] == testimony["testimony_id"] for e in events if e.kind.startswith("testimony.")
    )
