"""Request and response bodies of the REST contract (API.md)."""

from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MaterialIn(Strict):
    name: ShortText
    sha256: Sha256


class Selection(Strict):
    mode: Literal["designated", "negotiated", "random"]
    institution_id: Id | None = None


class EntrustmentCreate(Strict):
    court_reference: ShortText
    case_number: ShortText
    category: ShortText
    matters: list[ShortText] = Field(default_factory=list, max_length=50)
    selection: Selection
    received_on: date | None = Field(
        default=None,
        description="default today (Asia/Shanghai); past dates register a paper commission",
    )
    court_deadline_working_days: int | None = Field(default=None, ge=1, le=60)
    materials: list[MaterialIn] = Field(default_factory=list, max_length=500)


class AcceptanceCreate(Strict):
    decision: Literal["accept", "refuse"]
    appraiser_ids: list[Id] = Field(default_factory=list, max_length=20)
    agreement_effective_on: date | None = None
    ground: str | None = Field(default=None, max_length=20, description="PROC-05-1 … PROC-05-7 (refusal)")
    reason: Text | None = None

    @model_validator(mode="after")
    def refusal_states_ground_and_reason(self) -> "AcceptanceCreate":
        if self.decision == "refuse" and (not self.ground or not self.reason):
            raise ValueError("a refusal names a ground (PROC-05-1 … PROC-05-7) and a reason (PROC-07)")
        return self


class ReportCreate(Strict):
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200_000)]
    opinion: Text
    attachments: list[MaterialIn] = Field(default_factory=list, max_length=500)


class SignatureCreate(Strict):
    kind: Literal["sign", "dissent"]
    statement: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""
    signature: Annotated[str, StringConstraints(max_length=200)] = ""


class IssueCreate(Strict):
    pass


class ClosureCreate(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""


class ClockPublic(BaseModel):
    rule: str
    name: str
    unit: str
    started_on: date
    budget_days: int
    due_on: date
    due_at: datetime
    working_days_left: int | None
    paused: bool
    extended: bool
    provisional: bool
    overdue: bool
    stopped: bool
    stopped_on: date | None = None
    rungs_fired: list[str] = Field(default_factory=list)


class TaskPublic(BaseModel):
    kind: str
    assignee_role: str
    assignee_id: str
    due_on: date | None = None
    rule: str | None = None


class InboxTask(TaskPublic):
    commission_id: str
    court_reference: str
    stage: str


class SignaturePublic(BaseModel):
    appraiser_id: str
    kind: str
    signed_at: datetime
    statement: str = ""
    signature: str = ""


class ReportPublic(BaseModel):
    version: int
    content_hash: str
    opinion: str
    submitted_by: str
    submitted_at: datetime
    attachments: list[MaterialIn] = Field(default_factory=list)
    signatures: list[SignaturePublic] = Field(default_factory=list)
    issued_at: datetime | None = None


class CommissionPublic(BaseModel):
    id: str
    stage: str
    court_id: str
    court_reference: str
    case_number: str
    institution_id: str
    category: str
    matters: list[str]
    selection_mode: str
    received_on: date
    court_deadline_working_days: int | None = None
    appraiser_ids: list[str]
    agreement_effective_on: date | None = None
    clocks: list[ClockPublic]
    open_tasks: list[TaskPublic]
    report: ReportPublic | None = None
    refusal: dict[str, str] | None = None
    workflow_id: str
    last_event_seq: int


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class AuditEventPublic(BaseModel):
    seq: int
    kind: str
    actor_role: str
    actor_organisation_id: str
    actor_subject: str
    occurred_at: datetime
    data: dict[str, object]
    prev_hash: str
    hash: str
