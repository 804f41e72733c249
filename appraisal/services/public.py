"""What the public may read without signing in (双随机一公开, 行政处罚法 Art 48, the published
rosters): the registry (institutions, appraisers, categories, status, licence validity), the
results of each closed random inspection, the published penalty decisions, and the annual
integrity grades. Nothing confidential: no commission, no case facts, no party."""

from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Appraiser, Inspection, Institution, IntegrityGrade, PenaltyPublication
from appraisal.domain.standing import standing
from appraisal.schemas.penalty import (
    PublicAppraiser,
    PublicGrade,
    PublicGrades,
    PublicInspection,
    PublicInspectionResult,
    PublicInstitution,
    PublicPenalty,
)
from appraisal.services import integrity

PUBLIC_LIMIT = 500

GRADES_NOTE = (
    "诚信等级 Integrity grades (REG-9, 司规〔2021〕4号): a grade marked confirmed is the one the bureau's annual "
    "evaluation published (EVL-1); any other is provisional, computed today from the integrity record, until "
    "the year's evaluation is published."
)


async def institutions(
    *, session: AsyncSession, today: date, category: str | None = None
) -> list[PublicInstitution]:
    query = select(Institution).order_by(col(Institution.name), col(Institution.id))
    if category:
        query = query.where(col(Institution.categories).contains([category]))
    return [
        PublicInstitution(
            id=i.id,
            name=i.name,
            categories=list(i.categories),
            status=i.status,
            status_until=i.status_until,
            licence_valid_until=i.licence_valid_until,
            may_practise=standing(i, today, kind="institution") is None,
        )
        for i in (await session.exec(query.limit(PUBLIC_LIMIT))).all()
    ]


async def appraisers(
    *, session: AsyncSession, today: date, institution_id: str | None = None, category: str | None = None
) -> list[PublicAppraiser]:
    query = (
        select(Appraiser, Institution)
        .join(Institution, col(Institution.id) == col(Appraiser.institution_id))
        .order_by(col(Institution.name), col(Appraiser.name), col(Appraiser.id))
    )
    if institution_id:
        query = query.where(Appraiser.institution_id == institution_id)
    if category:
        query = query.where(col(Appraiser.categories).contains([category]))
    rows = (await session.exec(query.limit(PUBLIC_LIMIT))).all()
    return [
        PublicAppraiser(
            id=a.id,
            name=a.name,
            institution_id=a.institution_id,
            institution_name=institution.name,
            categories=list(a.categories),
            senior_title=a.senior_title,
            status=a.status,
            status_until=a.status_until,
            licence_valid_until=a.licence_valid_until,
            # Through its institution: an appraiser of a suspended institution may not practise there.
            may_practise=standing(a, today, kind="appraiser") is None
            and standing(institution, today, kind="institution") is None,
        )
        for a, institution in rows
    ]


async def inspections(*, session: AsyncSession) -> list[PublicInspection]:
    """Every closed inspection, newest first: who was inspected, how many case files, and what
    was found; never which commissions (case files) were drawn."""
    rows = (
        await session.exec(
            select(Inspection)
            .where(col(Inspection.closed_at).is_not(None))
            .order_by(col(Inspection.closed_at).desc())
            .limit(PUBLIC_LIMIT)
        )
    ).all()
    ids = {r["institution_id"] for row in rows for r in row.results}
    names = dict(
        (
            await session.exec(select(Institution.id, Institution.name).where(col(Institution.id).in_(ids)))
        ).all()
    )
    found: list[PublicInspection] = []
    for row in rows:
        assert row.closed_at is not None
        files = row.picks.get("case_files", {})
        found.append(
            PublicInspection(
                id=row.id,
                period=row.period,
                drawn_at=row.drawn_at,
                seed=row.seed,
                inspectors=len(row.picks.get("inspectors", [])),
                closed_at=row.closed_at,
                results=[
                    PublicInspectionResult(
                        institution_id=r["institution_id"],
                        institution_name=names.get(r["institution_id"], r["institution_id"]),
                        case_files_inspected=len(files.get(r["institution_id"], [])),
                        conclusion=r["conclusion"],
                        summary=r.get("summary", ""),
                    )
                    for r in row.results
                ],
            )
        )
    return found


async def penalties(*, session: AsyncSession) -> list[PublicPenalty]:
    """The published penalty decisions, newest first (行政处罚法 Art 48)."""
    rows = (
        await session.exec(
            select(PenaltyPublication)
            .order_by(col(PenaltyPublication.decided_on).desc(), col(PenaltyPublication.case_id))
            .limit(PUBLIC_LIMIT)
        )
    ).all()
    return [PublicPenalty.model_validate(r, from_attributes=True) for r in rows]


async def grades(*, session: AsyncSession, year: int, rule: integrity.GradingRule) -> PublicGrades:
    """Each institution's grade for the year: the one its bureau's annual evaluation published
    (`confirmed: true`), else the provisional one from the integrity record."""
    rows = (
        await session.exec(select(Institution).order_by(col(Institution.name), col(Institution.id)))
    ).all()
    published = {
        g.subject_id: g
        for g in (
            await session.exec(
                select(IntegrityGrade).where(
                    IntegrityGrade.subject_kind == "institution",
                    IntegrityGrade.year == year,
                    IntegrityGrade.status == "published",
                )
            )
        ).all()
    }
    found: list[PublicGrade] = []
    for institution in rows:
        confirmed = published.get(institution.id)
        if confirmed is not None:
            found.append(
                PublicGrade(
                    institution_id=institution.id,
                    institution_name=institution.name,
                    year=year,
                    grade=confirmed.grade,
                    score=confirmed.score,
                    confirmed=True,
                )
            )
            continue
        record = await integrity.institution_record(
            session=session,
            institution_id=institution.id,
            bureau_id=institution.bureau_id,
            year=year,
            rule=rule,
        )
        found.append(
            PublicGrade(
                institution_id=institution.id,
                institution_name=institution.name,
                year=year,
                grade=record.evaluation.grade,
                score=record.evaluation.score,
                confirmed=False,
            )
        )
    return PublicGrades(
        year=year, confirmed=bool(found) and all(g.confirmed for g in found), note=GRADES_NOTE, grades=found
    )
