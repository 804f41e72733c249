"""What the commission routes do, as keyword-only functions: authorise,
build the message, send it to the workflow, or read the read model."""

import secrets
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from appraisal.api.errors import not_found
from appraisal.api.schemas import (
    AuditEventPublic,
    ClockPublic,
    CommissionPublic,
    EntrustmentCreate,
    InboxTask,
    ReentrustmentCreate,
    Selection,
    SignatureCreate,
)
from appraisal.db.models import Appraiser, AppraiserKey, AuditEventRow, Commission, Institution, Task
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.commission import (
    CommissionInput,
    CommissionSnapshot,
    EligibleAppraiser,
    Material,
    ReassignmentRequest,
    RegistrationRequest,
    random_pick,
)
from appraisal.domain.errors import InvalidInput, RuleViolation
from appraisal.domain.roles import Actor, Role
from appraisal.domain.stages import Stage
from appraisal.signing import signed_message, verify
from appraisal.workflows.commission import CommissionWorkflow, workflow_id_for

COMMISSION_NAMESPACE = uuid.UUID("6f1d3c2a-4b7e-5d8f-9a0b-1c2d3e4f5a6b")
MAX_PAST_DAYS = 365


def commission_id_for(*, court_id: str, court_reference: str) -> str:
    """Deterministic, so a repeated court reference finds the same workflow."""
    return str(uuid.uuid5(COMMISSION_NAMESPACE, f"{court_id}\n{court_reference}"))


def _bureau_institutions(bureau_id: str) -> Any:
    return select(Institution.id).where(Institution.bureau_id == bureau_id)


def scope_filter(principal: Actor) -> ColumnElement[bool]:
    """The commissions a principal may see (API.md: courts their own,
    institutions theirs, appraisers where assigned, supervisors their bureau's)."""
    org = principal.organisation_id
    match principal.role:
        case Role.COURT:
            return col(Commission.court_id) == org
        case Role.INSTITUTION | Role.INSTITUTION_HEAD:
            return col(Commission.institution_id) == org
        case Role.APPRAISER:
            return col(Commission.appraiser_ids).contains([org])
        case Role.SUPERVISOR:
            return col(Commission.institution_id).in_(_bureau_institutions(org))
    return false()


async def load_in_scope(*, session: AsyncSession, principal: Actor, commission_id: str) -> Commission:
    row = (
        await session.exec(select(Commission).where(Commission.id == commission_id, scope_filter(principal)))
    ).first()
    if row is None:
        raise not_found()
    return row


def _received_on(body: EntrustmentCreate, today: date) -> date:
    received = body.received_on or today
    if received > today:
        raise InvalidInput("received_on", f"{received} is in the future")
    if received < today - timedelta(days=MAX_PAST_DAYS):
        raise InvalidInput("received_on", f"{received} is more than {MAX_PAST_DAYS} days ago")
    return received


async def _choose_institution(
    *, session: AsyncSession, body: EntrustmentCreate
) -> tuple[Institution, str, list[str]]:
    selection = body.selection
    if selection.mode == "random":
        if selection.institution_id:
            raise InvalidInput("selection.institution_id", "a random draw names no institution")
        candidates = list(
            (
                await session.exec(
                    select(Institution.id).where(
                        Institution.status == "active",
                        col(Institution.categories).contains([body.category]),
                    )
                )
            ).all()
        )
        if not candidates:
            raise RuleViolation(
                "no_candidate_institution",
                f"no active institution is registered for {body.category}",
                rule="SEL-3",
            )
        seed = secrets.token_hex(16)
        institution_id = random_pick(seed, candidates)
    else:
        if not selection.institution_id:
            raise InvalidInput("selection.institution_id", f"required for mode {selection.mode}")
        seed, candidates, institution_id = "", [], selection.institution_id
    institution = await session.get(Institution, institution_id)
    if institution is None:
        raise InvalidInput("selection.institution_id", f"no institution {institution_id}")
    if institution.status != "active":
        raise RuleViolation(
            "institution_not_active",
            f"institution {institution.name} is {institution.status}",
            rule="REG-6",
        )
    if body.category not in institution.categories:
        raise RuleViolation(
            "institution_not_qualified",
            f"institution {institution.name} is not registered for {body.category}",
            rule="PROC-05",
        )
    return institution, seed, sorted(candidates)


async def entrust(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    body: EntrustmentCreate,
    today: date,
    previous_commission_id: str = "",
) -> tuple[CommissionSnapshot | Commission, bool]:
    """Starts the commission's workflow, or finds the one this court
    reference already started. Returns the commission and whether it is new."""
    commission_id = commission_id_for(
        court_id=principal.organisation_id, court_reference=body.court_reference
    )
    existing = await session.get(Commission, commission_id)
    if existing is not None:
        return existing, False
    received_on = _received_on(body, today)
    institution, seed, candidates = await _choose_institution(session=session, body=body)
    appraisers = (
        await session.exec(
            select(Appraiser)
            .where(
                Appraiser.institution_id == institution.id,
                Appraiser.status == "active",
                col(Appraiser.categories).contains([body.category]),
            )
            .order_by(col(Appraiser.id))
        )
    ).all()
    inp = CommissionInput(
        commission_id=commission_id,
        court_id=principal.organisation_id,
        court_reference=body.court_reference,
        case_number=body.case_number,
        category=body.category,
        institution_id=institution.id,
        received_on=received_on.isoformat(),
        entrusted_by=principal,
        matters=list(body.matters),
        selection_mode=body.selection.mode,
        court_deadline_working_days=body.court_deadline_working_days,
        materials=[Material(m.name, m.sha256) for m in body.materials],
        eligible_appraisers=[EligibleAppraiser(a.id, a.name, a.senior_title) for a in appraisers],
        selection_seed=seed,
        selection_candidates=candidates,
        bureau_id=institution.bureau_id,
        previous_commission_id=previous_commission_id,
    )
    start = WithStartWorkflowOperation(
        CommissionWorkflow.run,
        inp,
        id=workflow_id_for(commission_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    try:
        snapshot = await client.execute_update_with_start_workflow(
            CommissionWorkflow.register,
            RegistrationRequest(actor=principal),
            start_workflow_operation=start,
        )
    except WorkflowAlreadyStartedError:
        # Closed long ago: the read model has it.
        row = await session.get(Commission, commission_id)
        if row is None:
            raise
        return row, False
    return snapshot, snapshot.created


async def reentrust(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    old: Commission,
    body: ReentrustmentCreate,
    today: date,
) -> tuple[CommissionSnapshot | Commission, bool]:
    """CRT-5: closes the overdue commission as reassigned (its workflow checks it
    is overdue), then entrusts the same matter, linked, to another institution.
    Both steps are idempotent, so a repeated request completes a half-done one."""
    snapshot = old.snapshot
    new_body = EntrustmentCreate(
        court_reference=body.court_reference,
        case_number=old.case_number,
        category=old.category,
        matters=snapshot.get("matters", []),
        selection=body.selection,
        received_on=today,
        court_deadline_working_days=snapshot.get("court_deadline_working_days"),
    )
    institution, _, _ = await _choose_institution(session=session, body=new_body)
    new_id = commission_id_for(court_id=principal.organisation_id, court_reference=body.court_reference)
    if snapshot.get("reassigned_to") != new_id:  # else a repeat: the old workflow has ended
        await client.get_workflow_handle(old.workflow_id).execute_update(
            CommissionWorkflow.reassign,
            ReassignmentRequest(
                actor=principal,
                new_commission_id=new_id,
                new_institution_id=institution.id,
                reason=body.reason,
            ),
        )
    new_body.selection = Selection(mode="designated", institution_id=institution.id)
    return await entrust(
        session=session,
        client=client,
        task_queue=task_queue,
        principal=principal,
        body=new_body,
        today=today,
        previous_commission_id=old.id,
    )


async def check_signature(
    *, session: AsyncSession, principal: Actor, commission: Commission, body: SignatureCreate, today: date
) -> str:
    """The signature must verify with one of the appraiser's keys valid today;
    returns that key's fingerprint. Without a report yet, the workflow refuses the step."""
    report = commission.snapshot.get("report")
    if not report:
        return ""
    message = signed_message(body.kind, report["content_hash"], body.statement)
    keys = (
        await session.exec(
            select(AppraiserKey).where(
                AppraiserKey.appraiser_id == principal.organisation_id,
                col(AppraiserKey.valid_from) <= today,
                or_(col(AppraiserKey.valid_until).is_(None), col(AppraiserKey.valid_until) >= today),
            )
        )
    ).all()
    for key in keys:
        if verify(key.public_key, message, body.signature):
            return key.fingerprint
    raise InvalidInput(
        "signature",
        f"does not verify against a registered key of this appraiser valid on {today} "
        f"(signed: {'the report hash' if body.kind == 'sign' else 'the dissent bound to the report hash'})",
    )


def to_public(snapshot: dict[str, Any], *, calendar: WorkingCalendar, today: date) -> CommissionPublic:
    clocks = []
    for clock in snapshot["clocks"]:
        left = None
        if clock.get("paused"):
            left = clock["budget_days"] + clock.get("extension_days", 0) - clock.get("used_days", 0)
        elif not clock["stopped"]:
            left = calendar.working_days_between(today, date.fromisoformat(clock["due_on"]))
        clocks.append(ClockPublic.model_validate({**clock, "working_days_left": left}))
    return CommissionPublic.model_validate({**snapshot, "clocks": clocks})


async def list_commissions(
    *,
    session: AsyncSession,
    principal: Actor,
    stage: Stage | None,
    institution_id: str | None,
    court_id: str | None,
    category: str | None,
    overdue: bool | None,
    due_before: date | None,
    limit: int,
    offset: int,
) -> tuple[list[Commission], int]:
    conditions: list[ColumnElement[bool]] = [scope_filter(principal)]
    if stage:
        conditions.append(col(Commission.stage) == stage.value)
    if institution_id:
        conditions.append(col(Commission.institution_id) == institution_id)
    if court_id:
        conditions.append(col(Commission.court_id) == court_id)
    if category:
        conditions.append(col(Commission.category) == category)
    if overdue is not None:
        conditions.append(col(Commission.overdue) == overdue)
    if due_before:
        conditions.append(col(Commission.next_due_on) <= due_before)
    total = (await session.exec(select(func.count()).select_from(Commission).where(*conditions))).one()
    rows = (
        await session.exec(
            select(Commission)
            .where(*conditions)
            .order_by(col(Commission.next_due_on).asc().nulls_last(), col(Commission.id))
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return list(rows), total


async def inbox(*, session: AsyncSession, principal: Actor) -> list[InboxTask]:
    rows = (
        await session.exec(
            select(Task, Commission.court_reference, Commission.stage)
            .join(Commission, col(Commission.id) == col(Task.commission_id))
            .where(
                Task.assignee_role == principal.role,
                Task.assignee_id == principal.organisation_id,
            )
            .order_by(col(Task.due_on).asc().nulls_last(), col(Task.id))
        )
    ).all()
    return [
        InboxTask(
            commission_id=task.commission_id,
            court_reference=reference,
            stage=stage,
            kind=task.kind,
            assignee_role=task.assignee_role,
            assignee_id=task.assignee_id,
            due_on=task.due_on,
            rule=task.rule,
        )
        for task, reference, stage in rows
    ]


async def audit_trail(*, session: AsyncSession, commission_id: str) -> list[AuditEventPublic]:
    rows = (
        await session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.commission_id == commission_id)
            .order_by(col(AuditEventRow.seq))
        )
    ).all()
    return [AuditEventPublic.model_validate(r, from_attributes=True) for r in rows]
