"""The integrity record (诚信档案, REG-9) of an appraiser or an institution for one year:
what the audit trail, the integrity entries and the training records say about them (counted
in db/integrity.py), a provisional evaluation by the same rule the annual evaluation uses,
the year's training hours, and the grade of the annual evaluation once proposed or published."""

from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.core.settings import LOWEST_INTEGRITY_GRADE, Settings
from appraisal.db import integrity as record_of
from appraisal.db.models import Appraiser, Institution, IntegrityEntryRow, IntegrityGrade
from appraisal.domain import integrity as grading
from appraisal.domain.errors import InvalidInput, NotFound
from appraisal.domain.integrity import (
    ADMINISTRATIVE_PENALTY,
    DISSENTED,
    FEE_VIOLATION,
    INSPECTION_FINDING,
    ISSUED,
    OVERDUE,
    REFUSED_TO_TESTIFY,
    SANCTIONS,
    SIGNED,
    TRAINING_SHORTFALL,
)
from appraisal.schemas.integrity import (
    Deduction,
    IntegrityCounts,
    IntegrityEntryPublic,
    IntegrityEvaluation,
    IntegrityRecord,
    PublishedGrade,
    SanctionCounts,
    TrainingYear,
)


class GradingRule(grading.GradingRule):
    """The rule of the settings (INTEGRITY_DEDUCTIONS, INTEGRITY_GRADE_FLOORS)."""

    def __init__(self, deductions: dict[str, int], grade_floors: dict[str, int]) -> None:
        super().__init__(dict(deductions), dict(grade_floors), LOWEST_INTEGRITY_GRADE)

    @classmethod
    def of(cls, settings: Settings) -> "GradingRule":
        return cls(deductions=settings.integrity_deductions, grade_floors=settings.integrity_grade_floors)

    def plain(self) -> grading.GradingRule:
        """The rule as the message an evaluation workflow carries."""
        return grading.GradingRule(dict(self.deductions), dict(self.grade_floors), self.lowest_grade)


def check_year(year: int, *, today: date) -> None:
    if year > today.year:
        raise InvalidInput("year", f"{year} has not begun: the record covers {today.year} and earlier")


def evaluate(counts: IntegrityCounts, *, year: int, rule: grading.GradingRule) -> IntegrityEvaluation:
    items = {
        "overdue_deadline": counts.overdue_deadlines,
        "refused_to_testify": counts.refusals_to_testify,
        **counts.sanctions.model_dump(),
        ADMINISTRATIVE_PENALTY: counts.administrative_penalties,
        TRAINING_SHORTFALL: counts.training_shortfalls,
        INSPECTION_FINDING: counts.inspection_findings,
        FEE_VIOLATION: counts.fee_violations,
    }
    scored = grading.score(items, rule)
    floors = ", ".join(f"{name} ≥ {floor}" for name, floor in rule.grade_floors.items())
    return IntegrityEvaluation(
        year=year,
        score=scored.score,
        grade=scored.grade,
        rule=f"REG-9, provisional: 100 minus the points of each item of {year}; "
        f"{floors}, otherwise {rule.lowest_grade}",
        deductions=[Deduction(**vars(d)) for d in scored.deductions],
        grade_floors=dict(rule.grade_floors),
    )


def _counts(counted: dict[str, int]) -> IntegrityCounts:
    sanctions = {s: counted.get(s, 0) for s in SANCTIONS}
    return IntegrityCounts(
        overdue_deadlines=counted.get(OVERDUE, 0),
        refusals_to_testify=counted.get(REFUSED_TO_TESTIFY, 0),
        upheld_complaints=sum(sanctions.values()),
        sanctions=SanctionCounts(**sanctions),
        administrative_penalties=counted.get(ADMINISTRATIVE_PENALTY, 0),
        training_shortfalls=counted.get(TRAINING_SHORTFALL, 0),
        inspection_findings=counted.get(INSPECTION_FINDING, 0),
        fee_violations=counted.get(FEE_VIOLATION, 0),
        signed_reports=counted.get(SIGNED, 0),
        dissents=counted.get(DISSENTED, 0),
        reports_issued=counted.get(ISSUED, 0),
    )


def _entry(row: IntegrityEntryRow) -> IntegrityEntryPublic:
    link = None
    if row.outcome in SANCTIONS:
        link = f"/v1/complaints/{row.complaint_id}"
    elif row.outcome == ADMINISTRATIVE_PENALTY:
        link = f"/v1/penalties/{row.complaint_id}"
    elif row.outcome == INSPECTION_FINDING:
        link = f"/v1/supervision/inspections/{row.complaint_id}"
    elif row.outcome == TRAINING_SHORTFALL:
        link = f"/v1/evaluations/{row.complaint_id}"
    return IntegrityEntryPublic(
        kind=row.outcome,
        rule=row.rule,
        source_id=row.complaint_id,
        link=link,
        findings=row.findings,
        decided_on=row.decided_on,
        recorded_at=row.recorded_at,
    )


async def _entries(
    session: AsyncSession, *, subject_kind: str, subject_id: str, year: int
) -> list[IntegrityEntryPublic]:
    rows = await record_of.entries(session, subject_kind=subject_kind, subject_id=subject_id, year=year)
    return [_entry(row) for row in rows]


async def _grade(
    session: AsyncSession, *, subject_kind: str, subject_id: str, year: int
) -> PublishedGrade | None:
    """The year's grade of the annual evaluation, once proposed (公示) or published."""
    row = (
        await session.exec(
            select(IntegrityGrade).where(
                IntegrityGrade.subject_kind == subject_kind,
                IntegrityGrade.subject_id == subject_id,
                IntegrityGrade.year == year,
            )
        )
    ).first()
    return PublishedGrade.model_validate(row, from_attributes=True) if row else None


async def _training(
    session: AsyncSession, *, appraisers: list[Appraiser], year: int, min_hours: int
) -> TrainingYear:
    hours = await record_of.training_hours(session, appraiser_ids=[a.id for a in appraisers], year=year)
    pre_service = None
    if len(appraisers) == 1:
        pre_service = await record_of.pre_service_completed(session, appraiser_id=appraisers[0].id)
    return TrainingYear(
        year=year,
        required_hours=min_hours,
        hours=hours.get(appraisers[0].id, 0) if len(appraisers) == 1 else sum(hours.values()),
        appraisers_short=sum(1 for a in appraisers if hours.get(a.id, 0) < min_hours),
        pre_service_completed_on=pre_service,
        needs_pre_service_training=any(a.needs_pre_service_training for a in appraisers),
    )


async def appraiser_record(
    *,
    session: AsyncSession,
    appraiser_id: str,
    bureau_id: str,
    year: int,
    rule: grading.GradingRule,
    min_hours: int = 40,
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
    counts = _counts(await record_of.appraiser_counts(session, appraiser_id=appraiser_id, year=year))
    entries = await _entries(session, subject_kind="appraiser", subject_id=appraiser_id, year=year)
    return IntegrityRecord(
        subject_kind="appraiser",
        subject_id=appraiser.id,
        name=appraiser.name,
        institution_id=appraiser.institution_id,
        year=year,
        counts=counts,
        entries=entries,
        evaluation=evaluate(counts, year=year, rule=rule),
        training=await _training(session, appraisers=[appraiser], year=year, min_hours=min_hours),
        grade=await _grade(session, subject_kind="appraiser", subject_id=appraiser.id, year=year),
    )


async def institution_record(
    *,
    session: AsyncSession,
    institution_id: str,
    bureau_id: str,
    year: int,
    rule: grading.GradingRule,
    min_hours: int = 40,
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
    counts = _counts(await record_of.institution_counts(session, institution_id=institution_id, year=year))
    entries = await _entries(session, subject_kind="institution", subject_id=institution_id, year=year)
    staff = list(
        (await session.exec(select(Appraiser).where(Appraiser.institution_id == institution_id))).all()
    )
    return IntegrityRecord(
        subject_kind="institution",
        subject_id=institution.id,
        name=institution.name,
        institution_id=institution.id,
        year=year,
        counts=counts,
        entries=entries,
        evaluation=evaluate(counts, year=year, rule=rule),
        training=await _training(session, appraisers=staff, year=year, min_hours=min_hours),
        grade=await _grade(session, subject_kind="institution", subject_id=institution.id, year=year),
    )
