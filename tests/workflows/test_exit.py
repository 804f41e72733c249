"""Exit that reaches running work, on the time-skipping server with the production worker
and PostgreSQL: a suspension written to the registry reaches each of 50 running commissions
through the fan-out (paged, continuing as new), every court gets its EXIT-1 task, no step of
the institution is accepted afterwards, every chain verifies; a barred appraiser is replaced
through the recusal path; the suspension's last day ends on a durable timer that restores
the institution everywhere; a lapsed licence reaches its commissions through the daily sweep."""

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.db.models import Appraiser, AuditEventRow, Commission, Institution, RegistryExit, Task
from appraisal.domain.commission import (
    AcceptanceDecision,
    CommissionSnapshot,
    MaterialRequest,
    ReportSubmission,
    WithdrawalRequest,
)
from appraisal.domain.exit import ExitFanOutInput, exit_workflow_id
from appraisal.domain.recusal import RecusalDecision
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.registry import InstitutionUpdate, RegistryStatusCreate
from appraisal.seed import BUREAU
from appraisal.services import audit, registry
from appraisal.services import exit as exits
from appraisal.workflows.commission import CommissionWorkflow
from appraisal.workflows.exit import RegistryExitWorkflow
from appraisal.workflows.licence import LicenceExpiryInput, LicenceExpiryWorkflow
from tests.factories import (
    CLINICAL_APPRAISERS,
    INSTITUTION,
    RESERVE_APPRAISER,
    appraiser_actor,
    commission_input,
    court_actor,
    institution_actor,
)
from tests.workflows.test_commission_workflow import eventually, start, today

pytestmark = pytest.mark.dated

Handle = WorkflowHandle[CommissionWorkflow, CommissionSnapshot]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "bureau official")
TEAM = [a.id for a in CLINICAL_APPRAISERS]


async def running(env: WorkflowEnvironment, task_queue: str, count: int, *, accepted: int) -> list[Handle]:
    """`count` commissions entrusted to the institution, the first `accepted` of them accepted."""
    received = await today(env)
    handles = [
        (await start(env, task_queue, commission_input(received, bureau_id=BUREAU.id)))[0]
        for _ in range(count)
    ]
    for handle in handles[:accepted]:
        await handle.execute_update(
            CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", TEAM)
        )
    return handles


async def projected(sessions: async_sessionmaker[AsyncSession], handles: list[Handle], kind: str) -> None:
    """Every commission's trail holds an event of this kind (the read model has caught up)."""
    ids = {h.id for h in handles}

    async def probe() -> bool | None:
        async with sessions() as session:
            found = set(
                (
                    await session.exec(
                        select(AuditEventRow.workflow_id).where(
                            col(AuditEventRow.workflow_id).in_(ids), AuditEventRow.kind == kind
                        )
                    )
                ).all()
            )
        return True if found == ids else None

    await eventually(probe, within=60)


async def refused(handle: Handle, update: Any, message: Any) -> str | None:
    try:
        await handle.execute_update(update, message)
    except WorkflowUpdateFailedError as err:
        assert isinstance(err.cause, ApplicationError)
        return err.cause.type
    return None


async def suspend(
    sessions: async_sessionmaker[AsyncSession],
    *,
    until: date | None,
    on: date,
    starter: exits.Starter | None,
    institution_id: str = INSTITUTION.id,
) -> RegistryExit:
    async with sessions() as session:
        await registry.change_institution_status(
            session=session,
            fan_out=starter,
            principal=supervisor,
            institution_id=institution_id,
            body=RegistryStatusCreate(status="suspended", reason="停业整改 (REG-6)", until=until),
            today=on,
        )
        notice = (
            await session.exec(
                select(RegistryExit)
                .where(RegistryExit.entity_id == institution_id)
                .order_by(col(RegistryExit.id).desc())
            )
        ).first()
    assert notice is not None and notice.status == "suspended"
    return notice


async def test_a_suspension_reaches_fifty_running_commissions(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handles = await running(temporal_env, task_queue, 50, accepted=10)
    await projected(sessions, handles[:10], "commission.accepted")
    await projected(sessions, handles, "commission.entrusted")
    day = date.fromisoformat(await today(temporal_env))

    # Written without a starter (Temporal unreachable at that moment): the notice waits, unstarted.
    notice = await suspend(sessions, until=None, on=day, starter=None)
    assert notice.started_at is None
    # Its fan-out, in pages of 7, two pages a run: 50 commissions take four runs (continue-as-new).
    fan_out = await temporal_env.client.start_workflow(
        RegistryExitWorkflow.run,
        ExitFanOutInput(exit_id=notice.id or 0, notice=_notice_of(notice), batch=7, pages_per_run=2),
        id=exit_workflow_id(notice.id or 0),
        task_queue=task_queue,
    )
    result = await fan_out.result()
    assert result.signalled == 50
    history = await fan_out.fetch_history()
    assert len(history.events) < 200  # the last run's history only: the earlier ones continued as new

    await projected(sessions, handles, "registry.barred")
    async with sessions() as session:
        stored = await session.get(RegistryExit, notice.id)
        assert stored is not None and stored.started_at is not None and stored.signalled == 50
        remedies = (
            await session.exec(
                select(Task).where(
                    col(Task.commission_id).in_([h.id.removeprefix("commission-") for h in handles]),
                    Task.kind == "registry_exit_remedy",
                )
            )
        ).all()
    assert len(remedies) == 50
    assert {(t.assignee_role, t.assignee_id, t.rule) for t in remedies} == {
        ("court", court_actor.organisation_id, "EXIT-1")
    }
    assert all(t.due_on is not None and t.due_on > day for t in remedies)

    # No step of the institution, its head or its appraisers is accepted afterwards.
    async def institution_step(index: int, handle: Handle) -> str | None:
        if index < 10:
            if index % 2:
                return await refused(
                    handle,
                    CommissionWorkflow.submit_report,
                    ReportSubmission(appraiser_actor(TEAM[0]), "…", "…"),
                )
            return await refused(
                handle, CommissionWorkflow.request_materials, MaterialRequest(institution_actor, "病历原件")
            )
        return await refused(
            handle,
            CommissionWorkflow.decide_acceptance,
            AcceptanceDecision(institution_actor, "accept", TEAM),
        )

    refusals = await asyncio.gather(*(institution_step(i, h) for i, h in enumerate(handles)))
    assert refusals == ["institution_barred"] * 50

    # A repeated notice changes nothing: the same fan-out's signal again records no second event.
    await handles[0].signal(CommissionWorkflow.registry_status_changed, _notice_of(notice))
    # The court may withdraw (or re-entrust) at once.
    await handles[-1].execute_update(CommissionWorkflow.withdraw, WithdrawalRequest(court_actor, "机构停业"))

    async with sessions() as session:
        for handle in handles:
            row = await session.get(Commission, handle.id.removeprefix("commission-"))
            assert row is not None
            verdict = await audit.verify_commission(session=session, commission=row)
            assert verdict.ok, (handle.id, verdict)
            if row.stage != "withdrawn":
                bars = row.snapshot["registry_bars"]
                assert [(b["entity_kind"], b["status"], b["rule"]) for b in bars] == [
                    ("institution", "suspended", "REG-6")
                ]
        barred = (
            await session.exec(
                select(AuditEventRow).where(
                    AuditEventRow.workflow_id == handles[0].id, AuditEventRow.kind == "registry.barred"
                )
            )
        ).all()
    assert len(barred) == 1 and barred[0].data["remedy_due_on"]


def _notice_of(row: RegistryExit) -> Any:
    from appraisal.db.registry import fan_out_input

    return fan_out_input(row).notice


async def test_the_end_of_a_suspension_restores_the_institution_everywhere(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handles = await running(temporal_env, task_queue, 3, accepted=1)
    await projected(sessions, handles, "commission.entrusted")
    day = date.fromisoformat(await today(temporal_env))
    starter = exits.Starter(temporal_env.client, task_queue)
    notice = await suspend(sessions, until=day + timedelta(days=1), on=day, starter=starter)
    await projected(sessions, handles, "registry.barred")
    assert (
        await refused(
            handles[1],
            CommissionWorkflow.decide_acceptance,
            AcceptanceDecision(institution_actor, "accept", TEAM),
        )
        == "institution_barred"
    )

    # The fan-out sleeps on a durable timer until the day after the suspension's last day.
    await temporal_env.sleep(timedelta(days=2))  # past that day: the timer fires, the fan-out restores
    await projected(sessions, handles, "registry.restored")
    fan_out = temporal_env.client.get_workflow_handle(exit_workflow_id(notice.id or 0))
    description = await fan_out.describe()
    assert description.status is not None and description.status.name == "COMPLETED"
    async with sessions() as session:
        institution = await session.get(Institution, INSTITUTION.id)
        assert institution is not None and institution.status == "active" and institution.status_until is None
        remedies = (
            await session.exec(
                select(Task).where(
                    col(Task.commission_id).in_([h.id.removeprefix("commission-") for h in handles]),
                    Task.kind == "registry_exit_remedy",
                )
            )
        ).all()
        assert remedies == []
        restored = (await session.exec(select(RegistryExit).where(RegistryExit.status == "restored"))).all()
        assert [(r.entity_id, r.actor_subject) for r in restored] == [(INSTITUTION.id, "suspension-end")]
    snapshot = await handles[1].execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", TEAM)
    )
    assert snapshot.stage == "examining" and snapshot.registry_bars == []


async def test_a_barred_appraiser_is_replaced_through_the_recusal_path(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handles = await running(temporal_env, task_queue, 2, accepted=2)
    await projected(sessions, handles, "commission.accepted")
    day = date.fromisoformat(await today(temporal_env))
    async with sessions() as session:
        await registry.change_appraiser_status(
            session=session,
            fan_out=exits.Starter(temporal_env.client, task_queue),
            principal=supervisor,
            appraiser_id=TEAM[0],
            body=RegistryStatusCreate(status="revoked", reason="故意出具虚假鉴定意见 (REG-7)"),
            today=day,
        )
    await projected(sessions, handles, "recusal.requested")
    handle = handles[0]
    snapshot = await handle.query(CommissionWorkflow.snapshot)
    recusal = snapshot.recusals[-1]
    assert (recusal.appraiser_id, recusal.ground, recusal.status) == (TEAM[0], "REG-7", "pending")
    assert any(t.kind == "decide_recusal" for t in snapshot.open_tasks)
    assert not any(t.kind == "registry_exit_remedy" for t in snapshot.open_tasks)  # the recusal path serves
    assert (
        await refused(
            handle, CommissionWorkflow.submit_report, ReportSubmission(appraiser_actor(TEAM[0]), "…", "…")
        )
        == "appraiser_barred"
    )
    assert (
        await refused(
            handle,
            CommissionWorkflow.decide_recusal,
            RecusalDecision(institution_actor, recusal.id, False, "不同意"),
        )
        == "recusal_required"
    )
    snapshot = await handle.execute_update(
        CommissionWorkflow.decide_recusal,
        RecusalDecision(institution_actor, recusal.id, True, "撤销登记，更换鉴定人", RESERVE_APPRAISER.id),
    )
    assert snapshot.appraiser_ids == [RESERVE_APPRAISER.id, TEAM[1]]
    # The replacement and the other appraiser work on.
    snapshot = await handle.execute_update(
        CommissionWorkflow.submit_report, ReportSubmission(appraiser_actor(TEAM[1]), "检验所见", "十级伤残")
    )
    assert snapshot.stage == "signing"
    async with sessions() as session:
        appraiser = await session.get(Appraiser, TEAM[0])
        assert appraiser is not None and appraiser.status == "revoked"


async def test_a_lapsed_licence_reaches_its_commissions_through_the_daily_sweep(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handles = await running(temporal_env, task_queue, 2, accepted=0)
    await projected(sessions, handles, "commission.entrusted")
    day = date.fromisoformat(await today(temporal_env))
    async with sessions() as session:  # the licence's last valid day was yesterday
        institution = await session.get(Institution, INSTITUTION.id)
        assert institution is not None
        institution.licence_valid_until = day - timedelta(days=1)
        session.add(institution)
        await session.commit()
    sweep = await temporal_env.client.execute_workflow(
        LicenceExpiryWorkflow.run,
        LicenceExpiryInput(day=day.isoformat()),
        id=f"sweep-{uuid.uuid4()}",
        task_queue=task_queue,
    )
    assert sweep.exits_started == 1
    await projected(sessions, handles, "registry.barred")
    again = await temporal_env.client.execute_workflow(
        LicenceExpiryWorkflow.run,
        LicenceExpiryInput(day=day.isoformat()),
        id=f"sweep-{uuid.uuid4()}",
        task_queue=task_queue,
    )
    assert again.exits_started == 0  # the lapse is written once; its fan-out started once
    assert (
        await refused(
            handles[0],
            CommissionWorkflow.decide_acceptance,
            AcceptanceDecision(institution_actor, "accept", TEAM),
        )
        == "institution_barred"
    )
    # A renewal restores it: the registry write carries the restoration to the same commissions.
    async with sessions() as session:
        await registry.update_institution(
            session=session,
            fan_out=exits.Starter(temporal_env.client, task_queue),
            principal=supervisor,
            institution_id=INSTITUTION.id,
            body=InstitutionUpdate(licence_valid_until=day + timedelta(days=365 * 5), reason="延续 (REG-8)"),
            today=day,
        )
    await projected(sessions, handles, "registry.restored")
    snapshot = await handles[0].execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", TEAM)
    )
    assert snapshot.stage == "examining"
