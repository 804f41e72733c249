"""What the complaint routes do, as keyword-only functions: check the
registration (CMP-1 time bar, CMP-2 the bureau, the respondents) before the
workflow starts, build each step's message, read the read model."""

import hashlib
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from appraisal.db.models import Appraiser, AuditEventRow, Commission, Complaint, Institution
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.commission import Material
from appraisal.domain.complaint import (
    TERMINAL_COMPLAINT_STAGES,
    Complainant,
    ComplaintAcceptance,
    ComplaintDecision,
    ComplaintDecline,
    ComplaintExtension,
    ComplaintInput,
    ComplaintRegistration,
    ComplaintSnapshot,
    PartiesNotice,
    SupplementReceipt,
    SupplementRequest,
    check_time_bar,
    time_bar_date,
    workflow_id_for,
)
from appraisal.domain.errors import InvalidInput, NotFound, RuleViolation
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.commission import ClockPublic
from appraisal.schemas.complaint import ComplaintCreate, ComplaintDecisionCreate, ComplaintPublic
from appraisal.schemas.parties import ComplaintSeen, PartyComplaintCreate
from appraisal.services import steps
from appraisal.services.starting import start_once
from appraisal.workflows.complaint import ComplaintWorkflow

COMPLAINT_NAMESPACE = uuid.UUID("2c9e4d1b-7a3f-5e60-8b1c-d4e5f6a7b8c9")

# decision → (required fields, optional fields); any other field is refused (422).
DECISION_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accept": ((), ("on", "note")),
    "decline": (("ground", "reason"), ("on",)),
    "extend_acceptance": (("days", "reason"), ()),
    "extend_handling": (("days", "reason", "approved_by"), ("complainant_told_on",)),
    "request_supplement": (("description",), ("on",)),
    "supplement_received": ((), ("on", "materials")),
    "decide": (("findings", "outcome"), ("on", "fee_violation")),
    "notify_parties": ((), ("on", "method")),
}


def complaint_id_for(*, bureau_id: str, reference: str) -> str:
    """Deterministic, so a repeated reference finds the same workflow."""
    return str(uuid.uuid5(COMPLAINT_NAMESPACE, f"{bureau_id}\n{reference}"))


def _filed_by(party_id: str) -> Any:
    """The complaints a party filed itself (the registration's actor, in their chains)."""
    return select(AuditEventRow.commission_id).where(
        AuditEventRow.kind == "complaint.registered",
        AuditEventRow.actor_role == Role.PARTY,
        AuditEventRow.actor_organisation_id == party_id,
    )


def scope_filter(principal: Actor) -> ColumnElement[bool]:
    """A supervisor sees the complaints against institutions under its bureau, a party those it
    filed itself; nobody else any."""
    if principal.role == Role.PARTY:
        return col(Complaint.id).in_(_filed_by(principal.organisation_id))
    if principal.role != Role.SUPERVISOR:
        return false()
    bureau_institutions = select(Institution.id).where(Institution.bureau_id == principal.organisation_id)
    return col(Complaint.institution_id).in_(bureau_institutions)


async def filed_by_party(*, session: AsyncSession, party_id: str) -> list[ComplaintSeen]:
    """What a party sees of the complaints it filed: their stage and, once decided, the outcome."""
    rows = await session.exec(
        select(Complaint)
        .where(col(Complaint.id).in_(_filed_by(party_id)))
        .order_by(col(Complaint.created_at))
    )
    return [
        ComplaintSeen(
            id=row.id,
            reference=row.reference,
            stage=row.stage,
            received_on=row.snapshot["received_on"],
            outcome=(row.snapshot.get("decision") or {}).get("outcome"),
        )
        for row in rows.all()
    ]


async def register_by_party(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    commission: Commission,
    party_name: str,
    party_side: str,
    body: PartyComplaintCreate,
    today: date,
    calendar: WorkingCalendar,
) -> tuple[ComplaintSnapshot | Complaint, bool]:
    """A party's own complaint about its commission (PTY-1, CMP-1): filed with the bureau where the
    institution is (CMP-2), the party its complainant and the author in the complaint's chain; the
    bureau then decides acceptance as for any complaint. The same reference again is the same one."""
    institution = await session.get(Institution, commission.institution_id)
    if institution is None:
        raise InvalidInput("commission", "its institution is not in the registry")
    if body.appraiser_id and body.appraiser_id not in commission.appraiser_ids:
        raise InvalidInput("appraiser_id", "is not an appraiser of this commission")
    reference = f"PTY-{principal.organisation_id[:8]}-" + (
        body.reference or hashlib.sha256(body.summary.encode()).hexdigest()[:12]
    )
    complaint_id = complaint_id_for(bureau_id=institution.bureau_id, reference=reference)
    existing = await session.get(Complaint, complaint_id)
    if existing is not None:
        return existing, False
    knew_on = body.knew_on or today
    if knew_on > today:
        raise InvalidInput("knew_on", f"{knew_on} is in the future")
    last_day = time_bar_date(knew_on, calendar.is_working_day).isoformat()
    check_time_bar(knew_on=knew_on.isoformat(), received_on=today.isoformat(), last_day=last_day)
    inp = ComplaintInput(
        complaint_id=complaint_id,
        bureau_id=institution.bureau_id,
        reference=reference,
        received_on=today.isoformat(),
        knew_on=knew_on.isoformat(),
        time_bar_last_day=last_day,
        registered_by=principal,
        complainant=Complainant(
            name=party_name,
            kind="person",
            interest=f"a party ({party_side}) of the commission {commission.court_reference} (PTY-1)",
        ),
        institution_id=institution.id,
        summary=body.summary,
        appraiser_id=body.appraiser_id or "",
        commission_id=commission.id,
        materials=[Material(m.name, m.sha256) for m in body.materials],
    )
    return await start_once(
        client=client,
        session=session,
        run=ComplaintWorkflow.run,
        inp=inp,
        workflow_id=workflow_id_for(complaint_id),
        task_queue=task_queue,
        register=ComplaintWorkflow.register,
        request=ComplaintRegistration(actor=principal),
        stored=Complaint,
        row_id=complaint_id,
    )


async def load_in_scope(*, session: AsyncSession, principal: Actor, complaint_id: str) -> Complaint:
    row = (
        await session.exec(select(Complaint).where(Complaint.id == complaint_id, scope_filter(principal)))
    ).first()
    if row is None:
        raise NotFound("complaint")
    return row


async def _respondent(*, session: AsyncSession, body: ComplaintCreate) -> tuple[Institution, str]:
    """The institution complained against (or the appraiser's) and the appraiser id, if any."""
    institution_id = body.institution_id
    if body.appraiser_id:
        appraiser = await session.get(Appraiser, body.appraiser_id)
        if appraiser is None:
            raise InvalidInput("appraiser_id", f"no appraiser {body.appraiser_id}")
        if institution_id and institution_id != appraiser.institution_id:
            raise InvalidInput("appraiser_id", f"is not an appraiser of institution {institution_id}")
        institution_id = appraiser.institution_id
    if not institution_id:
        raise InvalidInput("institution_id", "name the institution or the appraiser complained against")
    institution = await session.get(Institution, institution_id)
    if institution is None:
        raise InvalidInput("institution_id", f"no institution {institution_id}")
    return institution, body.appraiser_id or ""


async def register(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    body: ComplaintCreate,
    today: date,
    calendar: WorkingCalendar,
    paper_history_days: int,
) -> tuple[ComplaintSnapshot | Complaint, bool]:
    """Starts the complaint's workflow, or finds the one this reference already
    started. Returns the complaint and whether it is new."""
    complaint_id = complaint_id_for(bureau_id=principal.organisation_id, reference=body.reference)
    existing = await session.get(Complaint, complaint_id)
    if existing is not None:
        return existing, False
    received_on = body.received_on or today
    if received_on > today:
        raise InvalidInput("received_on", f"{received_on} is in the future")
    if received_on < today - timedelta(days=paper_history_days):
        raise InvalidInput("received_on", f"{received_on} is more than {paper_history_days} days ago")
    if body.knew_on > received_on:
        raise InvalidInput("knew_on", f"{body.knew_on} is after the complaint was received ({received_on})")
    institution, appraiser_id = await _respondent(session=session, body=body)
    if institution.bureau_id != principal.organisation_id:
        raise RuleViolation(
            "not_in_bureau",
            "a complaint is handled by the bureau where the institution is located",
            rule="CMP-2",
        )
    if body.commission_id:
        commission = await session.get(Commission, body.commission_id)
        if commission is None:
            raise InvalidInput("commission_id", f"no commission {body.commission_id}")
        if commission.institution_id != institution.id:
            raise InvalidInput("commission_id", "that commission was entrusted to another institution")
    last_day = time_bar_date(body.knew_on, calendar.is_working_day).isoformat()
    check_time_bar(knew_on=body.knew_on.isoformat(), received_on=received_on.isoformat(), last_day=last_day)
    complainant = body.complainant
    inp = ComplaintInput(
        complaint_id=complaint_id,
        bureau_id=principal.organisation_id,
        reference=body.reference,
        received_on=received_on.isoformat(),
        knew_on=body.knew_on.isoformat(),
        time_bar_last_day=last_day,
        registered_by=principal,
        complainant=Complainant(
            name=complainant.name,
            kind=complainant.kind,
            interest=complainant.interest,
            contact=complainant.contact or "",
        ),
        institution_id=institution.id,
        summary=body.summary,
        appraiser_id=appraiser_id,
        commission_id=body.commission_id or "",
        materials=[Material(m.name, m.sha256) for m in body.materials],
    )
    return await start_once(
        client=client,
        session=session,
        run=ComplaintWorkflow.run,
        inp=inp,
        workflow_id=workflow_id_for(complaint_id),
        task_queue=task_queue,
        register=ComplaintWorkflow.register,
        request=ComplaintRegistration(actor=principal),
        stored=Complaint,
        row_id=complaint_id,
    )


def check_decision_fields(body: ComplaintDecisionCreate) -> None:
    """Each decision uses its own fields: a missing one or a stray one is 422, by name."""
    required, optional = DECISION_FIELDS[body.decision]
    for name in required:
        if getattr(body, name) is None:
            raise InvalidInput(name, f"required when decision is {body.decision}")
    for name in sorted(body.model_fields_set - {"decision", *required, *optional}):
        if getattr(body, name) is not None:
            raise InvalidInput(name, f"not used when decision is {body.decision}")


async def decide(
    *,
    session: AsyncSession,
    client: Client,
    principal: Actor,
    complaint_id: str,
    body: ComplaintDecisionCreate,
) -> dict[str, Any]:
    """The complaint's next step, as the API and the workspace both take it: the body's own
    fields checked, the Update sent to the complaint's workflow (whose validator decides
    whether the step is allowed now); the snapshot after it, as plain data."""
    check_decision_fields(body)
    row = await load_in_scope(session=session, principal=principal, complaint_id=complaint_id)
    if row.stage in TERMINAL_COMPLAINT_STAGES:  # its workflow has ended: no Update can reach it
        raise RuleViolation("not_in_stage", f"the complaint is {row.stage}; no step remains")
    update, message = step_for(body, principal)
    snapshot = await steps.update_workflow(
        client=client, workflow_id=row.workflow_id, update=update, message=message, what="complaint"
    )
    return dict(jsonable(snapshot))


def step_for(body: ComplaintDecisionCreate, principal: Actor) -> tuple[Any, Any]:
    """The workflow Update a decision names, and its message."""
    on = body.on.isoformat() if body.on else ""
    match body.decision:
        case "accept":
            return ComplaintWorkflow.accept, ComplaintAcceptance(
                principal, accepted_on=on, note=body.note or ""
            )
        case "decline":
            return ComplaintWorkflow.decline, ComplaintDecline(
                principal, ground=body.ground or "", reason=body.reason or "", declined_on=on
            )
        case "extend_acceptance":
            return ComplaintWorkflow.extend_acceptance, ComplaintExtension(
                principal, days=body.days or 0, reason=body.reason or ""
            )
        case "extend_handling":
            told = body.complainant_told_on.isoformat() if body.complainant_told_on else ""
            return ComplaintWorkflow.extend_handling, ComplaintExtension(
                principal,
                days=body.days or 0,
                reason=body.reason or "",
                approved_by=body.approved_by or "",
                complainant_told_on=told,
            )
        case "request_supplement":
            return ComplaintWorkflow.request_supplement, SupplementRequest(
                principal, description=body.description or "", requested_on=on
            )
        case "supplement_received":
            materials = [Material(m.name, m.sha256) for m in body.materials or []]
            return ComplaintWorkflow.receive_supplement, SupplementReceipt(
                principal, received_on=on, materials=materials
            )
        case "decide":
            return ComplaintWorkflow.decide, ComplaintDecision(
                principal,
                findings=body.findings or "",
                outcome=body.outcome or "",
                decided_on=on,
                fee_violation=bool(body.fee_violation),
            )
        case _:
            return ComplaintWorkflow.notify_parties, PartiesNotice(
                principal, notified_on=on, method=body.method or ""
            )


def to_public(snapshot: dict[str, Any], *, calendar: WorkingCalendar, today: date) -> ComplaintPublic:
    clocks = []
    for clock in snapshot["clocks"]:
        left = None
        if clock.get("paused"):
            left = clock["budget_days"] + clock.get("extension_days", 0) - clock.get("used_days", 0)
        elif not clock["stopped"]:
            left = calendar.working_days_between(today, date.fromisoformat(clock["due_on"]))
        clocks.append(ClockPublic.model_validate({**clock, "working_days_left": left}))
    return ComplaintPublic.model_validate({**snapshot, "clocks": clocks})


async def audit_trail(*, session: AsyncSession, complaint: Complaint) -> list[AuditEventRow]:
    rows = await session.exec(
        select(AuditEventRow)
        .where(AuditEventRow.workflow_id == complaint.workflow_id)
        .order_by(col(AuditEventRow.seq))
    )
    return list(rows.all())


def public_of(
    result: ComplaintSnapshot | Complaint, *, calendar: WorkingCalendar, today: date
) -> ComplaintPublic:
    """What a registration answers: the workflow's snapshot, or the read model's row."""
    snapshot = result.snapshot if isinstance(result, Complaint) else jsonable(result)
    return to_public(snapshot, calendar=calendar, today=today)
