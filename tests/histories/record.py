"""Records the workflow histories that tests/test_replay.py replays.

Runs the production worker against the time-skipping Temporal test server and
a throw-away embedded PostgreSQL (migrated, demo registry seeded), drives
each scenario below and writes each workflow's history to
tests/histories/<name>.json:

- happy_path: entrust, accept, report, sign and dissent, issue, close;
- materials_and_extension: a pause for materials three days long, then the
  extension (left running, as at an upgrade);
- overdue_escalated: untouched until the escalation rung fires, then
  re-entrusted elsewhere by the court (CRT-5);
- calendar_reload and calendar_recomputed_commission: an official schedule
  loaded while a commission examines; the reload workflow and the commission
  that recomputed its deadline (left running, as at an upgrade);
- withdrawn and terminated: withdrawn by the court before acceptance;
  terminated by the institution while examining;
- daily_anchor: one day's anchor of the hash chains (and anchor_delivery: its courts' copies);
- recusal: an appraiser declares a recusal, the institution grants it with
  a reserve appraiser (left running);
- after_issue and after_issue_testimony: after issue, an objection answered
  and maintained; a testimony summoned at short notice (one appraiser
  confirms, the other is excused, the one who stays away leads to a refund
  ruling), the child's history beside the commission's; a supplementary
  report, a correction, then closure;
- reappraisal: issued, then a re-appraisal ordered (left running);
- complaint: a complaint registered, accepted, decided with a sanction and
  the parties notified;
- paper_commission: brought in from paper already overdue (the rungs wait for
  the catch-up window, then fire), then accepted, paused and supplied on paper
  (left running);
- registry_exit_commission and registry_exit_fan_out: an appraiser records a signed
  attempt to interfere, the bureau reviews it; the institution is suspended until the next
  day, its commission barred and the court tasked (EXIT-1), then the suspension's end
  restores it (the commission left running; the fan-out's last run, the restoration);
- penalty_case: a penalty case filed, investigated, notified, heard, decided (a suspension)
  and served, its outcome in the registry.
- criminal_case: entrusted by a public security organ (ENT-1), issued, the
  suspect and the victim told (PROC-36), an application refused in custody and
  the applicant told in writing (CAL-4), a supplementary appraisal granted on
  another, the case handed over to the procuratorate (ENT-4) (left running).
- sealed_report: a report with the statutory sections, signed and dissented,
  issued (numbered in the institution's series, sealed beside the main path,
  the seal recorded), corrected and issued again, then closed.
- admission and admission_under_review: a new institution's application corrected
  once, accepted, reviewed by a panel drawn at random (one expert recused and
  replaced), the decision extended once and approved; an appraiser's application
  left with its panel reviewing (running, as at an upgrade);
- integrity_evaluation: last year's evaluation self-assessed by every institution,
  a grade adjusted, published for objection, an objection decided once the period
  closed by itself, the grades confirmed and published.
- parties_and_fees, fee_refunded and party_complaint: two parties registered, the
  fee quoted to one of them, accepted and prepaid (CRT-1), the materials a party
  offered supplied by the court, issued, released to the parties, a party's
  objection forwarded (left running); a fee paid by the court and refunded after a
  withdrawal (FEE-3), the workflow waiting for the refund (FEE-2) and ending with
  it; a complaint filed by a party, decided as a fee violation (REG-5).

Re-record only on purpose (a new path worth guarding), never to make the
replay test pass after a workflow change: a failing replay means running
commissions would break (see docs/operations.md). Name the scenarios to
record only those and leave the other files as they are (no names: all):

    .venv/bin/python -m tests.histories.record recusal after_issue
"""

import asyncio
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from appraisal.core.seal import SealLoader
from appraisal.core.signing import demo_private_key, interference_message, sign
from appraisal.core.temporal import register_search_attributes
from appraisal.db.engine import session_factory
from appraisal.db.migrate import upgrade_async
from appraisal.db.models import RegistryExit
from appraisal.domain import testimony as tm
from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar, local_today
from appraisal.domain.clock import ClockPlanRequest, plan_clock
from appraisal.domain.commission import (
    AcceptanceDecision,
    ClosureRequest,
    CommissionSnapshot,
    ExtensionRequest,
    IssueRequest,
    MaterialRequest,
    MaterialSupply,
    ReassignmentRequest,
    RegistrationRequest,
    ReportSubmission,
    SignatureSubmission,
    TerminationRequest,
    WithdrawalRequest,
)
from appraisal.domain.complaint import (
    ComplaintAcceptance,
    ComplaintDecision,
    ComplaintRegistration,
    PartiesNotice,
)
from appraisal.domain.complaint import workflow_id_for as complaint_workflow_id
from appraisal.domain.criminal import (
    ApplicantNotice,
    ApplicationDecision,
    ApplicationReceipt,
    CaseTransferRecord,
    NotifiedPerson,
    OpinionNotice,
)
from appraisal.domain.exit import InterferenceReport, InterferenceReview, exit_workflow_id
from appraisal.domain.fees import FeeAnswer, FeeItem, FeePayment, FeeQuote, RefundRecord
from appraisal.domain.materials import Material
from appraisal.domain.objection import ObjectionForward, ObjectionReply, ObjectionResolution
from appraisal.domain.parties import PartyRecord, PartyRegistration, PartyRequest, ReportRelease
from appraisal.domain.penalty import (
    DecisionService,
    HearingRecord,
    HearingSchedule,
    Investigation,
    PartyStatement,
    PenaltyDecision,
    ProposedPenalty,
)
from appraisal.domain.reappraisal import ReappraisalOrder
from appraisal.domain.recusal import RecusalDecision, RecusalRequest
from appraisal.domain.report_changes import CorrectionSubmission, SupplementaryRequest
from appraisal.domain.roles import Actor, Role
from appraisal.embedded import EmbeddedPostgres
from appraisal.schemas.commission import CalendarYearPut
from appraisal.schemas.registry import RegistryStatusCreate
from appraisal.seed import BUREAU, POLICE, PROCURATORATES, seed_demo
from appraisal.services import exit as exits
from appraisal.services import registry
from appraisal.services.calendar import load_year
from appraisal.worker import build_worker
from appraisal.workflows.anchor import DailyAnchorInput, DailyAnchorWorkflow, delivery_workflow_id
from appraisal.workflows.calendar import CalendarReloadResult
from appraisal.workflows.commission import CommissionWorkflow, workflow_id_for
from appraisal.workflows.complaint import ComplaintWorkflow
from appraisal.workflows.penalty import PenaltyWorkflow
from appraisal.workflows.testimony import TestimonyWorkflow
from tests.conftest import free_port, time_skipping_server_path
from tests.factories import (
    CLINICAL_APPRAISERS,
    INSTITUTION,
    OTHER_INSTITUTION,
    RESERVE_APPRAISER,
    appraiser_actor,
    commission_input,
    court_actor,
    head_actor,
    institution_actor,
    signature,
)
from tests.workflows import test_admission_workflow as adm
from tests.workflows import test_evaluation_workflow as evl
from tests.workflows.test_commission_workflow import eventually, start, today
from tests.workflows.test_complaint_workflow import complaint_input, supervisor
from tests.workflows.test_complaint_workflow import start as start_complaint
from tests.workflows.test_penalty_workflow import bureau as penalty_bureau
from tests.workflows.test_penalty_workflow import case_input as penalty_input
from tests.workflows.test_penalty_workflow import file as file_penalty

HERE = Path(__file__).resolve().parent
APPRAISER_IDS = [a.id for a in CLINICAL_APPRAISERS]

Handle = WorkflowHandle[Any, Any]
Scenario = Callable[
    [WorkflowEnvironment, str, async_sessionmaker[AsyncSession]], Awaitable[dict[str, Handle]]
]


async def _report_to_closure(handle: WorkflowHandle[CommissionWorkflow, CommissionSnapshot]) -> None:
    first, second = (appraiser_actor(a) for a in APPRAISER_IDS)
    submitted = await handle.execute_update(
        CommissionWorkflow.submit_report, ReportSubmission(first, "检验所见……", "被鉴定人之损伤构成十级伤残")
    )
    assert submitted.report is not None
    content_hash = submitted.report.content_hash
    await handle.execute_update(
        CommissionWorkflow.sign_report,
        SignatureSubmission(first, "sign", signature=signature(first.organisation_id, content_hash)),
    )
    statement = "伤残等级应为九级"
    await handle.execute_update(
        CommissionWorkflow.sign_report,
        SignatureSubmission(
            second,
            "dissent",
            statement=statement,
            signature=signature(second.organisation_id, content_hash, "dissent", statement),
        ),
    )
    await handle.execute_update(CommissionWorkflow.issue_report, IssueRequest(head_actor))
    await handle.execute_update(CommissionWorkflow.close, ClosureRequest(court_actor))
    assert (await handle.result()).stage == "closed"


async def happy_path(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    received = await today(env)
    handle, _ = await start(env, task_queue, commission_input(received))
    await handle.execute_update(
        CommissionWorkflow.decide_acceptance,
        AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS, agreement_effective_on=received),
    )
    await _report_to_closure(handle)
    return {"happy_path": handle}


async def materials_and_extension(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    handle, _ = await start(env, task_queue, commission_input(await today(env)))
    await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    paused = await handle.execute_update(
        CommissionWorkflow.request_materials,
        MaterialRequest(appraiser_actor(APPRAISER_IDS[0]), "补充影像资料"),
    )
    assert paused.stage == "awaiting_materials"
    await env.sleep(timedelta(days=3))
    resumed = await handle.execute_update(
        CommissionWorkflow.supply_materials, MaterialSupply(court_actor, received_on=await today(env))
    )
    assert resumed.stage == "examining"
    extended = await handle.execute_update(
        CommissionWorkflow.extend_examination, ExtensionRequest(head_actor, 10, "案情复杂，需会诊")
    )
    assert next(c for c in extended.clocks if c.rule == "PROC-17").extended
    return {"materials_and_extension": handle}  # left examining: running, as at an upgrade


async def overdue_escalated(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    received = await today(env)
    handle, _ = await start(env, task_queue, commission_input(received, bureau_id=BUREAU.id))
    plan = plan_clock(WorkingCalendar(), ClockPlanRequest("PROC-03", received, 7))
    escalation = next(r for r in plan.rungs if r.kind == "escalation")
    await env.sleep(escalation.at - await env.get_current_time() + timedelta(seconds=1))

    async def escalated() -> bool | None:
        clock = (await handle.query(CommissionWorkflow.snapshot)).clocks[0]
        return True if "escalation" in clock.rungs_fired else None

    await eventually(escalated)
    await handle.execute_update(
        CommissionWorkflow.reassign,
        ReassignmentRequest(court_actor, str(uuid.uuid4()), OTHER_INSTITUTION.id, "逾期未完成鉴定"),
    )
    assert (await handle.result()).stage == "reassigned"
    return {"overdue_escalated": handle}


async def calendar_reload(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    received = await today(env)
    handle, _ = await start(env, task_queue, commission_input(received))
    accepted = await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    due_on = date.fromisoformat(next(c for c in accepted.clocks if c.rule == "PROC-17").due_on)
    calendar = WorkingCalendar()
    package = calendar.schedule(due_on.year)
    # One more weekday off before the deadline: the deadline moves one working day later.
    extra = next(
        d
        for d in (due_on - timedelta(days=n) for n in range(40))
        if d.year == due_on.year
        and d > date.fromisoformat(received)
        and calendar.is_working_day(d)
        and d.weekday() < 5
    )
    async with sessions() as session:
        loaded = await load_year(
            session=session,
            client=env.client,
            task_queue=task_queue,
            principal=Actor(Role.SUPERVISOR, BUREAU.id, "inspector"),
            year=due_on.year,
            body=CalendarYearPut(
                rest_days=sorted(package.rest_days | {extra}),
                makeup_workdays=sorted(package.makeup_workdays),
                source="国务院办公厅关于部分节假日安排的通知 (recorded)",
            ),
        )
    assert loaded.reload_workflow_id
    reload = env.client.get_workflow_handle(loaded.reload_workflow_id, result_type=CalendarReloadResult)
    assert (await reload.result()).signalled >= 1

    async def moved() -> bool | None:
        state = await handle.query(CommissionWorkflow.snapshot)
        return (
            True if next(c for c in state.clocks if c.rule == "PROC-17").due_on > due_on.isoformat() else None
        )

    await eventually(moved)
    return {"calendar_reload": reload, "calendar_recomputed_commission": handle}


async def withdrawn_and_terminated(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    received = await today(env)
    withdrawn, _ = await start(env, task_queue, commission_input(received))
    await withdrawn.execute_update(CommissionWorkflow.withdraw, WithdrawalRequest(court_actor, "当事人和解"))
    terminated, _ = await start(env, task_queue, commission_input(received))
    await terminated.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    await terminated.execute_update(
        CommissionWorkflow.terminate, TerminationRequest(institution_actor, "PROC-20-5", "不可抗力")
    )
    for handle in (withdrawn, terminated):
        await handle.result()
    return {"withdrawn": withdrawn, "terminated": terminated}


async def daily_anchor(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    day = local_today(await env.get_current_time()).isoformat()
    handle = await env.client.start_workflow(
        DailyAnchorWorkflow.run, DailyAnchorInput(day=day), id=f"anchor-{day}", task_queue=task_queue
    )
    await handle.result()
    delivery = env.client.get_workflow_handle(delivery_workflow_id(day))
    await delivery.result()
    return {"daily_anchor": handle, "anchor_delivery": delivery}


CommissionHandle = WorkflowHandle[CommissionWorkflow, CommissionSnapshot]


async def _accepted(env: WorkflowEnvironment, task_queue: str) -> CommissionHandle:
    handle, _ = await start(env, task_queue, commission_input(await today(env), bureau_id=BUREAU.id))
    await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    return handle


async def _sign_and_issue(handle: CommissionHandle, content_hash: str) -> CommissionSnapshot:
    for actor in (appraiser_actor(a) for a in APPRAISER_IDS):
        await handle.execute_update(
            CommissionWorkflow.sign_report,
            SignatureSubmission(actor, "sign", signature=signature(actor.organisation_id, content_hash)),
        )
    return await handle.execute_update(CommissionWorkflow.issue_report, IssueRequest(head_actor))


async def _issued(env: WorkflowEnvironment, task_queue: str) -> CommissionHandle:
    handle = await _accepted(env, task_queue)
    submitted = await handle.execute_update(
        CommissionWorkflow.submit_report,
        ReportSubmission(appraiser_actor(APPRAISER_IDS[0]), "检验所见……", "构成十级伤残"),
    )
    assert submitted.report is not None
    assert (await _sign_and_issue(handle, submitted.report.content_hash)).stage == "issued"
    return handle


async def recusal(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    handle = await _accepted(env, task_queue)
    declaring = appraiser_actor(APPRAISER_IDS[1])
    requested = await handle.execute_update(
        CommissionWorkflow.request_recusal,
        RecusalRequest(declaring, declaring.organisation_id, "PROC-10-1", "被鉴定人系其表兄弟"),
    )
    granted = await handle.execute_update(
        CommissionWorkflow.decide_recusal,
        RecusalDecision(institution_actor, requested.recusals[0].id, True, "回避成立", RESERVE_APPRAISER.id),
    )
    assert granted.appraiser_ids == [APPRAISER_IDS[0], RESERVE_APPRAISER.id]
    return {"recusal": handle}  # left examining with the new team: running, as at an upgrade


async def _testimony_with_refund_ruling(env: WorkflowEnvironment, handle: CommissionHandle) -> Handle:
    """Summoned two days ahead (short notice): the first appraiser confirms and
    stays away, the second is excused for the late notice; the court rules on
    the refund and the commission returns to issued."""
    stays_away, excused = (appraiser_actor(a) for a in APPRAISER_IDS)
    hearing_at = (await env.get_current_time() + timedelta(days=2)).astimezone(CHINA_TZ)
    summoned = await handle.execute_update(
        CommissionWorkflow.summon_testimony,
        tm.TestimonySummons(
            court_actor, hearing_at, "第三法庭", APPRAISER_IDS, "携带鉴定档案", "异议未能消除"
        ),
    )
    (testimony,) = summoned.testimonies
    assert testimony["short_notice"]
    child = env.client.get_workflow_handle(
        tm.testimony_workflow_id(summoned.id, testimony["testimony_id"]), result_type=tm.TestimonyResult
    )
    await child.execute_update(TestimonyWorkflow.confirm, tm.TestimonyConfirmation(stays_away, "confirm"))
    await child.execute_update(
        TestimonyWorkflow.confirm,
        tm.TestimonyConfirmation(excused, "decline", tm.LATE_NOTICE_GROUND, "通知不足三日，已有手术安排"),
    )
    await child.execute_update(
        TestimonyWorkflow.rule_on_request,
        tm.TestimonyRuling(court_actor, excused.organisation_id, True, "准许"),
    )
    await env.sleep(hearing_at - await env.get_current_time() + timedelta(hours=2))
    await child.execute_update(
        TestimonyWorkflow.record_outcome,
        tm.TestimonyOutcome(
            court_actor,
            {stays_away.organisation_id: "absent_without_valid_reason", excused.organisation_id: "excused"},
        ),
    )

    async def excluded() -> bool | None:
        return (
            True if (await handle.query(CommissionWorkflow.snapshot)).opinion_status == "excluded" else None
        )

    await eventually(excluded)
    await child.execute_update(
        TestimonyWorkflow.rule_on_refund, tm.RefundRuling(court_actor, True, "裁定退还鉴定费")
    )
    await child.result()

    async def back_to_issued() -> bool | None:
        return True if (await handle.query(CommissionWorkflow.snapshot)).stage == "issued" else None

    await eventually(back_to_issued)
    return child


async def after_issue(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    handle = await _issued(env, task_queue)
    first, second = (appraiser_actor(a) for a in APPRAISER_IDS)
    reply_by = (date.fromisoformat(await today(env)) + timedelta(days=3)).isoformat()
    forwarded = await handle.execute_update(
        CommissionWorkflow.forward_objection, ObjectionForward(court_actor, "被告", "伤残等级过高", reply_by)
    )
    objection_id = forwarded.objections[0].id
    await handle.execute_update(
        CommissionWorkflow.answer_objection,
        ObjectionReply(second, objection_id, "依据《人体损伤致残程度分级》5.10"),
    )
    resolved = await handle.execute_update(
        CommissionWorkflow.resolve_objection, ObjectionResolution(court_actor, objection_id, "maintained")
    )
    assert resolved.objections[0].status == "maintained"

    testimony = await _testimony_with_refund_ruling(env, handle)

    await handle.execute_update(
        CommissionWorkflow.request_supplementary,
        SupplementaryRequest(court_actor, "PROC-30-1", "遗漏后续治疗费评估"),
    )
    supplemented = await handle.execute_update(
        CommissionWorkflow.submit_report, ReportSubmission(first, "补充检验所见", "后续治疗费约两万元")
    )
    assert supplemented.report is not None and supplemented.report.kind == "supplementary"
    await _sign_and_issue(handle, supplemented.report.content_hash)

    corrected = await handle.execute_update(
        CommissionWorkflow.submit_correction,
        CorrectionSubmission(
            first, "PROC-28-1", "附图三不清晰，重新附图", "补充检验所见（附图清晰）", "后续治疗费约两万元"
        ),
    )
    assert corrected.report is not None and corrected.report.kind == "correction"
    await _sign_and_issue(handle, corrected.report.content_hash)
    await handle.execute_update(CommissionWorkflow.close, ClosureRequest(court_actor))
    assert (await handle.result()).stage == "closed"
    return {"after_issue": handle, "after_issue_testimony": testimony}


async def reappraisal(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    handle = await _issued(env, task_queue)
    ordered = await handle.execute_update(
        CommissionWorkflow.order_reappraisal,
        ReappraisalOrder(court_actor, str(uuid.uuid4()), OTHER_INSTITUTION.id, "PROC-31-3", "应回避未回避"),
    )
    assert ordered.opinion_status == "superseded" and ordered.refund is not None
    return {"reappraisal": handle}  # left issued and superseded: running, as at an upgrade


async def complaint(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    handle, _ = await start_complaint(env, task_queue, complaint_input(await today(env)))
    await handle.execute_update(ComplaintWorkflow.accept, ComplaintAcceptance(supervisor))
    await handle.execute_update(
        ComplaintWorkflow.decide, ComplaintDecision(supervisor, "鉴定人应回避而未回避", "industry_discipline")
    )
    await handle.execute_update(ComplaintWorkflow.notify_parties, PartiesNotice(supervisor, method="挂号信"))
    assert (await handle.result()).stage == "closed"
    return {"complaint": handle}


async def paper_commission(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    """Brought in from paper, already past its acceptance deadline: the rungs wait for the
    catch-up window, then fire dated at their instants; accepted, paused and supplied on
    paper, so the examination's ladder is planned again in the past and waits once more."""
    handle, registered = await start(env, task_queue, commission_input("2026-10-20", bureau_id=BUREAU.id))
    waiting = next(c for c in registered.clocks if c.rule == "PROC-03").next_rungs
    await env.sleep(max(r.fires_at for r in waiting) - await env.get_current_time() + timedelta(minutes=1))

    async def escalated() -> bool | None:
        clock = (await handle.query(CommissionWorkflow.snapshot)).clocks[0]
        return True if "escalation" in clock.rungs_fired else None

    await eventually(escalated)
    await handle.execute_update(
        CommissionWorkflow.decide_acceptance,
        AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS, agreement_effective_on="2026-11-10"),
    )
    await handle.execute_update(
        CommissionWorkflow.request_materials,
        MaterialRequest(appraiser_actor(APPRAISER_IDS[0]), "补充影像资料", requested_on="2026-11-12"),
    )
    await handle.execute_update(
        CommissionWorkflow.supply_materials, MaterialSupply(court_actor, received_on="2026-11-16")
    )
    return {"paper_commission": handle}  # left examining: running, as at an upgrade


async def registry_exit(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    handle = await _accepted(env, task_queue)
    appraiser = APPRAISER_IDS[0]
    occurred_at, who, what = "2026-12-01T10:30:00+08:00", "某公司法务", "要求作出某种鉴定意见"
    message = interference_message(
        commission_id=handle.id.removeprefix("commission-"),
        who=who,
        occurred_at=occurred_at,
        what=what,
        hidden=True,
    )
    reported = await handle.execute_update(
        CommissionWorkflow.report_interference,
        InterferenceReport(
            appraiser_actor(appraiser),
            who,
            occurred_at,
            what,
            True,
            sign(demo_private_key(appraiser), message),
            "fp",
        ),
    )
    await handle.execute_update(
        CommissionWorkflow.review_interference,
        InterferenceReview(supervisor, reported.interference[0].id, "已约谈"),
    )
    day = date.fromisoformat(await today(env))
    async with sessions() as session:
        await registry.change_institution_status(
            session=session,
            fan_out=exits.Starter(env.client, task_queue),
            principal=supervisor,
            institution_id=INSTITUTION.id,
            body=RegistryStatusCreate(status="suspended", reason="停业整改", until=day + timedelta(days=1)),
            today=day,
        )
        notice = (await session.exec(select(RegistryExit).order_by(col(RegistryExit.id).desc()))).first()
    assert notice is not None and notice.id is not None

    async def barred() -> bool | None:
        return True if (await handle.query(CommissionWorkflow.snapshot)).registry_bars else None

    await eventually(barred)
    await env.sleep(timedelta(days=2))

    async def restored() -> bool | None:
        return True if not (await handle.query(CommissionWorkflow.snapshot)).registry_bars else None

    await eventually(restored, within=30)
    fan_out = env.client.get_workflow_handle(exit_workflow_id(notice.id))
    await eventually(lambda: _completed(fan_out), within=30)
    return {"registry_exit_commission": handle, "registry_exit_fan_out": fan_out}


async def _completed(handle: Handle) -> bool | None:
    described = await handle.describe()
    return True if described.status is not None and described.status.name == "COMPLETED" else None


async def penalty_case(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    filed = await today(env)
    handle, _ = await file_penalty(env, task_queue, penalty_input(filed))
    bureau = penalty_bureau
    await handle.execute_update(PenaltyWorkflow.record_investigation, Investigation(bureau, "查明超范围鉴定"))
    await handle.execute_update(
        PenaltyWorkflow.notify_proposal,
        ProposedPenalty(bureau, "超范围鉴定", ["suspension"], "令95 第四十条", suspension_months=3),
    )
    await handle.execute_update(
        PenaltyWorkflow.record_statement, PartyStatement(bureau, "申请听证", hearing_requested=True)
    )
    hearing_on = (date.fromisoformat(filed) + timedelta(days=7)).isoformat()
    await handle.execute_update(
        PenaltyWorkflow.schedule_hearing, HearingSchedule(bureau, hearing_on, "听证室")
    )
    await env.sleep(timedelta(days=7))
    await handle.execute_update(PenaltyWorkflow.record_hearing, HearingRecord(bureau, "已听取陈述"))
    await handle.execute_update(
        PenaltyWorkflow.decide,
        PenaltyDecision(bureau, ["suspension"], "超范围", basis="令95 第四十条", suspension_months=3),
    )
    await handle.execute_update(PenaltyWorkflow.serve, DecisionService(bureau, method="直接送达"))
    assert (await handle.result()).stage == "closed"
    return {"penalty_case": handle}


async def criminal_case(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    police = Actor(Role.PUBLIC_SECURITY, POLICE[0].id, "officer")
    inp = commission_input(
        await today(env),
        court_id=police.organisation_id,
        court_reference="渝公渝中鉴委〔2026〕1号",
        case_number="A5001035000002026010001",
        entrusted_by=police,
        bureau_id=BUREAU.id,
        entrusting_kind="public_security",
        case_kind="criminal",
    )
    handle = await env.client.start_workflow(
        CommissionWorkflow.run, inp, id=workflow_id_for(inp.commission_id), task_queue=task_queue
    )
    await handle.execute_update(CommissionWorkflow.register, RegistrationRequest(police))
    await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    submitted = await handle.execute_update(
        CommissionWorkflow.submit_report,
        ReportSubmission(appraiser_actor(APPRAISER_IDS[0]), "损伤检验所见……", "被害人之损伤构成轻伤二级"),
    )
    assert submitted.report is not None
    await _sign_and_issue(handle, submitted.report.content_hash)
    persons = [NotifiedPerson("suspect", "张某"), NotifiedPerson("victim", "李某")]
    await handle.execute_update(CommissionWorkflow.notify_opinion, OpinionNotice(police, persons))
    await handle.execute_update(
        CommissionWorkflow.receive_application,
        ApplicationReceipt(police, "suspect", "张某", "reappraisal", "鉴定依据不足"),
    )
    await handle.execute_update(
        CommissionWorkflow.decide_application,
        ApplicationDecision(police, "1", False, "依据充分", in_custody=True),
    )
    await handle.execute_update(CommissionWorkflow.notify_applicant, ApplicantNotice(police, "1"))
    await handle.execute_update(
        CommissionWorkflow.receive_application,
        ApplicationReceipt(police, "victim", "李某", "supplementary", "发现新的证物"),
    )
    granted = await handle.execute_update(
        CommissionWorkflow.decide_application,
        ApplicationDecision(police, "2", True, "发现新的有鉴定意义的证物", "PROC-36-S2"),
    )
    assert granted.stage == "examining"
    procuratorate = PROCURATORATES[0].id
    handed = await handle.execute_update(
        CommissionWorkflow.record_transfer,
        CaseTransferRecord(
            police, "t-1", police.organisation_id, inp.case_number, procuratorate, "procuratorate",
            "procuratorate", "渝渝中检刑诉〔2026〕12号", await today(env),
        ),
    )  # fmt: skip
    assert handed.transfers[0].to_organ_id == procuratorate
    return {"criminal_case": handle}  # left examining the supplement: running, as at an upgrade


async def sealed_report(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    handle = await _accepted(env, task_queue)
    first, second = (appraiser_actor(a) for a in APPRAISER_IDS)
    submitted = await handle.execute_update(
        CommissionWorkflow.submit_report,
        ReportSubmission(
            first,
            "检验所见：左膝关节屈曲90°。",
            "构成十级伤残",
            examination_period="2026年11月2日至20日",
            place="检验室",
            examinee="王某某",
            case_summary="交通事故受伤。",
            analysis="依据5.10.6.1条。",
        ),
    )
    assert submitted.report is not None
    content_hash = submitted.report.content_hash
    await handle.execute_update(
        CommissionWorkflow.sign_report,
        SignatureSubmission(first, "sign", signature=signature(first.organisation_id, content_hash)),
    )
    statement = "伤残等级应为九级"
    await handle.execute_update(
        CommissionWorkflow.sign_report,
        SignatureSubmission(
            second,
            "dissent",
            statement=statement,
            signature=signature(second.organisation_id, content_hash, "dissent", statement),
        ),
    )
    await handle.execute_update(CommissionWorkflow.issue_report, IssueRequest(head_actor))

    async def sealed(count: int) -> bool | None:
        report = (await handle.query(CommissionWorkflow.snapshot)).report
        earlier = (await handle.query(CommissionWorkflow.snapshot)).earlier_reports
        done = [r for r in [*earlier, *([report] if report else [])] if r.sealed_sha256]
        return True if len(done) >= count else None

    await eventually(lambda: sealed(1), within=60)
    corrected = await handle.execute_update(
        CommissionWorkflow.submit_correction,
        CorrectionSubmission(
            first, "PROC-28-3", "错别字", "检验所见：左膝关节屈曲90°（更正）。", "构成十级伤残"
        ),
    )
    assert corrected.report is not None
    await _sign_and_issue(handle, corrected.report.content_hash)
    await eventually(lambda: sealed(2), within=60)
    await handle.execute_update(CommissionWorkflow.close, ClosureRequest(court_actor))
    assert (await handle.result()).stage == "closed"
    return {"sealed_report": handle}


async def admission(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    from appraisal.domain.admission import (
        AdmissionApproval,
        AdmissionExtension,
        ApplicationAcceptance,
        CorrectionRequest,
        CorrectionSupply,
        ExpertRecusal,
        PanelDrawRequest,
    )
    from appraisal.domain.commission import Material
    from appraisal.domain.draw import seeded_sample
    from appraisal.workflows.admission import AdmissionWorkflow

    day = await today(env)
    inp = adm.new_institution(day)
    handle, _ = await adm.start(env, task_queue, inp)
    await handle.execute_update(
        AdmissionWorkflow.request_correction, CorrectionRequest(adm.supervisor, "缺设备清单")
    )
    await handle.execute_update(
        AdmissionWorkflow.supply_correction,
        CorrectionSupply(adm.supervisor, [Material("设备清单", "e" * 64)]),
    )
    await handle.execute_update(AdmissionWorkflow.accept, ApplicationAcceptance(adm.supervisor))
    await handle.execute_update(
        AdmissionWorkflow.draw_panel, PanelDrawRequest(adm.supervisor, 2026, adm.EXPERTS[:5], size=3)
    )
    picks = seeded_sample(2026, adm.EXPERTS[:5], 3)
    left = [e for e in adm.EXPERTS if e not in picks]
    await handle.execute_update(
        AdmissionWorkflow.recuse_expert, ExpertRecusal(adm.expert(picks[0]), picks[0], "曾任顾问", 9, left)
    )
    await adm.review_all(handle, inp.admission_id)
    await handle.execute_update(
        AdmissionWorkflow.extend_decision, AdmissionExtension(adm.supervisor, 10, "需现场核查", "张局长")
    )
    await handle.execute_update(AdmissionWorkflow.approve, AdmissionApproval(adm.supervisor))
    assert (await handle.result()).stage == "approved"
    running = adm.new_appraiser(day, key_holder="recorded")
    under_review, _ = await adm.start(env, task_queue, running)
    await under_review.execute_update(AdmissionWorkflow.accept, ApplicationAcceptance(adm.supervisor))
    await under_review.execute_update(
        AdmissionWorkflow.draw_panel, PanelDrawRequest(adm.supervisor, 7, adm.EXPERTS, size=3)
    )
    return {"admission": handle, "admission_under_review": under_review}


async def integrity_evaluation(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    from appraisal.domain.evaluation import (
        GradeAdjustment,
        GradeObjectionFiling,
        GradesConfirmation,
        ObjectionDecision,
        ProposedGradesPublication,
        SelfAssessment,
    )
    from appraisal.seed import INSTITUTIONS
    from appraisal.workflows.evaluation import IntegrityEvaluationWorkflow as W

    year = date.fromisoformat(await today(env)).year - 1
    handle, _ = await evl.start(env, task_queue, year)
    await evl.stage_is(handle, "self_assessment")
    for institution in INSTITUTIONS:
        await handle.execute_update(W.self_assess, SelfAssessment(evl.desk(institution.id), "依法执业", 90))
    await evl.stage_is(handle, "reviewing")
    first = INSTITUTIONS[0].id
    await handle.execute_update(
        W.adjust_grade, GradeAdjustment(evl.supervisor, "institution", first, "B", "档案不全")
    )
    proposed = await handle.execute_update(W.publish_proposed, ProposedGradesPublication(evl.supervisor))
    await handle.execute_update(
        W.file_objection, GradeObjectionFiling(evl.desk(first), "institution", first, first, "已补齐", "B")
    )
    period = next(c for c in proposed.clocks if c.rule == "EVL-4")
    await env.sleep(period.due_at - await env.get_current_time() + timedelta(seconds=5))
    await evl.stage_is(handle, "deciding_objections")
    await handle.execute_update(W.decide_objection, ObjectionDecision(evl.supervisor, 1, True, "属实", "A"))
    await handle.execute_update(W.confirm, GradesConfirmation(evl.supervisor))
    assert (await handle.result()).stage == "published"
    return {"integrity_evaluation": handle}


async def parties_and_fees(
    env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, Handle]:
    received = await today(env)
    handle, _ = await start(env, task_queue, commission_input(received, bureau_id=BUREAU.id))
    party = Actor(Role.PARTY, str(uuid.uuid4()), "party-recorded")
    other = PartyRecord(str(uuid.uuid4()), "李四", "defendant")
    await handle.execute_update(
        CommissionWorkflow.register_parties,
        PartyRegistration(court_actor, [PartyRecord(party.organisation_id, "张三", "plaintiff"), other]),
    )
    await handle.execute_update(
        CommissionWorkflow.submit_party_request,
        PartyRequest(party, "materials", "复诊记录", [Material("复诊病历", "d" * 64)]),
    )
    item = FeeItem("伤残等级评定", 150000, 180000, "standard-recorded", "重庆市司法鉴定收费标准 (recorded)")
    quoted = await handle.execute_update(
        CommissionWorkflow.quote_fee, FeeQuote(institution_actor, [item], "party", party.organisation_id)
    )
    assert quoted.fee is not None and quoted.fee.prepayment_required
    await handle.execute_update(CommissionWorkflow.answer_fee_quote, FeeAnswer(party, True))
    await handle.execute_update(
        CommissionWorkflow.record_payment, FeePayment(institution_actor, 150000, "BANK-1")
    )
    await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    await handle.execute_update(
        CommissionWorkflow.request_materials, MaterialRequest(institution_actor, "复诊记录")
    )
    supplied = await handle.execute_update(
        CommissionWorkflow.supply_materials, MaterialSupply(court_actor, party_request_id="1")
    )
    assert supplied.party_requests[0].status == "accepted"
    submitted = await handle.execute_update(
        CommissionWorkflow.submit_report,
        ReportSubmission(appraiser_actor(APPRAISER_IDS[0]), "检验所见……", "构成十级伤残"),
    )
    assert submitted.report is not None
    await _sign_and_issue(handle, submitted.report.content_hash)
    await handle.execute_update(CommissionWorkflow.release_report, ReportRelease(court_actor))
    await handle.execute_update(
        CommissionWorkflow.submit_party_request, PartyRequest(party, "objection", "伤残等级偏高")
    )
    reply_by = (date.fromisoformat(await today(env)) + timedelta(days=15)).isoformat()
    forwarded = await handle.execute_update(
        CommissionWorkflow.forward_objection,
        ObjectionForward(court_actor, "张三", "伤残等级偏高", reply_by, "2"),
    )
    assert forwarded.objections[0].party_id == party.organisation_id

    refunded, _ = await start(env, task_queue, commission_input(received, bureau_id=BUREAU.id))
    await refunded.execute_update(CommissionWorkflow.quote_fee, FeeQuote(institution_actor, [item]))
    await refunded.execute_update(CommissionWorkflow.answer_fee_quote, FeeAnswer(court_actor, True))
    await refunded.execute_update(
        CommissionWorkflow.record_payment, FeePayment(court_actor, 150000, "COURT-1")
    )
    withdrawn = await refunded.execute_update(
        CommissionWorkflow.withdraw, WithdrawalRequest(court_actor, "和解")
    )
    assert withdrawn.fee is not None and withdrawn.fee.refund is not None
    await env.sleep(timedelta(days=3))
    await refunded.execute_update(
        CommissionWorkflow.record_refund, RefundRecord(institution_actor, 150000, "R-1")
    )
    assert (await refunded.result()).fee.refund.status == "refunded"  # type: ignore[union-attr]

    complainant = Actor(Role.PARTY, party.organisation_id, "party-recorded")
    filed = complaint_input(await today(env), registered_by=complainant, commission_id=supplied.id)
    by_party = await env.client.start_workflow(
        ComplaintWorkflow.run, filed, id=complaint_workflow_id(filed.complaint_id), task_queue=task_queue
    )
    await by_party.execute_update(ComplaintWorkflow.register, ComplaintRegistration(complainant))
    await by_party.execute_update(ComplaintWorkflow.accept, ComplaintAcceptance(supervisor))
    await by_party.execute_update(
        ComplaintWorkflow.decide,
        ComplaintDecision(supervisor, "超标准收费", "criticism_or_correction_order", fee_violation=True),
    )
    await by_party.execute_update(ComplaintWorkflow.notify_parties, PartiesNotice(supervisor, method="短信"))
    assert (await by_party.result()).stage == "closed"
    return {"parties_and_fees": handle, "fee_refunded": refunded, "party_complaint": by_party}


SCENARIOS: dict[str, Scenario] = {
    "happy_path": happy_path,
    "materials_and_extension": materials_and_extension,
    "overdue_escalated": overdue_escalated,
    "calendar_reload": calendar_reload,
    "withdrawn_and_terminated": withdrawn_and_terminated,
    "daily_anchor": daily_anchor,
    "recusal": recusal,
    "after_issue": after_issue,
    "reappraisal": reappraisal,
    "complaint": complaint,
    "paper_commission": paper_commission,
    "registry_exit": registry_exit,
    "penalty_case": penalty_case,
    "criminal_case": criminal_case,
    "sealed_report": sealed_report,
    "admission": admission,
    "integrity_evaluation": integrity_evaluation,
    "parties_and_fees": parties_and_fees,
}


async def record(names: list[str], target: Path = HERE) -> list[Path]:
    """Runs the named scenarios in the order given and writes their histories."""
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as data:
        postgres = EmbeddedPostgres(Path(data), free_port())
        process = postgres.start()
        try:
            postgres.ensure_database("appraisal")
            url = postgres.url("appraisal")
            await upgrade_async(url)
            engine = create_async_engine(url)
            try:
                sessions = session_factory(engine)
                await seed_demo(sessions)
                env = await WorkflowEnvironment.start_time_skipping(
                    test_server_existing_path=time_skipping_server_path()
                )
                await register_search_attributes(env.client, "default")
                async with env:
                    task_queue = f"record-{uuid.uuid4()}"
                    seal = SealLoader(Path(data) / "seal", environment="test")
                    async with build_worker(env.client, task_queue=task_queue, sessions=sessions, seal=seal):
                        for scenario in names:
                            for name, handle in (
                                await SCENARIOS[scenario](env, task_queue, sessions)
                            ).items():
                                path = target / f"{name}.json"
                                path.write_text((await handle.fetch_history()).to_json() + "\n")
                                written.append(path)
            finally:
                await engine.dispose()
        finally:
            process.terminate()
            process.wait(timeout=30)
    return written


def main() -> None:
    names = sys.argv[1:] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    for path in asyncio.run(record(names)):
        print(f"{path.name}: {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
