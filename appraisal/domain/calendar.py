"""Working-day calendar of the People's Republic of China (RULES.md CAL-1…CAL-7).

Published years come from the `holidays` package (State Council schedule,
with make-up working days). A year not yet published is computed by the
statutory base rule (CAL-2) and is *provisional*; an operator can load the
official schedule of any year as an override.
"""

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cache, lru_cache

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
"""China keeps one offset all year, so a fixed zone is exact and deterministic."""


@dataclass(frozen=True)
class YearSchedule:
    year: int
    rest_days: frozenset[date]
    """Holidays and substituted days off (放假) falling on weekdays or weekends."""
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    """Weekend days that are working days (调休上班)."""
    official: bool = True
    source: str = ""

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        if day in self.rest_days:
            return False
        return day.weekday() < 5


@dataclass(frozen=True)
class Deadline:
    due_on: date
    """The last day of the period."""
    due_at: datetime
    """The instant the period ends: 24:00 local time of `due_on`."""
    provisional: bool
    """Some day counted lies in a year whose official schedule is not loaded."""


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA_TZ)


def local_today(now: datetime) -> date:
    return now.astimezone(CHINA_TZ).date()


@cache
def _package_schedule(year: int) -> YearSchedule:
    from importlib.metadata import version

    import holidays
    from holidays.countries.china import ChinaStaticHolidays

    published_through = max(ChinaStaticHolidays.special_public_holidays)
    observed = holidays.country_holidays("CN", years=year)
    rest = frozenset(d for d in observed if d.year == year)
    makeup = frozenset(d for d in observed.weekend_workdays if d.year == year)
    official = year <= published_through
    source = (
        f"State Council schedule via holidays {version('holidays')}"
        if official
        else "statutory base rule (CAL-2), official schedule not yet published"
    )
    return YearSchedule(year, rest, makeup, official=official, source=source)


@lru_cache(maxsize=128)
def _working_ordinals(schedule: YearSchedule) -> tuple[int, ...]:
    """The year's working days as sorted ordinals. Keyed by the schedule's value, so the
    API's per-request calendars (rebuilt from the database each time) share one copy."""
    first = date(schedule.year, 1, 1).toordinal()
    last = date(schedule.year, 12, 31).toordinal()
    return tuple(o for o in range(first, last + 1) if schedule.is_working_day(date.fromordinal(o)))


@dataclass
class HeldYear:
    """One year's schedule as it crosses Temporal (a workflow holds the years it plans on)."""

    year: int
    rest_days: list[str] = field(default_factory=list)
    makeup_workdays: list[str] = field(default_factory=list)
    official: bool = True
    source: str = ""

    @classmethod
    def of(cls, schedule: YearSchedule) -> "HeldYear":
        return cls(
            schedule.year,
            sorted(d.isoformat() for d in schedule.rest_days),
            sorted(d.isoformat() for d in schedule.makeup_workdays),
            schedule.official,
            schedule.source,
        )

    def schedule(self) -> YearSchedule:
        return YearSchedule(
            self.year,
            frozenset(date.fromisoformat(d) for d in self.rest_days),
            frozenset(date.fromisoformat(d) for d in self.makeup_workdays),
            official=self.official,
            source=self.source,
        )


class YearNotHeld(LookupError):
    """A calendar limited to the years it holds was asked about another year."""

    def __init__(self, year: int) -> None:
        super().__init__(f"the calendar of {year} is not held")
        self.year = year


class WorkingCalendar:
    """Counts periods the way RULES.md decides (binding for the code). Periods are
    counted with a binary search in each year's sorted working days, not day by day:
    a list page computes the days left of every running clock it shows.

    With `only_overrides` the calendar knows only the years it was given and raises
    `YearNotHeld` for any other: a workflow plans on the years it holds, never on the
    package installed where it happens to replay."""

    def __init__(
        self, overrides: Mapping[int, YearSchedule] | None = None, *, only_overrides: bool = False
    ) -> None:
        self._overrides = dict(overrides or {})
        self._only_overrides = only_overrides

    def schedule(self, year: int) -> YearSchedule:
        held = self._overrides.get(year)
        if held is not None:
            return held
        if self._only_overrides:
            raise YearNotHeld(year)
        return _package_schedule(year)

    def is_working_day(self, day: date) -> bool:
        return self.schedule(day.year).is_working_day(day)

    def _working(self, year: int) -> tuple[int, ...]:
        return _working_ordinals(self.schedule(year))

    def _provisional(self, years: Iterable[int]) -> bool:
        return any(not self.schedule(y).official for y in years)

    def add_working_days(self, trigger: date, days: int) -> Deadline:
        """Day 1 is the first working day strictly after `trigger`; the period
        ends at 24:00 of the `days`-th working day (CAL-5)."""
        if days < 1:
            raise ValueError("a working-day period has at least one day")
        year, left = trigger.year, days
        working = self._working(year)
        index = bisect_right(working, trigger.toordinal())  # the first working day after the trigger
        while index + left > len(working):
            left -= len(working) - index
            year, index = year + 1, 0
            working = self._working(year)
        day = date.fromordinal(working[index + left - 1])
        years = range(trigger.year, day.year + 1)
        return Deadline(day, end_of_day(day), self._provisional(years))

    def add_natural_days(self, trigger: date, days: int, *, roll: bool = True) -> Deadline:
        """Day 1 is the day after `trigger`; a last day that is a rest day rolls
        to the next working day (CAL-3, 民诉法 Art 85), unless `roll` is off: a criminal
        period while the person is in custody ends on its last day (CAL-4, CPL Art 105)."""
        if days < 1:
            raise ValueError("a natural-day period has at least one day")
        day = trigger + timedelta(days=days)
        while roll and not self.is_working_day(day):
            day += timedelta(days=1)
        years = range(trigger.year, day.year + 1)
        return Deadline(day, end_of_day(day), self._provisional(years))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open interval (start, end]; negative when
        `end` is before `start`."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        for year in range(start.year, end.year + 1):
            working = self._working(year)
            after = bisect_right(working, start.toordinal()) if year == start.year else 0
            through = bisect_right(working, end.toordinal()) if year == end.year else len(working)
            count += through - after
        return count
