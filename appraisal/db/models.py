"""PostgreSQL tables: the registry, the commission read model, the inbox and
the audit trail. Workflows write here only through activities."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

# ---- registry ----


class BureauBase(SQLModel):
    name: str = Field(max_length=200)


class Bureau(BureauBase, table=True):
    id: str = Field(primary_key=True, max_length=36)


class CourtBase(SQLModel):
    name: str = Field(max_length=200)
    bureau_id: str = Field(foreign_key="bureau.id", max_length=36)


class Court(CourtBase, table=True):
    id: str = Field(primary_key=True, max_length=36)


class EntrustingOrganBase(SQLModel):
    name: str = Field(max_length=200)
    kind: str = Field(
        max_length=30,
        description="procuratorate, public_security, state_security, customs_anti_smuggling, coast_guard, "
        "prison or military_security (courts are in `court`)",
    )
    bureau_id: str = Field(
        foreign_key="bureau.id", max_length=36, index=True, description="the bureau that manages its accounts"
    )


class EntrustingOrgan(EntrustingOrganBase, table=True):
    """An entrusting organ other than a court (ENT-1): a people's procuratorate, a public
    security organ or another investigative organ, with its own users, tokens and scope."""

    __tablename__ = "entrusting_organ"

    id: str = Field(primary_key=True, max_length=36)


class InstitutionBase(SQLModel):
    name: str = Field(max_length=200)
    bureau_id: str = Field(foreign_key="bureau.id", max_length=36, index=True)
    categories: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String), nullable=False))
    status: str = Field(default="active", max_length=20, description="active, suspended or revoked")
    status_until: date | None = Field(default=None, description="a suspension's last day")
    licence_valid_until: date | None = None
    founded_by_organ_id: str | None = Field(
        default=None,
        foreign_key="entrusting_organ.id",
        max_length=36,
        description="the investigative organ that set the institution up for its investigations, if one "
        "did: it then takes no outside commission (ENT-3)",
    )
    licence_number: str = Field(default="", max_length=40, description="司法鉴定许可证号")
    short_name: str = Field(
        default="", max_length=40, description="缩略名: how its report numbers begin (default: its name)"
    )
    address: str = Field(default="", max_length=200, description="printed on the report's declaration page")
    phone: str = Field(default="", max_length=40, description="printed on the report's declaration page")


class Institution(InstitutionBase, table=True):
    id: str = Field(primary_key=True, max_length=36)


class InstitutionPublic(InstitutionBase):
    id: str


class AppraiserBase(SQLModel):
    name: str = Field(max_length=100)
    institution_id: str = Field(foreign_key="institution.id", max_length=36, index=True)
    categories: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String), nullable=False))
    senior_title: bool = False
    status: str = Field(default="active", max_length=20, description="active, suspended or revoked")
    status_until: date | None = Field(default=None, description="a suspension's last day")
    licence_valid_until: date | None = None
    licence_number: str = Field(
        default="", max_length=40, description="执业证号: printed beside the signature"
    )
    needs_pre_service_training: bool = Field(
        default=False,
        description="admitted but not yet through a pre-service course (岗前培训): assigned to no "
        "commission until one is recorded completed (TRN-1)",
    )
    identity_hash: str | None = Field(
        default=None,
        max_length=64,
        index=True,
        description="SHA-256 of the identity document number: one person practises in one "
        "institution only (REG-2)",
    )


class Appraiser(AppraiserBase, table=True):
    id: str = Field(primary_key=True, max_length=36)


class AppraiserPublic(AppraiserBase):
    id: str


class AppraiserKey(SQLModel, table=True):
    """An appraiser's Ed25519 public key; the private key stays with the appraiser."""

    __tablename__ = "appraiser_key"

    fingerprint: str = Field(primary_key=True, max_length=64)
    appraiser_id: str = Field(foreign_key="appraiser.id", max_length=36, index=True)
    public_key: str = Field(max_length=64, description="base64 of the raw 32-byte key")
    valid_from: date
    valid_until: date | None = None


class UserAccount(SQLModel, table=True):
    """A person who signs in to the workspace: one organisation, one role (an appraiser's
    organisation is the registered appraiser). The password is kept as an argon2 hash."""

    __tablename__ = "user_account"

    id: str = Field(primary_key=True, max_length=36)
    username: str = Field(max_length=40, unique=True)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=30)
    organisation_id: str = Field(max_length=36, index=True)
    is_admin: bool = Field(default=False, description="creates and disables its organisation's accounts")
    password_hash: str = Field(max_length=200)
    totp_secret: str | None = Field(
        default=None, max_length=64, description="base32 TOTP secret once a second factor is set up"
    )
    failed_attempts: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class AccountChange(SQLModel, table=True):
    """Append-only: every change to an organisation's accounts (created, disabled, locked,
    signed in or refused), hash-chained per organisation like the registry's changes."""

    __tablename__ = "account_change"
    __table_args__ = (UniqueConstraint("organisation_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(max_length=36)
    seq: int
    account_id: str = Field(max_length=36, index=True)
    action: str = Field(max_length=30)
    actor_role: str = Field(max_length=30)
    actor_organisation_id: str = Field(max_length=36)
    actor_subject: str = Field(max_length=200)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token, the table its SHA-256, so a
    stolen database dump signs nobody in. Checked (with its account) on every page."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=36, index=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class RevokedToken(SQLModel, table=True):
    """A bearer token an operator revoked (`appraisal token revoke`), by its jti."""

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=64)
    subject: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=500)
    revoked_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


# ---- read model ----


DUE_ORDER = "coalesce(next_due_on, 'infinity'::date)"
"""A list's order, soonest deadline first and none last (then by id), as the indexes key it."""


class Commission(SQLModel, table=True):
    """One row per commission, projected from its workflow's events."""

    __table_args__ = (
        UniqueConstraint("court_id", "court_reference"),
        Index("ix_commission_appraiser_ids", "appraiser_ids", postgresql_using="gin"),
        # A page of a list, the bureau's, an institution's or a court's, from its cursor on
        # or up to a due date: one range scan of one of these.
        Index("ix_commission_due_order", text(DUE_ORDER), "id"),
        Index("ix_commission_institution_due_order", "institution_id", text(DUE_ORDER), "id"),
        Index("ix_commission_court_due_order", "court_id", text(DUE_ORDER), "id"),
        # A case's commissions at one organ (ENT-4): the case across organs, a hand-over.
        Index("ix_commission_court_case", "court_id", "case_number"),
        # The overview's "due soon": the few running clocks due by a day, from the index alone.
        Index(
            "ix_commission_due_soon",
            "next_due_on",
            postgresql_include=["institution_id", "court_id", "category", "stage"],
            postgresql_where=text("not overdue and next_due_on is not null"),
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    workflow_id: str = Field(max_length=100, unique=True)
    court_id: str = Field(max_length=36)
    court_reference: str = Field(max_length=200)
    case_number: str = Field(max_length=200)
    institution_id: str = Field(max_length=36)
    category: str = Field(max_length=60, index=True)
    stage: str = Field(max_length=30, index=True)
    appraiser_ids: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String), nullable=False))
    overdue: bool = Field(default=False, index=True)
    escalated: bool = Field(default=False, description="an overdue escalation to the bureau is open")
    next_due_on: date | None = None
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    last_event_seq: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CommissionCount(SQLModel, table=True):
    """How many commissions share a (court, institution, category, stage, overdue,
    escalated): what the supervision overview sums instead of reading every commission.
    Triggers on `commission` (migration 0009) keep it, in the transaction of every
    statement that inserts, updates, deletes or truncates commissions."""

    __tablename__ = "commission_count"

    institution_id: str = Field(primary_key=True, max_length=36)
    court_id: str = Field(primary_key=True, max_length=36)
    category: str = Field(primary_key=True, max_length=60)
    stage: str = Field(primary_key=True, max_length=30)
    overdue: bool = Field(primary_key=True)
    escalated: bool = Field(primary_key=True)
    commissions: int


class Task(SQLModel, table=True):
    """An open step waiting on someone: the inbox (GET /v1/tasks). It belongs to a
    commission, a complaint, a licence about to expire (REG-8), a penalty case, a supervision
    alert, a registration application, an annual integrity evaluation or an appraiser's
    training shortfall (TRN-3)."""

    __table_args__ = (
        # Soonest deadline first, none last, then by id: a page of an inbox is one range scan.
        Index(
            "ix_task_inbox",
            "assignee_role",
            "assignee_id",
            text("coalesce(due_on, 'infinity'::date)"),
            "id",
        ),
        CheckConstraint(
            "num_nonnulls(commission_id, complaint_id, licence_task_id, penalty_case_id, alert_id, "
            "admission_id, evaluation_id, training_task_id) = 1",
            name="ck_task_one_source",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    commission_id: str | None = Field(default=None, foreign_key="commission.id", max_length=36, index=True)
    complaint_id: str | None = Field(default=None, foreign_key="complaint.id", max_length=36, index=True)
    licence_task_id: int | None = Field(default=None, foreign_key="licence_task.id", index=True)
    penalty_case_id: str | None = Field(
        default=None, foreign_key="penalty_case.id", max_length=36, index=True
    )
    alert_id: int | None = Field(default=None, foreign_key="supervision_alert.id", index=True)
    admission_id: str | None = Field(default=None, foreign_key="admission.id", max_length=36, index=True)
    evaluation_id: str | None = Field(
        default=None, foreign_key="integrity_evaluation.id", max_length=36, index=True
    )
    training_task_id: int | None = Field(default=None, foreign_key="training_task.id", index=True)
    kind: str = Field(max_length=40)
    assignee_role: str = Field(max_length=30)
    assignee_id: str = Field(max_length=36)
    due_on: date | None = None
    rule: str | None = Field(default=None, max_length=20)


class AuditAnchor(SQLModel, table=True):
    """A day's anchor: SHA-256 over the head of every commission's chain at the
    end of that day, so a rewritten tail or a whole chain rewritten shows."""

    __tablename__ = "audit_anchor"

    day: date = Field(primary_key=True)
    heads_hash: str = Field(max_length=64)
    chains: int
    computed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class AnchorDelivery(SQLModel, table=True):
    """A day's anchor as sent to one court's webhook: the court's own chains, signed by the
    bureau, so a copy of each court's heads lives where nobody here can rewrite it."""

    __tablename__ = "anchor_delivery"

    day: date = Field(primary_key=True)
    court_id: str = Field(primary_key=True, max_length=36)
    chains: int
    status: str = Field(default="pending", max_length=20, description="pending, delivered or no_endpoint")
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class AuditEventRow(SQLModel, table=True):
    """Append-only, hash-chained per commission; unique on (workflow id, seq)
    so a retried activity never writes twice."""

    __tablename__ = "audit_event"
    __table_args__ = (
        UniqueConstraint("workflow_id", "seq"),
        # /metrics counts escalations by rule on every scrape.
        Index(
            "ix_audit_event_escalation",
            text("(data ->> 'rule')"),
            postgresql_where=text("kind = 'clock.escalation'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(max_length=100)
    commission_id: str = Field(max_length=36, index=True)
    seq: int
    kind: str = Field(max_length=60)
    actor_role: str = Field(max_length=30)
    actor_organisation_id: str = Field(max_length=36)
    actor_subject: str = Field(max_length=200)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class CalendarYearBase(SQLModel):
    rest_days: list[date] = Field(default_factory=list, sa_column=Column(ARRAY(Date), nullable=False))
    makeup_workdays: list[date] = Field(default_factory=list, sa_column=Column(ARRAY(Date), nullable=False))
    source: str = Field(default="", max_length=500)


class CalendarYear(CalendarYearBase, table=True):
    """A year's official schedule loaded by an operator (overrides the package)."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True)
    official: bool = True
    loaded_by: str = Field(default="", max_length=200)
    loaded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Webhook(SQLModel, table=True):
    """Where an organisation wants its notifications delivered."""

    organisation_id: str = Field(primary_key=True, max_length=36)
    url: str = Field(max_length=500)
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class NotificationContact(SQLModel, table=True):
    """Where a person or an organisation without a webhook wants its notifications: an e-mail
    address or a mobile number (a party's, given when it was registered; an organisation's,
    set by its staff). Delivered through the channel the deployment configures (email/SMS
    gateway, or a file or the log in dev: core/channels.py)."""

    __tablename__ = "notification_contact"

    organisation_id: str = Field(primary_key=True, max_length=36)
    email: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=30)
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Notification(SQLModel, table=True):
    """Transactional outbox: written with the audit event that causes it, then
    delivered by an activity. Unique per (event, receiver): never twice."""

    __table_args__ = (
        UniqueConstraint("workflow_id", "event_seq", "receiver_role", "receiver_id"),
        Index("ix_notification_receiver", "receiver_role", "receiver_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(max_length=100)
    commission_id: str = Field(max_length=36)
    event_seq: int
    kind: str = Field(max_length=60)
    receiver_role: str = Field(max_length=30)
    receiver_id: str = Field(max_length=36)
    message: str = Field(max_length=1000)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    channel: str | None = Field(
        default=None, max_length=20, description="webhook, sms or email: how it went (or is going) out"
    )


# ---- a case moving on with its record (ENT-4) ----


class CaseTransferBase(SQLModel):
    from_organ_id: str = Field(max_length=36, index=True)
    from_role: str = Field(max_length=30)
    from_case_number: str = Field(max_length=200)
    to_organ_id: str = Field(max_length=36, index=True)
    to_role: str = Field(max_length=30)
    to_case_number: str = Field(max_length=200)
    transferred_on: date
    note: str = Field(default="", max_length=4000)
    by_subject: str = Field(max_length=200, description="who handed the case over")
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    commission_ids: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(String), nullable=False),
        description="the commissions handed over with the case: the later organ sees them",
    )


class CaseTransfer(CaseTransferBase, table=True):
    """A case handed over from one organ to the next (investigation → procuratorate → court),
    with the commissions of its record; one row per (from organ, its case number, to organ),
    a repeat adding the commissions entrusted since. Each running commission's own audit chain
    records the hand-over too (`case.transferred`)."""

    __tablename__ = "case_transfer"
    __table_args__ = (UniqueConstraint("from_organ_id", "from_case_number", "to_organ_id"),)

    id: str = Field(primary_key=True, max_length=36)


class CaseTransferPublic(CaseTransferBase):
    id: str


# ---- complaints (RULES.md section 10) ----


class Complaint(SQLModel, table=True):
    """One row per complaint, projected from its workflow's events. Its audit
    trail is in `audit_event` (workflow id `complaint-<id>`, the complaint id
    in `commission_id`)."""

    __table_args__ = (UniqueConstraint("bureau_id", "reference"),)

    id: str = Field(primary_key=True, max_length=36)
    workflow_id: str = Field(max_length=100, unique=True)
    bureau_id: str = Field(max_length=36, index=True)
    reference: str = Field(max_length=200)
    institution_id: str = Field(max_length=36, index=True)
    appraiser_id: str | None = Field(default=None, max_length=36, index=True)
    commission_id: str | None = Field(default=None, max_length=36, index=True)
    stage: str = Field(max_length=30, index=True)
    overdue: bool = Field(default=False, index=True)
    next_due_on: date | None = Field(default=None, index=True)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    last_event_seq: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class IntegrityEntryRow(SQLModel, table=True):
    """One line of an institution's or an appraiser's integrity record (REG-9),
    written by a complaint's decision; unique per (complaint, subject) so a
    retried activity never writes twice."""

    __tablename__ = "integrity_entry"
    __table_args__ = (
        UniqueConstraint("complaint_id", "subject_kind", "subject_id"),
        Index("ix_integrity_entry_subject", "subject_kind", "subject_id", "decided_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=20, description="institution or appraiser")
    subject_id: str = Field(max_length=36)
    complaint_id: str = Field(max_length=36, index=True)
    bureau_id: str = Field(max_length=36)
    rule: str = Field(max_length=20)
    outcome: str = Field(max_length=40)
    findings: str = Field(max_length=4000)
    decided_on: date
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


# ---- registry changes, licence renewals (REG-8), random inspections ----


class RegistryChangeBase(SQLModel):
    bureau_id: str = Field(max_length=36)
    seq: int = Field(description="position in the bureau's chain of registry changes, from 1")
    entity_kind: str = Field(max_length=20, description="institution, appraiser or expert")
    entity_id: str = Field(max_length=36, index=True)
    action: str = Field(max_length=20, description="created, updated or status")
    actor_role: str = Field(max_length=30)
    actor_organisation_id: str = Field(max_length=36)
    actor_subject: str = Field(max_length=200)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    reason: str = Field(default="", max_length=4000)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class RegistryChange(RegistryChangeBase, table=True):
    """Append-only: every write to the registry, hash-chained per bureau like
    the commission trail; unique on (bureau, seq) so the chain cannot fork."""

    __tablename__ = "registry_change"
    __table_args__ = (UniqueConstraint("bureau_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)


class RegistryChangePublic(RegistryChangeBase):
    id: int


class LicenceTaskBase(SQLModel):
    entity_kind: str = Field(max_length=20, description="institution or appraiser")
    entity_id: str = Field(max_length=36)
    bureau_id: str = Field(max_length=36)
    licence_valid_until: date
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class LicenceTask(LicenceTaskBase, table=True):
    """A licence expiring within 60 days (REG-8), waiting on the supervising
    bureau; one per licence date, closed when the licence is renewed."""

    __tablename__ = "licence_task"
    __table_args__ = (
        UniqueConstraint("entity_kind", "entity_id", "licence_valid_until"),
        Index("ix_licence_task_bureau_open", "bureau_id", "closed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    closed_reason: str = Field(default="", max_length=200)


class LicenceTaskPublic(LicenceTaskBase):
    id: int
    entity_name: str
    kind: str = "licence_renewal"
    rule: str = "REG-8"
    due_on: date = Field(description="the licence's last valid day")


class InspectorBase(SQLModel):
    name: str = Field(max_length=100)
    bureau_id: str = Field(foreign_key="bureau.id", max_length=36, index=True)
    status: str = Field(default="active", max_length=20)


class Inspector(InspectorBase, table=True):
    """A member of the bureau's inspector list, drawn for random inspections."""

    id: str = Field(primary_key=True, max_length=36)


class InspectorPublic(InspectorBase):
    id: str


class InspectionBase(SQLModel):
    bureau_id: str = Field(max_length=36, index=True)
    period: str = Field(default="", max_length=7, description="YYYY-MM of the case files drawn; empty: any")
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    institutions: int = Field(description="how many institutions were asked for")
    case_files_per_institution: int
    inspectors: int
    origin: str = Field(max_length=20, description="manual or scheduled")
    drawn_by: str = Field(max_length=200)
    drawn_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    candidates: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    picks: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    closed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True)), description="when its results were recorded"
    )
    closed_by: str = Field(default="", max_length=200)
    results: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        description="per institution inspected: its conclusion (公开 once closed)",
    )


class Inspection(InspectionBase, table=True):
    """A random inspection draw (双随机一公开): its seed, every candidate list and
    the picks, so anyone can re-run it."""

    id: str = Field(primary_key=True, max_length=36)


class InspectionResult(SQLModel):
    """What a random inspection found at one institution, once closed (published, 公开)."""

    institution_id: str
    conclusion: str = Field(description="no_issue, rectification or penalty_referral")
    summary: str = ""


# ---- administrative penalties, exit from the registry, supervision alerts (issue 20) ----


class PenaltyCase(SQLModel, table=True):
    """One row per administrative penalty case (行政处罚), projected from its workflow's events.
    Its audit trail is in `audit_event` (workflow id `penalty-<id>`, the case id in
    `commission_id`)."""

    __tablename__ = "penalty_case"
    __table_args__ = (UniqueConstraint("bureau_id", "reference"),)

    id: str = Field(primary_key=True, max_length=36)
    workflow_id: str = Field(max_length=100, unique=True)
    bureau_id: str = Field(max_length=36, index=True)
    reference: str = Field(max_length=200)
    subject_kind: str = Field(max_length=20)
    subject_id: str = Field(max_length=36, index=True)
    institution_id: str = Field(max_length=36, index=True)
    source: str = Field(max_length=30)
    source_id: str | None = Field(default=None, max_length=36, index=True)
    stage: str = Field(max_length=30, index=True)
    overdue: bool = Field(default=False)
    next_due_on: date | None = None
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    last_event_seq: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class PenaltyPublicationBase(SQLModel):
    bureau_id: str = Field(max_length=36)
    decision_number: str = Field(default="", max_length=200)
    subject_kind: str = Field(max_length=20)
    subject_id: str = Field(max_length=36)
    subject_name: str = Field(max_length=200)
    institution_id: str = Field(max_length=36)
    institution_name: str = Field(max_length=200)
    penalties: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String), nullable=False))
    suspension_months: int = 0
    suspended_until: date | None = None
    fine_yuan: int = 0
    basis: str = Field(default="", max_length=1000)
    decided_on: date
    served_on: date
    published_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class PenaltyPublication(PenaltyPublicationBase, table=True):
    """A penalty decision made public (行政处罚法 Art 48): who, what penalty, on what basis,
    when. No facts of the case and no parties: those stay in the case."""

    __tablename__ = "penalty_publication"

    case_id: str = Field(primary_key=True, max_length=36)


class RegistryExit(SQLModel, table=True):
    """A change of an institution's or an appraiser's standing that its running commissions
    must learn (suspended, revoked, deregistered, licence lapsed, or restored): written in the
    transaction of the registry change (the outbox of the fan-out, `workflows/exit.py`);
    `started_at` once its fan-out workflow began."""

    __tablename__ = "registry_exit"
    __table_args__ = (Index("ix_registry_exit_unstarted", "id", postgresql_where=text("started_at is null")),)

    id: int | None = Field(default=None, primary_key=True)
    bureau_id: str = Field(max_length=36, index=True)
    entity_kind: str = Field(max_length=20)
    entity_id: str = Field(max_length=36, index=True)
    institution_id: str = Field(max_length=36)
    status: str = Field(
        max_length=20, description="suspended, revoked, deregistered, licence_lapsed or restored"
    )
    rule: str = Field(max_length=20)
    reason: str = Field(default="", max_length=4000)
    since: date
    until: date | None = None
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    actor_role: str = Field(max_length=30)
    actor_organisation_id: str = Field(max_length=36)
    actor_subject: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    signalled: int = 0


class SupervisionAlert(SQLModel, table=True):
    """An institution whose refusal, termination, overdue or complaint rate is unusual against
    the province's: a task for the bureau until its rate is usual again or the bureau closes it."""

    __tablename__ = "supervision_alert"
    __table_args__ = (
        Index(
            "ux_supervision_alert_open",
            "institution_id",
            "metric",
            unique=True,
            postgresql_where=text("closed_at is null"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    bureau_id: str = Field(max_length=36, index=True)
    institution_id: str = Field(max_length=36)
    metric: str = Field(max_length=30)
    rate: float
    province_rate: float
    numerator: int
    denominator: int
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    closed_reason: str = Field(default="", max_length=500)


# ---- the issued report: its number, its seal ----


class SealCertificate(SQLModel, table=True):
    """A seal certificate the bureau's authority issued to an institution (appraisal/core/seal.py
    keeps its key); revoked when the institution is suspended or revoked."""

    __tablename__ = "seal_certificate"

    serial: str = Field(primary_key=True, max_length=40, description="hex")
    institution_id: str = Field(foreign_key="institution.id", max_length=36, index=True)
    subject: str = Field(max_length=400)
    certificate_pem: str
    not_before: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    not_after: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revocation_reason: str = Field(default="", max_length=30)


class ReportNumber(SQLModel, table=True):
    """The institution's document number of one issued report version: its own yearly
    series, assigned once (the issue event records it)."""

    __tablename__ = "report_number"
    __table_args__ = (UniqueConstraint("institution_id", "year", "serial"),)

    commission_id: str = Field(primary_key=True, max_length=36)
    version: int = Field(primary_key=True)
    institution_id: str = Field(max_length=36)
    year: int
    serial: int
    document_number: str = Field(max_length=120)
    assigned_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class SealedReport(SQLModel, table=True):
    """The sealed PDF of one issued report version, made once at issue and served as it is."""

    __tablename__ = "sealed_report"

    commission_id: str = Field(primary_key=True, max_length=36)
    version: int = Field(primary_key=True)
    document_number: str = Field(default="", max_length=120)
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    seal_serial: str = Field(max_length=40)
    timestamp: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False), description="the RFC 3161 token's time"
    )
    sealed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


# ---- registration applications (登记申请), the expert pool, training, the annual
# integrity evaluation (年度诚信执业评价) ----


class ExpertBase(SQLModel):
    name: str = Field(max_length=100)
    bureau_id: str = Field(foreign_key="bureau.id", max_length=36, index=True)
    categories: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String), nullable=False))
    title: str = Field(default="", max_length=200, description="professional title and workplace")
    affiliation_institution_id: str | None = Field(
        default=None,
        max_length=36,
        description="a registered institution the expert works for: never drawn for its applications",
    )
    public_key: str = Field(
        default="", max_length=64, description="base64 of the raw 32-byte Ed25519 key the expert signs with"
    )
    status: str = Field(default="active", max_length=20, description="active or inactive")


class Expert(ExpertBase, table=True):
    """A member of the bureau's expert pool (专家库), drawn at random to review applications."""

    id: str = Field(primary_key=True, max_length=36)


class ExpertPublic(ExpertBase):
    id: str


class Admission(SQLModel, table=True):
    """One row per registration application, projected from its workflow's events. Its
    audit trail is in `audit_event` (workflow id `admission-<id>`, the id in `commission_id`)."""

    __table_args__ = (
        UniqueConstraint("bureau_id", "reference"),
        Index("ix_admission_panel", "panel_expert_ids", postgresql_using="gin"),
    )

    id: str = Field(primary_key=True, max_length=36)
    workflow_id: str = Field(max_length=100, unique=True)
    bureau_id: str = Field(max_length=36, index=True)
    reference: str = Field(max_length=200)
    kind: str = Field(max_length=20, description="admission, renewal or change")
    subject_kind: str = Field(max_length=20, description="institution or appraiser")
    subject_name: str = Field(max_length=200)
    entity_id: str = Field(max_length=36, index=True)
    applicant_institution_id: str | None = Field(default=None, max_length=36, index=True)
    stage: str = Field(max_length=30, index=True)
    overdue: bool = Field(default=False)
    next_due_on: date | None = None
    panel_expert_ids: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String), nullable=False))
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    last_event_seq: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class TrainingCourseBase(SQLModel):
    bureau_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=20, description="pre_service (岗前培训) or in_service (岗位培训)")
    title: str = Field(max_length=200)
    organiser: str = Field(max_length=200)
    starts_on: date
    ends_on: date
    hours: int = Field(description="class hours (学时) the course gives")


class TrainingCourse(TrainingCourseBase, table=True):
    __tablename__ = "training_course"

    id: str = Field(primary_key=True, max_length=36)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class TrainingRecord(SQLModel, table=True):
    """One appraiser's attendance of one course, as the organiser entered or imported it."""

    __tablename__ = "training_record"
    __table_args__ = (UniqueConstraint("course_id", "appraiser_id"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: str = Field(foreign_key="training_course.id", max_length=36)
    appraiser_id: str = Field(max_length=36, index=True)
    hours: int
    completed: bool = True
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class TrainingChange(SQLModel, table=True):
    """Append-only: every course created and attendance recorded, hash-chained per bureau
    like the registry's changes."""

    __tablename__ = "training_change"
    __table_args__ = (UniqueConstraint("bureau_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    bureau_id: str = Field(max_length=36)
    seq: int
    action: str = Field(max_length=30)
    course_id: str = Field(max_length=36, index=True)
    appraiser_id: str | None = Field(default=None, max_length=36)
    actor_role: str = Field(max_length=30)
    actor_organisation_id: str = Field(max_length=36)
    actor_subject: str = Field(max_length=200)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class TrainingTask(SQLModel, table=True):
    """An appraiser short of the year's in-service hours as the year's end approaches
    (TRN-3): one per (appraiser, year), closed when the hours are reached or the year is
    evaluated (the shortfall then goes into the integrity record)."""

    __tablename__ = "training_task"
    __table_args__ = (UniqueConstraint("appraiser_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    appraiser_id: str = Field(max_length=36)
    institution_id: str = Field(max_length=36)
    bureau_id: str = Field(max_length=36, index=True)
    year: int
    hours_done: int
    hours_required: int
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    closed_reason: str = Field(default="", max_length=200)


class IntegrityEvaluation(SQLModel, table=True):
    """One row per bureau and year: the annual integrity evaluation's read model, projected
    from its workflow's events (workflow id `evaluation-<id>`)."""

    __tablename__ = "integrity_evaluation"
    __table_args__ = (UniqueConstraint("bureau_id", "year"),)

    id: str = Field(primary_key=True, max_length=36)
    workflow_id: str = Field(max_length=100, unique=True)
    bureau_id: str = Field(max_length=36, index=True)
    year: int
    stage: str = Field(max_length=30)
    overdue: bool = False
    next_due_on: date | None = None
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    last_event_seq: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class IntegrityGradeBase(SQLModel):
    evaluation_id: str = Field(primary_key=True, max_length=36)
    subject_kind: str = Field(primary_key=True, max_length=20, description="institution or appraiser")
    subject_id: str = Field(primary_key=True, max_length=36)
    bureau_id: str = Field(max_length=36)
    year: int
    name: str = Field(max_length=200)
    institution_id: str = Field(max_length=36)
    score: int
    computed_grade: str = Field(max_length=10, description="the grade the year's record gives")
    grade: str = Field(max_length=10, description="after the bureau's review and the objections")
    status: str = Field(max_length=20, description="proposed (公示) or published")
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    deductions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    note: str = Field(default="", max_length=4000, description="why the grade differs from the record's")
    published_on: date | None = None


class IntegrityGrade(IntegrityGradeBase, table=True):
    """A subject's grade of one year's evaluation: proposed, then published."""

    __tablename__ = "integrity_grade"
    __table_args__ = (Index("ix_integrity_grade_subject", "subject_kind", "subject_id", "year"),)


class IntegrityGradePublic(IntegrityGradeBase):
    pass


# ---- the parties and the money (issue 22) ----


class CommissionPartyBase(SQLModel):
    commission_id: str | None = Field(
        default=None, max_length=36, index=True, description="none until the draw it waits for has run"
    )
    draw_id: str | None = Field(default=None, max_length=36, index=True)
    name: str = Field(max_length=200)
    side: str = Field(max_length=30)
    registered_by_role: str = Field(max_length=30)
    registered_by_organ_id: str = Field(max_length=36, index=True)
    registered_by: str = Field(max_length=200)
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CommissionParty(CommissionPartyBase, table=True):
    """A party (当事人) of one commission as a principal (role party, this row its organisation):
    registered by the organ that entrusted the commission; it signs in with a one-time link (its
    hash here, the link given to the party once) or with an account; it sees that commission
    alone. Its contact is in `notification_contact`."""

    __tablename__ = "commission_party"

    id: str = Field(primary_key=True, max_length=36)
    account_id: str | None = Field(default=None, max_length=36)
    link_hash: str | None = Field(default=None, max_length=64, unique=True)
    link_expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    link_used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class SelectionDraw(SQLModel, table=True):
    """A random draw (随机摇号) the entrusting organ schedules with the parties present: the
    entrustment waits here (its body), the parties sign in and watch; running it entrusts the
    commission with the institution drawn (its seed and candidates in the commission's chain)."""

    __tablename__ = "selection_draw"
    __table_args__ = (UniqueConstraint("court_id", "reference"),)

    id: str = Field(primary_key=True, max_length=36)
    court_id: str = Field(max_length=36, index=True, description="the entrusting organ's id")
    court_role: str = Field(max_length=30)
    reference: str = Field(max_length=200, description="the entrustment's own reference")
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    scheduled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    place: str = Field(default="", max_length=200)
    status: str = Field(default="scheduled", max_length=20, description="scheduled or drawn")
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    drawn_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    drawn_by: str = Field(default="", max_length=200)
    commission_id: str | None = Field(default=None, max_length=36)


class FeeStandardBase(SQLModel):
    bureau_id: str = Field(max_length=36, index=True)
    category: str = Field(max_length=60)
    matter: str = Field(
        default="", max_length=200, description="one matter of the category; empty: any matter of it"
    )
    ceiling_fen: int = Field(description="the most a matter may be charged, in fen (分)")
    unit: str = Field(default="per_matter", max_length=30)
    source: str = Field(max_length=500, description="the price document it comes from")
    effective_from: date
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    superseded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class FeeStandard(FeeStandardBase, table=True):
    """The charging standard (收费标准) of a category (or one of its matters) in a bureau, as the
    bureau keeps it: a new row supersedes the one before for the same category and matter; every
    change is in the bureau's registry chain (`registry_change`, entity kind fee_standard)."""

    __tablename__ = "fee_standard"
    __table_args__ = (
        Index(
            "ux_fee_standard_in_force",
            "bureau_id",
            "category",
            "matter",
            unique=True,
            postgresql_where=text("superseded_at is null"),
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
