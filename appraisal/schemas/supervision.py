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


class StuckWorkflow(BaseModel):
    commission_id: str
    workflow_id: str
    court_reference: str
    institution_id: str
    stage: str = Field(description="the stage the read model last recorded")
    problems: list[str] = Field(
        description="what Temporal reports, e.g. `category=WorkflowTaskFailed`, "
        "`cause=WorkflowTaskFailedCauseWorkflowWorkerUnhandledFailure`"
    )


class SupervisionOverview(BaseModel):
    today: date
    due_within: int
    due_by: date
    counts: OverviewCounts
    by_institution: list[InstitutionCounts]
    by_category: list[CategoryCounts]
    stuck: list[StuckWorkflow] | None = Field(
        default=None,
        description="commissions in scope whose workflow Temporal reports stuck (two workflow tasks in a "
        'row failed or timed out; nothing moves until it is fixed: docs/operations.md, "A stuck '
        'workflow"), at most 100; null when Temporal did not answer (the counts above still hold)',
    )
