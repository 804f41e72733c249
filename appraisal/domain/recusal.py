"""Recusal (回避, PROC-10 and PROC-11): an appraiser declares a conflict or the
court asks for an appraiser's recusal; the institution decides within its
limit and names a qualified replacement. A court that disagrees may withdraw."""

from dataclasses import dataclass, field

from appraisal.domain.roles import Actor

RECUSAL_GROUNDS: dict[str, str] = {
    "PROC-10-1": "the appraiser or a near relative has an interest in the matter",
    "PROC-10-2": "the appraiser previously appraised the same matter",
    "PROC-10-3": "the appraiser gave an expert consulting opinion on the matter",
    "PROC-10-4": "the appraiser acted on the matter as a person with specialised knowledge in court",
    "PROC-10-5": "another ground under the procedural laws that may affect independence",
}


@dataclass
class RecusalRequest:
    actor: Actor
    appraiser_id: str
    ground: str
    reason: str


@dataclass
class RecusalDecision:
    actor: Actor
    recusal_id: str
    granted: bool
    reason: str
    replacement_id: str = ""


@dataclass
class RecusalSnapshot:
    id: str
    appraiser_id: str
    ground: str
    reason: str
    requested_by_role: str
    requested_on: str
    status: str = "pending"
    """pending, granted or denied."""
    decided_on: str | None = None
    decision_reason: str = ""
    replacement_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
