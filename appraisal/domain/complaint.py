"""Complaint messages that cross Temporal and the pure checks their
validators run (RULES.md section 10, 司法鉴定执业活动投诉处理办法, 司法部令144).

New fields always get defaults so running workflows keep replaying."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from appraisal.domain.commission import ClockSnapshot, Material, TaskSnapshot
from appraisal.domain.errors import RuleViolation
from appraisal.domain.events import AuditEvent, Receiver
from appraisal.domain.roles import Actor, Role


class ComplaintStage(StrEnum):
    """Where a complaint stands."""

    AWAITING_ACCEPTANCE = "awaiting_acceptance"
    """Registered; the acceptance decision is due (CMP-5)."""
    AWAITING_SUPPLEMENT = "awaiting_supplement"
    """The complainant is supplementing materials: CMP-5 is paused."""
    HANDLING = "handling"
    """Accepted; the handling decision is due (CMP-6)."""
    DECIDED = "decided"
    """Decided; both sides must be told in writing (CMP-7)."""
    CLOSED = "closed"
    """Both sides were told."""
    DECLINED = "declined"
    """Not accepted, on a CMP-4 ground, with reasons."""


TERMINAL_COMPLAINT_STAGES = frozenset({ComplaintStage.CLOSED, ComplaintStage.DECLINED})

COMPLAINANT_KINDS: dict[str, str] = {
    "person": "a natural person (公民)",
    "legal_person": "a legal person (法人)",
    "other_organisation": "another organisation (其他组织)",
}

DECLINE_GROUNDS: dict[str, str] = {
    "CMP-4-1": "already handled, or closed by administrative review or a lawsuit, with no new facts or evidence",
    "CMP-4-2": "a dispute over a court's or another authority's adoption of the appraisal opinion",
    "CMP-4-3": "a dispute only with the appraisal opinion",
    "CMP-4-4": "a dispute with the appraisal rules, standards or technical norms",
    "CMP-4-5": "no breach of the rules governing appraisal practice",
}


class Outcome(StrEnum):
    """The handling decision's outcome (CMP-8)."""

    NO_ACTION = "no_action"
    CRITICISM_OR_CORRECTION_ORDER = "criticism_or_correction_order"
    INDUSTRY_DISCIPLINE = "industry_discipline"
    ADMINISTRATIVE_PENALTY_REFERRAL = "administrative_penalty_referral"


OUTCOMES: dict[str, str] = {
    Outcome.NO_ACTION: "the breach is not proven: no action, with an explanation",
    Outcome.CRITICISM_OR_CORRECTION_ORDER: "批评教育、训诫、通报 or 责令限期整改 (a minor breach)",
    Outcome.INDUSTRY_DISCIPLINE: "transferred to the 司法鉴定协会 for 行业惩戒 (an ethics breach)",
    Outcome.ADMINISTRATIVE_PENALTY_REFERRAL: "an administrative penalty case is filed or transferred "
    "to the competent authority (CMP-9 governs it from there)",
}

REMEDIES: tuple[dict[str, str], ...] = (
    {
        "remedy": "administrative_review",
        "text": "行政复议: apply within 60 days of receiving the decision (行政复议法 Art 20)",
    },
    {
        "remedy": "administrative_lawsuit",
        "text": "行政诉讼: sue within 6 months of knowing of the decision (行政诉讼法 Art 46)",
    },
)
"""What the CMP-7 notice tells both sides (M: check the texts in force)."""

TIME_BAR_YEARS = 3


def workflow_id_for(complaint_id: str) -> str:
    return f"complaint-{complaint_id}"


@dataclass
class Complainant:
    name: str
    kind: str
    """person, legal_person or other_organisation."""
    interest: str
    """How the complainant has an interest in the appraised matter (CMP-1)."""
    contact: str = ""


@dataclass
class ComplaintInput:
    complaint_id: str
    bureau_id: str
    """The bureau where the institution is located handles it (CMP-2)."""
    reference: str
    """The bureau's own reference: its idempotency key."""
    received_on: str
    """The complaint and its materials were received: CMP-5 runs from the next working day."""
    knew_on: str
    """When the complainant knew, or should have known, of the conduct (CMP-1)."""
    registered_by: Actor
    complainant: Complainant
    institution_id: str
    summary: str
    appraiser_id: str = ""
    """Set when the complaint is against an appraiser (of `institution_id`)."""
    commission_id: str = ""
    """The commission the complaint concerns, when it is one of ours."""
    materials: list[Material] = field(default_factory=list)
    time_bar_last_day: str = ""
    """The last day of CMP-1's three years on the calendar in force, rolled past rest days
    (computed at registration, so the workflow re-checks without a calendar)."""


@dataclass
class ComplaintRegistration:
    actor: Actor


@dataclass
class ComplaintAcceptance:
    actor: Actor
    accepted_on: str = ""
    note: str = ""


@dataclass
class ComplaintDecline:
    actor: Actor
    ground: str
    reason: str
    declined_on: str = ""


@dataclass
class ComplaintExtension:
    actor: Actor
    days: int
    reason: str
    approved_by: str = ""
    """CMP-6: who approved the extension (the head of the bureau)."""
    complainant_told_on: str = ""
    """CMP-6: when the complainant was told in writing (default: the day of the extension)."""


@dataclass
class SupplementRequest:
    actor: Actor
    description: str
    requested_on: str = ""


@dataclass
class SupplementReceipt:
    actor: Actor
    received_on: str = ""
    materials: list[Material] = field(default_factory=list)


@dataclass
class ComplaintDecision:
    actor: Actor
    findings: str
    outcome: str
    decided_on: str = ""
    fee_violation: bool = False
    """The breach found is a fee violation (违规收费, REG-5): the integrity record counts it so."""


@dataclass
class PartiesNotice:
    actor: Actor
    notified_on: str = ""
    method: str = ""
    """How the written notices went out (e.g. registered mail)."""


@dataclass
class IntegrityEntry:
    """One line of an institution's or an appraiser's integrity record (REG-9)."""

    subject_kind: str
    """institution or appraiser."""
    subject_id: str
    complaint_id: str
    outcome: str
    findings: str
    decided_on: str
    bureau_id: str
    rule: str = "CMP-8"


@dataclass
class IntegrityEntriesInput:
    entries: list[IntegrityEntry] = field(default_factory=list)
    recorded_at: datetime | None = None


@dataclass
class IntegrityEntriesResult:
    written: int = 0
    """How many were new (a retry writes none twice)."""


@dataclass
class ComplaintSnapshot:
    id: str
    workflow_id: str
    stage: str
    bureau_id: str
    reference: str
    institution_id: str
    complainant: Complainant
    summary: str
    received_on: str
    knew_on: str
    appraiser_id: str = ""
    commission_id: str = ""
    accepted_on: str | None = None
    decline: dict[str, str] | None = None
    pending_supplement: dict[str, str] | None = None
    decision: dict[str, str] | None = None
    notice: dict[str, str] | None = None
    integrity_entries: list[IntegrityEntry] = field(default_factory=list)
    clocks: list[ClockSnapshot] = field(default_factory=list)
    open_tasks: list[TaskSnapshot] = field(default_factory=list)
    last_event_seq: int = 0
    last_hash: str = ""
    created: bool = False
    """True only in the reply to the request that registered the complaint."""


@dataclass
class RecordComplaintEventInput:
    event: AuditEvent
    """`commission_id` holds the complaint id: complaints chain in the same audit trail."""
    snapshot: ComplaintSnapshot
    notify: list[Receiver] = field(default_factory=list)
    message: str = ""


def time_bar_date(knew_on: date, is_working_day: Callable[[date], bool] | None = None) -> date:
    """The last day a complaint may be made (CMP-1): the same date three years
    on (29 February → 28 February); with a calendar, a last day that is a rest
    day rolls to the next working day. A period counted in years ends like one
    counted in days (民法典 Art 203; 民诉法 Art 85 by analogy, CAL-3): the reading
    taken here, as the complaint rules say nothing of it (RULES.md CMP-1)."""
    year = knew_on.year + TIME_BAR_YEARS
    try:
        last = knew_on.replace(year=year)
    except ValueError:
        last = date(year, 2, 28)
    while is_working_day is not None and not is_working_day(last):
        last += timedelta(days=1)
    return last


def check_time_bar(*, knew_on: str, received_on: str, last_day: str = "") -> None:
    """`last_day`: the bar's last day on the calendar in force (rolled past rest days);
    without it, the same date three years on."""
    known, received = date.fromisoformat(knew_on), date.fromisoformat(received_on)
    if known > received:
        raise RuleViolation("date_out_of_range", f"knew_on {knew_on} is after received_on {received_on}")
    last = date.fromisoformat(last_day) if last_day else time_bar_date(known)
    if received > last:
        raise RuleViolation(
            "time_barred",
            f"the complainant knew of it on {knew_on}: the {TIME_BAR_YEARS}-year limit ended on {last}",
            rule="CMP-1",
        )


def check_registration(inp: ComplaintInput) -> None:
    """What the workflow re-checks of its own input (the API checked it first). A complaint is
    registered by the bureau where the institution is, or filed by a party of the commission
    itself (PTY-1: the bureau is then the institution's, chosen by the service)."""
    by = inp.registered_by
    by_party = by.role == Role.PARTY and bool(inp.commission_id)
    if not by_party and (by.role != Role.SUPERVISOR or by.organisation_id != inp.bureau_id):
        raise RuleViolation(
            "wrong_actor", "a complaint is registered by the bureau where the institution is", rule="CMP-2"
        )
    if not inp.institution_id:
        raise RuleViolation("no_respondent", "a complaint names an institution or an appraiser", rule="CMP-3")
    if inp.complainant.kind not in COMPLAINANT_KINDS:
        raise RuleViolation("unknown_complainant_kind", f"{inp.complainant.kind} is not a complainant kind")
    if not inp.complainant.interest.strip():
        raise RuleViolation(
            "no_interest", "the complainant must have an interest in the appraised matter", rule="CMP-1"
        )
    check_time_bar(knew_on=inp.knew_on, received_on=inp.received_on, last_day=inp.time_bar_last_day)


def require_complaint_stage(stage: str, *allowed: ComplaintStage) -> None:
    if stage not in allowed:
        wanted = ", ".join(allowed)
        raise RuleViolation("not_in_stage", f"the complaint is {stage}; this step needs {wanted}")


def require_bureau(actor: Actor, bureau_id: str) -> None:
    if actor.role != Role.SUPERVISOR or actor.organisation_id != bureau_id:
        raise RuleViolation("wrong_actor", "only the bureau handling this complaint may take this step")
