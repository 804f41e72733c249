"""Bodies of the steps after acceptance and after issue: recusal,
objections, supplementary appraisal, correction and re-appraisal."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from appraisal.schemas.commission import MaterialIn, ReportCreate, Selection, general_names
from appraisal.schemas.common import Id, ShortText, Strict, Text


class RecusalCreate(Strict):
    appraiser_id: Id = Field(description="the appraiser to recuse: an appraiser names themself")
    ground: str = Field(max_length=20, description="PROC-10-1 … PROC-10-5")
    reason: Text


class RecusalDecisionCreate(Strict):
    granted: bool
    reason: Text
    replacement_id: Id | None = Field(
        default=None, description="required when granted: a qualified appraiser of the institution"
    )


class ObjectionCreate(Strict):
    party: ShortText = Field(description="the objecting party")
    content: Text
    reply_by: date = Field(description="the last day of the court-set period for the written answer (CRT-7)")
    party_request_id: Id | None = Field(
        default=None, description="the objection a party filed in the workspace that this forwards (PTY-1)"
    )


class ObjectionReplyCreate(Strict):
    content: Text = Field(description="the appraisers' written explanation or supplement")


class ObjectionResolutionCreate(Strict):
    resolution: str = Field(max_length=20, description="withdrawn, maintained or waived (CRT-8)")
    note: str = Field(default="", max_length=4000)


class SupplementaryCreate(Strict):
    ground: str = Field(max_length=20, description="PROC-30-1 … PROC-30-3")
    reason: Text
    materials: list[MaterialIn] = Field(default_factory=list, max_length=200)


class CorrectionCreate(ReportCreate):
    """The corrected report: `opinion` must equal the issued one (PROC-28)."""

    defect_kind: str = Field(max_length=20, description="PROC-28-1 … PROC-28-3")
    description: Text


class ReappraisalCreate(Strict):
    court_reference: ShortText = Field(description="the entrusting organ's reference for the new commission")
    entrusting_reference: ShortText | None = Field(
        default=None, description="the general name of `court_reference` (either may be given)"
    )
    ground: str = Field(max_length=20, description="PROC-31-1 … PROC-31-5")
    reason: Text
    selection: Selection
    same_institution_reason: str = Field(
        default="",
        max_length=4000,
        description="the special reason that allows the same institution, with other appraisers (PROC-32)",
    )

    _general_names = model_validator(mode="before")(general_names)


class LineageItem(Strict):
    id: str
    relation: str = Field(description="self, earlier (an ancestor) or later (a descendant)")
    link: str = Field(description="reappraisal (PROC-31) or reentrustment (CRT-5); empty for self")
    stage: str
    court_reference: str
    institution_id: str
    appraiser_ids: list[str]


class TestimonyCreate(Strict):
    hearing_at: AwareDatetime = Field(
        description="the hearing's start, with its offset; ≥3 days ahead (TST-3)"
    )
    place: ShortText
    appraiser_ids: list[Id] = Field(min_length=1, max_length=10, description="appraisers of the opinion")
    requirements: str = Field(default="", max_length=4000)
    reason: str = Field(
        default="", max_length=4000, description="a maintained objection, or the court's own need"
    )


class TestimonyConfirmationCreate(Strict):
    response: Literal["confirm", "decline", "remote"]
    ground: str = Field(default="", max_length=20, description="TST-8-1 … TST-8-5, for a decline")
    reason: str = Field(
        default="", max_length=4000, description="required to decline or propose remote testimony"
    )


class TestimonyRulingCreate(Strict):
    appraiser_id: Id
    allow: bool = Field(description="allow the request not to appear, or the remote testimony")
    note: str = Field(default="", max_length=4000)


class TestimonyOutcomeCreate(Strict):
    results: dict[Id, str] = Field(
        description="every summoned appraiser → appeared, appeared_remotely, written_reply, excused "
        "or absent_without_valid_reason"
    )
    note: str = Field(default="", max_length=4000)


class RefundRulingCreate(Strict):
    ordered: bool
    note: str = Field(default="", max_length=4000)


class TestimonyPublic(BaseModel):
    testimony_id: str
    commission_id: str
    stage: str = Field(description="awaiting_hearing, awaiting_refund_ruling or concluded")
    hearing_at: datetime
    place: str
    summoned_at: datetime
    notice_days: int
    short_notice: bool = Field(description="less than 3 days' notice (TST-3): a valid ground to decline")
    appraisers: list[dict[str, Any]]
    case_kind: str = Field(
        default="civil",
        description="civil, criminal or administrative, from the case number's type character (刑, 行); "
        "in a criminal case a refusal to testify has no refund ruling (TST-6)",
    )
    excluded_from_fact_finding: bool = Field(
        description="an appraiser refused to testify: the opinion is no basis for fact-finding (TST-2) "
        "or, in a criminal case, for conviction (TST-6)"
    )
    penalty_referred: list[str]
    refund_ruling: dict[str, Any] | None = None
    clocks: list[dict[str, Any]]
    open_tasks: list[dict[str, Any]]
