"""Request and response bodies of the annual integrity evaluation (年度诚信执业评价, EVL-1)."""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from appraisal.schemas.commission import ClockPublic, MaterialIn, TaskPublic
from appraisal.schemas.common import Id, Strict, Text

GradeCode = str


class EvaluationCreate(Strict):
    year: int = Field(
        ge=2000, le=9999, description="the year evaluated: a past year, or this one (it waits for its end)"
    )


class SelfAssessmentCreate(Strict):
    score: int = Field(ge=0, le=100, description="the institution's own score of its year")
    summary: Text
    materials: list[MaterialIn] = Field(default_factory=list, max_length=200)


class GradeObjectionCreate(Strict):
    subject_kind: Literal["institution", "appraiser"]
    subject_id: Id
    reason: Text


class EvaluationStepCreate(Strict):
    """One step of the bureau, named by `decision`; each uses only its own fields:

    - `adjust_grade`: `subject_kind`, `subject_id`, `grade`, `reason` — while reviewing (EVL-3)
    - `publish_proposed`: `objection_days` (1–30 working days, default 10), `note` — the proposed
      grades published for objection (公示, EVL-4)
    - `decide_objection`: `objection_id`, `upheld`, `grade` (when upheld), `reason` (EVL-5)
    - `confirm`: `note` — the grades confirmed and published
    """

    decision: Literal["adjust_grade", "publish_proposed", "decide_objection", "confirm"]
    subject_kind: Literal["institution", "appraiser"] | None = None
    subject_id: Id | None = None
    grade: str | None = Field(default=None, max_length=10)
    reason: Text | None = None
    note: Text | None = None
    objection_id: int | None = Field(default=None, ge=1, le=100000)
    objection_days: int | None = Field(
        default=None,
        ge=1,
        le=30,
        description="publish_proposed: the 公示 period in working days (default 10)",
    )
    upheld: bool | None = None


class ObjectionPublic(BaseModel):
    objection_id: int
    subject_kind: str
    subject_id: str
    institution_id: str
    reason: str
    filed_by: str
    filed_on: date
    proposed_grade: str = ""
    decision: dict[str, Any] | None = None


class EvaluationPublic(BaseModel):
    id: str
    stage: str
    bureau_id: str
    year: int
    started_on: date
    grading: dict[str, Any]
    training_min_hours: int
    institutions: list[str] = Field(default_factory=list)
    self_assessments: dict[str, dict[str, Any]] = Field(default_factory=dict)
    training_warning: dict[str, Any] | None = None
    assessment: dict[str, Any] | None = None
    adjustments: list[dict[str, str]] = Field(default_factory=list)
    proposed_on: date | None = None
    objections: list[ObjectionPublic] = Field(default_factory=list)
    published_on: date | None = None
    clocks: list[ClockPublic]
    open_tasks: list[TaskPublic]
    workflow_id: str
    last_event_seq: int


class GradePublic(BaseModel):
    evaluation_id: str
    year: int
    subject_kind: str
    subject_id: str
    name: str
    institution_id: str
    score: int
    computed_grade: str
    grade: str
    status: str = Field(description="proposed (公示, open to objection) or published")
    counts: dict[str, int]
    deductions: list[dict[str, Any]]
    note: str = ""
    published_on: date | None = None
