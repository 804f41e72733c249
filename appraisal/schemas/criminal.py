"""Bodies of a criminal case's steps before trial (PROC-36: the opinion told, an application
decided) and of a case's hand-over to the next organ (ENT-4), and the registry's entrusting
organs (ENT-1)."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from appraisal.schemas.common import Id, ShortText, Strict, Text

PersonRole = Literal["suspect", "victim", "legal_representative", "near_relative", "litigation_agent"]


class NotifiedPersonIn(Strict):
    role: PersonRole
    name: ShortText


class OpinionNoticeCreate(Strict):
    persons: list[NotifiedPersonIn] = Field(
        min_length=1,
        max_length=20,
        description="who was told of the opinion used as evidence: the suspect and the victim, or "
        "their legal representative (a dead or incapable victim's near relative or agent)",
    )
    notified_on: date | None = Field(default=None, description="default today; not before the report's issue")
    note: str = Field(default="", max_length=4000)


class ApplicationCreate(Strict):
    applicant_role: PersonRole
    applicant_name: ShortText
    kind: Literal["supplementary", "reappraisal"]
    reason: Text
    received_on: date | None = Field(
        default=None, description="default today; not before the opinion was told"
    )


class ApplicationDecisionCreate(Strict):
    granted: bool
    reason: Text = Field(description="the decision's reasons (the head's approval, 公安部令159 Arts 254-255)")
    ground: str = Field(
        default="",
        max_length=20,
        description="granted: PROC-36-S1 … S5 (supplementary) or PROC-36-R1 … R6 (re-appraisal)",
    )
    in_custody: bool = Field(
        default=False,
        description="refused while the suspect is in custody: the 3-day written notice ends on its last "
        "day even on a holiday (CAL-4)",
    )


class ApplicantNoticeCreate(Strict):
    notified_on: date | None = Field(default=None, description="default today: when the applicant was told")
    note: str = Field(default="", max_length=4000)


class CaseTransferCreate(Strict):
    case_number: ShortText = Field(description="the caller's own case number of the case it hands over")
    to_organ_id: Id = Field(
        description="the organ the case goes to: a procuratorate from investigation, a court from the "
        "procuratorate (ENT-4)"
    )
    to_case_number: ShortText = Field(
        description="the receiving organ's case number, in its format (ENT-2), as it registered the case"
    )
    transferred_on: date | None = Field(default=None, description="default today")
    note: str = Field(default="", max_length=4000)


class CaseTransferResult(BaseModel):
    id: str
    from_organ_id: str
    from_case_number: str
    to_organ_id: str
    to_role: str
    to_case_number: str
    transferred_on: date
    recorded_at: datetime
    commission_ids: list[str] = Field(description="every commission handed over with the case")
    recorded_in_chain: list[str] = Field(
        description="the running ones, whose own audit chain now records the hand-over (case.transferred)"
    )
    ended: list[str] = Field(
        description="those whose workflow had ended (closed, refused, withdrawn, …): linked and visible, "
        "their chain closed for good; this record is their hand-over"
    )


class CaseTransferPublic(BaseModel):
    id: str
    from_organ_id: str
    from_organ_name: str
    from_case_number: str
    to_organ_id: str
    to_organ_name: str
    to_case_number: str
    transferred_on: date
    commission_ids: list[str]


class OrganPublic(BaseModel):
    id: str
    name: str
    kind: str = Field(description="court, procuratorate, public_security, state_security, …")
    role: str = Field(description="the role its users and tokens act with")
    bureau_id: str


class CaseCommission(BaseModel):
    id: str
    entrusting_organ_id: str
    entrusting_organ_name: str
    entrusting_kind: str
    case_number: str
    court_reference: str
    category: str
    stage: str
    opinion_status: str
    institution_id: str
    received_on: date


class CaseHistory(BaseModel):
    """A criminal case as it moved from organ to organ (ENT-4): each organ's case number, every
    hand-over, and every commission of the case the caller may see."""

    case_numbers: list[dict[str, str]] = Field(
        description="each organ's number of the case, in the order the case reached them"
    )
    transfers: list[CaseTransferPublic]
    commissions: list[CaseCommission]
    more: bool = Field(
        default=False, description="more commissions of the case than listed (the oldest first)"
    )
