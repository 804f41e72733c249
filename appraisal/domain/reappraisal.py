"""Re-appraisal (重新鉴定, PROC-31, PROC-32, PROC-35): a new commission linked
to the original, at another institution (the same one only for a stated
special reason and with other appraisers), with at least one appraiser of
senior title and none of the original appraisers."""

from dataclasses import dataclass

from appraisal.domain.commission import EligibleAppraiser
from appraisal.domain.errors import RuleViolation
from appraisal.domain.roles import Actor

REAPPRAISAL_GROUNDS: dict[str, str] = {
    "PROC-31-1": "the original appraiser was not qualified",
    "PROC-31-2": "the institution acted outside its registered scope",
    "PROC-31-3": "a required recusal was not made",
    "PROC-31-4": "the court deems a re-appraisal necessary",
    "PROC-31-5": "another legal ground",
}
REFUNDED_GROUNDS = frozenset({"PROC-31-1", "PROC-31-2", "PROC-31-3"})
"""PROC-35: an unqualified appraiser, a seriously unlawful procedure or an
opinion without basis oblige the original institution to refund."""


@dataclass
class ReappraisalOrder:
    actor: Actor
    new_commission_id: str
    new_institution_id: str
    ground: str
    reason: str


def check_not_previously_appraised(appraiser_ids: list[str], excluded: list[str]) -> None:
    """PROC-10: an appraiser of an earlier commission on the same matter recuses."""
    for appraiser_id in appraiser_ids:
        if appraiser_id in excluded:
            raise RuleViolation(
                "appraiser_previously_appraised",
                f"appraiser {appraiser_id} appraised this matter before and must recuse",
                rule="PROC-10",
            )


def check_senior_title(appraiser_ids: list[str], eligible: list[EligibleAppraiser]) -> None:
    """PROC-32: a re-appraisal team includes a senior professional title."""
    senior = {a.appraiser_id for a in eligible if a.senior_title}
    if not senior.intersection(appraiser_ids):
        raise RuleViolation(
            "senior_title_required",
            "a re-appraisal needs at least one appraiser with a senior professional title",
            rule="PROC-32",
        )
