"""The registration application workflow on the time-skipping server, with the production
worker and its real activities: ADM-1's five working days and the acceptance the law deems
when the bureau is silent, the one correction (补正) pausing it, the expert panel drawn from
a seed (its time not counted in ADM-3's twenty working days), the one extension of ten, the
licence and registry entry on approval, the remedies on refusal, the renewal deemed granted
when its licence runs out undecided, and the hash chain."""

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

from appraisal.core.signing import demo_private_key, fingerprint, public_key_b64, sign
from appraisal.db.models import Admission, Appraiser, AppraiserKey, AuditEventRow, Institution, RegistryChange
from appraisal.domain.admission import (
    AdmissionApproval,
    AdmissionExtension,
    AdmissionInput,
    AdmissionRefusal,
    AdmissionRegistration,
    AdmissionSnapshot,
    ApplicationAcceptance,
    AppraiserDetails,
    CorrectionRequest,
    CorrectionSupply,
    ExpertRecusal,
    ExpertReviewSubmission,
    InstitutionDetails,
    PanelDrawRequest,
    RegisteredEntry,
    review_hash,
    workflow_id_for,
    years_later,
)
from appraisal.domain.calendar import WorkingCalendar, end_of_day
from appraisal.domain.commission import ClockSnapshot, Material
from appraisal.domain.draw import seeded_sample
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.commission import CalendarYearPut
from appraisal.seed import BUREAU
from appraisal.services.audit import verify_chain
from appraisal.services.calendar import load_year
from appraisal.workflows.admission import AdmissionWorkflow
from tests.factories import INSTITUTION, institution_actor
from tests.workflows.test_commission_workflow import eventually, today

pytestmark = pytest.mark.dated

Handle = WorkflowHandle[AdmissionWorkflow, AdmissionSnapshot]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "registrar")
EXPERTS = [f"expert-{n}" for n in range(1, 7)]


def expert(expert_id: str) -> Actor:
    return Actor(Role.EXPERT, expert_id, f"expert {expert_id}")


def new_institution(received_on: str, **overrides: Any) -> AdmissionInput:
    values: dict[str, Any] = {
        "admission_id": str(uuid.uuid4()),
        "bureau_id": BUREAU.id,
        "reference": f"渝司登〔2026〕{uuid.uuid4().hex[:6]}号",
        "kind": "admission",
        "subject_kind": "institution",
        "received_on": received_on,
        "filed_by": supervisor,
        "entity_id": str(uuid.uuid4()),
        "institution": InstitutionDetails(
            name="朝天门司法鉴定所",
            categories=["forensic_clinical"],
            legal_representative="周正",
            address="重庆市渝中区",
            appraisers_per_category={"forensic_clinical": 3},
            laboratory_accredited=True,
            equipment="法医临床检查设备一套",
        ),
        "materials": [Material("申请书", "a" * 64)],
    }
    values.update(overrides)
    return AdmissionInput(**values)


def new_appraiser(received_on: str, key_holder: str) -> AdmissionInput:
    public_key = public_key_b64(demo_private_key(key_holder))
    return new_institution(
        received_on,
        subject_kind="appraiser",
        filed_by=institution_actor,
        applicant_institution_id=INSTITUTION.id,
        institution=None,
        appraiser=AppraiserDetails(
            name="钱新 Qian Xin",
            institution_id=INSTITUTION.id,
            categories=["forensic_clinical"],
            identity_hash="f" * 64,
            senior_title=True,
            qualification="senior_title",
            years_in_field=8,
            public_key=public_key,
            key_fingerprint=fingerprint(public_key),
        ),
    )


async def start(
    env: WorkflowEnvironment, task_queue: str, inp: AdmissionInput
) -> tuple[Handle, AdmissionSnapshot]:
    handle = await env.client.start_workflow(
        AdmissionWorkflow.run, inp, id=workflow_id_for(inp.admission_id), task_queue=task_queue
    )
    return handle, await handle.execute_update(
        AdmissionWorkflow.register, AdmissionRegistration(inp.filed_by)
    )


def clock_of(snapshot: AdmissionSnapshot, rule: str) -> ClockSnapshot:
    return next(c for c in snapshot.clocks if c.rule == rule)


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


def review(
    admission_id: str, expert_id: str, score: int = 86, recommendation: str = "approve"
) -> ExpertReviewSubmission:
    opinion = "设备与人员符合条件 Equipment and staff meet the conditions"
    digest = review_hash(
        admission_id=admission_id,
        expert_id=expert_id,
        score=score,
        recommendation=recommendation,
        opinion=opinion,
    )
    return ExpertReviewSubmission(
        expert(expert_id),
        score=score,
        recommendation=recommendation,
        opinion=opinion,
        review_hash=digest,
        signature=sign(demo_private_key(expert_id), digest.encode()),
        key_fingerprint="demo",
    )


async def review_all(handle: Handle, admission_id: str) -> AdmissionSnapshot:
    snapshot = await handle.query(AdmissionWorkflow.snapshot)
    for member in [m for m in snapshot.panel if not m.recused]:
        snapshot = await handle.execute_update(
            AdmissionWorkflow.submit_review, review(admission_id, member.expert_id)
        )
    return snapshot


async def test_acceptance_is_due_in_five_working_days_and_silence_counts_as_acceptance(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = await today(temporal_env)
    calendar = WorkingCalendar()
    handle, snapshot = await start(temporal_env, task_queue, new_institution(received))
    assert snapshot.created and snapshot.stage == "awaiting_acceptance" and snapshot.gaps == []
    acceptance = clock_of(snapshot, "ADM-1")
    due = calendar.add_working_days(date.fromisoformat(received), 5)
    assert (acceptance.unit, acceptance.budget_days) == ("working_day", 5)
    assert acceptance.due_on == due.due_on.isoformat() and acceptance.due_at == due.due_at
    assert [(t.kind, t.assignee_role) for t in snapshot.open_tasks] == [
        ("decide_admission_acceptance", "supervisor")
    ]
    # A second before the end of the fifth working day it still waits; a second after, the law accepts it.
    await temporal_env.sleep(due.due_at - await temporal_env.get_current_time() - timedelta(seconds=1))
    assert (await handle.query(AdmissionWorkflow.snapshot)).stage == "awaiting_acceptance"
    await temporal_env.sleep(timedelta(seconds=2))

    async def deemed() -> AdmissionSnapshot | None:
        state = await handle.query(AdmissionWorkflow.snapshot)
        return state if state.stage == "deciding" else None

    state = await eventually(deemed)
    assert state.deemed_accepted and state.accepted_on == received
    decision = clock_of(state, "ADM-3")
    assert decision.started_on == received
    assert decision.due_on == calendar.add_working_days(date.fromisoformat(received), 20).due_on.isoformat()
    assert [t.kind for t in state.open_tasks] == ["draw_expert_panel"]
    kinds = [e.kind for e in await trail(sessions, handle.id)]
    assert kinds == ["admission.registered", "clock.warning", "clock.overdue", "admission.accepted"]
    accepted = (await trail(sessions, handle.id))[-1]
    assert accepted.actor_role == "system" and accepted.data["deemed"] is True
    async with sessions() as session:
        row = await session.get(Admission, state.id)
    assert row is not None and row.stage == "deciding"


async def test_one_correction_pauses_acceptance_and_silence_after_it_accepts_as_of_its_receipt(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    calendar = WorkingCalendar()
    # RULES.md's week: received Thu 2026-09-24, before Mid-Autumn and National Day.
    received, asked, supplied = date(2026, 9, 24), date(2026, 9, 29), date(2026, 10, 9)
    handle, snapshot = await start(temporal_env, task_queue, new_institution(received.isoformat()))
    assert clock_of(snapshot, "ADM-1").due_on == calendar.add_working_days(received, 5).due_on.isoformat()
    request = AdmissionWorkflow.request_correction
    assert await rejected(handle, request, CorrectionRequest(supervisor, " ")) == "description_required"
    assert await rejected(handle, request, CorrectionRequest(institution_actor, "缺章程")) == "wrong_actor"
    paused = await handle.execute_update(
        request, CorrectionRequest(supervisor, "缺实验室认可证书、设备清单", requested_on=asked.isoformat())
    )
    used = calendar.working_days_between(received, asked)
    clock = clock_of(paused, "ADM-1")
    assert paused.stage == "awaiting_correction" and clock.paused and clock.used_days == used
    assert (
        await rejected(handle, AdmissionWorkflow.accept, ApplicationAcceptance(supervisor)) == "not_in_stage"
    )
    resumed = await handle.execute_update(
        AdmissionWorkflow.supply_correction,
        CorrectionSupply(supervisor, [Material("认可证书", "b" * 64)], received_on=supplied.isoformat()),
    )
    due = calendar.add_working_days(supplied, 5 - used)
    assert (
        resumed.stage == "awaiting_acceptance" and clock_of(resumed, "ADM-1").due_on == due.due_on.isoformat()
    )
    # Everything missing is asked for once (一次告知).
    assert (
        await rejected(handle, request, CorrectionRequest(supervisor, "再补"))
        == "correction_already_requested"
    )
    # Its rest ran out long ago (a paper application): the catch-up window, then deemed acceptance.
    waiting = max(r.fires_at for r in clock_of(resumed, "ADM-1").next_rungs)
    await temporal_env.sleep(waiting - await temporal_env.get_current_time() + timedelta(minutes=1))

    async def deemed() -> AdmissionSnapshot | None:
        state = await handle.query(AdmissionWorkflow.snapshot)
        return state if state.stage == "deciding" else None

    state = await eventually(deemed)
    assert state.deemed_accepted and state.accepted_on == supplied.isoformat()
    assert clock_of(state, "ADM-3").started_on == supplied.isoformat()


async def test_the_expert_review_is_not_counted_and_the_decision_extends_once_by_ten(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    calendar = WorkingCalendar()
    now = date.fromisoformat(await today(temporal_env))
    accepted_on, drawn_on = now - timedelta(days=14), now - timedelta(days=6)
    inp = new_institution(accepted_on.isoformat())
    handle, _ = await start(temporal_env, task_queue, inp)
    accepted = await handle.execute_update(
        AdmissionWorkflow.accept, ApplicationAcceptance(supervisor, accepted_on=accepted_on.isoformat())
    )
    assert accepted.stage == "deciding" and not accepted.deemed_accepted
    assert (
        await rejected(handle, AdmissionWorkflow.approve, AdmissionApproval(supervisor)) == "review_required"
    )
    draw = AdmissionWorkflow.draw_panel
    assert (
        await rejected(handle, draw, PanelDrawRequest(supervisor, 7, EXPERTS[:2], size=3))
        == "too_few_experts"
    )
    assert await rejected(handle, draw, PanelDrawRequest(supervisor, 7, EXPERTS, size=2)) == "panel_size"
    drawn = await handle.execute_update(
        draw,
        PanelDrawRequest(
            supervisor, 20261204, EXPERTS[:5], size=3, review_days=10, drawn_on=drawn_on.isoformat()
        ),
    )
    picks = seeded_sample(20261204, EXPERTS[:5], 3)
    used = calendar.working_days_between(accepted_on, drawn_on)
    assert drawn.stage == "expert_review" and [m.expert_id for m in drawn.panel] == picks
    assert drawn.draws[0].picks == picks and drawn.draws[0].seed == 20261204
    decision = clock_of(drawn, "ADM-3")
    assert decision.paused and decision.used_days == used
    assert clock_of(drawn, "ADM-4").due_on == calendar.add_working_days(drawn_on, 10).due_on.isoformat()
    assert sorted(t.assignee_id for t in drawn.open_tasks if t.kind == "submit_expert_review") == sorted(
        picks
    )
    # A conflicted expert recuses: a replacement is drawn, from a seed, among those not yet drawn.
    left = [e for e in EXPERTS if e not in picks]
    assert (
        await rejected(
            handle,
            AdmissionWorkflow.recuse_expert,
            ExpertRecusal(expert(picks[1]), picks[0], "同事", 3, left),
        )
        == "wrong_actor"
    )
    recused = await handle.execute_update(
        AdmissionWorkflow.recuse_expert, ExpertRecusal(expert(picks[0]), picks[0], "曾任申请人顾问", 3, left)
    )
    replacement = seeded_sample(3, left, 1)[0]
    assert [m.expert_id for m in recused.panel if not m.recused] == [picks[1], picks[2], replacement]
    assert (
        await rejected(handle, AdmissionWorkflow.submit_review, review(inp.admission_id, picks[0]))
        == "wrong_actor"
    )
    forged = review(inp.admission_id, picks[1])
    forged.score = 99  # the hash signed was over 86
    assert await rejected(handle, AdmissionWorkflow.submit_review, forged) == "bad_signature"
    concluded = await review_all(handle, inp.admission_id)
    # Drawn on `drawn_on`, concluded today: the days between are not counted (行政许可法 Art 45).
    decision = clock_of(concluded, "ADM-3")
    due = calendar.add_working_days(now, 20 - used)
    assert concluded.stage == "deciding" and concluded.review_concluded and not decision.paused
    assert decision.due_on == due.due_on.isoformat()
    assert (
        decision.pauses[0].paused_on == drawn_on.isoformat()
        and decision.pauses[0].resumed_on == now.isoformat()
    )
    assert clock_of(concluded, "ADM-4").stopped and not clock_of(concluded, "ADM-4").overdue
    extend = AdmissionWorkflow.extend_decision
    assert (
        await rejected(handle, extend, AdmissionExtension(supervisor, 11, "复杂", "局长"))
        == "extension_too_long"
    )
    assert (
        await rejected(handle, extend, AdmissionExtension(supervisor, 10, "复杂", " ")) == "approval_required"
    )
    extended = await handle.execute_update(extend, AdmissionExtension(supervisor, 10, "需现场核查", "张局长"))
    assert clock_of(extended, "ADM-3").due_on == calendar.add_working_days(due.due_on, 10).due_on.isoformat()
    assert (
        await rejected(handle, extend, AdmissionExtension(supervisor, 1, "再延", "张局长"))
        == "extension_already_granted"
    )
    approved = await handle.execute_update(
        AdmissionWorkflow.approve, AdmissionApproval(supervisor, note="准予登记")
    )
    assert approved.stage == "approved" and approved.decision is not None
    licence = approved.decision
    assert licence["valid_from"] == now.isoformat()
    assert licence["valid_until"] == (years_later(now, 5) - timedelta(days=1)).isoformat()
    async with sessions() as session:
        entry = await session.get(Institution, inp.entity_id)
        changes = (
            await session.exec(select(RegistryChange).where(RegistryChange.entity_id == inp.entity_id))
        ).all()
    assert entry is not None and entry.name == "朝天门司法鉴定所" and entry.bureau_id == BUREAU.id
    assert entry.licence_number == licence["licence_number"] and entry.founded_by_organ_id is None
    assert entry.licence_valid_until == date.fromisoformat(licence["valid_until"])
    assert [c.action for c in changes] == ["created"] and inp.admission_id in changes[0].reason
    events = await trail(sessions, handle.id)
    assert verify_chain(events, last_seq=approved.last_event_seq, last_hash=approved.last_hash, keys={}).ok
    kinds = [e.kind for e in events]
    assert kinds.count("admission.review_submitted") == 3 and kinds[-1] == "admission.approved"
    assert {
        "admission.panel_drawn",
        "admission.expert_recused",
        "admission.review_concluded",
        "clock.extended",
    } <= set(kinds)


async def test_an_appraiser_is_registered_with_their_key_and_trains_before_practising(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = await today(temporal_env)
    inp = new_appraiser(received, key_holder="qian-xin")
    handle, snapshot = await start(temporal_env, task_queue, inp)
    assert snapshot.applicant_institution_id == INSTITUTION.id and snapshot.gaps == []
    await handle.execute_update(AdmissionWorkflow.accept, ApplicationAcceptance(supervisor))
    await handle.execute_update(
        AdmissionWorkflow.draw_panel, PanelDrawRequest(supervisor, 11, EXPERTS, size=3)
    )
    await review_all(handle, inp.admission_id)
    approved = await handle.execute_update(AdmissionWorkflow.approve, AdmissionApproval(supervisor))
    assert approved.decision is not None and approved.decision["licence_number"].startswith("SJZY")
    async with sessions() as session:
        person = await session.get(Appraiser, inp.entity_id)
        keys = (
            await session.exec(select(AppraiserKey).where(AppraiserKey.appraiser_id == inp.entity_id))
        ).all()
    assert person is not None and person.institution_id == INSTITUTION.id and person.senior_title
    assert person.needs_pre_service_training and person.identity_hash == "f" * 64
    assert inp.appraiser is not None
    assert [(k.fingerprint, k.valid_from.isoformat()) for k in keys] == [
        (inp.appraiser.key_fingerprint, received)
    ]


async def test_a_refusal_states_its_reasons_and_the_remedies(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    received = await today(temporal_env)
    lacking = InstitutionDetails(
        name="某法院鉴定中心",
        categories=["forensic_clinical"],
        founding_organ_kind="court",
        appraisers_per_category={"forensic_clinical": 2},
    )
    handle, snapshot = await start(temporal_env, task_queue, new_institution(received, institution=lacking))
    assert len(snapshot.gaps) == 4  # a court's; two appraisers; no laboratory; no equipment
    await handle.execute_update(AdmissionWorkflow.accept, ApplicationAcceptance(supervisor))
    await handle.execute_update(
        AdmissionWorkflow.draw_panel, PanelDrawRequest(supervisor, 5, EXPERTS, size=3)
    )
    await review_all(handle, snapshot.id)
    assert await rejected(handle, AdmissionWorkflow.approve, AdmissionApproval(supervisor)) == "not_qualified"
    assert (
        await rejected(handle, AdmissionWorkflow.refuse, AdmissionRefusal(supervisor, "  "))
        == "reason_required"
    )
    refused = await handle.execute_update(
        AdmissionWorkflow.refuse, AdmissionRefusal(supervisor, "人民法院不得设立鉴定机构 (REG-2)")
    )
    assert refused.stage == "refused" and refused.decision is not None
    assert [r["remedy"] for r in refused.decision["remedies"]] == [
        "administrative_review",
        "administrative_lawsuit",
    ]
    assert await handle.result() == await handle.query(AdmissionWorkflow.snapshot)


async def test_a_renewal_undecided_when_the_licence_ends_is_deemed_granted(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = date.fromisoformat(await today(temporal_env))
    ends = received + timedelta(days=31)
    renewal = new_institution(
        received.isoformat(),
        kind="renewal",
        filed_by=institution_actor,
        applicant_institution_id=INSTITUTION.id,
        entity_id=INSTITUTION.id,
        institution=None,
        registered=RegisteredEntry(
            name=INSTITUTION.name,
            categories=list(INSTITUTION.categories),
            licence_number="SJXK2021OLD",
            licence_valid_until=ends.isoformat(),
        ),
    )
    handle, snapshot = await start(temporal_env, task_queue, renewal)
    assert not snapshot.review_required
    await handle.execute_update(AdmissionWorkflow.accept, ApplicationAcceptance(supervisor))
    await temporal_env.sleep(end_of_day(ends) - await temporal_env.get_current_time() + timedelta(seconds=5))
    result = await handle.result()
    assert result.stage == "approved" and result.decision is not None and result.decision["deemed"]
    assert result.decision["valid_from"] == (ends + timedelta(days=1)).isoformat()
    assert result.decision["licence_number"] == "SJXK2021OLD"
    async with sessions() as session:
        entry = await session.get(Institution, INSTITUTION.id)
    assert entry is not None
    assert entry.licence_valid_until == years_later(ends + timedelta(days=1), 5) - timedelta(days=1)
    kinds = [e.kind for e in await trail(sessions, handle.id)]
    assert kinds[-1] == "admission.deemed_renewed"


async def test_loading_a_calendar_recomputes_a_running_application_too(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    received = await today(temporal_env)
    handle, registered = await start(temporal_env, task_queue, new_institution(received))
    before = clock_of(registered, "ADM-1")
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
        due_on = clock_of(await handle.query(AdmissionWorkflow.snapshot), "ADM-1").due_on
        return due_on if due_on != before.due_on else None

    assert date.fromisoformat(await eventually(moved)) > due

    async def recorded() -> AuditEventRow | None:
        return next((e for e in await trail(sessions, handle.id) if e.kind == "clock.recomputed"), None)

    event = await eventually(recorded)
    assert event.data["old_due_on"] == before.due_on and event.data["rule"] == "ADM-1"
