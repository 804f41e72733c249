"""The hard days a date-sensitive test must also pass on (issue: the suite passes on
every day of the year). Each is found from the day the run starts, by the product's
own working-day calendar, so the run is a different set of dates next week and still
hits every kind of day. A test reaches one when the time-skipping server's clock is
moved forward to it before the test begins (`temporal_env` in conftest.py)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar, YearSchedule

LOOK_AHEAD_DAYS = 400
"""How far ahead a kind of day is looked for in the calendar as published."""


@dataclass(frozen=True)
class HardDay:
    kind: str
    at: datetime
    """The instant the test server's clock is moved to (Asia/Shanghai)."""
    makeup_saturday: date | None = None
    """A Saturday the calendar must treat as a make-up working day, when the published
    schedule has none ahead: the run adds it to that year's schedule."""


def _first(start: date, wanted: Callable[[date], bool]) -> date | None:
    return next(
        (start + timedelta(days=n) for n in range(LOOK_AHEAD_DAYS) if wanted(start + timedelta(days=n))),
        None,
    )


def _holiday(calendar: WorkingCalendar, day: date) -> bool:
    """A rest day by the State Council's schedule, not merely a weekend."""
    return day in calendar.schedule(day.year).rest_days


def hard_days(today: date, calendar: WorkingCalendar | None = None) -> list[HardDay]:
    """The hard days after `today`, each once: a day that is of two kinds (31 December
    is often also the day before a provisional year) is run once, under its first kind.
    Times of day are chosen to be hard too: 00:30 is still the day before in UTC, and
    23:30 is half an hour from the next day."""
    calendar = calendar or WorkingCalendar()
    start = today + timedelta(days=1)  # the test server's clock only moves forward
    found: dict[str, tuple[date, time]] = {}

    saturday = _first(start, lambda d: d.weekday() == 5 and not calendar.is_working_day(d))
    assert saturday is not None  # some Saturday in 400 days is a rest day
    found["saturday"] = (saturday, time(0, 30))

    before_holiday = _first(
        start,
        lambda d: (
            d.weekday() == 4 and calendar.is_working_day(d) and _holiday(calendar, d + timedelta(days=1))
        ),
    ) or _first(start, lambda d: calendar.is_working_day(d) and _holiday(calendar, d + timedelta(days=1)))
    if before_holiday is not None:
        found["friday_before_holiday"] = (before_holiday, time(23, 30))

    year_end = date(today.year, 12, 31) if today < date(today.year, 12, 31) else date(today.year + 1, 12, 31)
    last_working = max(
        year_end - timedelta(days=n)
        for n in range(31)
        if calendar.is_working_day(year_end - timedelta(days=n))
    )
    if last_working >= start:
        found["last_working_day_of_year"] = (last_working, time(16, 0))
    found["december_31"] = (year_end, time(23, 30))

    provisional = _first(
        start + timedelta(days=1),
        lambda d: d.month == 1 and d.day == 1 and not calendar.schedule(d.year).official,
    )
    if provisional is not None:
        found["day_before_provisional_year"] = (provisional - timedelta(days=1), time(10, 0))

    makeup = _first(start, lambda d: d.weekday() == 5 and d in calendar.schedule(d.year).makeup_workdays)
    added: date | None = None
    if makeup is None:
        # None published ahead (a new year's schedule is published in the autumn before):
        # the run makes one of a Saturday two weeks on, as the State Council would.
        added = _first(
            start + timedelta(days=14), lambda d: d.weekday() == 5 and not calendar.is_working_day(d)
        )
        makeup = added
    assert makeup is not None
    found["makeup_saturday"] = (makeup, time(9, 0))

    days: list[HardDay] = []
    seen: set[date] = set()
    for kind, (day, at) in found.items():
        if day in seen:
            continue
        seen.add(day)
        days.append(
            HardDay(
                kind,
                datetime.combine(day, at, tzinfo=CHINA_TZ),
                makeup_saturday=added if kind == "makeup_saturday" else None,
            )
        )
    return days


def with_makeup_saturday(schedule: YearSchedule, saturday: date) -> YearSchedule:
    return YearSchedule(
        schedule.year,
        schedule.rest_days - {saturday},
        schedule.makeup_workdays | {saturday},
        official=schedule.official,
        source=schedule.source,
    )
