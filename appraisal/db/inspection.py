"""Random inspections (双随机一公开): the draw, from a seed anyone can re-run, and the
inspection stored with every list it was drawn from. An institution's latest published
integrity grade weighs its chance (EVL-7, differentiated supervision): the weights are stored
with the candidates, so the draw re-runs the same."""

import random
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Commission, Inspection, Inspector, Institution, IntegrityGrade
from appraisal.db.registry import eligible
from appraisal.domain.calendar import local_today
from appraisal.domain.errors import RuleViolation
from appraisal.domain.rules import GRADE_INSPECTION_WEIGHTS, UNGRADED_INSPECTION_WEIGHT


@dataclass
class InspectionSizes:
    institutions: int
    case_files_per_institution: int
    inspectors: int


def weighted_sample(
    rng: random.Random, candidates: list[str], weights: dict[str, int], size: int
) -> list[str]:
    """`size` of the candidates without replacement, each drawn with a chance proportional to
    its weight among those left, in the order drawn: one `rng.random()` per pick over the
    candidates sorted by id."""
    left = sorted(candidates)
    picked: list[str] = []
    while left and len(picked) < size:
        point = rng.random() * sum(max(weights.get(c, 1), 1) for c in left)
        for index, candidate in enumerate(left):
            point -= max(weights.get(candidate, 1), 1)
            if point < 0 or index == len(left) - 1:
                picked.append(left.pop(index))
                break
    return picked


def draw(seed: int, candidates: dict[str, Any], sizes: InspectionSizes) -> dict[str, Any]:
    """random.Random(seed) over each candidate list sorted by id: the institutions (weighted
    by `candidates["weights"]` when the draw recorded them, uniformly in draws from before),
    then the case files of each institution in the order drawn, then the inspectors.
    `candidates["case_files"]` needs only the drawn institutions' lists."""
    rng = random.Random(seed)  # noqa: S311 - a draw anyone can re-run, by design
    institutions = sorted(candidates["institutions"])
    if "weights" in candidates:
        picked = weighted_sample(rng, institutions, candidates["weights"], sizes.institutions)
    else:
        picked = rng.sample(institutions, min(sizes.institutions, len(institutions)))
    case_files = {}
    for institution_id in picked:
        files = sorted(candidates["case_files"].get(institution_id, []))
        case_files[institution_id] = rng.sample(files, min(sizes.case_files_per_institution, len(files)))
    inspectors = sorted(candidates["inspectors"])
    return {
        "institutions": picked,
        "case_files": case_files,
        "inspectors": rng.sample(inspectors, min(sizes.inspectors, len(inspectors))),
    }


async def grade_weights(session: AsyncSession, institution_ids: list[str]) -> dict[str, int]:
    """EVL-7: each institution's weight in the draw, by the grade of its latest published
    annual evaluation (GRADE_INSPECTION_WEIGHTS: lower grades weigh more)."""
    rows = await session.exec(
        select(IntegrityGrade.subject_id, IntegrityGrade.grade)
        .where(
            IntegrityGrade.subject_kind == "institution",
            col(IntegrityGrade.subject_id).in_(institution_ids),
            IntegrityGrade.status == "published",
        )
        .order_by(col(IntegrityGrade.year))
    )
    latest = dict(rows.all())  # the latest year wins
    return {
        i: GRADE_INSPECTION_WEIGHTS.get(latest[i], UNGRADED_INSPECTION_WEIGHT)
        if i in latest
        else UNGRADED_INSPECTION_WEIGHT
        for i in sorted(institution_ids)
    }


def _period_bounds(period: str) -> tuple[str, str]:
    year, month = (int(part) for part in period.split("-"))
    first = date(year, month, 1)
    after = date(year + month // 12, month % 12 + 1, 1)
    return first.isoformat(), after.isoformat()


async def _case_files(session: AsyncSession, institution_id: str, period: str) -> list[str]:
    """The institution's commissions in the read model, those received in `period` if given."""
    query = select(Commission.id).where(Commission.institution_id == institution_id)
    if period:
        first, after = _period_bounds(period)
        received_on = col(Commission.snapshot)["received_on"].astext
        query = query.where(received_on >= first, received_on < after)
    return list((await session.exec(query.order_by(col(Commission.id)))).all())


async def draw_and_store(
    session: AsyncSession,
    *,
    inspection_id: str,
    bureau_id: str,
    seed: int,
    sizes: InspectionSizes,
    period: str,
    origin: str,
    drawn_by: str,
    drawn_at: datetime,
) -> Inspection:
    """Draws and stores one inspection; an id already stored returns that draw
    unchanged (idempotent). Raises RuleViolation when there is nothing to draw."""
    stored = await session.get(Inspection, inspection_id)
    if stored is not None:
        return stored
    institutions = list(
        (
            await session.exec(
                select(Institution.id).where(
                    Institution.bureau_id == bureau_id, eligible(Institution, local_today(drawn_at))
                )
            )
        ).all()
    )
    if not institutions:
        raise RuleViolation("no_candidate_institution", f"bureau {bureau_id} has no active institution")
    inspectors = list(
        (
            await session.exec(
                select(Inspector.id).where(Inspector.bureau_id == bureau_id, Inspector.status == "active")
            )
        ).all()
    )
    if not inspectors:
        raise RuleViolation("no_inspector", f"bureau {bureau_id} has no active inspector")
    candidates: dict[str, Any] = {
        "institutions": sorted(institutions),
        "weights": await grade_weights(session, institutions),
        "case_files": {},
        "inspectors": sorted(inspectors),
    }
    # The case files are drawn from only for the institutions drawn first.
    for institution_id in draw(seed, candidates, sizes)["institutions"]:
        candidates["case_files"][institution_id] = await _case_files(session, institution_id, period)
    row = {
        "id": inspection_id,
        "bureau_id": bureau_id,
        "period": period,
        "seed": seed,
        "institutions": sizes.institutions,
        "case_files_per_institution": sizes.case_files_per_institution,
        "inspectors": sizes.inspectors,
        "origin": origin,
        "drawn_by": drawn_by,
        "drawn_at": drawn_at,
        "candidates": candidates,
        "picks": draw(seed, candidates, sizes),
    }
    await session.exec(insert(Inspection).values(**row).on_conflict_do_nothing(index_elements=["id"]))
    await session.commit()
    stored = await session.get(Inspection, inspection_id, populate_existing=True)
    assert stored is not None
    return stored
