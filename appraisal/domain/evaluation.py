"""The annual integrity evaluation (年度诚信执业评价, EVL-1; RULES.md REG-9, REG-10): one
workflow per bureau and year. Messages that cross Temporal and the pure checks their
validators run. New fields always get defaults so running workflows keep replaying."""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from appraisal.domain.commission import ClockSnapshot, Material, TaskSnapshot
from appraisal.domain.errors import RuleViolation
from appraisal.domain.events import AuditEvent, Receiver
from appraisal.domain.integrity import GradingRule
from appraisal.domain.roles import Actor, Role


class EvaluationStage(StrEnum):
    IN_YEAR = "in_year"
    """The year runs; the appraisers short of training hours are told as its end nears (TRN-3)."""
    SELF_ASSESSMENT = "self_assessment"
    """The year is over: each institution assesses itself (EVL-2)."""
    REVIEWING = "reviewing"
    """The grades the year's record gives are proposed; the bureau reviews them (EVL-3)."""
    OBJECTION_PERIOD = "objection_period"
    """The proposed grades are published for objection (公示, EVL-4)."""
    DECIDING_OBJECTIONS = "deciding_objections"
    """The bureau decides each objection (EVL-5)."""
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    """No objection left: the bureau confirms and publishes the grades."""
    PUBLISHED = "published"
    """Confirmed and published: the grades weigh the inspection draw (EVL-7)."""


SUBJECT_KINDS = ("institution", "appraiser")


def evaluation_id_for(bureau_id: str, year: int) -> str:
    """One evaluation per bureau and year, whoever starts it (the schedule or the bureau): the
    first 128 bits of SHA-256 over both, written like a UUID."""
    digest = hashlib.sha256(f"integrity-evaluation\n{bureau_id}\n{year}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def evaluation_workflow_id(evaluation_id: str) -> str:
    return f"evaluation-{evaluation_id}"


@dataclass
class AnnualEvaluationsInput:
    """What the yearly schedule starts: every bureau's evaluation of the year just begun."""

    grading: GradingRule = field(default_factory=GradingRule)
    training_min_hours: int = 40
    year: int = 0
    """0: the year the schedule fires in (China's time)."""


@dataclass
class AnnualEvaluationsOutcome:
    year: int = 0
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)


@dataclass
class EvaluationInput:
    evaluation_id: str
    bureau_id: str
    year: int
    started_by: Actor
    grading: GradingRule
    training_min_hours: int = 40


@dataclass
class EvaluationRegistration:
    actor: Actor


@dataclass
class SelfAssessment:
    actor: Actor
    summary: str
    score: int
    materials: list[Material] = field(default_factory=list)


@dataclass
class GradeAdjustment:
    actor: Actor
    subject_kind: str
    subject_id: str
    grade: str
    reason: str


OBJECTION_DAYS = range(1, 31)
"""EVL-4: the 公示 period the bureau sets when it publishes, in working days (I)."""


@dataclass
class ProposedGradesPublication:
    actor: Actor
    note: str = ""
    objection_days: int = 0
    """The 公示 period in working days; 0: the rule's default (EVL-4)."""


@dataclass
class GradeObjectionFiling:
    actor: Actor
    subject_kind: str
    subject_id: str
    subject_institution_id: str
    """The subject's institution (the institution itself for an institution), looked up by the API."""
    reason: str
    proposed_grade: str = ""


@dataclass
class ObjectionDecision:
    actor: Actor
    objection_id: int
    upheld: bool
    reason: str
    grade: str = ""
    """When upheld: the grade it is now."""


@dataclass
class GradesConfirmation:
    actor: Actor
    note: str = ""


@dataclass
class Objection:
    objection_id: int
    subject_kind: str
    subject_id: str
    institution_id: str
    reason: str
    filed_by: str
    filed_on: str
    proposed_grade: str = ""
    decision: dict[str, Any] | None = None


@dataclass
class InstitutionsRequest:
    bureau_id: str


@dataclass
class InstitutionsResult:
    institution_ids: list[str] = field(default_factory=list)


@dataclass
class AssessmentRequest:
    evaluation_id: str
    bureau_id: str
    year: int
    grading: GradingRule
    training_min_hours: int
    assessed_at: datetime | None = None


@dataclass
class AssessmentSummary:
    institutions: int = 0
    appraisers: int = 0
    by_grade: dict[str, int] = field(default_factory=dict)
    training_shortfalls: int = 0


@dataclass
class GradeChange:
    evaluation_id: str
    subject_kind: str
    subject_id: str
    grade: str
    note: str


@dataclass
class GradesPublicationRequest:
    evaluation_id: str
    published_on: str


@dataclass
class EvaluationSnapshot:
    id: str
    workflow_id: str
    stage: str
    bureau_id: str
    year: int
    started_on: str
    grading: GradingRule
    training_min_hours: int = 40
    institutions: list[str] = field(default_factory=list)
    self_assessments: dict[str, dict[str, Any]] = field(default_factory=dict)
    training_warning: dict[str, Any] | None = None
    assessment: AssessmentSummary | None = None
    adjustments: list[dict[str, str]] = field(default_factory=list)
    proposed_on: str | None = None
    objections: list[Objection] = field(default_factory=list)
    published_on: str | None = None
    clocks: list[ClockSnapshot] = field(default_factory=list)
    open_tasks: list[TaskSnapshot] = field(default_factory=list)
    last_event_seq: int = 0
    last_hash: str = ""
    created: bool = False


@dataclass
class RecordEvaluationEventInput:
    event: AuditEvent
    """`commission_id` holds the evaluation id: evaluations chain in the same audit trail."""
    snapshot: EvaluationSnapshot
    notify: list[Receiver] = field(default_factory=list)
    message: str = ""


def check_start(inp: EvaluationInput, today: date) -> None:
    if inp.started_by.role not in (Role.SUPERVISOR, "system") or (
        inp.started_by.role == Role.SUPERVISOR and inp.started_by.organisation_id != inp.bureau_id
    ):
        raise RuleViolation("wrong_actor", "a bureau evaluates the institutions under it", rule="EVL-1")
    if inp.year > today.year:
        raise RuleViolation("year_not_begun", f"{inp.year} has not begun", rule="EVL-1")
    if not inp.grading.grade_floors:
        raise RuleViolation("no_grading_rule", "the evaluation needs its grading rule", rule="EVL-1")


def require_evaluation_stage(stage: str, *allowed: EvaluationStage) -> None:
    if stage not in allowed:
        wanted = ", ".join(allowed)
        raise RuleViolation("not_in_stage", f"the evaluation is {stage}; this step needs {wanted}")


def require_bureau(actor: Actor, bureau_id: str) -> None:
    if actor.role != Role.SUPERVISOR or actor.organisation_id != bureau_id:
        raise RuleViolation("wrong_actor", "only the bureau running this evaluation may take this step")


def require_objector(actor: Actor, objection: GradeObjectionFiling) -> None:
    """An appraiser objects to their own grade; an institution to its own or its appraisers'."""
    if objection.subject_kind not in SUBJECT_KINDS:
        raise RuleViolation(
            "unknown_kind", f"{objection.subject_kind} is neither an institution nor an appraiser"
        )
    own = objection.subject_kind == "appraiser" and actor.organisation_id == objection.subject_id
    if actor.role == Role.APPRAISER and own:
        return
    if actor.role == Role.INSTITUTION and actor.organisation_id == objection.subject_institution_id:
        return
    raise RuleViolation(
        "wrong_actor", "only the one graded, or its institution, objects to a grade", rule="EVL-4"
    )
