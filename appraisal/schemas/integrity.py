"""Shapes of the integrity record (诚信档案, REG-9) the supervision endpoints answer with."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class SanctionCounts(BaseModel):
    """Complaint outcomes (CMP-8) recorded against the subject in the year."""

    criticism_or_correction_order: int = 0
    industry_discipline: int = 0
    administrative_penalty_referral: int = 0


class IntegrityCounts(BaseModel):
    overdue_deadlines: int = Field(
        description="statutory clocks of the subject's commissions that went overdue in the year "
        "(`clock.overdue` audit events; for an appraiser, only the clocks appraisers answer for)"
    )
    refusals_to_testify: int = Field(description="integrity entries `refused_to_testify` (TST-9, REG-7)")
    upheld_complaints: int = Field(
        description="complaints decided with a sanction (any outcome but no_action)"
    )
    sanctions: SanctionCounts
    administrative_penalties: int = Field(
        default=0,
        description="administrative penalty decisions served in the year (行政处罚, CMP-9; any penalty but "
        "no_penalty), integrity entries `administrative_penalty`",
    )
    training_shortfalls: int = Field(
        default=0,
        description="integrity entries `training_shortfall`: the year's in-service hours below the "
        "minimum, entered by the annual evaluation (TRN-2)",
    )
    inspection_findings: int = Field(
        default=0,
        description="random inspections closed in the year with a rectification or a penalty referral for "
        "the institution (双随机一公开), integrity entries `inspection_finding`",
    )
    fee_violations: int = Field(
        default=0,
        description="fee violations (违规收费, REG-5) of the year: refunds paid back after their FEE-2 time "
        "(an institution's), and complaints decided as fee violations (integrity entries of rule REG-5)",
    )
    signed_reports: int = Field(description="context: reports signed (an appraiser's own signatures)")
    dissents: int = Field(description="context: dissents signed against a report")
    reports_issued: int = Field(description="context: reports issued on the subject's commissions")


class IntegrityEntryPublic(BaseModel):
    kind: str = Field(
        description="a complaint outcome (CMP-8), refused_to_testify, administrative_penalty, "
        "training_shortfall (TRN-2) or inspection_finding"
    )
    rule: str
    source_id: str = Field(
        description="the complaint, testimony, penalty case or annual evaluation that wrote the entry"
    )
    link: str | None = Field(
        default=None, description="where the source is, when it is a complaint or a penalty case"
    )
    findings: str
    decided_on: date
    recorded_at: datetime


class Deduction(BaseModel):
    item: str
    count: int
    points_each: int
    points: int


class IntegrityEvaluation(BaseModel):
    year: int
    score: int = Field(description="100 minus the deductions, never below 0")
    grade: str
    provisional: Literal[True] = Field(
        default=True,
        description="REG-9: the official grades and evaluation cycle are unverified; this rule "
        "(INTEGRITY_DEDUCTIONS, INTEGRITY_GRADE_FLOORS) is a stand-in",
    )
    rule: str
    deductions: list[Deduction]
    grade_floors: dict[str, int]


class TrainingYear(BaseModel):
    """The year's training (TRN-1, TRN-2): an appraiser's own, or an institution's appraisers'."""

    year: int
    required_hours: int = Field(description="in-service hours each appraiser completes in the year")
    hours: int = Field(
        description="completed in-service hours of the year (an institution: its appraisers' sum)"
    )
    appraisers_short: int = Field(description="appraisers below the required hours")
    pre_service_completed_on: date | None = Field(
        default=None, description="an appraiser's first completed pre-service course"
    )
    needs_pre_service_training: bool = Field(
        description="admitted but not yet through pre-service training: assigned to nothing (TRN-1)"
    )


class PublishedGrade(BaseModel):
    """The year's grade of the bureau's annual evaluation (EVL-1)."""

    evaluation_id: str
    year: int
    score: int
    computed_grade: str = Field(description="the grade the year's record gives")
    grade: str = Field(description="after the bureau's review and the objections")
    status: Literal["proposed", "published"] = Field(
        description="proposed: published for objection (公示); published: confirmed"
    )
    note: str = ""
    published_on: date | None = None


class IntegrityRecord(BaseModel):
    subject_kind: Literal["appraiser", "institution"]
    subject_id: str
    name: str
    institution_id: str
    year: int
    counts: IntegrityCounts
    entries: list[IntegrityEntryPublic]
    evaluation: IntegrityEvaluation
    training: TrainingYear | None = None
    grade: PublishedGrade | None = Field(
        default=None, description="the annual evaluation's grade of this year, once proposed or published"
    )
