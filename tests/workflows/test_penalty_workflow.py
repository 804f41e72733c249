"""The administrative penalty case on the time-skipping server, with the production worker and
its real activities: filing and the 90-day decision clock (CMP-9), the notice of the proposed
penalty and the 5-day hearing window (PEN-2), the hearing's 7-day notice (PEN-3), the decision
(REG-3…REG-7) and its service (PEN-4); then the outcome: the integrity record, the published
decision, and a suspension written to the registry that reaches a running commission."""

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.db.models import (
    AuditEventRow,
    Institution,
    IntegrityEntryRow,
    PenaltyCase,
    PenaltyPublication,
    Task,
)
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.clock import ClockPlanRequest, plan_clock
from appraisal.domain.commission import AcceptanceDecision, Material
from appraisal.domain.penalty import (
    DecisionExtension,
    DecisionService,
    HearingRecord,
    HearingSchedule,
    Investigation,
    PartyStatement,
    PenaltyDecision,
    PenaltyInput,
    PenaltyRegistration,
    PenaltySnapshot,
    ProposedPenalty,
    months_after,
    workflow_id_for,
)
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU, OTHER_BUREAU
from appraisal.services.audit import verify_chain
from appraisal.workflows.commission import CommissionWorkflow
from appraisal.workflows.penalty import PenaltyWorkflow
from tests.factories import CLINICAL_APPRAISERS, INSTITUTION, commission_input, institution_actor
from tests.workflows.test_commission_workflow import eventually, start, today

pytestmark = pytest.mark.dated

Handle = WorkflowHandle[PenaltyWorkflow, PenaltySnapshot]
bureau = Actor(Role.SUPERVISOR, BUREAU.id, "执法人员")
other_bureau = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "执法人员")


def case_input(filed_on: str, **overrides: Any) -> PenaltyInput:
    values: dict[str, Any] = {
        "case_id": str(uuid.uuid4()),
        "bureau_id": BUREAU.id,
        "reference": f"渝司罚立〔2026〕{uuid.uuid4().hex[:6]}号",
        "subject_kind": "institution",
        "subject_id": INSTITUTION.id,
        "institution_id": INSTITUTION.id,
        "source": "inspection",
        "filed_on": filed_on,
        "breach_on": filed_on,
        "summary": "超出登记业务范围鉴定",
        "filed_by": bureau,
    }
    values.update(overrides)
    return PenaltyInput(**values)


async def file(
    env: WorkflowEnvironment, task_queue: str, inp: PenaltyInput
) -> tuple[Handle, PenaltySnapshot]:
    handle = await env.client.start_workflow(
        PenaltyWorkflow.run, inp, id=workflow_id_for(inp.case_id), task_queue=task_queue
    )
    return handle, await handle.execute_update(PenaltyWorkflow.register, PenaltyRegistration(bureau))


async def rejected(handle: Handle, update: Any, message: Any) -> str | None:
    try:
        await handle.execute_update(update, message)
    except WorkflowUpdateFailedError as err:
        assert isinstance(err.cause, ApplicationError)
        return err.cause.type
    return None


async def trail(sessions: async_sessionmaker[AsyncSession], workflow_id: str) -> list[AuditEventRow]:
    async with sessions() as session:
        rows = await session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.workflow_id == workflow_id)
            .order_by(col(AuditEventRow.seq))
        )
        return list(rows.all())


PROPOSAL: dict[str, Any] = {
    "facts": "2026年抽查发现该机构超出登记的业务范围出具鉴定意见三份",
    "penalties": ["suspension"],
    "basis": "司法鉴定机构登记管理办法 第四十条",
    "suspension_months": 3,
}


async def test_a_suspension_from_filing_to_service_reaches_the_registry_and_the_commissions(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    filed = await today(temporal_env)
    commission, _ = await start(temporal_env, task_queue, commission_input(filed, bureau_id=BUREAU.id))
    handle, snapshot = await file(temporal_env, task_queue, case_input(filed))
    decision = next(c for c in snapshot.clocks if c.rule == "CMP-9")
    expected = plan_clock(WorkingCalendar(), ClockPlanRequest("CMP-9", filed, 90)).due_on
    assert (snapshot.stage, decision.budget_days, decision.due_on) == ("investigating", 90, expected)
    assert [t.kind for t in snapshot.open_tasks] == ["investigate_penalty_case"]

    assert await rejected(handle, PenaltyWorkflow.notify_proposal, ProposedPenalty(bureau, **PROPOSAL)) == (
        "investigation_required"
    )
    assert await rejected(handle, PenaltyWorkflow.record_investigation, Investigation(other_bureau, "…")) == (
        "wrong_actor"
    )
    await handle.execute_update(
        PenaltyWorkflow.record_investigation,
        Investigation(bureau, "查阅案卷三份，均超出登记范围", [Material("检查记录", "d" * 64)]),
    )
    assert (
        await rejected(
            handle,
            PenaltyWorkflow.notify_proposal,
            ProposedPenalty(bureau, **{**PROPOSAL, "suspension_months": 13}),
        )
        == "suspension_out_of_range"
    )
    snapshot = await handle.execute_update(
        PenaltyWorkflow.notify_proposal, ProposedPenalty(bureau, **PROPOSAL)
    )
    window = next(c for c in snapshot.clocks if c.rule == "PEN-2")
    assert snapshot.stage == "notified" and window.budget_days == 5
    assert snapshot.proposal is not None and snapshot.proposal["hearing_right"] is True

    snapshot = await handle.execute_update(
        PenaltyWorkflow.record_statement,
        PartyStatement(bureau, "超范围系误解登记范围，申请听证", hearing_requested=True),
    )
    assert snapshot.stage == "hearing"
    day = date.fromisoformat(filed)
    too_soon = (day + timedelta(days=6)).isoformat()
    assert (
        await rejected(
            handle, PenaltyWorkflow.schedule_hearing, HearingSchedule(bureau, too_soon, "局三楼听证室")
        )
        == "hearing_notice_too_short"
    )
    hearing_on = (day + timedelta(days=7)).isoformat()
    await handle.execute_update(
        PenaltyWorkflow.schedule_hearing, HearingSchedule(bureau, hearing_on, "局三楼听证室")
    )
    assert (
        await rejected(handle, PenaltyWorkflow.record_hearing, HearingRecord(bureau, "听证"))
        == "hearing_not_held"
    )
    await temporal_env.sleep(timedelta(days=7))
    snapshot = await handle.execute_update(
        PenaltyWorkflow.record_hearing, HearingRecord(bureau, "当事人陈述意见已听取")
    )
    assert snapshot.stage == "deciding"
    assert (
        await rejected(
            handle, PenaltyWorkflow.extend_decision, DecisionExtension(bureau, 30, "案情复杂", approved_by="")
        )
        == "approval_required"
    )
    await handle.execute_update(
        PenaltyWorkflow.extend_decision, DecisionExtension(bureau, 30, "案情复杂", approved_by="局长 王某")
    )
    assert (
        await rejected(
            handle,
            PenaltyWorkflow.decide,
            PenaltyDecision(bureau, ["revocation"], "情节严重", basis="令95 第四十条"),
        )
        == "penalty_not_proposed"
    )
    snapshot = await handle.execute_update(
        PenaltyWorkflow.decide,
        PenaltyDecision(
            bureau,
            ["warning", "suspension"],
            "超出登记业务范围鉴定，情节较重",
            basis="司法鉴定机构登记管理办法 第三十九条、第四十条",
            suspension_months=3,
            decision_number="渝司罚决〔2026〕1号",
        ),
    )
    assert (
        snapshot.stage == "decided" and snapshot.decision is not None and snapshot.decision["publish"] is True
    )
    assert [t.kind for t in snapshot.open_tasks] == ["serve_penalty_decision"]
    served = await today(temporal_env)
    snapshot = await handle.execute_update(PenaltyWorkflow.serve, DecisionService(bureau, method="直接送达"))
    until = months_after(date.fromisoformat(served), 3)
    assert snapshot.stage == "closed" and snapshot.outcome is not None
    assert snapshot.outcome["suspended_until"] == until.isoformat() and snapshot.outcome["published"] is True
    final = await handle.result()
    assert final.open_tasks == []

    async with sessions() as session:
        institution = await session.get(Institution, INSTITUTION.id)
        assert institution is not None and (institution.status, institution.status_until) == (
            "suspended",
            until,
        )
        entries = (
            await session.exec(select(IntegrityEntryRow).where(IntegrityEntryRow.complaint_id == final.id))
        ).all()
        assert [(e.subject_kind, e.outcome, e.rule) for e in entries] == [
            ("institution", "administrative_penalty", "CMP-9")
        ]
        published = await session.get(PenaltyPublication, final.id)
        assert published is not None and published.penalties == ["warning", "suspension"]
        assert published.subject_name == INSTITUTION.name and published.suspended_until == until
        row = await session.get(PenaltyCase, final.id)
        assert row is not None and row.stage == "closed"
        assert (await session.exec(select(Task).where(Task.penalty_case_id == final.id))).all() == []
    events = await trail(sessions, handle.id)
    assert [e.kind for e in events] == [
        "penalty.filed",
        "penalty.investigated",
        "penalty.proposed",
        "penalty.statement_received",
        "penalty.hearing_scheduled",
        "penalty.hearing_held",
        "clock.extended",
        "penalty.decided",
        "penalty.served",
        "penalty.outcome_recorded",
    ]
    verdict = verify_chain(events, last_seq=final.last_event_seq, last_hash=final.last_hash, keys={})
    assert verdict.ok, verdict

    # The suspension reached the running commission: the institution may not act there any more.
    async def barred() -> bool | None:
        return True if (await commission.query(CommissionWorkflow.snapshot)).registry_bars else None

    await eventually(barred, within=30)
    try:
        await commission.execute_update(
            CommissionWorkflow.decide_acceptance,
            AcceptanceDecision(institution_actor, "accept", [a.id for a in CLINICAL_APPRAISERS]),
        )
    except WorkflowUpdateFailedError as err:
        assert isinstance(err.cause, ApplicationError) and err.cause.type == "institution_barred"
    else:
        raise AssertionError("a suspended institution's step was accepted")


async def test_the_hearing_window_closes_after_five_days_and_no_penalty_closes_quietly(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    filed = await today(temporal_env)
    handle, _ = await file(temporal_env, task_queue, case_input(filed))
    await handle.execute_update(PenaltyWorkflow.record_investigation, Investigation(bureau, "查明"))
    await handle.execute_update(PenaltyWorkflow.notify_proposal, ProposedPenalty(bureau, **PROPOSAL))
    await handle.execute_update(PenaltyWorkflow.record_statement, PartyStatement(bureau, "我方有异议"))
    assert (
        await rejected(
            handle,
            PenaltyWorkflow.decide,
            PenaltyDecision(bureau, ["suspension"], "…", basis="…", suspension_months=3),
        )
        == "not_in_stage"
    )  # the party's window is still open

    await temporal_env.sleep(timedelta(days=12))  # PEN-2's 5 days (rolled past rest days) are long gone

    async def deciding() -> PenaltySnapshot | None:
        snapshot = await handle.query(PenaltyWorkflow.snapshot)
        return snapshot if snapshot.stage == "deciding" else None

    snapshot = await eventually(deciding, within=30)
    assert [t.kind for t in snapshot.open_tasks] == ["decide_penalty"]
    assert (
        await rejected(
            handle,
            PenaltyWorkflow.record_statement,
            PartyStatement(bureau, "申请听证", hearing_requested=True),
        )
        == "not_in_stage"
    )
    assert (
        await rejected(
            handle,
            PenaltyWorkflow.decide,
            PenaltyDecision(
                bureau, ["fine"], "…", basis="令95 第三十八条", fine_yuan=50_000, illegal_gains_yuan=40_000
            ),
        )
        == "fine_out_of_range"
    )
    await handle.execute_update(PenaltyWorkflow.decide, PenaltyDecision(bureau, ["no_penalty"], "证据不足"))
    final = await handle.execute_update(PenaltyWorkflow.serve, DecisionService(bureau))
    assert final.outcome is not None and final.outcome["published"] is False
    kinds = [e.kind for e in await trail(sessions, handle.id)]
    assert "penalty.rights_lapsed" in kinds
    async with sessions() as session:
        assert (await session.get(PenaltyPublication, final.id)) is None
        assert (
            await session.exec(select(IntegrityEntryRow).where(IntegrityEntryRow.complaint_id == final.id))
        ).all() == []
        institution = await session.get(Institution, INSTITUTION.id)
        assert institution is not None and institution.status == "active"


async def test_a_breach_older_than_two_years_is_not_filed(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    filed = date.fromisoformat(await today(temporal_env))
    inp = case_input(filed.isoformat(), breach_on=(filed - timedelta(days=3 * 365)).isoformat())
    handle = await temporal_env.client.start_workflow(
        PenaltyWorkflow.run, inp, id=workflow_id_for(inp.case_id), task_queue=task_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "time_barred"
    harmed = case_input(filed.isoformat(), breach_on=(filed - timedelta(days=3 * 365)).isoformat(), harm=True)
    _, snapshot = await file(temporal_env, task_queue, harmed)  # 5 years where life or health was harmed
    assert snapshot.stage == "investigating"
