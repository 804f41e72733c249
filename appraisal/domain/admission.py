"""Registration applications (登记申请) and the pure checks their validators run: the
admission of an institution or an appraiser, the renewal (延续) of a licence and a change
(变更) of a registration, all through the same path (行政许可法; 司法部令95/96; RULES.md
REG-2, REG-8; the rule table's ADM-* rows).

New fields always get defaults so running workflows keep replaying."""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from appraisal.domain.audit import canonical_json
from appraisal.domain.commission import ClockSnapshot, Material, TaskSnapshot
from appraisal.domain.complaint import REMEDIES
from appraisal.domain.errors import RuleViolation
from appraisal.domain.events import AuditEvent, Receiver
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import LICENCE_YEARS, RENEWAL_LEAD_DAYS


class AdmissionKind(StrEnum):
    ADMISSION = "admission"
    """登记: a new institution or appraiser."""
    RENEWAL = "renewal"
    """延续: the licence of a registered one, for another five years."""
    CHANGE = "change"
    """变更: a registered one's name, categories, institution or key."""


class SubjectKind(StrEnum):
    INSTITUTION = "institution"
    APPRAISER = "appraiser"


class AdmissionStage(StrEnum):
    AWAITING_ACCEPTANCE = "awaiting_acceptance"
    """Received: accepted, or what is missing asked for once, within 5 working days (ADM-1)."""
    AWAITING_CORRECTION = "awaiting_correction"
    """The applicant was asked to correct the application (补正): ADM-1 is paused."""
    DECIDING = "deciding"
    """Accepted: the decision is due within 20 working days (ADM-3)."""
    EXPERT_REVIEW = "expert_review"
    """The expert panel reviews: ADM-3 is paused (行政许可法 Art 45), ADM-4 runs."""
    APPROVED = "approved"
    """Granted: the licence issued and the registry entry made."""
    REFUSED = "refused"
    """Not granted, with reasons and the remedies."""
    NOT_ACCEPTED = "not_accepted"
    """Not accepted (不予受理) on a listed ground."""
    WITHDRAWN = "withdrawn"
    """Withdrawn by the applicant."""


TERMINAL_ADMISSION_STAGES = frozenset(
    {
        AdmissionStage.APPROVED,
        AdmissionStage.REFUSED,
        AdmissionStage.NOT_ACCEPTED,
        AdmissionStage.WITHDRAWN,
    }
)
OPEN_FOR_DECISION = (AdmissionStage.DECIDING, AdmissionStage.EXPERT_REVIEW)

FOUNDING_ORGAN_KINDS: dict[str, str] = {
    "social": "a legal person or another organisation (法人或者其他组织)",
    "investigative_organ": "an investigative organ (侦查机关): takes no outside commission (ENT-3)",
    "court": "a people's court: may not set up an institution (REG-2)",
    "judicial_administration": "a judicial administration: may not set up an institution (REG-2)",
}
"""Who set up an institution (设立单位), stated at admission. An institution of an investigative
organ names that organ (`founded_by_organ_id`, the registry's link): only that organ and its own
system entrust it (ENT-3, domain/organs.py)."""

BARRED_FOUNDERS = ("court", "judicial_administration")
INVESTIGATIVE_FOUNDER = "investigative_organ"

QUALIFICATIONS: dict[str, str] = {
    "senior_title": "a senior professional title in the field (高级专业技术职称)",
    "licence_or_degree": "a professional licence, or a bachelor's degree in the field, and 5 years' work in it",
    "experience": "10 years' experience in the field and the skill it takes",
}
"""REG-2: an appraiser qualifies on one of these grounds."""

YEARS_NEEDED = {"senior_title": 0, "licence_or_degree": 5, "experience": 10}
APPRAISERS_PER_CATEGORY = 3
"""REG-2: an institution has at least three appraisers in each category it registers."""

NOT_ACCEPTED_GROUNDS: dict[str, str] = {
    "ADM-2-1": "the matter needs no licence (行政许可法 Art 32(1))",
    "ADM-2-2": "not within this bureau's competence: apply to the competent one (Art 32(2))",
    "ADM-2-3": "facts hidden or materials false (Art 78)",
}

RECOMMENDATIONS: dict[str, str] = {
    "approve": "grant the registration",
    "refuse": "refuse the registration",
}

PANEL_SIZES = range(3, 8)
"""ADM-5: at least three experts (I: at most seven)."""
REVIEW_DAYS = range(1, 61)
"""ADM-4: the expert review time told to the applicant, in working days."""


def workflow_id_for(admission_id: str) -> str:
    return f"admission-{admission_id}"


@dataclass
class InstitutionDetails:
    """What an institution's application states (REG-2)."""

    name: str
    categories: list[str] = field(default_factory=list)
    founding_organ_kind: str = "social"
    founded_by_organ_id: str = ""
    """With an investigative founder: the registered investigative organ that set it up (ENT-3)."""
    legal_representative: str = ""
    address: str = ""
    appraisers_per_category: dict[str, int] = field(default_factory=dict)
    """How many appraisers will practise in each category."""
    laboratory_accredited: bool = False
    """An accredited testing laboratory (计量认证或者实验室认可)."""
    equipment: str = ""


@dataclass
class AppraiserDetails:
    """What an appraiser's application states (REG-2); their institution files it."""

    name: str
    institution_id: str
    categories: list[str] = field(default_factory=list)
    identity_hash: str = ""
    """SHA-256 of the identity document number: one person, one institution (REG-2)."""
    senior_title: bool = False
    qualification: str = "senior_title"
    years_in_field: int = 0
    convicted: bool = False
    """Convicted of an intentional crime or of negligence in office."""
    dismissed_from_public_office: bool = False
    registration_revoked: bool = False
    public_key: str = ""
    """The appraiser's Ed25519 public key (base64 of the raw 32 bytes): registered on approval."""
    key_fingerprint: str = ""


@dataclass
class RegistrationChange:
    """A change (变更): only the fields set change."""

    name: str = ""
    categories: list[str] = field(default_factory=list)
    legal_representative: str = ""
    address: str = ""
    institution_id: str = ""
    """An appraiser moving to another institution of the bureau."""
    senior_title: bool | None = None
    public_key: str = ""
    key_fingerprint: str = ""


@dataclass
class RegisteredEntry:
    """The registry entry a renewal or change concerns, as it stood when filed."""

    name: str = ""
    categories: list[str] = field(default_factory=list)
    institution_id: str = ""
    licence_number: str = ""
    licence_valid_until: str = ""


@dataclass
class AdmissionInput:
    admission_id: str
    bureau_id: str
    reference: str
    """The bureau's or the applicant's own reference: the idempotency key."""
    kind: str
    subject_kind: str
    received_on: str
    """The application and its materials were received: ADM-1 runs from the next working day."""
    filed_by: Actor
    entity_id: str
    """The registry id: the one to be created (admission) or the registered one."""
    applicant_institution_id: str = ""
    """The institution applying (for its appraiser, or its own renewal or change); empty when a
    new institution's application was received at the bureau's window."""
    institution: InstitutionDetails | None = None
    appraiser: AppraiserDetails | None = None
    change: RegistrationChange | None = None
    registered: RegisteredEntry | None = None
    materials: list[Material] = field(default_factory=list)


@dataclass
class AdmissionRegistration:
    actor: Actor


@dataclass
class ApplicationAcceptance:
    actor: Actor
    accepted_on: str = ""
    note: str = ""


@dataclass
class ApplicationNotAccepted:
    actor: Actor
    ground: str
    reason: str
    decided_on: str = ""


@dataclass
class CorrectionRequest:
    actor: Actor
    description: str
    """Everything that is missing, at once (一次告知)."""
    requested_on: str = ""


@dataclass
class CorrectionSupply:
    actor: Actor
    materials: list[Material] = field(default_factory=list)
    received_on: str = ""
    note: str = ""


@dataclass
class PanelDrawRequest:
    actor: Actor
    seed: int
    candidates: list[str]
    """Every expert who could be drawn: active, in one of the application's categories, no
    conflict (not of the applicant institution, not recused from this application)."""
    size: int = 3
    review_days: int = 15
    drawn_on: str = ""
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class ExpertRecusal:
    actor: Actor
    expert_id: str
    reason: str
    seed: int = 0
    candidates: list[str] = field(default_factory=list)
    """Who could replace the expert (the draw's pool without the panel and the recused)."""
    names: dict[str, str] = field(default_factory=dict)
    on: str = ""


@dataclass
class ExpertReviewSubmission:
    actor: Actor
    score: int
    recommendation: str
    opinion: str
    review_hash: str
    signature: str
    key_fingerprint: str


@dataclass
class AdmissionExtension:
    actor: Actor
    days: int
    reason: str
    approved_by: str
    """ADM-3: the head of the bureau who approved it."""
    applicant_told_on: str = ""


@dataclass
class AdmissionApproval:
    actor: Actor
    decided_on: str = ""
    note: str = ""


@dataclass
class AdmissionRefusal:
    actor: Actor
    reasons: str
    decided_on: str = ""


@dataclass
class AdmissionWithdrawal:
    actor: Actor
    reason: str
    on: str = ""


@dataclass
class PanelMember:
    expert_id: str
    name: str = ""
    drawn_on: str = ""
    recused: bool = False
    recusal_reason: str = ""
    reviewed: bool = False


@dataclass
class PanelDraw:
    """One seeded draw (the panel, or one replacement), re-verifiable from its seed."""

    seed: int
    candidates: list[str]
    size: int
    picks: list[str]
    drawn_on: str
    replacing: str = ""


@dataclass
class ExpertReview:
    expert_id: str
    score: int
    recommendation: str
    opinion: str
    review_hash: str
    signature: str
    key_fingerprint: str
    submitted_at: str = ""


@dataclass
class Licence:
    number: str
    valid_from: str
    valid_until: str


@dataclass
class LicenceGrant:
    """What the approval writes to the registry (one activity, idempotent on the admission)."""

    admission_id: str
    bureau_id: str
    kind: str
    subject_kind: str
    entity_id: str
    licence: Licence
    actor: Actor
    institution: InstitutionDetails | None = None
    appraiser: AppraiserDetails | None = None
    change: RegistrationChange | None = None
    decided_on: str = ""
    deemed: bool = False
    granted_at: datetime | None = None


@dataclass
class LicenceGrantResult:
    written: bool = False
    """False when a retry found it written already."""


@dataclass
class AdmissionSnapshot:
    id: str
    workflow_id: str
    stage: str
    bureau_id: str
    reference: str
    kind: str
    subject_kind: str
    subject_name: str
    entity_id: str
    received_on: str
    applicant_institution_id: str = ""
    accepted_on: str | None = None
    deemed_accepted: bool = False
    correction: dict[str, str] | None = None
    correction_requested: bool = False
    review_required: bool = True
    review_concluded: bool = False
    panel: list[PanelMember] = field(default_factory=list)
    draws: list[PanelDraw] = field(default_factory=list)
    reviews: list[ExpertReview] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    decision: dict[str, Any] | None = None
    not_accepted: dict[str, str] | None = None
    withdrawn: dict[str, str] | None = None
    institution: InstitutionDetails | None = None
    appraiser: AppraiserDetails | None = None
    change: RegistrationChange | None = None
    registered: RegisteredEntry | None = None
    materials: list[Material] = field(default_factory=list)
    clocks: list[ClockSnapshot] = field(default_factory=list)
    open_tasks: list[TaskSnapshot] = field(default_factory=list)
    last_event_seq: int = 0
    last_hash: str = ""
    created: bool = False
    """True only in the reply to the request that filed the application."""


@dataclass
class RecordAdmissionEventInput:
    event: AuditEvent
    """`commission_id` holds the admission id: applications chain in the same audit trail."""
    snapshot: AdmissionSnapshot
    notify: list[Receiver] = field(default_factory=list)
    message: str = ""


# ---- pure checks ----


def subject_name(inp: AdmissionInput) -> str:
    if inp.institution is not None:
        return inp.institution.name
    if inp.appraiser is not None:
        return inp.appraiser.name
    return inp.registered.name if inp.registered else ""


def categories_of(inp: AdmissionInput) -> list[str]:
    """The categories the application is about (what the experts must know)."""
    if inp.institution is not None:
        return list(inp.institution.categories)
    if inp.appraiser is not None:
        return list(inp.appraiser.categories)
    if inp.change is not None and inp.change.categories:
        return list(inp.change.categories)
    return list(inp.registered.categories) if inp.registered else []


def review_required(inp: AdmissionInput) -> bool:
    """ADM-5: every admission, and a change that adds a category, goes to an expert panel."""
    if inp.kind == AdmissionKind.ADMISSION:
        return True
    if inp.kind == AdmissionKind.CHANGE and inp.change is not None and inp.registered is not None:
        return bool(set(inp.change.categories) - set(inp.registered.categories))
    return False


def qualification_gaps(inp: AdmissionInput) -> list[str]:
    """What REG-2 finds missing in the application as stated; an approval needs none."""
    gaps: list[str] = []
    if inp.institution is not None:
        details = inp.institution
        if details.founding_organ_kind in BARRED_FOUNDERS:
            gaps.append(f"set up by a {details.founding_organ_kind.replace('_', ' ')}: barred")
        if details.founding_organ_kind == INVESTIGATIVE_FOUNDER and not details.founded_by_organ_id:
            gaps.append("set up by an investigative organ: which one is not named (ENT-3)")
        for category in details.categories:
            count = details.appraisers_per_category.get(category, 0)
            if count < APPRAISERS_PER_CATEGORY:
                gaps.append(f"{category}: {count} appraisers, at least {APPRAISERS_PER_CATEGORY} needed")
        if not details.laboratory_accredited:
            gaps.append("no accredited testing laboratory")
        if not details.equipment.strip():
            gaps.append("the equipment is not described")
    if inp.appraiser is not None:
        details_a = inp.appraiser
        if details_a.qualification not in QUALIFICATIONS:
            gaps.append(f"{details_a.qualification}: not a qualification of REG-2")
        elif details_a.qualification == "senior_title" and not details_a.senior_title:
            gaps.append("qualifies by a senior title but holds none")
        elif details_a.years_in_field < YEARS_NEEDED[details_a.qualification]:
            gaps.append(
                f"{details_a.years_in_field} years in the field, "
                f"{YEARS_NEEDED[details_a.qualification]} needed"
            )
        if details_a.convicted:
            gaps.append("convicted of an intentional crime or of negligence in office")
        if details_a.dismissed_from_public_office:
            gaps.append("dismissed from public office")
        if details_a.registration_revoked:
            gaps.append("a registration was revoked")
    return gaps


def review_hash(*, admission_id: str, expert_id: str, score: int, recommendation: str, opinion: str) -> str:
    """What an expert signs (hex SHA-256 of the canonical review): their score, their
    recommendation and their opinion on this application, bound together."""
    review = {
        "admission_id": admission_id,
        "expert_id": expert_id,
        "score": score,
        "recommendation": recommendation,
        "opinion": opinion,
    }
    return hashlib.sha256(canonical_json(review)).hexdigest()


def years_later(day: date, years: int) -> date:
    """The same date `years` on; 29 February's is 1 March in a common year, so a term begun
    on it ends on 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


def licence_for(inp: AdmissionInput, decided_on: str) -> Licence:
    """REG-8: five years. An admission's licence runs from the decision; a renewal's from the
    day after the old one ends (so a deemed renewal leaves no gap); a change keeps the old term."""
    decided = date.fromisoformat(decided_on)
    registered = inp.registered
    if inp.kind == AdmissionKind.ADMISSION or registered is None or not registered.licence_valid_until:
        start = decided
        number = licence_number(inp.subject_kind, decided, inp.admission_id)
    else:
        number = registered.licence_number or licence_number(inp.subject_kind, decided, inp.admission_id)
        if inp.kind == AdmissionKind.CHANGE:
            return Licence(number, decided_on, registered.licence_valid_until)
        start = date.fromisoformat(registered.licence_valid_until) + timedelta(days=1)
    return Licence(
        number, start.isoformat(), (years_later(start, LICENCE_YEARS) - timedelta(days=1)).isoformat()
    )


def licence_number(subject_kind: str, decided: date, admission_id: str) -> str:
    """司法鉴定许可证 (institution) or 执业证 (appraiser) number: kind, year, the application's id."""
    prefix = "SJXK" if subject_kind == SubjectKind.INSTITUTION else "SJZY"
    return f"{prefix}{decided.year}{admission_id.replace('-', '')[:10].upper()}"


def check_renewal_timing(*, received_on: str, valid_until: str) -> None:
    """ADM-7: at least 30 days before the licence expires (行政许可法 Art 50)."""
    last = date.fromisoformat(valid_until) - timedelta(days=RENEWAL_LEAD_DAYS)
    if date.fromisoformat(received_on) > last:
        raise RuleViolation(
            "renewal_too_late",
            f"the licence ends on {valid_until}: a renewal is applied for by {last}; "
            "apply for admission again",
            rule="ADM-7",
        )


def check_registration(inp: AdmissionInput) -> None:
    """What the workflow re-checks of its own input (the API checked it first)."""
    if inp.kind not in AdmissionKind.__members__.values():
        raise RuleViolation("unknown_kind", f"{inp.kind} is not an application kind")
    if inp.subject_kind not in SubjectKind.__members__.values():
        raise RuleViolation("unknown_kind", f"{inp.subject_kind} is neither an institution nor an appraiser")
    actor = inp.filed_by
    by_bureau = actor.role == Role.SUPERVISOR and actor.organisation_id == inp.bureau_id
    by_applicant = (
        actor.role == Role.INSTITUTION
        and bool(inp.applicant_institution_id)
        and actor.organisation_id == inp.applicant_institution_id
    )
    if not (by_bureau or by_applicant):
        raise RuleViolation(
            "wrong_actor", "an application is filed by the applicant institution or the bureau"
        )
    if inp.kind == AdmissionKind.ADMISSION and (inp.institution is None) == (inp.appraiser is None):
        raise RuleViolation(
            "details_required", "an admission states the institution's or the appraiser's details"
        )
    if (
        inp.kind == AdmissionKind.RENEWAL
        and inp.registered is not None
        and inp.registered.licence_valid_until
    ):
        check_renewal_timing(received_on=inp.received_on, valid_until=inp.registered.licence_valid_until)


def require_bureau(actor: Actor, bureau_id: str) -> None:
    if actor.role != Role.SUPERVISOR or actor.organisation_id != bureau_id:
        raise RuleViolation("wrong_actor", "only the bureau handling this application may take this step")


def require_applicant_or_bureau(actor: Actor, inp: AdmissionInput) -> None:
    if actor.role == Role.SUPERVISOR and actor.organisation_id == inp.bureau_id:
        return
    if actor.role == Role.INSTITUTION and inp.applicant_institution_id == actor.organisation_id:
        return
    raise RuleViolation("wrong_actor", "only the applicant, or the bureau on its behalf, may take this step")


def require_admission_stage(stage: str, *allowed: AdmissionStage) -> None:
    if stage not in allowed:
        wanted = ", ".join(allowed)
        raise RuleViolation("not_in_stage", f"the application is {stage}; this step needs {wanted}")


def remedies() -> list[dict[str, str]]:
    """ADM-6: what a refusal tells the applicant (行政许可法 Art 38)."""
    return [dict(r) for r in REMEDIES]
