from enum import StrEnum


class Stage(StrEnum):
    """Where a commission stands (API.md `stage`)."""

    AWAITING_ACCEPTANCE = "awaiting_acceptance"
    AWAITING_MATERIALS = "awaiting_materials"
    EXAMINING = "examining"
    SIGNING = "signing"
    AWAITING_ISSUE = "awaiting_issue"
    ISSUED = "issued"
    IN_TESTIMONY = "in_testimony"
    CLOSED = "closed"
    REFUSED = "refused"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"
    REASSIGNED = "reassigned"
    """Closed by the court's re-entrustment of an overdue commission (CRT-5)."""


TERMINAL_STAGES = frozenset(
    {Stage.CLOSED, Stage.REFUSED, Stage.TERMINATED, Stage.WITHDRAWN, Stage.REASSIGNED}
)
