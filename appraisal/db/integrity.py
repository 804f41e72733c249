"""The integrity record (诚信档案, REG-9) in SQL: what the audit trail, the integrity entries
and the training records say about an appraiser or an institution in one year, counted with
GROUP BY queries. The integrity record's page and the annual evaluation both count here.

Sources:
- overdue deadlines: `clock.overdue` audit events of their commissions, one per (commission,
  clock) however often a recomputation re-fires it, of the clocks the rule table makes them
  answer for (an appraiser: not the institution's acceptance; an institution: not the court's
  rulings);
- signed reports, dissents and reports issued: `report.*` audit events, as context;
- upheld complaints, sanctions, refusals to testify and training shortfalls: `integrity_entry`
  rows, written by a complaint's decision (CMP-8), a testimony's outcome or the annual
  evaluation (TRN-2);
- training hours: completed `training_record` rows of courses ending in the year."""

from datetime import date, datetime

from sqlalchemy import ColumnElement, DateTime, and_, cast, func, literal_column, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import AuditEventRow, Commission, IntegrityEntryRow, TrainingCourse, TrainingRecord
from appraisal.domain.calendar import CHINA_TZ
from appraisal.domain.integrity import DISSENTED, FEE_RULE, FEE_VIOLATION, ISSUED, OVERDUE, SIGNED
from appraisal.domain.roles import Role
from appraisal.domain.rules import CLOCK_RULES, FEE_REFUND
from appraisal.domain.training import IN_SERVICE, PRE_SERVICE

APPRAISER_CLOCKS = sorted(r.rule_id for r in CLOCK_RULES.values() if r.assignee_role == Role.APPRAISER)
"""The clocks an appraiser answers for, by the rule table's assignee."""
INSTITUTION_CLOCKS = sorted(
    r.rule_id
    for r in CLOCK_RULES.values()
    if r.assignee_role in (Role.INSTITUTION, Role.INSTITUTION_HEAD, Role.APPRAISER) and r is not FEE_REFUND
)
"""The clocks an institution answers for: its own and its appraisers', not the court's (a refund
paid back late is counted as a fee violation instead)."""


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    """A year in China's time: events are dated where they happen."""
    return datetime(year, 1, 1, tzinfo=CHINA_TZ), datetime(year + 1, 1, 1, tzinfo=CHINA_TZ)


def _dated_at() -> ColumnElement[datetime]:
    """When an event happened: a rung at its own instant (one fired after a commission was
    brought in from paper happened at its deadline, not when it was recorded)."""
    rung_at = cast(col(AuditEventRow.data)["rung_at"].astext, DateTime(timezone=True))
    return func.coalesce(rung_at, col(AuditEventRow.occurred_at))


def _overdue_of(clocks: list[str]) -> ColumnElement[bool]:
    """Overdue events of these clocks that the clock itself still upholds: one stopped on or
    before its last day by a step recorded after the rung fired (a commission brought in from
    paper before the catch-up window) was never overdue, and a calendar that moved the deadline
    later withdrew it, so neither counts (the rung's event stays in the trail as recorded)."""
    upheld: ColumnElement[bool] = literal_column(
        "commission.snapshot->'clocks' @> "
        "jsonb_build_array(jsonb_build_object('rule', audit_event.data->>'rule', 'overdue', true))"
    )
    return and_(
        col(AuditEventRow.kind) == OVERDUE, col(AuditEventRow.data)["rule"].astext.in_(clocks), upheld
    )


async def _audit_counts(
    session: AsyncSession, *, year: int, subject: ColumnElement[bool], kinds: ColumnElement[bool]
) -> dict[str, int]:
    """Distinct (commission, clock) occurrences of each kind in the year, over the
    subject's commissions: one GROUP BY."""
    start, end = _year_bounds(year)
    kind = col(AuditEventRow.kind)
    occurrences = func.count(
        func.distinct(
            func.concat(col(AuditEventRow.commission_id), ":", col(AuditEventRow.data)["rule"].astext)
        )
    )
    rows = await session.exec(
        select(kind, occurrences)
        .join(Commission, col(Commission.id) == col(AuditEventRow.commission_id))
        .where(subject, kinds, _dated_at() >= start, _dated_at() < end)
        .group_by(kind)
    )
    return {k: int(n) for k, n in rows.all()}


def _entries_of(subject_kind: str, subject_id: str, year: int) -> ColumnElement[bool]:
    return and_(
        col(IntegrityEntryRow.subject_kind) == subject_kind,
        col(IntegrityEntryRow.subject_id) == subject_id,
        col(IntegrityEntryRow.decided_on) >= date(year, 1, 1),
        col(IntegrityEntryRow.decided_on) <= date(year, 12, 31),
    )


async def entries_by_outcome(
    session: AsyncSession, *, subject_kind: str, subject_id: str, year: int
) -> dict[str, int]:
    """Entries of the year by kind (one GROUP BY), and the fee violations among them: the
    sources (complaints) whose entries name REG-5."""
    where = _entries_of(subject_kind, subject_id, year)
    outcome = col(IntegrityEntryRow.outcome)
    rows = await session.exec(select(outcome, func.count()).where(where).group_by(outcome))
    fee_rule = await session.exec(
        select(func.count(func.distinct(col(IntegrityEntryRow.complaint_id)))).where(
            where, col(IntegrityEntryRow.rule) == FEE_RULE
        )
    )
    return {k: int(n) for k, n in rows.all()} | {FEE_VIOLATION: int(fee_rule.one())}


async def entries(
    session: AsyncSession, *, subject_kind: str, subject_id: str, year: int
) -> list[IntegrityEntryRow]:
    rows = await session.exec(
        select(IntegrityEntryRow)
        .where(_entries_of(subject_kind, subject_id, year))
        .order_by(col(IntegrityEntryRow.decided_on), col(IntegrityEntryRow.id))
    )
    return list(rows.all())


async def appraiser_counts(session: AsyncSession, *, appraiser_id: str, year: int) -> dict[str, int]:
    """The year's audit counts (overdue clocks appraisers answer for, their own signatures,
    reports issued) and integrity entries by outcome, in one mapping."""
    kind = col(AuditEventRow.kind)
    own_signature = and_(
        kind.in_((SIGNED, DISSENTED)),
        col(AuditEventRow.actor_role) == Role.APPRAISER,
        col(AuditEventRow.actor_organisation_id) == appraiser_id,
    )
    audit = await _audit_counts(
        session,
        year=year,
        subject=col(Commission.appraiser_ids).contains([appraiser_id]),
        kinds=or_(_overdue_of(APPRAISER_CLOCKS), own_signature, kind == ISSUED),
    )
    return audit | await entries_by_outcome(
        session, subject_kind="appraiser", subject_id=appraiser_id, year=year
    )


async def institution_counts(session: AsyncSession, *, institution_id: str, year: int) -> dict[str, int]:
    kind = col(AuditEventRow.kind)
    subject = col(Commission.institution_id) == institution_id
    audit = await _audit_counts(
        session,
        year=year,
        subject=subject,
        kinds=or_(_overdue_of(INSTITUTION_CLOCKS), kind.in_((SIGNED, DISSENTED, ISSUED))),
    )
    refunds_late = await _audit_counts(
        session, year=year, subject=subject, kinds=_overdue_of([FEE_REFUND.rule_id])
    )
    entries = await entries_by_outcome(
        session, subject_kind="institution", subject_id=institution_id, year=year
    )
    # A refund paid back after its FEE-2 time is a fee violation of the institution (REG-5).
    return audit | entries | {FEE_VIOLATION: entries[FEE_VIOLATION] + refunds_late.get(OVERDUE, 0)}


def course_in_year(year: int) -> ColumnElement[bool]:
    """A course counts in the year it ends."""
    return and_(
        col(TrainingCourse.ends_on) >= date(year, 1, 1), col(TrainingCourse.ends_on) <= date(year, 12, 31)
    )


async def training_hours(session: AsyncSession, *, appraiser_ids: list[str], year: int) -> dict[str, int]:
    """Completed in-service hours (岗位培训) of the year, by appraiser (absent: none)."""
    if not appraiser_ids:
        return {}
    rows = await session.exec(
        select(col(TrainingRecord.appraiser_id), func.sum(col(TrainingRecord.hours)))
        .join(TrainingCourse, col(TrainingCourse.id) == col(TrainingRecord.course_id))
        .where(
            col(TrainingRecord.appraiser_id).in_(appraiser_ids),
            col(TrainingRecord.completed),
            col(TrainingCourse.kind) == IN_SERVICE,
            course_in_year(year),
        )
        .group_by(col(TrainingRecord.appraiser_id))
    )
    return {appraiser_id: int(hours or 0) for appraiser_id, hours in rows.all()}


async def pre_service_completed(session: AsyncSession, *, appraiser_id: str) -> date | None:
    """When the appraiser's first pre-service course (岗前培训) recorded as completed ended."""
    found = await session.exec(
        select(func.min(col(TrainingCourse.ends_on)))
        .join(TrainingRecord, col(TrainingCourse.id) == col(TrainingRecord.course_id))
        .where(
            col(TrainingRecord.appraiser_id) == appraiser_id,
            col(TrainingRecord.completed),
            col(TrainingCourse.kind) == PRE_SERVICE,
        )
    )
    return found.one()
