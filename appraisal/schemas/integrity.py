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
    fee_violations: int = Field(
        default=0,
        description="fee violations (违规收费, REG-5) of the year: refunds paid back after their FEE-2 time "
        "(an institution's), and complaints decided as fee violations (integrity entries of rule REG-5)",
    )
    signed_reports: int = Field(description="context: reports signed (an appraiser's own signatures)")
    dissents: int = Field(description="context: dissents signed against a report")
    reports_issued: int = Field(description="context: reports issued on the subject's commissions")


class IntegrityEntryPublic(BaseModel):
    kind: str = Field(description="a complaint outcome (CMP-8), refused_to_testify or administrative_penalty")
    rule: str
    source_id: str = Field(description="the complaint, testimony or penalty case that wrote the entry")
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


class IntegrityRecord(BaseModel):
    subject_kind: Literal["appraiser", "institution"]
    subject_id: str
    name: str
    institution_id: str
    year: int
    counts: IntegrityCounts
    entries: list[IntegrityEntryPublic]
    evaluation: IntegrityEvaluation
