"""The parties (当事人) in the REST contract: registered by the entrusting organ, signed in by a
one-time link (or an account), what a party sees of its commission, what it asks the organ to
pass on, its complaint to the bureau; the random draw it watches."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from appraisal.domain.parties import MAX_PARTIES
from appraisal.schemas.commission import (
    EntrustmentCreate,
    MaterialIn,
    PartyRequestPublic,
    PartySnapshotPublic,
)
from appraisal.schemas.common import Id, ShortText, Strict, Text
from appraisal.schemas.fees import FeePublic
from appraisal.schemas.registry import SelectionPublic

Side = Literal[
    "plaintiff", "defendant", "third_party", "applicant", "respondent", "suspect", "victim", "other"
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 -]{5,28}$")]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]


class PartyIn(Strict):
    name: ShortText
    side: Side = Field(description="which side of the case the party is on")
    phone: Phone | None = Field(default=None, description="a mobile number: notifications by SMS")
    email: Email | None = Field(default=None, description="an e-mail address: notifications by e-mail")
    username: str | None = Field(
        default=None,
        max_length=40,
        description="optional: an account for the party with this user name (and `password`), besides the "
        "one-time link",
    )
    password: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def account_whole(self) -> "PartyIn":
        if bool(self.username) != bool(self.password):
            raise ValueError("an account needs both a username and a password")
        return self


class PartiesCreate(Strict):
    parties: list[PartyIn] = Field(min_length=1, max_length=MAX_PARTIES)


class PartyPublic(BaseModel):
    id: str
    name: str
    side: str
    commission_id: str | None = None
    draw_id: str | None = None
    registered_at: datetime
    username: str | None = Field(default=None, description="the party's own account, if it has one")
    phone: str = ""
    email: str = ""
    link_expires_at: datetime | None = Field(
        default=None, description="the one-time link's end, if one is open"
    )
    link_used_at: datetime | None = None


class PartyRegistered(BaseModel):
    party: PartyPublic
    sign_in_link: str = Field(
        description="the one-time sign-in link (a path under this server): shown once, give it to the party; it "
        "works once, until `link_expires_at`"
    )
    link_expires_at: datetime


class PartiesRegistered(BaseModel):
    id: str = Field(description="the commission")
    last_event_seq: int = Field(description="the commission's event sequence once the parties are recorded")
    parties: list[PartyRegistered]


class PartySignIn(Strict):
    token: Annotated[str, StringConstraints(min_length=20, max_length=100)]


class PartyToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_at: datetime
    party_id: str
    commission_id: str | None
    draw_id: str | None


class PartyRequestCreate(Strict):
    kind: Literal["materials", "objection"] = Field(
        description="materials offered through the entrusting organ (it supplies them when the institution "
        "asks), or an objection to the issued opinion for the court to forward (CRT-7)"
    )
    content: str = Field(default="", max_length=4000, description="the objection, or a note on the materials")
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)


class PartyRequestDeclineCreate(Strict):
    reason: Text


class ReportReleaseCreate(Strict):
    note: str = Field(default="", max_length=4000)


class PartyComplaintCreate(Strict):
    summary: Text = Field(description="what the party complains of (CMP-3)")
    appraiser_id: Id | None = Field(
        default=None, description="an appraiser of the commission complained against"
    )
    knew_on: date | None = Field(default=None, description="when the party knew of it; default today (CMP-1)")
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)
    reference: ShortText | None = Field(
        default=None, description="the party's own reference: the same again returns the same complaint"
    )


class ContactPut(Strict):
    phone: Phone | None = None
    email: Email | None = None


class ContactPublic(BaseModel):
    phone: str = ""
    email: str = ""


class MaterialListed(BaseModel):
    name: str
    sha256: str
    on: date | None = None
    how: str = Field(description="entrusted (with the commission), supplied, or supplementary")


class ClockSeen(BaseModel):
    rule: str
    name: str
    started_on: date
    due_on: date
    working_days_left: int | None = None
    paused: bool = False
    extended: bool = False
    overdue: bool = False
    stopped: bool = False
    provisional: bool = False


class ReportSeen(BaseModel):
    version: int
    opinion: str
    content_hash: str
    issued_at: datetime | None
    signed_by: list[str] = Field(description="the appraisers who signed (names)")
    dissents: int = 0


class ComplaintSeen(BaseModel):
    id: str
    reference: str
    stage: str
    received_on: date
    outcome: str | None = None


class NoticeSeen(BaseModel):
    kind: str
    message: str
    status: str
    channel: str | None = None
    created_at: datetime


class PartyView(BaseModel):
    """What a party sees of its commission: never the audit trail's internals, interference
    records or notes between staff."""

    party: PartySnapshotPublic
    commission_id: str
    case_number: str
    category: str
    matters: list[str]
    stage: str
    entrusting_organ: str
    entrusting_role: str = Field(description="court, procuratorate, public_security or investigative_organ")
    received_on: date
    agreement_effective_on: date | None = None
    institution_id: str
    institution: str
    appraisers: list[str]
    selection_mode: str
    selection: SelectionPublic | None = None
    candidate_names: dict[str, str] = Field(default_factory=dict, description="the draw's candidates by id")
    clocks: list[ClockSeen]
    materials: list[MaterialListed]
    report: ReportSeen | None = Field(default=None, description="once the entrusting organ released it")
    parties: list[PartySnapshotPublic]
    requests: list[PartyRequestPublic] = Field(description="this party's own requests")
    objections: list[dict[str, str]] = Field(
        default_factory=list, description="this party's objections the court forwarded: id, status, reply_by"
    )
    fee: FeePublic | None = None
    fee_is_mine: bool = Field(default=False, description="this party pays the fee")
    complaints: list[ComplaintSeen] = Field(default_factory=list)
    tasks: list[str] = Field(default_factory=list, description="what waits on this party")
    notifications: list[NoticeSeen] = Field(default_factory=list)
    last_event_seq: int


class DrawCreate(Strict):
    entrustment: EntrustmentCreate = Field(description="the entrustment, its selection a random draw")
    parties: list[PartyIn] = Field(default_factory=list, max_length=MAX_PARTIES)
    scheduled_at: datetime | None = Field(
        default=None, description="when the organ runs the draw (informative)"
    )
    place: str = Field(default="", max_length=200)


class CandidatePublic(BaseModel):
    id: str
    name: str


class DrawPublic(BaseModel):
    id: str
    reference: str
    case_number: str
    category: str
    matters: list[str]
    status: str = Field(description="scheduled, then drawn")
    scheduled_at: datetime | None = None
    place: str = ""
    candidates_now: list[CandidatePublic] = Field(
        default_factory=list, description="the institutions a draw would be among now (before it runs)"
    )
    drawn_at: datetime | None = None
    commission_id: str | None = None
    selection: SelectionPublic | None = None
    institution: str = ""
    parties: list[PartyPublic] = Field(default_factory=list)


class PartySelf(BaseModel):
    party_id: str
    name: str
    side: str
    commission_id: str | None = Field(description="the party's commission (none while its draw waits)")
    draw: DrawPublic | None = Field(default=None, description="the draw it waits for, before it runs")


class DrawCreated(BaseModel):
    draw: DrawPublic
    parties: list[PartyRegistered]
