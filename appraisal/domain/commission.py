"""Commission messages that cross Temporal (dates as ISO strings, instants as
aware datetimes) and the pure checks their validators run.

New fields always get defaults so running workflows keep replaying."""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from appraisal.domain.criminal import ApplicationSnapshot, OpinionNoticeSnapshot, TransferSnapshot
from appraisal.domain.errors import RuleViolation
from appraisal.domain.exit import InterferenceSnapshot, RegistryBar
from appraisal.domain.fees import FeeSnapshot
from appraisal.domain.materials import Material as Material
from appraisal.domain.objection import ObjectionSnapshot
from appraisal.domain.parties import PartyRequestSnapshot, PartySnapshot
from appraisal.domain.recusal import RecusalSnapshot
from appraisal.domain.roles import Actor, Role
from appraisal.domain.stages import Stage

REFUSAL_GROUNDS: dict[str, str] = {
    "PROC-05-1": "outside the institution's registered scope",
    "PROC-05-2": "materials untrue, incomplete, insufficient or unlawfully obtained",
    "PROC-05-3": "unlawful or immoral purpose",
    "PROC-05-4": "requirements breach practice rules or technical norms",
    "PROC-05-5": "beyond the institution's technical capacity",
    "PROC-05-6": "the same matter is commissioned elsewhere at the same time",
    "PROC-05-7": "another legal bar",
}


@dataclass
class EligibleAppraiser:
    """An appraiser of the designated institution, active and registered for
    the commission's category, as the registry stood at entrustment."""

    appraiser_id: str
    name: str = ""
    senior_title: bool = False


@dataclass
class CommissionInput:
    commission_id: str
    court_id: str
    court_reference: str
    case_number: str
    category: str
    institution_id: str
    received_on: str
    entrusted_by: Actor
    matters: list[str] = field(default_factory=list)
    selection_mode: str = "designated"
    court_deadline_working_days: int | None = None
    materials: list[Material] = field(default_factory=list)
    eligible_appraisers: list[EligibleAppraiser] = field(default_factory=list)
    selection_seed: str = ""
    selection_candidates: list[str] = field(default_factory=list)
    bureau_id: str = ""
    """The judicial bureau supervising the institution (escalations go there)."""
    previous_commission_id: str = ""
    """Set when the court re-entrusted an overdue commission here (CRT-5)."""
    reappraisal_of: str = ""
    """Set when this is a re-appraisal of that commission (PROC-31): a senior title is needed."""
    excluded_appraiser_ids: list[str] = field(default_factory=list)
    """Appraisers of earlier commissions on the same matter (PROC-10): never assigned here."""
    entrusting_kind: str = ""
    """The entrusting organ's kind (court, procuratorate, public_security, state_security, …);
    empty in inputs from before other organs entrusted: a court. Its id is `court_id`."""
    case_kind: str = ""
    """civil, criminal or administrative (ENT-2); empty before: read from the case number."""


@dataclass
class RegistrationRequest:
    actor: Actor


@dataclass
class AcceptanceDecision:
    actor: Actor
    decision: str
    appraiser_ids: list[str] = field(default_factory=list)
    agreement_effective_on: str = ""
    ground: str = ""
    reason: str = ""


@dataclass
class ReportSubmission:
    actor: Actor
    content: str
    """四、鉴定过程: the examination and what it found."""
    opinion: str
    attachments: list[Material] = field(default_factory=list)
    examination_period: str = ""
    """鉴定日期 (the statutory sections, domain/report_document.SECTIONS; empty: not given)."""
    place: str = ""
    present: str = ""
    examinee: str = ""
    case_summary: str = ""
    materials_summary: str = ""
    analysis: str = ""


@dataclass
class SignatureSubmission:
    actor: Actor
    kind: str
    statement: str = ""
    signature: str = ""
    """Base64 Ed25519 over appraisal.core.signing.signed_message, checked by the API."""
    key_fingerprint: str = ""


@dataclass
class IssueRequest:
    actor: Actor


@dataclass
class ClosureRequest:
    actor: Actor
    reason: str = ""


TERMINATION_GROUNDS: dict[str, str] = {
    "PROC-20-1": "a bar of PROC-05 (2)-(7) found during the appraisal",
    "PROC-20-2": "materials used up or damaged and not replaceable",
    "PROC-20-3": "the commissioning party fails its duties, the examinee refuses, or serious interference",
    "PROC-20-4": "the commissioning party withdraws, or a party refuses to pay",
    "PROC-20-5": "force majeure",
    "PROC-20-6": "another reason making the appraisal impossible",
}


@dataclass
class WithdrawalRequest:
    actor: Actor
    reason: str


@dataclass
class TerminationRequest:
    actor: Actor
    ground: str
    reason: str


@dataclass
class MaterialRequest:
    actor: Actor
    description: str
    requested_on: str = ""
    kind: str = "materials"
    """materials (PROC-04, PROC-17) or witness (PROC-15)."""


@dataclass
class MaterialSupply:
    actor: Actor
    received_on: str = ""
    materials: list[Material] = field(default_factory=list)
    party_request_id: str = ""
    """The materials a party offered that the entrusting organ supplies with this (its request)."""


@dataclass
class ExtensionRequest:
    actor: Actor
    working_days: int
    reason: str


@dataclass
class ReassignmentRequest:
    actor: Actor
    new_commission_id: str
    new_institution_id: str
    reason: str = ""


@dataclass
class CalendarChanged:
    year: int
    loaded_by: str = ""


@dataclass
class ClockPause:
    reason: str
    paused_on: str
    paused_by: str
    used_days: int
    """Budget spent when the pause began."""
    resumed_on: str | None = None


@dataclass
class PlannedRung:
    """A rung of the escalation ladder still to come, as the workflow's timer has it."""

    kind: str
    at: datetime
    """The rung's instant by the rules (the end of a day, Beijing time)."""
    fires_at: datetime
    """When the workflow's timer fires it: `at`, or, for a rung whose instant had already
    passed when it was planned (a commission brought in from paper), the end of the
    catch-up window, so the steps taken on paper can be recorded first."""


@dataclass
class ClockSnapshot:
    rule: str
    name: str
    unit: str
    started_on: str
    budget_days: int
    due_on: str
    due_at: datetime
    provisional: bool = False
    paused: bool = False
    extended: bool = False
    overdue: bool = False
    stopped: bool = False
    stopped_on: str | None = None
    rungs_fired: list[str] = field(default_factory=list)
    segment_start: str = ""
    """Trigger of the running segment: the start, or the last resumption."""
    used_days: int = 0
    """Budget spent before the running segment (pauses carry it over)."""
    extension_days: int = 0
    extended_by: str | None = None
    extension_reason: str | None = None
    paused_on: str | None = None
    pause_reason: str | None = None
    pauses: list[ClockPause] = field(default_factory=list)
    next_rungs: list[PlannedRung] = field(default_factory=list)
    """The rungs still to fire while the clock runs, in the order their timers fire."""
    court_set_on: str | None = None
    """A date the court set (CRT-7's reply date) when the deadline is that date rolled
    past a rest day (CAL-3): both are shown, so the roll is not read as a mistake."""

    @property
    def total_budget(self) -> int:
        return self.budget_days + self.extension_days


@dataclass
class TaskSnapshot:
    kind: str
    assignee_role: str
    assignee_id: str
    due_on: str | None = None
    rule: str | None = None


@dataclass
class SignatureSnapshot:
    appraiser_id: str
    kind: str
    signed_at: datetime
    statement: str = ""
    signature: str = ""
    key_fingerprint: str = ""


@dataclass
class ReportSnapshot:
    version: int
    content_hash: str
    opinion: str
    submitted_by: str
    submitted_at: datetime
    attachments: list[Material] = field(default_factory=list)
    signatures: list[SignatureSnapshot] = field(default_factory=list)
    issued_at: datetime | None = None
    kind: str = "original"
    """original, supplementary (PROC-30) or correction (PROC-28)."""
    previous_version: int | None = None
    correction: dict[str, str] | None = None
    """The defect kind and description of a correction."""
    document_number: str = ""
    """The institution's number of this version, given at issue (empty: issued before numbers)."""
    sealed_sha256: str = ""
    """SHA-256 of the sealed PDF, once sealed (GET /v1/commissions/{id}/report.pdf)."""


@dataclass
class CommissionSnapshot:
    id: str
    workflow_id: str
    stage: str
    court_id: str
    court_reference: str
    case_number: str
    institution_id: str
    category: str
    received_on: str
    matters: list[str] = field(default_factory=list)
    selection_mode: str = "designated"
    court_deadline_working_days: int | None = None
    appraiser_ids: list[str] = field(default_factory=list)
    agreement_effective_on: str | None = None
    clocks: list[ClockSnapshot] = field(default_factory=list)
    open_tasks: list[TaskSnapshot] = field(default_factory=list)
    report: ReportSnapshot | None = None
    refusal: dict[str, str] | None = None
    pending_request: dict[str, str] | None = None
    """The open material or witness request while the stage is awaiting_materials."""
    refund: dict[str, str] | None = None
    previous_commission_id: str = ""
    reassigned_to: str = ""
    reappraisal_of: str = ""
    reappraisals: list[str] = field(default_factory=list)
    """Re-appraisals ordered from this commission (PROC-31): the lineage's other direction."""
    opinion_status: str = "valid"
    """valid; excluded (an appraiser refused to testify, TST-2) or superseded (re-appraisal ordered)."""
    earlier_reports: list[ReportSnapshot] = field(default_factory=list)
    supplementary: dict[str, str] | None = None
    recusals: list[RecusalSnapshot] = field(default_factory=list)
    objections: list[ObjectionSnapshot] = field(default_factory=list)
    testimonies: list[Any] = field(default_factory=list)
    """The latest snapshot of each court testimony (child workflow), as it reported it."""
    registry_bars: list[RegistryBar] = field(default_factory=list)
    """The institution or appraisers barred from acting here (suspended, revoked, deregistered,
    licence lapsed), as the registry's fan-out told this commission (domain/exit.py)."""
    interference: list[InterferenceSnapshot] = field(default_factory=list)
    """Attempts to interfere recorded by the appraisers (IND-1)."""
    entrusting_role: str = Role.COURT
    """The role of the organ that entrusted the commission (`court_id` is its id): a court's,
    a procuratorate's, a public security organ's or another investigative organ's (ENT-1)."""
    entrusting_kind: str = "court"
    case_kind: str = ""
    """civil, criminal or administrative (ENT-2)."""
    opinion_notices: list[OpinionNoticeSnapshot] = field(default_factory=list)
    """Who was told of the opinion used as evidence, per report version (PROC-36)."""
    applications: list[ApplicationSnapshot] = field(default_factory=list)
    """Applications for a supplementary or re-appraisal, and their decisions (PROC-36)."""
    transfers: list[TransferSnapshot] = field(default_factory=list)
    """The case's hand-overs to later organs while this commission ran (ENT-4)."""
    parties: list[PartySnapshot] = field(default_factory=list)
    """The parties the entrusting organ registered: each sees this commission alone."""
    party_requests: list[PartyRequestSnapshot] = field(default_factory=list)
    """What the parties asked the entrusting organ to pass on, and what became of it."""
    report_released: int = 0
    """The report version the entrusting organ released to the parties (0: none yet)."""
    fee: FeeSnapshot | None = None
    """The fee (鉴定费): quoted, answered, paid, refunded (domain/fees.py)."""
    last_event_seq: int = 0
    last_hash: str = ""
    """Head of the audit chain: what the stored trail must end with."""
    created: bool = False
    """True only in the reply to the request that created the commission."""


def random_pick(seed: str, candidates: list[str]) -> str:
    """The random draw (SEL-3): anyone holding the seed and the candidate
    list can re-run it and get the same institution."""
    ordered = sorted(candidates)
    digest = hashlib.sha256(f"{seed}|{','.join(ordered)}".encode()).hexdigest()
    return ordered[int(digest, 16) % len(ordered)]


def require_stage(stage: str, *allowed: Stage) -> None:
    if stage not in allowed:
        wanted = ", ".join(allowed)
        raise RuleViolation("not_in_stage", f"the commission is {stage}; this step needs {wanted}")


def require_actor(actor: Actor, role: Role, organisation_id: str) -> None:
    if actor.role != role or actor.organisation_id != organisation_id:
        raise RuleViolation("wrong_actor", f"only the {role} of this commission may take this step")


def require_entruster(actor: Actor, commission: CommissionSnapshot) -> None:
    """The organ that entrusted the commission (a court, or another entrusting organ: ENT-1)."""
    if actor.role != commission.entrusting_role or actor.organisation_id != commission.court_id:
        raise RuleViolation(
            "wrong_actor", "only the organ that entrusted this commission may take this step", rule="ENT-1"
        )


def check_appraisers(appraiser_ids: list[str], eligible: list[EligibleAppraiser]) -> None:
    """PROC-09 (two appraisers) and REG-1 (registered for the category, in this institution)."""
    if len(set(appraiser_ids)) != len(appraiser_ids):
        raise RuleViolation("duplicate_appraiser", "an appraiser is named twice", rule="PROC-09")
    if len(appraiser_ids) < 2:
        raise RuleViolation(
            "too_few_appraisers",
            "at least two appraisers must be assigned",
            rule="PROC-09",
        )
    eligible_ids = {a.appraiser_id for a in eligible}
    for appraiser_id in appraiser_ids:
        if appraiser_id not in eligible_ids:
            raise RuleViolation(
                "appraiser_not_qualified",
                f"appraiser {appraiser_id} is not an active appraiser of this institution "
                "registered for the commission's category",
                rule="REG-1",
            )


def check_date_within_history(value: str, *, earliest: str, today: date, name: str) -> date:
    """A step's date may be in the past only within the commission's own history."""
    day = date.fromisoformat(value)
    if day > today:
        raise RuleViolation("date_out_of_range", f"{name} {value} is in the future")
    if day < date.fromisoformat(earliest):
        raise RuleViolation("date_out_of_range", f"{name} {value} is before {earliest}")
    return day
