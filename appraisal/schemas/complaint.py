"""Request and response bodies of the complaint endpoints (RULES.md section 10)."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from appraisal.schemas.commission import ClockPublic, MaterialIn, TaskPublic
from appraisal.schemas.common import Id, ShortText, Strict, Text

DecisionKind = Literal[
    "accept",
    "decline",
    "extend_acceptance",
    "extend_handling",
    "request_supplement",
    "supplement_received",
    "decide",
    "notify_parties",
]
DeclineGround = Literal["CMP-4-1", "CMP-4-2", "CMP-4-3", "CMP-4-4", "CMP-4-5"]
OutcomeKind = Literal[
    "no_action", "criticism_or_correction_order", "industry_discipline", "administrative_penalty_referral"
]


class ComplainantIn(Strict):
    name: ShortText
    kind: Literal["person", "legal_person", "other_organisation"]
    interest: Text = Field(description="the complainant's interest in the appraised matter (CMP-1)")
    contact: ShortText | None = None


class ComplaintCreate(Strict):
    reference: ShortText = Field(
        description="the bureau's own reference: the same reference again returns the same complaint (200)"
    )
    complainant: ComplainantIn
    institution_id: Id | None = Field(
        default=None, description="the institution complained against (default: the appraiser's)"
    )
    appraiser_id: Id | None = Field(default=None, description="the appraiser complained against, if any")
    commission_id: Id | None = Field(
        default=None, description="the commission concerned, if it is one of ours"
    )
    summary: Text = Field(description="what the complainant alleges (CMP-3)")
    knew_on: date = Field(
        description="when the complainant knew or should have known of it: more than 3 years before "
        "`received_on` is time-barred (409 time_barred, CMP-1)"
    )
    received_on: date | None = Field(
        default=None, description="when the complaint and its materials arrived; default today"
    )
    materials: list[MaterialIn] = Field(default_factory=list, max_length=500)


class ComplaintDecisionCreate(Strict):
    """One step of a complaint, named by `decision`; each uses only its own fields:

    - `accept`: `on`, `note` — accepted (CMP-5 stops, CMP-6 starts: 60 days)
    - `decline`: `ground` (CMP-4-1 … CMP-4-5), `reason`, `on` — not accepted
    - `extend_acceptance`: `days` (≤15 working days, once), `reason`
    - `extend_handling`: `days` (≤30 days, once), `reason`, `approved_by`, `complainant_told_on`
    - `request_supplement`: `description`, `on` — CMP-5 paused
    - `supplement_received`: `on`, `materials` — CMP-5 resumes
    - `decide`: `findings`, `outcome`, `on` — CMP-6 stops, CMP-7 starts: 7 working days
    - `notify_parties`: `on`, `method` — both sides told in writing; the complaint closes
    """

    decision: DecisionKind
    on: date | None = Field(default=None, description="the day the step was taken; default today")
    note: Text | None = None
    ground: DeclineGround | None = Field(default=None, description="decline: the CMP-4 ground")
    reason: Text | None = Field(default=None, description="decline and extensions")
    days: int | None = Field(
        default=None, ge=1, le=60, description="extensions: at most 15 (CMP-5) or 30 (CMP-6); once each"
    )
    approved_by: ShortText | None = Field(default=None, description="extend_handling: who approved it")
    complainant_told_on: date | None = Field(
        default=None, description="extend_handling: when the complainant was told in writing; default today"
    )
    description: Text | None = Field(default=None, description="request_supplement: what is missing")
    materials: list[MaterialIn] | None = Field(default=None, max_length=500)
    findings: Text | None = Field(default=None, description="decide: the findings")
    outcome: OutcomeKind | None = Field(default=None, description="decide: the outcome (CMP-8)")
    fee_violation: bool | None = Field(
        default=None,
        description="decide: the breach found is a fee violation (REG-5); the integrity record counts it",
    )
    method: ShortText | None = Field(default=None, description="notify_parties: how the notices were sent")


class ComplainantPublic(BaseModel):
    name: str
    kind: str
    interest: str
    contact: str = ""


class IntegrityEntryPublic(BaseModel):
    subject_kind: str
    subject_id: str
    outcome: str
    findings: str
    decided_on: date
    rule: str


class ComplaintPublic(BaseModel):
    id: str
    stage: str
    bureau_id: str
    reference: str
    institution_id: str
    appraiser_id: str = ""
    commission_id: str = ""
    complainant: ComplainantPublic
    summary: str
    received_on: date
    knew_on: date
    accepted_on: date | None = None
    decline: dict[str, str] | None = None
    pending_supplement: dict[str, str] | None = None
    decision: dict[str, str] | None = None
    notice: dict[str, str] | None = None
    integrity_entries: list[IntegrityEntryPublic] = Field(default_factory=list)
    clocks: list[ClockPublic]
    open_tasks: list[TaskPublic]
    workflow_id: str
    last_event_seq: int
