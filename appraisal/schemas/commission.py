"""Request and response bodies of a commission and its steps (API.md)."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    model_validator,
)

from appraisal.domain.testimony import case_kind_of
from appraisal.schemas.common import (
    Id,
    Lines,
    Nfc,
    OneLine,
    Sha256,
    ShortText,
    StatedLines,
    StatedOneLine,
    Strict,
    Text,
)
from appraisal.schemas.fees import FeePublic


class MaterialIn(Strict):
    name: ShortText
    sha256: Sha256


class Selection(Strict):
    mode: Literal["designated", "negotiated", "random"]
    institution_id: Id | None = None
    excluded_institution_ids: list[Id] = Field(
        default_factory=list,
        max_length=50,
        description="random draw only: institutions left out (a conflict of interest, a recusal)",
    )


GENERAL_NAMES = {
    "entrusting_reference": "court_reference",
    "deadline_working_days": "court_deadline_working_days",
}
"""Every entrusting organ's names beside the `court_*` ones they generalise (ENT-1): a body may
give either (or both, the same); older clients keep sending the court's."""


def general_names(data: Any) -> Any:
    """A body's general names copied into the `court_*` fields the product keys on."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for general, court in GENERAL_NAMES.items():
        if data.get(general) is None:
            continue
        if data.get(court) is not None and data[court] != data[general]:
            raise ValueError(f"{general} and {court} are one field under two names: give one (or the same)")
        data[court] = data[general]
    return data


class EntrustmentCreate(Strict):
    court_reference: ShortText = Field(
        description="the entrusting organ's own reference for the commission: its idempotency key. "
        "Every organ may send it as `entrusting_reference`, the general name (ENT-1)"
    )
    entrusting_reference: ShortText | None = Field(
        default=None, description="the general name of `court_reference` (either may be given)"
    )
    case_number: ShortText = Field(
        description="the organ's case number, in its own format (ENT-2): a court's (2026)渝0103刑初12号, a "
        "procuratorate's 渝渝中检刑诉〔2026〕12号, a public security organ's A5001035000002026010001"
    )
    category: ShortText
    matters: list[ShortText] = Field(default_factory=list, max_length=50)
    selection: Selection
    received_on: date | None = Field(
        default=None,
        description="default today (Asia/Shanghai); past dates register a paper commission, at most "
        "PAPER_HISTORY_DAYS (365 by default) before today; never in the future",
    )
    court_deadline_working_days: int | None = Field(
        default=None, ge=1, le=60, description="the entrusting organ's limit in working days (PROC-18)"
    )
    deadline_working_days: int | None = Field(
        default=None, ge=1, le=60, description="the general name of `court_deadline_working_days`"
    )
    materials: list[MaterialIn] = Field(default_factory=list, max_length=500)

    _general_names = model_validator(mode="before")(general_names)


class AcceptanceCreate(Strict):
    decision: Literal["accept", "refuse"]
    appraiser_ids: list[Id] = Field(default_factory=list, max_length=20)
    agreement_effective_on: date | None = None
    ground: Annotated[str, StringConstraints(max_length=20), Nfc, OneLine, StatedOneLine] | None = Field(
        default=None, description="PROC-05-1 … PROC-05-7 (refusal)"
    )
    reason: Text | None = None

    @model_validator(mode="after")
    def refusal_states_ground_and_reason(self) -> "AcceptanceCreate":
        if self.decision == "refuse" and (not self.ground or not self.reason):
            raise ValueError("a refusal names a ground (PROC-05-1 … PROC-05-7) and a reason (PROC-07)")
        return self


SectionText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200_000), Nfc, Lines, StatedLines
]
SectionLine = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), Nfc, OneLine, StatedOneLine
]


class ReportCreate(Strict):
    """The report in the sections of 司法部《司法鉴定文书格式》(2016) 司法鉴定意见书. Only
    `content` and `opinion` are required; each section given is part of the report's hash,
    which the appraisers sign, and is printed where the format puts it."""

    content: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200_000),
        Nfc,
        Lines,
        StatedLines,
    ] = Field(description="四、鉴定过程: the examination, its methods and what it found")
    opinion: Text = Field(description="六、鉴定意见")
    attachments: list[MaterialIn] = Field(
        default_factory=list, max_length=500, description="七、附件, each with its SHA-256"
    )
    examination_period: SectionLine = Field(
        default="", description="一、基本情况: 鉴定日期 (e.g. 2026年11月2日至20日)"
    )
    place: SectionLine = Field(default="", description="一、基本情况: 鉴定地点")
    present: SectionLine = Field(default="", description="一、基本情况: 在场人员")
    examinee: SectionLine = Field(default="", description="一、基本情况: 被鉴定人")
    case_summary: SectionText = Field(default="", description="二、基本案情")
    materials_summary: SectionText = Field(default="", description="三、资料摘要")
    analysis: SectionText = Field(default="", description="五、分析说明")


class SignatureCreate(Strict):
    kind: Literal["sign", "dissent"]
    statement: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=4000), Nfc, Lines, StatedLines
    ] = ""
    signature: Annotated[str, StringConstraints(min_length=1, max_length=200), OneLine, StatedOneLine] = (
        Field(
            description="base64 Ed25519 signature, by the appraiser's registered key, over the report hash "
            "(kind sign) or over SHA-256 of the canonical {report_hash, statement} (kind dissent), as hex text"
        )
    )


class IssueCreate(Strict):
    pass


class ClosureCreate(Strict):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=4000), Nfc, Lines, StatedLines
    ] = ""


class MaterialRequestCreate(Strict):
    description: Text
    requested_on: date | None = Field(default=None, description="default today; pauses the running clock")
    kind: Literal["materials", "witness"] = Field(
        default="materials", description="materials (PROC-04, PROC-17) or an absent witness (PROC-15)"
    )


class MaterialsCreate(Strict):
    materials: list[MaterialIn] = Field(default_factory=list, max_length=500)
    received_on: date | None = Field(default=None, description="default today; resumes the clock")
    party_request_id: Id | None = Field(
        default=None,
        description="the materials a party offered (its request): supplied with these, or as offered when "
        "`materials` is empty (PTY-1)",
    )


class WithdrawalCreate(Strict):
    reason: Text


class TerminationCreate(Strict):
    ground: str = Field(max_length=20, description="PROC-20-1 … PROC-20-6")
    reason: Text = Field(description="the written reasons given to the court (PROC-20)")


class ExtensionCreate(Strict):
    working_days: int = Field(ge=1, le=60, description="at most 30 (PROC-17); the workflow enforces the rule")
    reason: Text


class ReentrustmentCreate(Strict):
    court_reference: ShortText = Field(description="the court's reference for the new commission")
    entrusting_reference: ShortText | None = Field(
        default=None, description="the general name of `court_reference` (either may be given)"
    )
    selection: Selection
    reason: Text

    _general_names = model_validator(mode="before")(general_names)


class CalendarYearPut(Strict):
    rest_days: list[date] = Field(max_length=120, description="holidays and substituted days off (放假)")
    makeup_workdays: list[date] = Field(
        default_factory=list, max_length=30, description="weekend working days (调休上班)"
    )
    source: ShortText = Field(description="the State Council notice, e.g. 国办发明电〔2026〕N号")


class CalendarYearPublic(BaseModel):
    year: int
    official: bool
    source: str
    rest_days: list[date]
    makeup_workdays: list[date]
    loaded_by: str | None = None
    loaded_at: datetime | None = None
    reload_workflow_id: str | None = None


class WebhookPut(Strict):
    url: Annotated[
        str,
        StringConstraints(pattern=r"^https?://[^\s\u0000-\u001f\u007f-\u009f]+$", max_length=500),
        OneLine,
    ]


class NotificationPublic(BaseModel):
    id: int
    commission_id: str
    event_seq: int
    kind: str
    message: str
    status: str = Field(
        description="pending (retried), delivered, no_endpoint (no webhook, number or address) or undeliverable "
        "(its channel is not configured)"
    )
    channel: str | None = Field(default=None, description="webhook, sms or email")
    created_at: datetime
    delivered_at: datetime | None = None


class ClockPauseOut(BaseModel):
    reason: str
    paused_on: date
    paused_by: str
    used_days: int
    resumed_on: date | None = None


class PlannedRungOut(BaseModel):
    kind: str
    at: datetime = Field(description="the rung's instant by the rules")
    fires_at: datetime = Field(
        description="when the workflow's timer fires it: `at`, or for a rung already past when it was "
        "planned (a commission brought in from paper) the end of the catch-up window"
    )


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
    used_days: int = 0
    extension_days: int = 0
    extension_reason: str | None = None
    paused_on: date | None = None
    pause_reason: str | None = None
    pauses: list[ClockPauseOut] = Field(default_factory=list)
    next_rungs: list[PlannedRungOut] = Field(
        default_factory=list, description="the escalation rungs still to fire, in the order their timers fire"
    )
    court_set_on: date | None = Field(
        default=None,
        description="the date the court set, when `due_on` is that date rolled past a rest day (CAL-3)",
    )


class TaskPublic(BaseModel):
    kind: str
    assignee_role: str
    assignee_id: str
    due_on: date | None = None
    rule: str | None = None


class InboxTask(TaskPublic):
    commission_id: str | None = Field(description="the commission the task belongs to, if it is one's")
    complaint_id: str | None = Field(
        default=None, description="the complaint, for a supervisor's complaint task"
    )
    licence_task_id: int | None = Field(default=None, description="the REG-8 licence task, for a supervisor")
    penalty_case_id: str | None = Field(default=None, description="the penalty case, for a supervisor")
    alert_id: int | None = Field(default=None, description="the unusual rate (SUP-1), for a supervisor")
    admission_id: str | None = Field(default=None, description="the registration application, if it is one's")
    evaluation_id: str | None = Field(
        default=None, description="the annual integrity evaluation, if it is one's"
    )
    training_task_id: int | None = Field(default=None, description="the year's training shortfall (TRN-3)")
    court_reference: str = Field(
        description="the court's reference; a complaint's or an application's reference; the licensee; "
        "the evaluation's or the training's year"
    )
    stage: str


class SignaturePublic(BaseModel):
    appraiser_id: str
    kind: str
    signed_at: datetime
    statement: str = ""
    signature: str = ""
    key_fingerprint: str = ""


class ReportPublic(BaseModel):
    version: int
    content_hash: str
    opinion: str
    submitted_by: str
    submitted_at: datetime
    attachments: list[MaterialIn] = Field(default_factory=list)
    signatures: list[SignaturePublic] = Field(default_factory=list)
    issued_at: datetime | None = None
    kind: str = Field(
        default="original", description="original, supplementary (PROC-30) or correction (PROC-28)"
    )
    previous_version: int | None = None
    correction: dict[str, str] | None = None
    document_number: str = Field(
        default="", description="the institution's number of this version (its yearly series), given at issue"
    )
    sealed_sha256: str = Field(
        default="", description="SHA-256 of the sealed PDF (GET …/report.pdf), once the institution sealed it"
    )


class RecusalPublic(BaseModel):
    id: str
    appraiser_id: str
    ground: str
    reason: str
    requested_by_role: str
    requested_on: date
    status: str = Field(description="pending, granted or denied")
    decided_on: date | None = None
    decision_reason: str = ""
    replacement_id: str = ""


class ObjectionPublic(BaseModel):
    id: str
    party: str
    content: str
    forwarded_on: date
    reply_by: date
    status: str = Field(description="awaiting_reply, answered, withdrawn, maintained or waived")
    reply: str = ""
    replied_by: str = ""
    replied_on: date | None = None
    late: bool = False
    resolution_note: str = ""


class RegistryBarPublic(BaseModel):
    entity_kind: str = Field(description="institution or appraiser")
    entity_id: str
    status: str = Field(description="suspended, revoked, deregistered or licence_lapsed")
    rule: str
    since: date
    reason: str = ""
    until: str = Field(default="", description="a suspension's last day (empty: open-ended or final)")


class InterferencePublic(BaseModel):
    id: str
    appraiser_id: str
    who: str
    occurred_at: str
    what: str
    reported_at: str
    hidden_from_institution: bool = False
    statement_hash: str = ""
    key_fingerprint: str = ""
    status: str = Field(default="reported", description="reported, or reviewed by the bureau")
    review_note: str = ""
    reviewed_on: str = ""


class NotifiedPersonPublic(BaseModel):
    role: str = Field(description="suspect, victim, legal_representative, near_relative or litigation_agent")
    name: str


class OpinionNoticePublic(BaseModel):
    version: int = Field(description="the report version told")
    persons: list[NotifiedPersonPublic]
    notified_on: date
    notified_by: str
    note: str = ""


class ApplicationPublic(BaseModel):
    id: str
    applicant_role: str
    applicant_name: str
    kind: str = Field(description="supplementary or reappraisal")
    reason: str
    received_on: date
    of_version: int
    status: str = Field(description="pending, granted, refused (awaiting its written notice) or notified")
    decided_on: date | None = None
    decision_reason: str = ""
    ground: str = ""
    in_custody: bool = False
    notified_on: date | None = None
    late: bool = Field(default=False, description="the written notice came after the PROC-36 period")


class TransferPublic(BaseModel):
    transfer_id: str
    from_organ_id: str
    from_case_number: str
    to_organ_id: str
    to_role: str
    to_kind: str
    to_case_number: str
    transferred_on: date


class PartySnapshotPublic(BaseModel):
    party_id: str
    name: str
    side: str
    registered_on: date


class PartyRequestPublic(BaseModel):
    id: str
    party_id: str
    kind: str
    submitted_on: date
    content: str = ""
    materials: list[MaterialIn] = Field(default_factory=list)
    status: str = Field(description="pending, accepted or declined")
    decided_on: date | None = None
    decision_reason: str = ""
    handled_as: str = ""


class CommissionPublic(BaseModel):
    id: str
    stage: str
    court_id: str = Field(
        description="the organ that entrusted the commission (a court, or another entrusting organ): the "
        "same id as `entrusting_organ_id`, under the name older clients read"
    )
    entrusting_organ_id: str = Field(default="", description="the organ that entrusted the commission")
    entrusting_role: str = Field(
        default="court", description="court, procuratorate, public_security or investigative_organ"
    )
    entrusting_kind: str = Field(
        default="court",
        description="the organ's kind: court, procuratorate, public_security, state_security, "
        "customs_anti_smuggling, coast_guard, prison or military_security",
    )
    case_kind: str = Field(default="", description="civil, criminal or administrative (ENT-2)")
    court_reference: str = Field(description="the organ's reference; `entrusting_reference` is the same")
    entrusting_reference: str = Field(default="", description="the general name of `court_reference`")
    case_number: str
    institution_id: str
    category: str
    matters: list[str]
    selection_mode: str
    received_on: date
    court_deadline_working_days: int | None = None
    deadline_working_days: int | None = Field(
        default=None, description="the general name of `court_deadline_working_days`"
    )
    appraiser_ids: list[str]
    agreement_effective_on: date | None = None
    clocks: list[ClockPublic]
    open_tasks: list[TaskPublic]
    report: ReportPublic | None = None
    refusal: dict[str, str] | None = None
    pending_request: dict[str, str] | None = None
    refund: dict[str, str] | None = None
    previous_commission_id: str = ""
    reassigned_to: str = ""
    reappraisal_of: str = Field(default="", description="the commission this one re-appraises (PROC-31)")
    reappraisals: list[str] = Field(default_factory=list, description="re-appraisals ordered from this one")
    opinion_status: str = Field(
        default="valid",
        description="valid; excluded (an appraiser refused to testify, TST-2); superseded (re-appraisal ordered)",
    )
    earlier_reports: list[ReportPublic] = Field(default_factory=list, description="versions before `report`")
    supplementary: dict[str, str] | None = None
    recusals: list[RecusalPublic] = Field(default_factory=list)
    objections: list[ObjectionPublic] = Field(default_factory=list)
    testimonies: list[dict[str, Any]] = Field(
        default_factory=list, description="each court testimony's state"
    )
    registry_bars: list[RegistryBarPublic] = Field(
        default_factory=list,
        description="the institution or appraisers barred from acting here (EXIT-1: suspended, revoked, "
        "deregistered, licence lapsed); their steps are refused",
    )
    interference: list[InterferencePublic] = Field(
        default_factory=list,
        description="attempts to interfere recorded by the appraisers (IND-1); one hidden from the "
        "institution is left out of what its desk and head see",
    )
    opinion_notices: list[OpinionNoticePublic] = Field(
        default_factory=list, description="who was told of the opinion used as evidence (PROC-36)"
    )
    applications: list[ApplicationPublic] = Field(
        default_factory=list, description="applications for a supplementary or re-appraisal (PROC-36)"
    )
    transfers: list[TransferPublic] = Field(
        default_factory=list, description="the case's hand-overs to later organs while it ran (ENT-4)"
    )
    parties: list[PartySnapshotPublic] = Field(
        default_factory=list, description="the parties the entrusting organ registered (PTY-1)"
    )
    party_requests: list[PartyRequestPublic] = Field(
        default_factory=list, description="what the parties asked the entrusting organ to pass on"
    )
    report_released: int = Field(
        default=0, description="the report version released to the parties (0: none)"
    )
    fee: FeePublic | None = Field(
        default=None, description="the fee (鉴定费): quoted, answered, paid, refunded"
    )
    workflow_id: str
    last_event_seq: int

    @model_validator(mode="before")
    @classmethod
    def general_names(cls, data: Any) -> Any:
        """The general names beside the court's, and what a commission from before other organs
        entrusted was: a court's, its case kind read from the case number."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        data.setdefault("entrusting_organ_id", data.get("court_id", ""))
        data.setdefault("entrusting_reference", data.get("court_reference", ""))
        data.setdefault("deadline_working_days", data.get("court_deadline_working_days"))
        if not data.get("case_kind"):
            data["case_kind"] = case_kind_of(str(data.get("case_number", "")))
        return data


class ChainVerdictPublic(BaseModel):
    ok: bool
    events: int
    head: str
    broken_at: int | None = Field(default=None, description="the first sequence number that does not verify")
    reason: str | None = None
    signatures_checked: int = 0
    history_checked: int | None = Field(
        default=None,
        description="events matched against the workflow's own Temporal history (sequence and hash); "
        "null: not checked, because Temporal keeps no history of a workflow closed longer than its "
        "namespace's retention",
    )


class TraceItem(BaseModel):
    at: datetime
    kind: str
    commission_id: str = Field(description="the commission; for a complaint, the one it concerns, if any")
    court_reference: str
    complaint_id: str | None = Field(default=None, description="set when the event is a complaint's")
    complaint_reference: str | None = None
    seq: int
    actor_role: str
    actor_organisation_id: str
    details: dict[str, object]
    audit_event: str = Field(
        description="where the event is: the commission's (or complaint's) audit trail, at this seq"
    )
    verified: bool = Field(description="the commission's (or complaint's) chain verifies through this event")


class AnchorDeliveryPublic(BaseModel):
    court_id: str
    chains: int = Field(description="the court's own commissions in its copy")
    status: str = Field(description="pending (retried for a week), delivered, or no_endpoint (no webhook)")
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


class AnchorCheck(BaseModel):
    day: date
    ok: bool
    stored: str
    recomputed: str
    chains: int
    computed_at: datetime
    deliveries: list[AnchorDeliveryPublic] = Field(
        default_factory=list,
        description="each court of the caller's bureau: its signed copy, sent to its webhook",
    )


class TraceGrade(BaseModel):
    """A year's grade of the annual integrity evaluation (EVL-1)."""

    year: int
    evaluation_id: str
    score: int
    grade: str
    status: str = Field(description="proposed (公示) or published")


class TraceTraining(BaseModel):
    """A course the appraiser attended (TRN-1, TRN-2)."""

    course_id: str
    title: str
    kind: str
    ends_on: date
    hours: int
    completed: bool


class TraceApplication(BaseModel):
    """A registration application about the appraiser: admission, renewal or change."""

    admission_id: str
    reference: str
    kind: str
    stage: str
    licence_number: str | None = None


class AppraiserTrace(BaseModel):
    appraiser_id: str
    name: str
    institution_id: str
    items: list[TraceItem]
    needs_pre_service_training: bool = False
    grades: list[TraceGrade] = Field(default_factory=list, description="every year's evaluated grade")
    training: list[TraceTraining] = Field(
        default_factory=list, description="every course attended, newest first"
    )
    applications: list[TraceApplication] = Field(
        default_factory=list, description="the registration applications about the appraiser"
    )


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
