"""Request and response bodies of the penalty-case endpoints (行政处罚; RULES.md CMP-9,
REG-3…REG-7), of the interference record (IND-1) and of the public disclosure (公开)."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from appraisal.schemas.commission import ClockPublic, MaterialIn, TaskPublic
from appraisal.schemas.common import Id, ShortText, Strict, Text

PenaltyKind = Literal["warning", "correction_order", "fine", "suspension", "revocation", "no_penalty"]
PenaltyStepKind = Literal[
    "investigate",
    "propose",
    "statement",
    "schedule_hearing",
    "hearing_held",
    "extend",
    "decide",
    "serve",
]


class PenaltyCaseCreate(Strict):
    reference: ShortText = Field(
        description="the bureau's case number (立案号): the same reference again returns the same case (200)"
    )
    subject_kind: Literal["institution", "appraiser"]
    subject_id: Id = Field(description="the institution or appraiser, under the caller's bureau")
    source: Literal["testimony_refusal", "complaint", "inspection", "bureau"] = Field(
        description="where the case comes from: a referral the product made, or the bureau's own finding"
    )
    source_id: Id | None = Field(
        default=None,
        description="the referral: a complaint decided with administrative_penalty_referral, a commission "
        "whose testimony referred the appraiser (TST-9), or a closed inspection whose result referred the "
        "institution; none for the bureau's own finding",
    )
    summary: Text = Field(description="the suspected breach")
    breach_on: date = Field(
        description="when the breach happened (or ended): undiscovered for more than 2 years (5 where life, "
        "health or financial security was harmed) it is not penalised (409 time_barred, 行政处罚法 Art 36)"
    )
    harm: bool = Field(default=False, description="the breach harmed life, health or financial security")
    filed_on: date | None = Field(default=None, description="立案; default today")


class PenaltyStepCreate(Strict):
    """One step of a penalty case, named by `step`; each uses only its own fields:

    - `investigate`: `findings`, `evidence`
    - `propose`: `facts`, `penalties`, `basis`, `suspension_months`, `fine_yuan`,
      `illegal_gains_yuan`, `on` — the notice with the party's rights (Arts 44-45); PEN-2 (5 d)
    - `statement`: `statement`, `hearing_requested`, `waives_hearing`, `on` — 陈述、申辩
    - `schedule_hearing`: `hearing_on`, `place`, `on` (notified on: ≥7 d before, PEN-3)
    - `hearing_held`: `summary`, `on`
    - `extend`: `days` (≤30, once), `reason`, `approved_by` (the head of the bureau, Art 60)
    - `decide`: `penalties`, `reasons`, `basis`, `suspension_months`, `fine_yuan`,
      `illegal_gains_yuan`, `publish`, `decision_number`, `on` — PEN-4 starts (7 d)
    - `serve`: `method`, `on` — the outcome is recorded, published, and a suspension or
      revocation reaches the registry and every running commission
    """

    step: PenaltyStepKind
    on: date | None = Field(default=None, description="the day the step was taken; default today")
    findings: Text | None = None
    evidence: list[MaterialIn] | None = Field(default=None, max_length=500)
    facts: Text | None = Field(default=None, description="propose: the facts, reasons and legal basis")
    penalties: list[PenaltyKind] | None = Field(default=None, max_length=5)
    basis: Text | None = Field(default=None, description="the articles the penalty rests on")
    suspension_months: int | None = Field(default=None, ge=0, le=12)
    fine_yuan: int | None = Field(default=None, ge=0, le=1_000_000)
    illegal_gains_yuan: int | None = Field(default=None, ge=0, le=100_000_000)
    statement: Text | None = None
    hearing_requested: bool | None = None
    waives_hearing: bool | None = None
    hearing_on: date | None = None
    place: ShortText | None = None
    summary: Text | None = None
    days: int | None = Field(default=None, ge=1, le=60)
    reason: Text | None = None
    approved_by: ShortText | None = None
    reasons: Text | None = None
    publish: bool | None = Field(
        default=None,
        description="decide: publish it (default: every fine, suspension and revocation, Art 48)",
    )
    decision_number: ShortText | None = None
    method: ShortText | None = None


class PenaltyCasePublic(BaseModel):
    id: str
    stage: str
    bureau_id: str
    reference: str
    subject_kind: str
    subject_id: str
    institution_id: str
    source: str
    source_id: str = ""
    filed_on: date
    breach_on: date
    summary: str
    harm: bool = False
    investigation: dict[str, Any] | None = None
    proposal: dict[str, Any] | None = None
    statement: dict[str, Any] | None = None
    hearing: dict[str, Any] | None = None
    decision: dict[str, Any] | None = None
    service: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None
    clocks: list[ClockPublic]
    open_tasks: list[TaskPublic]
    workflow_id: str
    last_event_seq: int


class InterferenceCreate(Strict):
    """An attempt to interfere with the appraisal (IND-1), signed by the appraiser's own key."""

    who: ShortText = Field(description="who tried to interfere (name, position, organisation)")
    occurred_at: datetime = Field(description="when, with its offset")
    what: Text = Field(description="what they did or asked (e.g. to reach a given opinion)")
    hidden_from_institution: bool = Field(
        default=False, description="keep the record out of the institution's sight (its desk and head)"
    )
    signature: str = Field(
        min_length=1,
        max_length=200,
        description="base64 Ed25519 signature over the hex SHA-256 of the canonical JSON "
        '{"commission_id", "hidden", "occurred_at", "what", "who"} (keys sorted, no spaces)',
    )


class InterferenceReviewCreate(Strict):
    note: Text = Field(description="what the bureau did about it")


# ---- public disclosure (公开): nothing confidential ----


class PublicInstitution(BaseModel):
    id: str
    name: str
    categories: list[str]
    status: str = Field(description="active, suspended, revoked or deregistered")
    status_until: date | None = None
    licence_valid_until: date | None = None
    may_practise: bool = Field(description="may be chosen today (status, suspension's end and licence)")


class PublicAppraiser(BaseModel):
    id: str
    name: str
    institution_id: str
    institution_name: str
    categories: list[str]
    senior_title: bool
    status: str
    status_until: date | None = None
    licence_valid_until: date | None = None
    may_practise: bool


class PublicInspectionResult(BaseModel):
    institution_id: str
    institution_name: str
    case_files_inspected: int
    conclusion: str = Field(description="no_issue, rectification or penalty_referral")
    summary: str = ""


class PublicInspection(BaseModel):
    id: str
    period: str
    drawn_at: datetime
    seed: int
    inspectors: int
    closed_at: datetime
    results: list[PublicInspectionResult]


class PublicPenalty(BaseModel):
    case_id: str
    decision_number: str
    subject_kind: str
    subject_name: str
    institution_name: str
    penalties: list[str]
    suspension_months: int = 0
    suspended_until: date | None = None
    fine_yuan: int = 0
    basis: str
    decided_on: date
    served_on: date


class PublicGrade(BaseModel):
    institution_id: str
    institution_name: str
    year: int
    grade: str
    score: int
    confirmed: bool = Field(
        description="true: the grade the bureau's annual evaluation published (EVL-1); false: the provisional "
        "evaluation from the integrity record (REG-9)"
    )


class PublicGrades(BaseModel):
    year: int
    confirmed: bool = Field(description="whether the year's grades are confirmed (the annual evaluation)")
    note: str
    grades: list[PublicGrade]


class InspectionResultIn(Strict):
    institution_id: Id
    conclusion: Literal["no_issue", "rectification", "penalty_referral"]
    summary: Text | None = None


class InspectionResultsCreate(Strict):
    results: list[InspectionResultIn] = Field(min_length=1, max_length=100)
