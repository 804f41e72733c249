"""What the penalty-case routes and pages do, as keyword-only functions: check the filing (the
party under the bureau, the referral it comes from, Art 36's time bar) before the workflow
starts, build each step's message, read the read model."""

import uuid
from datetime import date, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from appraisal.db.models import (
    Appraiser,
    AuditEventRow,
    Commission,
    Complaint,
    Inspection,
    Institution,
    PenaltyCase,
)
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.commission import Material
from appraisal.domain.complaint import Outcome
from appraisal.domain.errors import InvalidInput, NotFound, RuleViolation
from appraisal.domain.penalty import (
    TERMINAL_PENALTY_STAGES,
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
    check_filing,
    time_bar_date,
    workflow_id_for,
)
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.commission import ClockPublic
from appraisal.schemas.penalty import PenaltyCaseCreate, PenaltyCasePublic, PenaltyStepCreate
from appraisal.services import steps
from appraisal.services.starting import start_once
from appraisal.workflows.penalty import PenaltyWorkflow

PENALTY_NAMESPACE = uuid.UUID("7a1f3c2e-9d4b-5e81-a6c0-b2d3e4f5a6b7")

# step → (required fields, optional fields); any other field is refused (422).
STEP_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "investigate": (("findings",), ("evidence",)),
    "propose": (
        ("facts", "penalties", "basis"),
        ("suspension_months", "fine_yuan", "illegal_gains_yuan", "on"),
    ),
    "statement": ((), ("statement", "hearing_requested", "waives_hearing", "on")),
    "schedule_hearing": (("hearing_on", "place"), ("on",)),
    "hearing_held": (("summary",), ("on",)),
    "extend": (("days", "reason", "approved_by"), ()),
    "decide": (
        ("penalties", "reasons"),
        ("basis", "suspension_months", "fine_yuan", "illegal_gains_yuan", "publish", "decision_number", "on"),
    ),
    "serve": ((), ("method", "on")),
}
STEP_UPDATES: dict[str, str] = {
    "investigate": "record_investigation",
    "propose": "notify_proposal",
    "statement": "record_statement",
    "schedule_hearing": "schedule_hearing",
    "hearing_held": "record_hearing",
    "extend": "extend_decision",
    "decide": "decide",
    "serve": "serve",
}
"""Each step of POST /v1/penalties/{id}/steps and the workflow's Update that takes it."""


def case_id_for(*, bureau_id: str, reference: str) -> str:
    return str(uuid.uuid5(PENALTY_NAMESPACE, f"{bureau_id}\n{reference}"))


async def load_in_scope(*, session: AsyncSession, principal: Actor, case_id: str) -> PenaltyCase:
    if principal.role != Role.SUPERVISOR:
        raise NotFound("penalty case")
    row = (
        await session.exec(
            select(PenaltyCase).where(
                PenaltyCase.id == case_id, PenaltyCase.bureau_id == principal.organisation_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("penalty case")
    return row


async def list_cases(
    *, session: AsyncSession, principal: Actor, stage: str | None = None
) -> list[PenaltyCase]:
    query = select(PenaltyCase).where(PenaltyCase.bureau_id == principal.organisation_id)
    if stage:
        query = query.where(PenaltyCase.stage == stage)
    return list((await session.exec(query.order_by(col(PenaltyCase.created_at).desc()).limit(500))).all())


async def _party(
    *, session: AsyncSession, principal: Actor, body: PenaltyCaseCreate
) -> tuple[str, Institution]:
    """The party and its institution, under the caller's bureau (else the field is refused)."""
    if body.subject_kind == "appraiser":
        appraiser = await session.get(Appraiser, body.subject_id)
        institution = await session.get(Institution, appraiser.institution_id) if appraiser else None
    else:
        institution = await session.get(Institution, body.subject_id)
    if institution is None or institution.bureau_id != principal.organisation_id:
        raise InvalidInput("subject_id", f"no {body.subject_kind} {body.subject_id} under the bureau")
    return body.subject_id, institution


async def _check_referral(
    *, session: AsyncSession, principal: Actor, body: PenaltyCaseCreate, institution: Institution
) -> None:
    """The referral the case comes from exists and names this party."""
    if body.source == "bureau":
        if body.source_id:
            raise InvalidInput("source_id", "the bureau's own finding names no referral")
        return
    if not body.source_id:
        raise InvalidInput("source_id", f"name the {body.source} the referral comes from")
    if body.source == "complaint":
        complaint = await session.get(Complaint, body.source_id)
        decided = (complaint.snapshot.get("decision") or {}) if complaint else {}
        if complaint is None or complaint.bureau_id != principal.organisation_id:
            raise InvalidInput("source_id", f"no complaint {body.source_id} of the bureau")
        if decided.get("outcome") != Outcome.ADMINISTRATIVE_PENALTY_REFERRAL:
            raise RuleViolation(
                "not_referred", "the complaint was not decided with a penalty referral", rule="CMP-8"
            )
        party = complaint.appraiser_id if body.subject_kind == "appraiser" else complaint.institution_id
        if party != body.subject_id:
            raise InvalidInput("subject_id", "is not the party the complaint was against")
    elif body.source == "testimony_refusal":
        commission = await session.get(Commission, body.source_id)
        if commission is None or commission.institution_id != institution.id:
            raise InvalidInput("source_id", f"no commission {body.source_id} of the institution")
        referred = {
            a for t in commission.snapshot.get("testimonies", []) for a in t.get("penalty_referred", [])
        }
        if body.subject_kind != "appraiser" or body.subject_id not in referred:
            raise RuleViolation(
                "not_referred",
                "no testimony of that commission referred this appraiser (TST-9)",
                rule="TST-9",
            )
    else:
        inspection = await session.get(Inspection, body.source_id)
        if (
            inspection is None
            or inspection.bureau_id != principal.organisation_id
            or inspection.closed_at is None
        ):
            raise InvalidInput("source_id", f"no closed inspection {body.source_id} of the bureau")
        referred = {
            r["institution_id"] for r in inspection.results if r.get("conclusion") == "penalty_referral"
        }
        if institution.id not in referred:
            raise RuleViolation(
                "not_referred", "the inspection's result did not refer this institution", rule="PEN-1"
            )


async def file(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    body: PenaltyCaseCreate,
    today: date,
    paper_history_days: int,
) -> tuple[PenaltySnapshot | PenaltyCase, bool]:
    """Files (立案) the case and starts its workflow, or finds the one this reference filed."""
    case_id = case_id_for(bureau_id=principal.organisation_id, reference=body.reference)
    existing = await session.get(PenaltyCase, case_id)
    if existing is not None:
        return existing, False
    filed_on = body.filed_on or today
    if filed_on > today:
        raise InvalidInput("filed_on", f"{filed_on} is in the future")
    if filed_on < today - timedelta(days=paper_history_days):
        raise InvalidInput("filed_on", f"{filed_on} is more than {paper_history_days} days ago")
    if body.breach_on > filed_on:
        raise InvalidInput("breach_on", f"{body.breach_on} is after the filing ({filed_on})")
    subject_id, institution = await _party(session=session, principal=principal, body=body)
    await _check_referral(session=session, principal=principal, body=body, institution=institution)
    inp = PenaltyInput(
        case_id=case_id,
        bureau_id=principal.organisation_id,
        reference=body.reference,
        subject_kind=body.subject_kind,
        subject_id=subject_id,
        institution_id=institution.id,
        source=body.source,
        filed_on=filed_on.isoformat(),
        breach_on=body.breach_on.isoformat(),
        summary=body.summary,
        filed_by=principal,
        source_id=body.source_id or "",
        harm=body.harm,
        time_bar_last_day=time_bar_date(body.breach_on, harm=body.harm).isoformat(),
    )
    check_filing(inp)  # the time bar (409 time_barred) before anything starts
    return await start_once(
        client=client,
        session=session,
        run=PenaltyWorkflow.run,
        inp=inp,
        workflow_id=workflow_id_for(case_id),
        task_queue=task_queue,
        register=PenaltyWorkflow.register,
        request=PenaltyRegistration(actor=principal),
        stored=PenaltyCase,
        row_id=case_id,
    )


def check_step_fields(body: PenaltyStepCreate) -> None:
    required, optional = STEP_FIELDS[body.step]
    for name in required:
        if getattr(body, name) is None:
            raise InvalidInput(name, f"required when step is {body.step}")
    for name in sorted(body.model_fields_set - {"step", *required, *optional}):
        if getattr(body, name) is not None:
            raise InvalidInput(name, f"not used when step is {body.step}")


def message_for(body: PenaltyStepCreate, principal: Actor) -> Any:
    """The message of the Update a step names."""
    on = body.on.isoformat() if body.on else ""
    match body.step:
        case "investigate":
            evidence = [Material(m.name, m.sha256) for m in body.evidence or []]
            return Investigation(principal, body.findings or "", evidence)
        case "propose":
            return ProposedPenalty(
                principal,
                facts=body.facts or "",
                penalties=list(body.penalties or []),
                basis=body.basis or "",
                notified_on=on,
                suspension_months=body.suspension_months or 0,
                fine_yuan=body.fine_yuan or 0,
                illegal_gains_yuan=body.illegal_gains_yuan or 0,
            )
        case "statement":
            return PartyStatement(
                principal,
                statement=body.statement or "",
                hearing_requested=bool(body.hearing_requested),
                received_on=on,
                waives_hearing=bool(body.waives_hearing),
            )
        case "schedule_hearing":
            assert body.hearing_on is not None
            return HearingSchedule(principal, body.hearing_on.isoformat(), body.place or "", notified_on=on)
        case "hearing_held":
            return HearingRecord(principal, body.summary or "", held_on=on)
        case "extend":
            return DecisionExtension(principal, body.days or 0, body.reason or "", body.approved_by or "")
        case "decide":
            return PenaltyDecision(
                principal,
                penalties=list(body.penalties or []),
                reasons=body.reasons or "",
                basis=body.basis or "",
                decided_on=on,
                suspension_months=body.suspension_months or 0,
                fine_yuan=body.fine_yuan or 0,
                illegal_gains_yuan=body.illegal_gains_yuan or 0,
                publish=body.publish,
                decision_number=body.decision_number or "",
            )
        case _:
            return DecisionService(principal, served_on=on, method=body.method or "")


async def take_step(
    *, session: AsyncSession, client: Client, principal: Actor, case_id: str, body: PenaltyStepCreate
) -> dict[str, Any]:
    """The case's next step, as the API and the workspace both take it: the body's own fields
    checked, the Update sent to the case's workflow (whose validator decides whether the step is
    allowed now); the snapshot after it, as plain data."""
    check_step_fields(body)
    row = await load_in_scope(session=session, principal=principal, case_id=case_id)
    if row.stage in TERMINAL_PENALTY_STAGES:
        raise RuleViolation("not_in_stage", f"the penalty case is {row.stage}; no step remains")
    update = getattr(PenaltyWorkflow, STEP_UPDATES[body.step])
    snapshot = await steps.update_workflow(
        client=client,
        workflow_id=row.workflow_id,
        update=update,
        message=message_for(body, principal),
        what="penalty case",
    )
    return dict(jsonable(snapshot))


def to_public(snapshot: dict[str, Any], *, calendar: WorkingCalendar, today: date) -> PenaltyCasePublic:
    clocks = []
    for clock in snapshot["clocks"]:
        left = None
        if clock.get("paused"):
            left = clock["budget_days"] + clock.get("extension_days", 0) - clock.get("used_days", 0)
        elif not clock["stopped"]:
            left = calendar.working_days_between(today, date.fromisoformat(clock["due_on"]))
        clocks.append(ClockPublic.model_validate({**clock, "working_days_left": left}))
    return PenaltyCasePublic.model_validate({**snapshot, "clocks": clocks})


def public_of(
    result: PenaltySnapshot | PenaltyCase, *, calendar: WorkingCalendar, today: date
) -> PenaltyCasePublic:
    snapshot = result.snapshot if isinstance(result, PenaltyCase) else jsonable(result)
    return to_public(snapshot, calendar=calendar, today=today)


async def audit_trail(*, session: AsyncSession, case: PenaltyCase) -> list[AuditEventRow]:
    rows = await session.exec(
        select(AuditEventRow)
        .where(AuditEventRow.workflow_id == case.workflow_id)
        .order_by(col(AuditEventRow.seq))
    )
    return list(rows.all())
