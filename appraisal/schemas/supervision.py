"""Shapes of the supervision overview (`GET /v1/supervision/overview`)."""

from datetime import date, datetime

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


class RatePublic(BaseModel):
    metric: str = Field(description="refusal, termination, overdue or complaint")
    numerator: int
    denominator: int = Field(description="the institution's commissions")
    rate: float
    province_rate: float = Field(description="the same rate over every institution of the bureau")
    unusual: bool = Field(description="well above the province's: raises a task for the bureau (SUP-1)")


class InstitutionRatesPublic(BaseModel):
    institution_id: str
    name: str
    commissions: int
    rates: list[RatePublic]


class AlertPublic(BaseModel):
    id: int
    institution_id: str
    metric: str
    rate: float
    province_rate: float
    numerator: int
    denominator: int
    opened_at: datetime


class SupervisionOverview(BaseModel):
    today: date
    due_within: int
    due_by: date
    counts: OverviewCounts
    by_institution: list[InstitutionCounts]
    by_category: list[CategoryCounts]
    rates: list[InstitutionRatesPublic] = Field(
        default_factory=list,
        description="the bureau's institutions' refusal, termination, overdue and complaint rates against "
        "the province's (supervisor only); an unusual one is also a task in the bureau's inbox (SUP-1)",
    )
    stuck: list[StuckWorkflow] | None = Field(
        default=None,
        description="commissions in scope whose workflow Temporal reports stuck (two workflow tasks in a "
        'row failed or timed out; nothing moves until it is fixed: docs/operations.md, "A stuck '
        'workflow"), at most 100; null when Temporal did not answer (the counts above still hold)',
    )
