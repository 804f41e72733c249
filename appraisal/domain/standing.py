"""Whether an institution or an appraiser may be chosen or assigned on a day (REG-6,
REG-7, REG-8): its status, the end of a suspension and its licence."""

from datetime import date
from typing import Literal, Protocol


class Standing(Protocol):
    """What the registry holds of an institution or an appraiser that decides it."""

    @property
    def status(self) -> str: ...
    @property
    def status_until(self) -> date | None: ...
    @property
    def licence_valid_until(self) -> date | None: ...


def sanction(entity: Standing, today: date) -> str | None:
    """Why a sanction keeps it from acting today (suspended, revoked); None if none does."""
    if entity.status == "suspended":
        if entity.status_until is None:
            return "suspended"
        if entity.status_until >= today:
            return f"suspended until {entity.status_until}"
        return None  # the suspension has run its term
    return None if entity.status == "active" else entity.status


def standing(
    entity: Standing, today: date, *, kind: Literal["institution", "appraiser"]
) -> tuple[str, str] | None:
    """Why this institution or appraiser may not be chosen or assigned today, and
    the rule (a sanction: REG-6 or REG-7; an expired licence: REG-8); None if it may."""
    found = sanction(entity, today)
    if found:
        return found, "REG-6" if kind == "institution" else "REG-7"
    if entity.licence_valid_until is not None and entity.licence_valid_until < today:
        return f"licensed only until {entity.licence_valid_until}", "REG-8"
    return None


def exit_status(entity: Standing, today: date) -> str | None:
    """What keeps it out of its running work today, as the exit fan-out names it (revoked,
    deregistered, suspended, licence_lapsed); None when it may act."""
    if entity.status in ("revoked", "deregistered"):
        return entity.status
    if sanction(entity, today):
        return "suspended"
    if entity.licence_valid_until is not None and entity.licence_valid_until < today:
        return "licence_lapsed"
    return None
