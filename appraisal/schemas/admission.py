"""Request and response bodies of registration applications (登记申请: admission, renewal,
change), the expert pool, training records and the annual integrity evaluation."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from appraisal.schemas.commission import ClockPublic, MaterialIn, TaskPublic
from appraisal.schemas.common import Id, ShortText, Strict, Text
from appraisal.schemas.registry import MAX_SEED, Categories, Category, PersonName

PublicKey = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$"),
    Field(description="base64 of the raw 32-byte Ed25519 public key"),
]
Signature = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{86}==$")]
IdentityNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{17}[0-9Xx]$"),
    Field(
        description="the resident identity card number: hashed at once, never stored (REG-2: one institution)"
    ),
]
FoundingOrgan = Literal["social", "investigative_organ", "court", "judicial_administration"]
Qualification = Literal["senior_title", "licence_or_degree", "experience"]


class InstitutionIn(Strict):
    name: ShortText
    categories: Categories
    founding_organ_kind: FoundingOrgan = Field(
        default="social",
        description="who set it up (设立单位): social; investigative_organ (侦查机关: takes no outside "
        "commission, ENT-3); court or judicial_administration (barred, REG-2)",
    )
    founded_by_organ_id: Id | None = Field(
        default=None,
        description="with investigative_organ: the registered investigative organ that set it up (ENT-3, "
        "GET /v1/registry/organs); the licensed institution takes commissions only from it and its system",
    )
    legal_representative: ShortText | None = None
    address: ShortText | None = None
    appraisers_per_category: dict[Category, Annotated[int, Field(ge=0, le=10000)]] = Field(
        default_factory=dict,
        description="how many appraisers will practise in each category (REG-2: at least 3)",
    )
    laboratory_accredited: bool = Field(default=False, description="an accredited testing laboratory (REG-2)")
    equipment: Text | None = Field(default=None, description="the equipment the categories need (REG-2)")


class AppraiserIn(Strict):
    name: PersonName
    institution_id: Id | None = Field(
        default=None, description="where they will practise (default: the filer)"
    )
    categories: Categories
    identity_number: IdentityNumber
    senior_title: bool = False
    qualification: Qualification = Field(description="the REG-2 ground they qualify on")
    years_in_field: int = Field(ge=0, le=80)
    convicted: bool = Field(default=False, description="of an intentional crime or of negligence in office")
    dismissed_from_public_office: bool = False
    registration_revoked: bool = False
    public_key: PublicKey = Field(description="their Ed25519 signing key: registered on approval")


class ChangeIn(Strict):
    name: ShortText | None = None
    categories: Categories | None = None
    legal_representative: ShortText | None = None
    address: ShortText | None = None
    institution_id: Id | None = Field(default=None, description="an appraiser moving to another institution")
    senior_title: bool | None = None
    public_key: PublicKey | None = Field(default=None, description="an appraiser's new signing key")

    @model_validator(mode="after")
    def changes_something(self) -> "ChangeIn":
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self


class AdmissionCreate(Strict):
    reference: ShortText = Field(
        description="the filer's own reference: the same reference again returns the same application (200)"
    )
    kind: Literal["admission", "renewal", "change"]
    subject_kind: Literal["institution", "appraiser"]
    entity_id: Id | None = Field(
        default=None, description="renewal and change: the registered institution or appraiser"
    )
    institution: InstitutionIn | None = Field(default=None, description="admission of an institution")
    appraiser: AppraiserIn | None = Field(default=None, description="admission of an appraiser")
    change: ChangeIn | None = Field(default=None, description="change: what changes")
    received_on: date | None = Field(default=None, description="when the application arrived; default today")
    materials: list[MaterialIn] = Field(default_factory=list, max_length=500)


StepKind = Literal[
    "accept",
    "decline",
    "request_correction",
    "correction_received",
    "draw_panel",
    "recuse_expert",
    "extend",
    "approve",
    "refuse",
    "withdraw",
]
NotAcceptedGround = Literal["ADM-2-1", "ADM-2-2", "ADM-2-3"]


class AdmissionDecisionCreate(Strict):
    """One step of the bureau on an application, named by `decision`; each uses only its own
    fields:

    - `accept`: `on`, `note` — ADM-1 stops, ADM-3 starts (20 working days)
    - `decline`: `ground` (ADM-2-1 … ADM-2-3), `reason`, `on` — not accepted (不予受理)
    - `request_correction`: `description` (everything missing, once), `on` — ADM-1 paused
    - `correction_received`: `materials`, `on`, `note` — ADM-1 resumes (on the applicant's behalf)
    - `draw_panel`: `size` (3–7), `review_days` (told to the applicant), `seed`, `on` — ADM-3 paused
    - `recuse_expert`: `expert_id`, `reason` — a replacement drawn
    - `extend`: `days` (≤10, once), `reason`, `approved_by` (the head), `applicant_told_on`
    - `approve`: `on`, `note` — the licence and the registry entry
    - `refuse`: `reason`, `on` — with the remedies
    - `withdraw`: `reason`, `on` — on the applicant's behalf
    """

    decision: StepKind
    on: date | None = Field(default=None, description="the day the step was taken; default today")
    note: Text | None = None
    ground: NotAcceptedGround | None = None
    reason: Text | None = None
    description: Text | None = None
    materials: list[MaterialIn] | None = Field(default=None, max_length=500)
    size: int | None = Field(default=None, ge=3, le=7)
    review_days: int | None = Field(default=None, ge=1, le=60)
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, description="default: a fresh random seed")
    expert_id: Id | None = None
    days: int | None = Field(default=None, ge=1, le=10)
    approved_by: ShortText | None = None
    applicant_told_on: date | None = None


class CorrectionCreate(Strict):
    """The applicant's correction (补正): everything asked for."""

    materials: list[MaterialIn] = Field(default_factory=list, max_length=500)
    on: date | None = Field(default=None, description="when it was handed in; default today")
    note: Text | None = None


class AdmissionWithdrawalCreate(Strict):
    reason: Text
    on: date | None = None


class ReviewCreate(Strict):
    score: int = Field(ge=0, le=100)
    recommendation: Literal["approve", "refuse"]
    opinion: Text
    signature: Signature = Field(
        description="base64 Ed25519 signature by the expert's registered key over the review hash: hex "
        "SHA-256 of the canonical JSON {admission_id, expert_id, opinion, recommendation, score}"
    )


class ExpertRecusalCreate(Strict):
    reason: Text = Field(description="the conflict (利害关系)")


class PanelMemberPublic(BaseModel):
    expert_id: str
    name: str = ""
    drawn_on: date | None = None
    recused: bool = False
    recusal_reason: str = ""
    reviewed: bool = False


class PanelDrawPublic(BaseModel):
    seed: int
    candidates: list[str]
    size: int
    picks: list[str]
    drawn_on: date
    replacing: str = ""
    reproduced: bool | None = Field(
        default=None, description="the draw re-run from its seed gives the same picks"
    )


class ExpertReviewPublic(BaseModel):
    expert_id: str
    score: int
    recommendation: str
    opinion: str
    review_hash: str
    signature: str
    key_fingerprint: str
    submitted_at: str = ""


class AdmissionPublic(BaseModel):
    id: str
    stage: str
    bureau_id: str
    reference: str
    kind: str
    subject_kind: str
    subject_name: str
    entity_id: str
    received_on: date
    applicant_institution_id: str = ""
    accepted_on: date | None = None
    deemed_accepted: bool = False
    correction: dict[str, str] | None = None
    correction_requested: bool = False
    review_required: bool = True
    review_concluded: bool = False
    panel: list[PanelMemberPublic] = Field(default_factory=list)
    draws: list[PanelDrawPublic] = Field(default_factory=list)
    reviews: list[ExpertReviewPublic] = Field(default_factory=list)
    gaps: list[str] = Field(
        default_factory=list, description="what REG-2 finds missing; an approval needs none"
    )
    decision: dict[str, Any] | None = None
    not_accepted: dict[str, str] | None = None
    withdrawn: dict[str, str] | None = None
    institution: dict[str, Any] | None = None
    appraiser: dict[str, Any] | None = None
    change: dict[str, Any] | None = None
    registered: dict[str, Any] | None = None
    materials: list[MaterialIn] = Field(default_factory=list)
    clocks: list[ClockPublic]
    open_tasks: list[TaskPublic]
    workflow_id: str
    last_event_seq: int


class AdmissionListItem(BaseModel):
    id: str
    reference: str
    kind: str
    subject_kind: str
    subject_name: str
    stage: str
    overdue: bool
    next_due_on: date | None = None


class ExpertCreate(Strict):
    name: PersonName
    categories: Categories
    title: ShortText | None = Field(default=None, description="professional title and workplace")
    affiliation_institution_id: Id | None = Field(
        default=None,
        description="a registered institution the expert works for: never drawn for its applications",
    )
    public_key: PublicKey = Field(description="the expert's Ed25519 key, to verify their signed reviews")
