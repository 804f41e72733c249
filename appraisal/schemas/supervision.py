"""Shapes of the supervision overview (`GET /v1/supervision/overview`)."""

from datetime import date

from pydantic import BaseModel, Field


class OverviewCounts(BaseModel):
    total: int
    open: int = Field(description="not in a terminal stage")
    by_stage: dict[str, int]
    overdue: int
    due_soon: int = Field(description="not overdue, next deadline within `due_within` working days")
    escalations_open: int = Field(description="with an open overdue escalation to the bureau")


class InstitutionCounts(OverviewCounts):
    institution_id: str
    name: str


class CategoryCounts(OverviewCounts):
    category: str


class SupervisionOverview(BaseModel):
    today: date
    due_within: int
    due_by: date
    counts: OverviewCounts
    by_institution: list[InstitutionCounts]
    by_category: list[CategoryCounts]
