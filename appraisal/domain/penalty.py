"""The administrative penalty case (行政处罚) against an institution or an appraiser: the
messages that cross Temporal and the pure checks the penalty workflow's validators run
(行政处罚法 2021 Arts 36, 44-45, 48, 60-64; RULES.md CMP-9, REG-3…REG-7).

立案 (filing) → investigation → notice of the proposed penalty with the facts, reasons,
basis and the party's rights (Arts 44-45) → statement and defence (陈述、申辩), a hearing on
request within 5 days of the notice (Art 64(1)), its notice at least 7 days ahead (Art
64(2)) → the decision within 90 days of filing (Art 60, an extension approved by the head
recorded) → the decision served (Art 61) → closed. The outcome goes into the integrity
record, is published where Art 48 asks it, and a suspension or revocation takes effect in
the registry (and so reaches every commission the party holds).

New fields always get defaults so running workflows keep replaying."""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from appraisal.domain.commission import ClockSnapshot, Material, TaskSnapshot
from appraisal.domain.errors import RuleViolation
from appraisal.domain.events import AuditEvent, Receiver
from appraisal.domain.exit import ExitFanOutInput
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import (
    PENALTY_HEARING_NOTICE_DAYS,
    PENALTY_TIME_BAR_HARM_YEARS,
    PENALTY_TIME_BAR_YEARS,
)


class PenaltyStage(StrEnum):
    """Where a penalty case stands."""

    INVESTIGATING = "investigating"
    """Filed (立案): the facts are being investigated; CMP-9's 90 days run."""
    NOTIFIED = "notified"
    """The party was told of the proposed penalty and its rights (Arts 44-45): it may state
    and defend, and ask for a hearing within 5 days (PEN-2)."""
    HEARING = "hearing"
    """A hearing was asked for: it is scheduled (notice ≥7 days ahead) and held (Art 64)."""
    DECIDING = "deciding"
    """The party's rights were exercised or lapsed: the decision is due (CMP-9)."""
    DECIDED = "decided"
    """Decided: the decision is served (PEN-4, Art 61)."""
    CLOSED = "closed"
    """Served; the outcome is in the integrity record, published where Art 48 asks."""


TERMINAL_PENALTY_STAGES = frozenset({PenaltyStage.CLOSED})

SOURCES: dict[str, str] = {
    "testimony_refusal": "an appraiser refused to testify after a court's notice (TST-6, TST-9)",
    "complaint": "a complaint's handling decision referred it (CMP-8)",
    "inspection": "a random inspection found it (双随机一公开)",
    "bureau": "the bureau's own finding",
}
"""Where a case comes from: the referrals the product makes, or the bureau itself."""

SUBJECT_KINDS = ("institution", "appraiser")


class Penalty(StrEnum):
    """What a decision may impose (RULES.md REG-3…REG-7); `no_penalty` when the breach is
    not proven or not punishable."""

    WARNING = "warning"
    CORRECTION_ORDER = "correction_order"
    FINE = "fine"
    SUSPENSION = "suspension"
    REVOCATION = "revocation"
    NO_PENALTY = "no_penalty"


PENALTIES: dict[str, str] = {
    Penalty.WARNING: "警告 a warning (REG-3, REG-5, REG-7)",
    Penalty.CORRECTION_ORDER: "责令改正 an order to correct (REG-3, REG-5)",
    Penalty.FINE: "罚款 a fine of 1-3 times the illegal gains, at most ¥30,000 (REG-4)",
    Penalty.SUSPENSION: "停止执业 / 停业 suspension for 3 to 12 months (REG-3, REG-6, REG-7)",
    Penalty.REVOCATION: "撤销登记 revocation of the registration (REG-3, REG-6, REG-7)",
    Penalty.NO_PENALTY: "不予行政处罚 no penalty (the breach is not proven or not punishable)",
}

SUSPENSION_MONTHS = (3, 12)
"""REG-3 (3 months to 1 year), REG-6 (3-12 months), REG-7."""
FINE_CAP_YUAN = 30_000
FINE_GAINS_MULTIPLE = 3
"""REG-4: 1-3 times the illegal gains, at most ¥30,000."""

PUBLISHED_PENALTIES = frozenset({Penalty.FINE, Penalty.SUSPENSION, Penalty.REVOCATION})
"""Art 48: a decision 'with a certain social impact' is made public. This product reads that as
every fine, suspension and revocation (I); the bureau may publish a warning too."""

RIGHTS = (
    "陈述、申辩: state and defend (Art 45); the bureau hears them and does not increase the penalty for them",
    "听证: ask for a hearing within 5 days of this notice (Art 64(1)) where the proposal is a large "
    "fine, a suspension or a revocation (Art 63)",
    "复议、诉讼: apply for administrative review or sue after the decision",
)
"""What the notice of the proposed penalty tells the party (Arts 44-45, 63-64)."""

HEARING_PENALTIES = frozenset({Penalty.FINE, Penalty.SUSPENSION, Penalty.REVOCATION})
"""Art 63: the penalties that carry the right to a hearing (a large fine; 责令停产停业、责令关闭、
限制从业; 降低资质等级、吊销许可证件)."""


def workflow_id_for(case_id: str) -> str:
    return f"penalty-{case_id}"


@dataclass
class PenaltyInput:
    case_id: str
    bureau_id: str
    reference: str
    """The bureau's case number (立案号): its idempotency key."""
    subject_kind: str
    """institution or appraiser."""
    subject_id: str
    institution_id: str
    """The institution, or the appraiser's institution."""
    source: str
    """testimony_refusal, complaint, inspection or bureau (SOURCES)."""
    filed_on: str
    """立案: CMP-9's 90 days run from the day after."""
    breach_on: str
    """When the breach happened (or ended, if continuing): Art 36's time bar runs from it."""
    summary: str
    filed_by: Actor
    source_id: str = ""
    """The complaint, commission or inspection the referral came from."""
    harm: bool = False
    """The breach harmed life, health or financial security: Art 36's 5 years apply."""
    time_bar_last_day: str = ""
    """The last day of Art 36's period, computed at filing."""


@dataclass
class PenaltyRegistration:
    actor: Actor


@dataclass
class Investigation:
    actor: Actor
    findings: str
    evidence: list[Material] = field(default_factory=list)


@dataclass
class ProposedPenalty:
    """The notice of the proposed penalty (Arts 44-45)."""

    actor: Actor
    facts: str
    """The facts found, the reasons and the legal basis."""
    penalties: list[str]
    basis: str
    """The articles the penalty rests on (e.g. 人办法 Art 30(4))."""
    notified_on: str = ""
    suspension_months: int = 0
    fine_yuan: int = 0
    illegal_gains_yuan: int = 0


@dataclass
class PartyStatement:
    """The party's statement and defence (陈述、申辩, Art 45), and whether it asks for a hearing."""

    actor: Actor
    statement: str
    hearing_requested: bool = False
    received_on: str = ""
    waives_hearing: bool = False
    """The party said it wants no hearing: the bureau may decide before the 5 days end."""


@dataclass
class HearingSchedule:
    actor: Actor
    hearing_on: str
    place: str
    notified_on: str = ""
    """When the party was told of the hearing (Art 64(2): at least 7 days before it)."""


@dataclass
class HearingRecord:
    actor: Actor
    summary: str
    held_on: str = ""


@dataclass
class DecisionExtension:
    """Art 60: the 90 days are extended, approved by the head of the bureau (recorded)."""

    actor: Actor
    days: int
    reason: str
    approved_by: str


@dataclass
class PenaltyDecision:
    actor: Actor
    penalties: list[str]
    reasons: str
    basis: str = ""
    decided_on: str = ""
    suspension_months: int = 0
    fine_yuan: int = 0
    illegal_gains_yuan: int = 0
    publish: bool | None = None
    """None: as Art 48 reads here (PUBLISHED_PENALTIES); True or False: the bureau's choice."""
    decision_number: str = ""


@dataclass
class DecisionService:
    actor: Actor
    served_on: str = ""
    method: str = ""


@dataclass
class PenaltyOutcome:
    """What the served decision changes outside the case: the integrity record, the public
    record and the registry (a suspension or revocation)."""

    case_id: str
    bureau_id: str
    reference: str
    subject_kind: str
    subject_id: str
    institution_id: str
    penalties: list[str]
    reasons: str
    basis: str
    decided_on: str
    served_on: str
    publish: bool
    decision_number: str = ""
    suspension_months: int = 0
    suspended_until: str = ""
    fine_yuan: int = 0
    actor: Actor | None = None
    recorded_at: datetime | None = None


@dataclass
class PenaltyOutcomeResult:
    integrity_entries_written: int = 0
    published: bool = False
    registry_exit_id: int = 0
    """The registry's exit notice when the decision changed the party's standing (0: none)."""
    registry_exit: ExitFanOutInput | None = None
    """The fan-out to start, when the decision changed the party's standing."""


@dataclass
class PenaltySnapshot:
    id: str
    workflow_id: str
    stage: str
    bureau_id: str
    reference: str
    subject_kind: str
    subject_id: str
    institution_id: str
    source: str
    filed_on: str
    breach_on: str
    summary: str
    source_id: str = ""
    harm: bool = False
    investigation: dict[str, Any] | None = None
    proposal: dict[str, Any] | None = None
    statement: dict[str, Any] | None = None
    hearing: dict[str, Any] | None = None
    decision: dict[str, Any] | None = None
    service: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None
    clocks: list[ClockSnapshot] = field(default_factory=list)
    open_tasks: list[TaskSnapshot] = field(default_factory=list)
    last_event_seq: int = 0
    last_hash: str = ""
    created: bool = False


@dataclass
class RecordPenaltyEventInput:
    event: AuditEvent
    """`commission_id` holds the case id: cases chain in the same audit trail."""
    snapshot: PenaltySnapshot
    notify: list[Receiver] = field(default_factory=list)
    message: str = ""


# ---- checks ----


def time_bar_date(breach_on: date, *, harm: bool) -> date:
    """Art 36: the last day a breach may still be penalised (the same date 2 or 5 years on)."""
    years = PENALTY_TIME_BAR_HARM_YEARS if harm else PENALTY_TIME_BAR_YEARS
    try:
        return breach_on.replace(year=breach_on.year + years)
    except ValueError:  # 29 February
        return date(breach_on.year + years, 2, 28)


def check_filing(inp: PenaltyInput) -> None:
    """What the workflow re-checks of its own input (the service checked it first)."""
    if inp.filed_by.role != Role.SUPERVISOR or inp.filed_by.organisation_id != inp.bureau_id:
        raise RuleViolation("wrong_actor", "a penalty case is filed by the bureau supervising the party")
    if inp.subject_kind not in SUBJECT_KINDS:
        raise RuleViolation("unknown_subject_kind", "the party is an institution or an appraiser")
    if inp.source not in SOURCES:
        raise RuleViolation("unknown_source", f"{inp.source} is not a source of a penalty case")
    if not inp.summary.strip():
        raise RuleViolation("summary_required", "a case states the suspected breach", rule="PEN-1")
    breach, filed = date.fromisoformat(inp.breach_on), date.fromisoformat(inp.filed_on)
    if breach > filed:
        raise RuleViolation(
            "date_out_of_range", f"breach_on {inp.breach_on} is after filed_on {inp.filed_on}"
        )
    last = (
        date.fromisoformat(inp.time_bar_last_day)
        if inp.time_bar_last_day
        else time_bar_date(breach, harm=inp.harm)
    )
    if filed > last:
        years = PENALTY_TIME_BAR_HARM_YEARS if inp.harm else PENALTY_TIME_BAR_YEARS
        raise RuleViolation(
            "time_barred",
            f"the breach of {inp.breach_on} went undiscovered for more than {years} years "
            f"(until {last}): no penalty (行政处罚法 Art 36)",
            rule="PEN-1",
        )


def require_penalty_stage(stage: str, *allowed: PenaltyStage) -> None:
    if stage not in allowed:
        wanted = ", ".join(allowed)
        raise RuleViolation("not_in_stage", f"the penalty case is {stage}; this step needs {wanted}")


def require_case_bureau(actor: Actor, bureau_id: str) -> None:
    if actor.role != Role.SUPERVISOR or actor.organisation_id != bureau_id:
        raise RuleViolation("wrong_actor", "only the bureau handling this case may take this step")


def check_penalties(
    penalties: list[str],
    *,
    subject_kind: str,
    suspension_months: int,
    fine_yuan: int,
    illegal_gains_yuan: int,
) -> None:
    """REG-3…REG-7: the penalties listed, a suspension of 3-12 months, a fine within 3 times
    the illegal gains and ¥30,000; no penalty stands alone; one of suspension and revocation."""
    if not penalties:
        raise RuleViolation("penalty_required", "name the penalty (or no_penalty)", rule="REG-3")
    unknown = [p for p in penalties if p not in PENALTIES]
    if unknown:
        raise RuleViolation(
            "unknown_penalty", f"not a penalty the rules list: {', '.join(unknown)}", rule="REG-3"
        )
    if len(set(penalties)) != len(penalties):
        raise RuleViolation("unknown_penalty", "a penalty is named twice", rule="REG-3")
    if Penalty.NO_PENALTY in penalties and len(penalties) > 1:
        raise RuleViolation("unknown_penalty", "no_penalty stands alone", rule="REG-3")
    if Penalty.SUSPENSION in penalties and Penalty.REVOCATION in penalties:
        raise RuleViolation("unknown_penalty", "a suspension or a revocation, not both", rule="REG-3")
    low, high = SUSPENSION_MONTHS
    if Penalty.SUSPENSION in penalties:
        if not low <= suspension_months <= high:
            rule = "REG-6" if subject_kind == "institution" else "REG-7"
            raise RuleViolation(
                "suspension_out_of_range", f"a suspension is {low} to {high} months", rule=rule
            )
    elif suspension_months:
        raise RuleViolation("suspension_out_of_range", "suspension_months without a suspension", rule="REG-3")
    if Penalty.FINE in penalties:
        cap = min(FINE_CAP_YUAN, FINE_GAINS_MULTIPLE * illegal_gains_yuan)
        if not 1 <= fine_yuan <= cap:
            raise RuleViolation(
                "fine_out_of_range",
                f"a fine is at most {FINE_GAINS_MULTIPLE} times the illegal gains "
                f"(¥{illegal_gains_yuan}) and at most ¥{FINE_CAP_YUAN}: ¥1 to ¥{cap}",
                rule="REG-4",
            )
    elif fine_yuan:
        raise RuleViolation("fine_out_of_range", "fine_yuan without a fine", rule="REG-4")


def check_hearing_notice(*, hearing_on: str, notified_on: str) -> None:
    """Art 64(2): the party is told at least 7 days before the hearing."""
    ahead = (date.fromisoformat(hearing_on) - date.fromisoformat(notified_on)).days
    if ahead < PENALTY_HEARING_NOTICE_DAYS:
        raise RuleViolation(
            "hearing_notice_too_short",
            f"the hearing of {hearing_on} was notified on {notified_on}: at least "
            f"{PENALTY_HEARING_NOTICE_DAYS} days before it (行政处罚法 Art 64(2))",
            rule="PEN-3",
        )


def months_after(day: date, months: int) -> date:
    """The last day of a period of `months` months that starts on `day` (the decision's
    service): the same date `months` on, or that month's last day when it has no such date
    (民法典 Arts 201-202: the first day is not counted; the period ends on the corresponding
    day of its last month, or that month's end)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


def should_publish(penalties: list[str], chosen: bool | None) -> bool:
    if chosen is not None:
        return chosen
    return any(p in PUBLISHED_PENALTIES for p in penalties)
