"""Grading a year's integrity record (REG-9, EVL-1): points off 100 for each item of the
year, and the best grade whose floor the score reaches. The same rule grades the provisional
evaluation the integrity record shows and the annual evaluation the bureau confirms."""

from collections.abc import Mapping
from dataclasses import dataclass, field

LOWEST_GRADE = "D"

OVERDUE = "clock.overdue"
SIGNED, DISSENTED, ISSUED = "report.signed", "report.dissented", "report.issued"
REFUSED_TO_TESTIFY = "refused_to_testify"
TRAINING_SHORTFALL = "training_shortfall"
ADMINISTRATIVE_PENALTY = "administrative_penalty"
"""A penalty decision served (行政处罚, CMP-9): activities/penalty.py writes the entry."""
INSPECTION_FINDING = "inspection_finding"
"""A random inspection that found something to rectify or to refer for a penalty (双随机一公开):
services/inspection.py writes the entry when the inspection closes."""
FINDING_CONCLUSIONS = ("rectification", "penalty_referral")
FEE_VIOLATION = "fee_violation"
"""违规收费 (REG-5): a refund paid back after its FEE-2 time, or a complaint decided as one."""
FEE_RULE = "REG-5"
SANCTIONS = ("criticism_or_correction_order", "industry_discipline", "administrative_penalty_referral")
"""Complaint outcomes (CMP-8) that uphold a complaint."""


@dataclass
class GradingRule:
    """REG-9 leaves the official grades and cycle unverified: points off 100 per item of the
    year (INTEGRITY_DEDUCTIONS) and the floors of the grades, best first
    (INTEGRITY_GRADE_FLOORS); below the last floor, the lowest grade."""

    deductions: dict[str, int] = field(default_factory=dict)
    grade_floors: dict[str, int] = field(default_factory=dict)
    lowest_grade: str = LOWEST_GRADE

    @property
    def grades(self) -> list[str]:
        return [*self.grade_floors, self.lowest_grade]


@dataclass
class Deducted:
    item: str
    count: int
    points_each: int
    points: int


@dataclass
class Scored:
    score: int
    grade: str
    deductions: list[Deducted] = field(default_factory=list)


def deduction_items(counts: Mapping[str, int]) -> dict[str, int]:
    """The items a year's raw counts (audit event kinds and integrity entry outcomes) give."""
    return {
        "overdue_deadline": counts.get(OVERDUE, 0),
        "refused_to_testify": counts.get(REFUSED_TO_TESTIFY, 0),
        **{sanction: counts.get(sanction, 0) for sanction in SANCTIONS},
        ADMINISTRATIVE_PENALTY: counts.get(ADMINISTRATIVE_PENALTY, 0),
        TRAINING_SHORTFALL: counts.get(TRAINING_SHORTFALL, 0),
        INSPECTION_FINDING: counts.get(INSPECTION_FINDING, 0),
        FEE_VIOLATION: counts.get(FEE_VIOLATION, 0),
    }


def score(items: Mapping[str, int], rule: GradingRule) -> Scored:
    """100 minus the points of every item (never below 0), and its grade."""
    deductions = [
        Deducted(item, count, rule.deductions.get(item, 0), count * rule.deductions.get(item, 0))
        for item, count in items.items()
    ]
    total = max(0, 100 - sum(d.points for d in deductions))
    grade = next((name for name, floor in rule.grade_floors.items() if total >= floor), rule.lowest_grade)
    return Scored(total, grade, deductions)
