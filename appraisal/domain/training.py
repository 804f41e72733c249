"""Appraisers' training (司法鉴定教育培训, 司规〔2021〕1号): pre-service courses before first
practice (TRN-1) and in-service hours every year (TRN-2), counted in the annual integrity
evaluation; a task as the year's end approaches for whoever is short (TRN-3)."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from appraisal.domain.calendar import CHINA_TZ
from appraisal.domain.errors import RuleViolation
from appraisal.domain.rules import TRAINING_WARNING_DAYS

PRE_SERVICE = "pre_service"
IN_SERVICE = "in_service"

COURSE_KINDS: dict[str, str] = {
    PRE_SERVICE: "岗前培训: before an appraiser first practises (TRN-1)",
    IN_SERVICE: "岗位培训 / 继续教育: every year, counted against the year's minimum (TRN-2)",
}

DEFAULT_MIN_HOURS = 40
"""TRN-2: in-service hours each appraiser completes every year (M: TRAINING_MIN_HOURS)."""


def year_end(year: int) -> datetime:
    """The instant the year ends in China's time."""
    return datetime(year + 1, 1, 1, tzinfo=CHINA_TZ)


def warning_at(year: int) -> datetime:
    """TRN-3: when the appraisers still short of the year's hours are told."""
    return year_end(year) - timedelta(days=TRAINING_WARNING_DAYS)


@dataclass
class TrainingSweep:
    """Opens the year's training tasks for the appraisers of a bureau still short of the
    minimum (TRN-3), and closes those whose hours are reached."""

    bureau_id: str
    year: int
    min_hours: int
    at: datetime | None = None
    open_new: bool = True


@dataclass
class TrainingSweepResult:
    opened: int = 0
    closed: int = 0
    short: int = 0
    """Appraisers short of the minimum after the sweep."""
    warned: list[str] = field(default_factory=list)
    """The appraisers whose task this sweep opened, to be warned."""
    institutions: list[str] = field(default_factory=list)
    """Their institutions, each once."""


def check_course(*, kind: str, starts_on: date, ends_on: date, hours: int) -> None:
    if kind not in COURSE_KINDS:
        raise RuleViolation("unknown_kind", f"{kind} is not a course kind", rule="TRN-2")
    if ends_on < starts_on:
        raise RuleViolation("date_out_of_range", f"ends_on {ends_on} is before starts_on {starts_on}")
    if hours < 1:
        raise RuleViolation("hours_out_of_range", "a course gives at least one hour", rule="TRN-2")


def check_attendance(*, hours: int, course_hours: int) -> None:
    if not 0 <= hours <= course_hours:
        raise RuleViolation(
            "hours_out_of_range", f"an attendance counts 0 to the course's {course_hours} hours", rule="TRN-2"
        )
