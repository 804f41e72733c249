"""The integrity record (诚信档案, REG-9) of an appraiser or an institution for
one year: what the audit trail and the integrity entries say about them,
counted with GROUP BY queries, and a provisional annual evaluation.

Sources:
- overdue deadlines: `clock.overdue` audit events of their commissions, one
  per (commission, clock) however often a recomputation re-fires it, of the
  clocks the rule table makes them answer for (an appraiser: not the
  institution's acceptance; an institution: not the court's rulings);
- signed reports, dissents and reports issued: `report.*` audit events, as
  context;
- upheld complaints, sanctions, refusals to testify and penalties:
  `integrity_entry` rows, written by a complaint's decision (CMP-8), a
  testimony's outcome or a penalty decision served (CMP-9);
- fee violations (REG-5): an institution's refunds paid back after their FEE-2
  time (`clock.overdue` of FEE-2, one per commission), and entries of rule REG-5
  (a complaint decided as a fee violation).
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, DateTime, and_, cast, func, literal_column, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.core.settings import LOWEST_INTEGRITY_GRADE, Settings
from appraisal.db.models import Appraiser, AuditEventRow, Commission, Institution, IntegrityEntryRow
from appraisal.domain.calendar import CHINA_TZ
from appraisal.domain.complaint import Outcome
from appraisal.domain.errors import InvalidInput, NotFound
from appraisal.domain.roles import Role
from appraisal.domain.rules import CLOCK_RULES, FEE_REFUND
from appraisal.domain.testimony import REFUSED_TO_TESTIFY
from appraisal.schemas.integrity import (
    Deduction,
    IntegrityCounts,
    IntegrityEntryPublic,
    IntegrityEvaluation,
    IntegrityRecord,
    SanctionCounts,
)

OVERDUE = "clock.overdue"
ADMINISTRATIVE_PENALTY = "administrative_penalty"
"""A penalty decision served (activities/penalty.py writes the entry)."""
SIGNED, DISSENTED, ISSUED = "report.signed", "report.dissented", "report.issued"
SANCTIONS = (
    Outcome.CRITICISM_OR_CORRECTION_ORDER,
    Outcome.INDUSTRY_DISCIPLINE,
    Outcome.ADMINISTRATIVE_PENALTY_REFERRAL,
)
APPRAISER_CLOCKS = sorted(r.rule_id for r in CLOCK_RULES.values() if r.assignee_role == Role.APPRAISER)
"""The clocks an appraiser answers for, by the rule table's assignee."""
INSTITUTION_CLOCKS = sorted(
    r.rule_id
    for r in CLOCK_RULES.values()
    if r.assignee_role in (Role.INSTITUTION, Role.INSTITUTION_HEAD, Role.APPRAISER) and r is not FEE_REFUND
)
"""The clocks an institution answers for: its own and its appraisers', not the court's (a refund
paid back late is counted as a fee violation instead)."""
FEE_VIOLATION = "fee_violation"
FEE_RULE = "REG-5"


@dataclass(frozen=True)
class GradingRule:
    """REG-9 leaves the official grades and cycle unverified: points off 100 per
    item of the year, and the best grade whose floor the score reaches."""

    deductions: dict[str, int]
    grade_floors: dict[str, int]

    @classmethod
    def of(cls, settings: Settings) -> "GradingRule":
        return cls(deductions=settings.integrity_deductions, grade_floors=settings.integrity_grade_floors)


def check_year(year: int, *, today: date) -> None:
    if year > today.year:
        raise InvalidInput("year", f"{year} has not begun: the record covers {today.year} and earlier")


def evaluate(counts: IntegrityCounts, *, year: int, rule: GradingRule) -> IntegrityEvaluation:
    items = {
        "overdue_deadline": counts.overdue_deadlines,
        "refused_to_testify": counts.refusals_to_testify,
        **counts.sanctions.model_dump(),
        ADMINISTRATIVE_PENALTY: counts.administrative_penalties,
        FEE_VIOLATION: counts.fee_violations,
    }
    deductions = [
        Deduction(
            item=item, count=count, points_each=rule.deductions[item], points=count * rule.deductions[item]
        )
        for item, count in items.items()
    ]
    score = max(0, 100 - sum(d.points for d in deductions))
    grade = next(
        (name for name, floor in rule.grade_floors.items() if score >= floor), LOWEST_INTEGRITY_GRADE
    )
    floors = ", ".join(f"{name} ≥ {floor}" for name, floor in rule.grade_floors.items())
    return IntegrityEvaluation(
        year=year,
        score=score,
        grade=grade,
        rule=f"REG-9, provisional: 100 minus the points of each item of {year}; "
        f"{floors}, otherwise {LOWEST_INTEGRITY_GRADE}",
        deductions=deductions,
        grade_floors=dict(rule.grade_floors),
    )


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


async def _entries(
    session: AsyncSession, *, subject_kind: str, subject_id: str, year: int
) -> tuple[dict[str, int], list[IntegrityEntryPublic]]:
    """Entries of the year by kind (one GROUP BY), and the entries themselves."""
    where = _entries_of(subject_kind, subject_id, year)
    outcome = col(IntegrityEntryRow.outcome)
    by_kind = await session.exec(select(outcome, func.count()).where(where).group_by(outcome))
    rows = await session.exec(
        select(IntegrityEntryRow)
        .where(where)
        .order_by(col(IntegrityEntryRow.decided_on), col(IntegrityEntryRow.id))
    )
    entries = [
        IntegrityEntryPublic(
            kind=row.outcome,
            rule=row.rule,
            source_id=row.complaint_id,
            link=f"/v1/complaints/{row.complaint_id}"
            if row.outcome in SANCTIONS
            else f"/v1/penalties/{row.complaint_id}"
            if row.outcome == ADMINISTRATIVE_PENALTY
            else None,
            findings=row.findings,
            decided_on=row.decided_on,
            recorded_at=row.recorded_at,
        )
        for row in rows.all()
    ]
    fee_rule = await session.exec(
        select(func.count(func.distinct(col(IntegrityEntryRow.complaint_id)))).where(
            where, col(IntegrityEntryRow.rule) == FEE_RULE
        )
    )
    return {k: int(n) for k, n in by_kind.all()} | {FEE_VIOLATION: int(fee_rule.one())}, entries


def _counts(audit: dict[str, int], entries: dict[str, int], refunds_late: int = 0) -> IntegrityCounts:
    sanctions = {str(s): entries.get(s, 0) for s in SANCTIONS}
    return IntegrityCounts(
        overdue_deadlines=audit.get(OVERDUE, 0),
        refusals_to_testify=entries.get(REFUSED_TO_TESTIFY, 0),
        upheld_complaints=sum(sanctions.values()),
        sanctions=SanctionCounts(**sanctions),
        administrative_penalties=entries.get(ADMINISTRATIVE_PENALTY, 0),
        fee_violations=entries.get(FEE_VIOLATION, 0) + refunds_late,
        signed_reports=audit.get(SIGNED, 0),
        dissents=audit.get(DISSENTED, 0),
        reports_issued=audit.get(ISSUED, 0),
    )


async def appraiser_record(
    *, session: AsyncSession, appraiser_id: str, bureau_id: str, year: int, rule: GradingRule
) -> IntegrityRecord:
    """404 unless the appraiser works at an institution under the bureau."""
    appraiser = (
        await session.exec(
            select(Appraiser)
            .join(Institution, col(Institution.id) == col(Appraiser.institution_id))
            .where(col(Appraiser.id) == appraiser_id, col(Institution.bureau_id) == bureau_id)
        )
    ).first()
    if appraiser is None:
        raise NotFound("appraiser")
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
        kinds=or_(
            _overdue_of(APPRAISER_CLOCKS),
            own_signature,
            kind == ISSUED,
        ),
    )
    by_kind, entries = await _entries(session, subject_kind="appraiser", subject_id=appraiser_id, year=year)
    counts = _counts(audit, by_kind)
    return IntegrityRecord(
        subject_kind="appraiser",
        subject_id=appraiser.id,
        name=appraiser.name,
        institution_id=appraiser.institution_id,
        year=year,
        counts=counts,
        entries=entries,
        evaluation=evaluate(counts, year=year, rule=rule),
    )


async def institution_record(
    *, session: AsyncSession, institution_id: str, bureau_id: str, year: int, rule: GradingRule
) -> IntegrityRecord:
    """404 unless the institution is under the bureau."""
    institution = (
        await session.exec(
            select(Institution).where(
                col(Institution.id) == institution_id, col(Institution.bureau_id) == bureau_id
            )
        )
    ).first()
    if institution is None:
        raise NotFound("institution")
    kind = col(AuditEventRow.kind)
    audit = await _audit_counts(
        session,
        year=year,
        subject=col(Commission.institution_id) == institution_id,
        kinds=or_(
            _overdue_of(INSTITUTION_CLOCKS),
            kind.in_((SIGNED, DISSENTED, ISSUED)),
        ),
    )
    by_kind, entries = await _entries(
        session, subject_kind="institution", subject_id=institution_id, year=year
    )
    late = await _audit_counts(
        session,
        year=year,
        subject=col(Commission.institution_id) == institution_id,
        kinds=_overdue_of([FEE_REFUND.rule_id]),
    )
    counts = _counts(audit, by_kind, refunds_late=late.get(OVERDUE, 0))
    return IntegrityRecord(
        subject_kind="institution",
        subject_id=institution.id,
        name=institution.name,
        institution_id=institution.id,
        year=year,
        counts=counts,
        entries=entries,
        evaluation=evaluate(counts, year=year, rule=rule),
    )
