"""The commission workflow on the time-skipping test server, with the
production worker and its real activities writing to real PostgreSQL."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.db.models import AuditEventRow, Commission, Task
from appraisal.domain.audit import chain_hash
from appraisal.domain.calendar import WorkingCalendar, local_today
from appraisal.domain.commission import (
    AcceptanceDecision,
    ClosureRequest,
    CommissionInput,
    CommissionSnapshot,
    IssueRequest,
    RegistrationRequest,
    ReportSubmission,
    SignatureSubmission,
)
from appraisal.domain.events import RecordEventInput
from appraisal.workflows.commission import CommissionWorkflow, workflow_id_for
from tests.factories import (
    CLINICAL_APPRAISERS,
    ELSEWHERE,
    PATHOLOGY_ONLY,
    appraiser_actor,
    commission_input,
    court_actor,
    head_actor,
    institution_actor,
)

APPRAISER_IDS = [a.id for a in CLINICAL_APPRAISERS]


async def start(
    env: WorkflowEnvironment, task_queue: str, inp: CommissionInput
) -> tuple[WorkflowHandle[CommissionWorkflow, CommissionSnapshot], CommissionSnapshot]:
    handle = await env.client.start_workflow(
        CommissionWorkflow.run, inp, id=workflow_id_for(inp.commission_id), task_queue=task_queue
    )
    snapshot = await handle.execute_update(CommissionWorkflow.register, RegistrationRequest(court_actor))
    return handle, snapshot


async def recorded_events(handle: WorkflowHandle[CommissionWorkflow, CommissionSnapshot]) -> list[str]:
    """History without workflow-task bookkeeping: the time-skipping server
    has no speculative workflow tasks, so a rejected Update still leaves a
    workflow task there (a real server leaves nothing); what must never
    appear is an accepted Update, an activity or a state change."""
    history = await handle.fetch_history()
    return [
        EventType.Name(e.event_type)
        for e in history.events
        if "WORKFLOW_TASK" not in EventType.Name(e.event_type)
    ]


async def settled_events(handle: WorkflowHandle[CommissionWorkflow, CommissionSnapshot]) -> list[str]:
    """`recorded_events` once the workflow is idle: every activity scheduled so far (the
    projection of the steps' events, a notification delivery, an issued report's seal)
    completed, and no workflow task pending that could schedule another."""

    async def settled() -> list[str] | None:
        every = [EventType.Name(e.event_type) for e in (await handle.fetch_history()).events]
        last_task = max(i for i, kind in enumerate(every) if kind.startswith("EVENT_TYPE_WORKFLOW_TASK_"))
        idle = every[last_task] == "EVENT_TYPE_WORKFLOW_TASK_COMPLETED"
        events = [kind for kind in every if "WORKFLOW_TASK" not in kind]
        done = events.count("EVENT_TYPE_ACTIVITY_TASK_COMPLETED")
        return events if idle and done == events.count("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED") else None

    return await eventually(settled, within=60)


async def today(env: WorkflowEnvironment) -> str:
    return local_today(await env.get_current_time()).isoformat()


T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], *, within: float = 10.0) -> T:
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.mark.dated
async def test_happy_path_from_entrustment_to_closure(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = await today(temporal_env)
    handle, snapshot = await start(temporal_env, task_queue, commission_input(received))
    assert snapshot.created and snapshot.stage == "awaiting_acceptance"
    acceptance = snapshot.clocks[0]
    assert acceptance.rule == "PROC-03" and acceptance.budget_days == 7
    assert (
        acceptance.due_on
        == WorkingCalendar().add_working_days(datetime.fromisoformat(received).date(), 7).due_on.isoformat()
    )

    snapshot = await handle.execute_update(
        CommissionWorkflow.decide_acceptance,
        AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS, agreement_effective_on=received),
    )
    assert snapshot.stage == "examining"
    examination = next(c for c in snapshot.clocks if c.rule == "PROC-17")
    assert examination.started_on == received and examination.budget_days == 30
    assert next(c for c in snapshot.clocks if c.rule == "PROC-03").stopped

    first, second = (appraiser_actor(a) for a in APPRAISER_IDS)
    snapshot = await handle.execute_update(
        CommissionWorkflow.submit_report, ReportSubmission(first, "检验所见……", "构成十级伤残")
    )
    assert snapshot.stage == "signing" and snapshot.report is not None
    assert len(snapshot.report.content_hash) == 64
    await handle.execute_update(CommissionWorkflow.sign_report, SignatureSubmission(first, "sign"))
    snapshot = await handle.execute_update(
        CommissionWorkflow.sign_report, SignatureSubmission(second, "dissent", statement="伤残等级应为九级")
    )
    assert snapshot.stage == "awaiting_issue"
    snapshot = await handle.execute_update(CommissionWorkflow.issue_report, IssueRequest(head_actor))
    assert snapshot.stage == "issued"
    assert snapshot.report is not None and snapshot.report.document_number.endswith("临鉴字第1号")

    async def sealed() -> str | None:  # beside the main path, a moment after the issue
        report = (await handle.query(CommissionWorkflow.snapshot)).report
        return report.sealed_sha256 if report and report.sealed_sha256 else None

    await eventually(sealed, within=60)
    await handle.execute_update(CommissionWorkflow.close, ClosureRequest(court_actor))
    final = await handle.result()
    assert final.stage == "closed" and final.open_tasks == []

    async with sessions() as session:
        events = (
            await session.exec(
                select(AuditEventRow)
                .where(AuditEventRow.workflow_id == handle.id)
                .order_by(col(AuditEventRow.seq))
            )
        ).all()
        row = await session.get(Commission, final.id)
        tasks = (await session.exec(select(Task).where(Task.commission_id == final.id))).all()
    assert [e.kind for e in events] == [
        "commission.entrusted",
        "commission.accepted",
        "report.submitted",
        "report.signed",
        "report.dissented",
        "report.issued",
        "report.sealed",
        "commission.closed",
    ]
    assert [e.seq for e in events] == list(range(1, 9))
    prev = ""
    for event in events:  # the chain recomputes from the rows alone
        fields = {
            "workflow_id": event.workflow_id,
            "commission_id": event.commission_id,
            "seq": event.seq,
            "kind": event.kind,
            "actor": {
                "role": event.actor_role,
                "organisation_id": event.actor_organisation_id,
                "subject": event.actor_subject,
            },
            "occurred_at": event.occurred_at.isoformat(),
            "data": event.data,
            "prev_hash": event.prev_hash,
        }
        assert event.prev_hash == prev
        assert event.hash == chain_hash(prev, fields)
        prev = event.hash
    assert events[3].actor_organisation_id == first.organisation_id
    assert row is not None and row.stage == "closed" and row.last_event_seq == 8
    assert tasks == []


async def test_each_event_is_scheduled_in_the_history_before_it_is_recorded(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Recording is an activity through the task queue, not a local activity: its
    input (the event and its hash) is in the history before it runs, so a workflow
    task retried after a crash can never record another event under the same seq."""
    handle, _ = await start(temporal_env, task_queue, commission_input(await today(temporal_env)))
    await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    # The step answers once its event is in the history; the projection follows.
    history = await handle.fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "record_commission_event"
    ]
    (first, second) = [
        DataConverter.default.payload_converter.from_payloads(a.input.payloads, [RecordEventInput])[0]
        for a in scheduled
    ]

    async def both_recorded() -> list[AuditEventRow] | None:
        async with sessions() as session:
            found = (
                await session.exec(
                    select(AuditEventRow)
                    .where(AuditEventRow.workflow_id == handle.id)
                    .order_by(col(AuditEventRow.seq))
                )
            ).all()
        return list(found) if len(found) == 2 else None

    rows = await eventually(both_recorded)
    assert [(r.seq, r.hash) for r in rows] == [(1, first.event.hash), (2, second.event.hash)]
    assert second.event.prev_hash == first.event.hash


async def test_validator_rejection_leaves_history_unchanged(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    handle, _ = await start(temporal_env, task_queue, commission_input(await today(temporal_env)))
    before = await settled_events(handle)
    cases = [
        (AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS[:1]), "too_few_appraisers"),
        (
            AcceptanceDecision(institution_actor, "accept", [APPRAISER_IDS[0], PATHOLOGY_ONLY.id]),
            "appraiser_not_qualified",
        ),
        (
            AcceptanceDecision(institution_actor, "accept", [APPRAISER_IDS[0], ELSEWHERE.id]),
            "appraiser_not_qualified",
        ),
        (AcceptanceDecision(head_actor, "accept", APPRAISER_IDS), "wrong_actor"),
        (AcceptanceDecision(institution_actor, "accept", [APPRAISER_IDS[0]] * 2), "duplicate_appraiser"),
        (
            AcceptanceDecision(
                institution_actor, "accept", APPRAISER_IDS, agreement_effective_on="2099-01-01"
            ),
            "date_out_of_range",
        ),
    ]
    for decision, code in cases:
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await handle.execute_update(CommissionWorkflow.decide_acceptance, decision)
        assert isinstance(raised.value.cause, ApplicationError)
        assert raised.value.cause.type == code
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await handle.execute_update(CommissionWorkflow.issue_report, IssueRequest(head_actor))
    assert isinstance(raised.value.cause, ApplicationError) and raised.value.cause.type == "not_in_stage"
    assert await recorded_events(handle) == before

    await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    first = appraiser_actor(APPRAISER_IDS[0])
    await handle.execute_update(CommissionWorkflow.submit_report, ReportSubmission(first, "c", "o"))
    await handle.execute_update(CommissionWorkflow.sign_report, SignatureSubmission(first, "sign"))
    before = await settled_events(handle)
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await handle.execute_update(CommissionWorkflow.sign_report, SignatureSubmission(first, "sign"))
    assert isinstance(raised.value.cause, ApplicationError) and raised.value.cause.type == "already_signed"
    assert await recorded_events(handle) == before


@pytest.mark.dated
async def test_untouched_commission_is_marked_overdue_exactly_at_due_at(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handle, snapshot = await start(temporal_env, task_queue, commission_input(await today(temporal_env)))
    due_at = snapshot.clocks[0].due_at
    now = await temporal_env.get_current_time()
    await temporal_env.sleep(due_at - now - timedelta(seconds=1))
    assert not (await handle.query(CommissionWorkflow.snapshot)).clocks[0].overdue

    await temporal_env.sleep(timedelta(seconds=2))

    async def overdue_event() -> AuditEventRow | None:
        async with sessions() as session:
            return (
                await session.exec(
                    select(AuditEventRow).where(
                        AuditEventRow.workflow_id == handle.id, AuditEventRow.kind == "clock.overdue"
                    )
                )
            ).first()

    event = await eventually(overdue_event)
    assert event.data["rung_at"] == due_at.isoformat()
    assert abs(event.occurred_at - due_at) < timedelta(seconds=1)
    assert event.actor_role == "system"
    state = await handle.query(CommissionWorkflow.snapshot)
    assert state.clocks[0].overdue and "overdue" in state.clocks[0].rungs_fired
    async with sessions() as session:
        row = await session.get(Commission, snapshot.id)
    assert row is not None and row.overdue


@pytest.mark.dated
async def test_paper_commission_gets_its_true_deadlines(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    handle, snapshot = await start(temporal_env, task_queue, commission_input("2026-09-24"))
    assert snapshot.clocks[0].due_on == "2026-10-12"
    snapshot = await handle.execute_update(
        CommissionWorkflow.decide_acceptance,
        AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS, agreement_effective_on="2026-09-30"),
    )
    acceptance, examination = snapshot.clocks
    assert examination.due_on == "2026-11-17"
    # Accepted on paper before its deadline: not overdue, whatever the registration date.
    assert acceptance.stopped and not acceptance.overdue
