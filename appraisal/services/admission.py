"""What the registration application routes and pages do, as keyword-only functions: check
the filing (who files, REG-1's scope, REG-2's one institution per appraiser, ADM-7's renewal
lead) before the workflow starts; build each step's message (the seeded expert draw among
those without a conflict, an expert's signature checked against their registered key); read
the read model."""

import hashlib
import secrets
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from appraisal.core.signing import fingerprint, verify
from appraisal.db.models import Admission, Appraiser, AppraiserKey, AuditEventRow, Institution
from appraisal.domain.admission import (
    INVESTIGATIVE_FOUNDER,
    TERMINAL_ADMISSION_STAGES,
    AdmissionApproval,
    AdmissionExtension,
    AdmissionInput,
    AdmissionRefusal,
    AdmissionRegistration,
    AdmissionSnapshot,
    AdmissionWithdrawal,
    ApplicationAcceptance,
    ApplicationNotAccepted,
    AppraiserDetails,
    CorrectionRequest,
    CorrectionSupply,
    ExpertRecusal,
    ExpertReviewSubmission,
    InstitutionDetails,
    PanelDrawRequest,
    RegisteredEntry,
    RegistrationChange,
    check_renewal_timing,
    review_hash,
    workflow_id_for,
)
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.commission import Material
from appraisal.domain.draw import seeded_sample
from appraisal.domain.errors import InvalidInput, NotFound, RuleViolation
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import EXPERT_REVIEW
from appraisal.schemas.admission import (
    AdmissionCreate,
    AdmissionDecisionCreate,
    AdmissionListItem,
    AdmissionPublic,
    AdmissionWithdrawalCreate,
    CorrectionCreate,
    ExpertRecusalCreate,
    PanelDrawPublic,
    ReviewCreate,
)
from appraisal.schemas.commission import ClockPublic
from appraisal.services import expert as experts
from appraisal.services import registry, steps
from appraisal.services.starting import start_once
from appraisal.workflows.admission import AdmissionWorkflow

ADMISSION_NAMESPACE = uuid.UUID("9a4f2e61-0c7b-5d38-a1e2-b3c4d5e6f708")
MAX_SEED = 2**63 - 1

# decision → (required fields, optional fields); any other field is refused (422).
DECISION_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accept": ((), ("on", "note")),
    "decline": (("ground", "reason"), ("on",)),
    "request_correction": (("description",), ("on",)),
    "correction_received": ((), ("on", "materials", "note")),
    "draw_panel": ((), ("size", "review_days", "seed", "on")),
    "recuse_expert": (("expert_id", "reason"), ()),
    "extend": (("days", "reason", "approved_by"), ("applicant_told_on",)),
    "approve": ((), ("on", "note")),
    "refuse": (("reason",), ("on",)),
    "withdraw": (("reason",), ("on",)),
}


def admission_id_for(*, bureau_id: str, reference: str) -> str:
    """Deterministic, so a repeated reference finds the same workflow."""
    return str(uuid.uuid5(ADMISSION_NAMESPACE, f"{bureau_id}\n{reference}"))


def identity_hash(number: str) -> str:
    """What the registry keeps of an identity number: its SHA-256 (REG-2: one institution)."""
    return hashlib.sha256(number.strip().upper().encode()).hexdigest()


def scope_filter(principal: Actor) -> ColumnElement[bool]:
    """The bureau sees its applications; an institution the ones it filed or that concern it
    or its appraisers; an appraiser those about themself; an expert those whose panel they sit on."""
    org = principal.organisation_id
    match principal.role:
        case Role.SUPERVISOR:
            return col(Admission.bureau_id) == org
        case Role.INSTITUTION | Role.INSTITUTION_HEAD:
            return or_(col(Admission.applicant_institution_id) == org, col(Admission.entity_id) == org)
        case Role.APPRAISER:
            return col(Admission.entity_id) == org
        case Role.EXPERT:
            return col(Admission.panel_expert_ids).contains([org])
    return false()


async def load_in_scope(*, session: AsyncSession, principal: Actor, admission_id: str) -> Admission:
    row = (
        await session.exec(select(Admission).where(Admission.id == admission_id, scope_filter(principal)))
    ).first()
    if row is None:
        raise NotFound("application")
    return row


async def list_admissions(
    *, session: AsyncSession, principal: Actor, limit: int = 200
) -> list[AdmissionListItem]:
    """Open ones first (soonest deadline first), then the decided, newest first."""
    rows = (
        await session.exec(
            select(Admission)
            .where(scope_filter(principal))
            .order_by(col(Admission.next_due_on).asc().nulls_last(), col(Admission.updated_at).desc())
            .limit(limit)
        )
    ).all()
    return [AdmissionListItem.model_validate(r, from_attributes=True) for r in rows]


# ---- filing ----


async def _filer_bureau(session: AsyncSession, principal: Actor) -> str:
    if principal.role == Role.SUPERVISOR:
        return principal.organisation_id
    if principal.role == Role.INSTITUTION:
        institution = await session.get(Institution, principal.organisation_id)
        if institution is not None:
            return institution.bureau_id
    raise RuleViolation(
        "wrong_actor", "an application is filed by an institution or the bureau", rule="ADM-2"
    )


async def _institution_in(
    session: AsyncSession, institution_id: str, bureau_id: str, field: str
) -> Institution:
    institution = await session.get(Institution, institution_id)
    if institution is None or institution.bureau_id != bureau_id:
        raise InvalidInput(field, f"no institution {institution_id} under this bureau")
    return institution


def _within(categories: list[str], institution: Institution, field: str) -> None:
    outside = sorted(set(categories) - set(institution.categories))
    if outside:
        raise InvalidInput(
            field, f"{', '.join(outside)} not in the institution's registered categories (REG-1)"
        )


async def _one_institution(session: AsyncSession, *, hashed: str, except_id: str = "") -> None:
    """REG-2: a person practises in one institution only."""
    query = select(Appraiser).where(Appraiser.identity_hash == hashed, Appraiser.status != "revoked")
    found = (await session.exec(query)).first()
    if found is not None and found.id != except_id:
        raise RuleViolation(
            "already_practising",
            f"that person is registered at institution {found.institution_id}: one institution only",
            rule="REG-2",
        )


async def _key_unused(session: AsyncSession, public_key: str) -> str:
    found = fingerprint(public_key)
    if await session.get(AppraiserKey, found) is not None:
        raise InvalidInput("public_key", "that key is already registered")
    return found


async def _admission_details(
    session: AsyncSession, principal: Actor, body: AdmissionCreate, bureau_id: str
) -> tuple[str, InstitutionDetails | None, AppraiserDetails | None]:
    """(the applicant institution, the details) of an admission."""
    if (body.institution is None) == (body.appraiser is None) or body.entity_id or body.change:
        raise InvalidInput(
            "kind", "an admission gives the institution's or the appraiser's details, nothing else"
        )
    if body.subject_kind == "institution":
        if body.institution is None:
            raise InvalidInput("institution", "required for an institution's admission")
        if principal.role != Role.SUPERVISOR:
            raise RuleViolation(
                "wrong_actor", "a new institution's application is filed at the bureau", rule="ADM-2"
            )
        details = body.institution
        if details.founded_by_organ_id is not None:
            if details.founding_organ_kind != INVESTIGATIVE_FOUNDER:
                raise InvalidInput(
                    "institution.founded_by_organ_id",
                    "only an institution an investigative organ set up names one",
                )
            await registry.require_investigative_founder(
                session=session, organ_id=details.founded_by_organ_id
            )
        return (
            "",
            InstitutionDetails(
                name=details.name,
                categories=list(details.categories),
                founding_organ_kind=details.founding_organ_kind,
                founded_by_organ_id=details.founded_by_organ_id or "",
                legal_representative=details.legal_representative or "",
                address=details.address or "",
                appraisers_per_category=dict(details.appraisers_per_category),
                laboratory_accredited=details.laboratory_accredited,
                equipment=details.equipment or "",
            ),
            None,
        )
    if body.appraiser is None:
        raise InvalidInput("appraiser", "required for an appraiser's admission")
    person = body.appraiser
    institution_id = person.institution_id or (
        principal.organisation_id if principal.role == Role.INSTITUTION else ""
    )
    if not institution_id:
        raise InvalidInput("appraiser.institution_id", "name the institution they will practise in")
    if principal.role == Role.INSTITUTION and institution_id != principal.organisation_id:
        raise RuleViolation("wrong_actor", "an institution files for its own appraisers", rule="ADM-2")
    institution = await _institution_in(session, institution_id, bureau_id, "appraiser.institution_id")
    _within(list(person.categories), institution, "appraiser.categories")
    hashed = identity_hash(person.identity_number)
    await _one_institution(session, hashed=hashed)
    return (
        institution.id,
        None,
        AppraiserDetails(
            name=person.name,
            institution_id=institution.id,
            categories=list(person.categories),
            identity_hash=hashed,
            senior_title=person.senior_title,
            qualification=person.qualification,
            years_in_field=person.years_in_field,
            convicted=person.convicted,
            dismissed_from_public_office=person.dismissed_from_public_office,
            registration_revoked=person.registration_revoked,
            public_key=person.public_key,
            key_fingerprint=await _key_unused(session, person.public_key),
        ),
    )


async def _registered(
    session: AsyncSession, principal: Actor, body: AdmissionCreate, bureau_id: str
) -> tuple[str, RegisteredEntry]:
    """(the applicant institution, the entry as registered) of a renewal or change."""
    if not body.entity_id or body.institution or body.appraiser:
        raise InvalidInput("entity_id", f"a {body.kind} names the registered entry, and no admission details")
    if body.subject_kind == "institution":
        entry: Institution | Appraiser = await _institution_in(
            session, body.entity_id, bureau_id, "entity_id"
        )
        institution_id = entry.id
    else:
        appraiser = await session.get(Appraiser, body.entity_id)
        if appraiser is None:
            raise InvalidInput("entity_id", f"no appraiser {body.entity_id}")
        await _institution_in(session, appraiser.institution_id, bureau_id, "entity_id")
        entry, institution_id = appraiser, appraiser.institution_id
    if principal.role == Role.INSTITUTION and principal.organisation_id != institution_id:
        raise RuleViolation(
            "wrong_actor", "an institution files for itself and its own appraisers", rule="ADM-2"
        )
    if entry.status == "revoked":
        raise RuleViolation("registry_status_final", "that registration was revoked", rule="REG-3")
    return institution_id, RegisteredEntry(
        name=entry.name,
        categories=list(entry.categories),
        institution_id=institution_id,
        licence_number=entry.licence_number or "",
        licence_valid_until=entry.licence_valid_until.isoformat() if entry.licence_valid_until else "",
    )


async def _change(
    session: AsyncSession, body: AdmissionCreate, registered: RegisteredEntry, bureau_id: str
) -> RegistrationChange:
    if body.change is None:
        raise InvalidInput("change", "a change says what changes")
    change = body.change
    key_fingerprint = ""
    if body.subject_kind == "appraiser":
        if change.legal_representative or change.address:
            raise InvalidInput("change", "an appraiser has no legal representative or address to change")
        target = await _institution_in(
            session, change.institution_id or registered.institution_id, bureau_id, "change.institution_id"
        )
        _within(list(change.categories or registered.categories), target, "change.categories")
        if change.public_key:
            key_fingerprint = await _key_unused(session, change.public_key)
    elif change.institution_id or change.senior_title is not None or change.public_key:
        raise InvalidInput("change", "an institution changes its name, categories, representative or address")
    return RegistrationChange(
        name=change.name or "",
        categories=list(change.categories or []),
        legal_representative=change.legal_representative or "",
        address=change.address or "",
        institution_id=change.institution_id or "",
        senior_title=change.senior_title,
        public_key=change.public_key or "",
        key_fingerprint=key_fingerprint,
    )


async def file(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    body: AdmissionCreate,
    today: date,
    paper_history_days: int,
) -> tuple[AdmissionSnapshot | Admission, bool]:
    """Starts the application's workflow, or finds the one this reference already started.
    Returns the application and whether it is new."""
    bureau_id = await _filer_bureau(session, principal)
    admission_id = admission_id_for(bureau_id=bureau_id, reference=body.reference)
    existing = await session.get(Admission, admission_id)
    if existing is not None:
        return existing, False
    received_on = body.received_on or today
    if received_on > today:
        raise InvalidInput("received_on", f"{received_on} is in the future")
    if received_on < today - timedelta(days=paper_history_days):
        raise InvalidInput("received_on", f"{received_on} is more than {paper_history_days} days ago")
    institution = appraiser = change = registered = None
    if body.kind == "admission":
        applicant, institution, appraiser = await _admission_details(session, principal, body, bureau_id)
        entity_id = str(uuid.uuid5(ADMISSION_NAMESPACE, f"{admission_id}\nentry"))
    else:
        applicant, registered = await _registered(session, principal, body, bureau_id)
        entity_id = body.entity_id or ""
        if body.kind == "renewal":
            if body.change is not None:
                raise InvalidInput("change", "a renewal changes nothing; file a change for that")
            if not registered.licence_valid_until:
                raise InvalidInput("entity_id", "that entry has no licence term to renew")
            check_renewal_timing(
                received_on=received_on.isoformat(), valid_until=registered.licence_valid_until
            )
        else:
            change = await _change(session, body, registered, bureau_id)
    inp = AdmissionInput(
        admission_id=admission_id,
        bureau_id=bureau_id,
        reference=body.reference,
        kind=body.kind,
        subject_kind=body.subject_kind,
        received_on=received_on.isoformat(),
        filed_by=principal,
        entity_id=entity_id,
        applicant_institution_id=applicant,
        institution=institution,
        appraiser=appraiser,
        change=change,
        registered=registered,
        materials=[Material(m.name, m.sha256) for m in body.materials],
    )
    return await start_once(
        client=client,
        session=session,
        run=AdmissionWorkflow.run,
        inp=inp,
        workflow_id=workflow_id_for(admission_id),
        task_queue=task_queue,
        register=AdmissionWorkflow.register,
        request=AdmissionRegistration(actor=principal),
        stored=Admission,
        row_id=admission_id,
    )


# ---- steps ----


def check_decision_fields(body: AdmissionDecisionCreate) -> None:
    """Each decision uses its own fields: a missing one or a stray one is 422, by name."""
    required, optional = DECISION_FIELDS[body.decision]
    for name in required:
        if getattr(body, name) is None:
            raise InvalidInput(name, f"required when decision is {body.decision}")
    for name in sorted(body.model_fields_set - {"decision", *required, *optional}):
        if getattr(body, name) is not None:
            raise InvalidInput(name, f"not used when decision is {body.decision}")


async def _update(*, client: Client, row: Admission, update: Any, message: Any) -> dict[str, Any]:
    if row.stage in TERMINAL_ADMISSION_STAGES:  # its workflow has ended: no Update can reach it
        raise RuleViolation("not_in_stage", f"the application is {row.stage}; no step remains")
    snapshot = await steps.update_workflow(
        client=client, workflow_id=row.workflow_id, update=update, message=message, what="application"
    )
    return dict(jsonable(snapshot))


async def _pool(
    session: AsyncSession, row: Admission, *, excluded: list[str]
) -> tuple[list[str], dict[str, str]]:
    """The experts who may be drawn for this application, and their names."""
    snapshot = row.snapshot
    categories = list(
        (snapshot.get("institution") or snapshot.get("appraiser") or {}).get("categories")
        or (snapshot.get("change") or {}).get("categories")
        or (snapshot.get("registered") or {}).get("categories")
        or []
    )
    conflicted = [i for i in (row.applicant_institution_id, row.entity_id) if i]
    found = await experts.drawable(
        session=session,
        bureau_id=row.bureau_id,
        categories=categories,
        conflicted=conflicted,
        excluded=excluded,
    )
    return [e.id for e in found], {e.id: e.name for e in found}


async def decide(
    *,
    session: AsyncSession,
    client: Client,
    principal: Actor,
    admission_id: str,
    body: AdmissionDecisionCreate,
) -> dict[str, Any]:
    """The bureau's next step on the application, through its workflow's Update."""
    check_decision_fields(body)
    row = await load_in_scope(session=session, principal=principal, admission_id=admission_id)
    on = body.on.isoformat() if body.on else ""
    update: Any
    message: Any
    match body.decision:
        case "accept":
            update, message = AdmissionWorkflow.accept, ApplicationAcceptance(principal, on, body.note or "")
        case "decline":
            update = AdmissionWorkflow.decline_acceptance
            message = ApplicationNotAccepted(principal, body.ground or "", body.reason or "", on)
        case "request_correction":
            update = AdmissionWorkflow.request_correction
            message = CorrectionRequest(principal, body.description or "", on)
        case "correction_received":
            update = AdmissionWorkflow.supply_correction
            message = CorrectionSupply(
                principal, [Material(m.name, m.sha256) for m in body.materials or []], on, body.note or ""
            )
        case "draw_panel":
            served = [m["expert_id"] for m in row.snapshot.get("panel", [])]
            candidates, names = await _pool(session, row, excluded=served)
            update = AdmissionWorkflow.draw_panel
            message = PanelDrawRequest(
                principal,
                seed=secrets.randbelow(MAX_SEED + 1) if body.seed is None else body.seed,
                candidates=candidates,
                size=body.size or 3,
                review_days=body.review_days or EXPERT_REVIEW.limit,
                drawn_on=on,
                names=names,
            )
        case "recuse_expert":
            update, message = (
                AdmissionWorkflow.recuse_expert,
                await _recusal(session, row, principal, body.expert_id or "", body.reason or ""),
            )
        case "extend":
            told = body.applicant_told_on.isoformat() if body.applicant_told_on else ""
            update = AdmissionWorkflow.extend_decision
            message = AdmissionExtension(
                principal, body.days or 0, body.reason or "", body.approved_by or "", told
            )
        case "approve":
            await _still_one_institution(session, row)
            update, message = AdmissionWorkflow.approve, AdmissionApproval(principal, on, body.note or "")
        case "refuse":
            update, message = AdmissionWorkflow.refuse, AdmissionRefusal(principal, body.reason or "", on)
        case _:
            update, message = (
                AdmissionWorkflow.withdraw,
                AdmissionWithdrawal(principal, body.reason or "", on),
            )
    return await _update(client=client, row=row, update=update, message=message)


async def _still_one_institution(session: AsyncSession, row: Admission) -> None:
    """REG-2 again at the approval: the registry may have changed since the filing."""
    appraiser = row.snapshot.get("appraiser")
    if appraiser and appraiser.get("identity_hash"):
        await _one_institution(session, hashed=str(appraiser["identity_hash"]), except_id=row.entity_id)


async def _recusal(
    session: AsyncSession, row: Admission, principal: Actor, expert_id: str, reason: str
) -> ExpertRecusal:
    served = [m["expert_id"] for m in row.snapshot.get("panel", [])]
    candidates, names = await _pool(session, row, excluded=served)
    return ExpertRecusal(
        principal,
        expert_id=expert_id,
        reason=reason,
        seed=secrets.randbelow(MAX_SEED + 1),
        candidates=candidates,
        names=names,
    )


async def supply_correction(
    *, session: AsyncSession, client: Client, principal: Actor, admission_id: str, body: CorrectionCreate
) -> dict[str, Any]:
    """The applicant hands in its correction (补正)."""
    row = await load_in_scope(session=session, principal=principal, admission_id=admission_id)
    message = CorrectionSupply(
        principal,
        [Material(m.name, m.sha256) for m in body.materials],
        body.on.isoformat() if body.on else "",
        body.note or "",
    )
    return await _update(client=client, row=row, update=AdmissionWorkflow.supply_correction, message=message)


async def withdraw(
    *,
    session: AsyncSession,
    client: Client,
    principal: Actor,
    admission_id: str,
    body: AdmissionWithdrawalCreate,
) -> dict[str, Any]:
    row = await load_in_scope(session=session, principal=principal, admission_id=admission_id)
    message = AdmissionWithdrawal(principal, body.reason, body.on.isoformat() if body.on else "")
    return await _update(client=client, row=row, update=AdmissionWorkflow.withdraw, message=message)


async def review(
    *, session: AsyncSession, client: Client, principal: Actor, admission_id: str, body: ReviewCreate
) -> dict[str, Any]:
    """An expert's signed review: the signature must verify with the key the pool holds for them."""
    row = await load_in_scope(session=session, principal=principal, admission_id=admission_id)
    expert = await experts.expert_of(session=session, principal=principal)
    digest = review_hash(
        admission_id=row.id,
        expert_id=expert.id,
        score=body.score,
        recommendation=body.recommendation,
        opinion=body.opinion,
    )
    if not expert.public_key or not verify(expert.public_key, digest.encode(), body.signature):
        raise RuleViolation(
            "bad_signature",
            "the signature does not verify with your registered key over this review's hash",
            rule="ADM-5",
        )
    message = ExpertReviewSubmission(
        principal,
        score=body.score,
        recommendation=body.recommendation,
        opinion=body.opinion,
        review_hash=digest,
        signature=body.signature,
        key_fingerprint=fingerprint(expert.public_key),
    )
    return await _update(client=client, row=row, update=AdmissionWorkflow.submit_review, message=message)


async def recuse_self(
    *, session: AsyncSession, client: Client, principal: Actor, admission_id: str, body: ExpertRecusalCreate
) -> dict[str, Any]:
    """An expert declares a conflict: they leave the panel and a replacement is drawn."""
    row = await load_in_scope(session=session, principal=principal, admission_id=admission_id)
    message = await _recusal(session, row, principal, principal.organisation_id, body.reason)
    return await _update(client=client, row=row, update=AdmissionWorkflow.recuse_expert, message=message)


# ---- reading ----


def to_public(snapshot: dict[str, Any], *, calendar: WorkingCalendar, today: date) -> AdmissionPublic:
    clocks = []
    for clock in snapshot["clocks"]:
        left = None
        if clock.get("paused"):
            left = clock["budget_days"] + clock.get("extension_days", 0) - clock.get("used_days", 0)
        elif not clock["stopped"]:
            left = calendar.working_days_between(today, date.fromisoformat(clock["due_on"]))
        clocks.append(ClockPublic.model_validate({**clock, "working_days_left": left}))
    draws = [
        {**d, "reproduced": seeded_sample(d["seed"], d["candidates"], d["size"]) == d["picks"]}
        for d in snapshot.get("draws", [])
    ]
    return AdmissionPublic.model_validate({**snapshot, "clocks": clocks, "draws": draws})


def public_of(
    result: AdmissionSnapshot | Admission, *, calendar: WorkingCalendar, today: date
) -> AdmissionPublic:
    snapshot = result.snapshot if isinstance(result, Admission) else jsonable(result)
    return to_public(snapshot, calendar=calendar, today=today)


def panel_draws(row: Admission) -> list[PanelDrawPublic]:
    """Every draw of the panel (and replacement), each re-run from its seed."""
    return [
        PanelDrawPublic.model_validate(
            {**d, "reproduced": seeded_sample(d["seed"], d["candidates"], d["size"]) == d["picks"]}
        )
        for d in row.snapshot.get("draws", [])
    ]


async def audit_trail(*, session: AsyncSession, admission: Admission) -> list[AuditEventRow]:
    rows = await session.exec(
        select(AuditEventRow)
        .where(AuditEventRow.workflow_id == admission.workflow_id)
        .order_by(col(AuditEventRow.seq))
    )
    return list(rows.all())
