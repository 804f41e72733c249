from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    COURT = "court"
    INSTITUTION = "institution"
    INSTITUTION_HEAD = "institution_head"
    APPRAISER = "appraiser"
    SUPERVISOR = "supervisor"
    EXPERT = "expert"
    """A member of the bureau's expert pool (专家库), drawn to review registration applications."""


@dataclass(frozen=True)
class Actor:
    """Who acts: travels into every Update so the workflow re-checks it and the
    audit trail records it. `organisation_id` is the court, institution,
    appraiser or bureau id the principal belongs to (API.md)."""

    role: str
    organisation_id: str
    subject: str
