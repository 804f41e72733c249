"""The calendar's binary-search arithmetic gives exactly what counting day by day
(the definition in RULES.md CAL-5) gives: over ranges spanning years, official and
provisional ones, and with operator-loaded years full of rest and make-up days."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from appraisal.domain.calendar import Deadline, WorkingCalendar, YearSchedule, end_of_day

FIRST, LAST = date(2023, 1, 1), date(2031, 12, 31)
"""2023–2026 are published in the holidays package; later years are provisional."""
days = st.dates(min_value=FIRST, max_value=LAST)


def day_by_day_between(calendar: WorkingCalendar, start: date, end: date) -> int:
    if end < start:
        return -day_by_day_between(calendar, end, start)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
    return count


def day_by_day_add(calendar: WorkingCalendar, trigger: date, n: int) -> Deadline:
    day, counted = trigger, 0
    while counted < n:
        day += timedelta(days=1)
        counted += calendar.is_working_day(day)
    provisional = any(not calendar.schedule(y).official for y in range(trigger.year, day.year + 1))
    return Deadline(day, end_of_day(day), provisional)


@st.composite
def loaded_years(draw: st.DrawFn) -> dict[int, YearSchedule]:
    """Some years as an operator might load them: any weekdays off, any weekend days worked."""
    loaded = {}
    for year in draw(st.sets(st.integers(FIRST.year, LAST.year), max_size=3)):
        in_year = st.dates(min_value=date(year, 1, 1), max_value=date(year, 12, 31))
        rest = draw(st.frozensets(in_year, max_size=40))
        makeup = draw(st.frozensets(in_year.filter(lambda d: d.weekday() >= 5), max_size=8))
        loaded[year] = YearSchedule(year, rest - makeup, makeup, official=draw(st.booleans()), source="test")
    return loaded


calendars = st.one_of(st.just({}), loaded_years()).map(WorkingCalendar)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=days, end=days)
def test_working_days_between_counts_as_day_by_day(calendar: WorkingCalendar, start: date, end: date) -> None:
    assert calendar.working_days_between(start, end) == day_by_day_between(calendar, start, end)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, trigger=days, n=st.integers(1, 600))
def test_add_working_days_lands_where_day_by_day_does(
    calendar: WorkingCalendar, trigger: date, n: int
) -> None:
    deadline = calendar.add_working_days(trigger, n)
    assert deadline == day_by_day_add(calendar, trigger, n)
    assert calendar.working_days_between(trigger, deadline.due_on) == n


def test_year_ends_make_up_days_and_provisional_years() -> None:
    calendar = WorkingCalendar()
    # Sat 2026-02-14 is a make-up working day, 2/15–2/23 the Spring Festival.
    assert calendar.working_days_between(date(2026, 2, 13), date(2026, 2, 14)) == 1
    assert calendar.working_days_between(date(2026, 2, 14), date(2026, 2, 23)) == 0
    assert calendar.working_days_between(date(2026, 2, 14), date(2026, 2, 13)) == -1
    # Across New Year into a provisional year, and back out of it.
    assert calendar.working_days_between(date(2026, 12, 31), date(2027, 1, 4)) == day_by_day_between(
        calendar, date(2026, 12, 31), date(2027, 1, 4)
    )
    span = calendar.add_working_days(date(2026, 12, 31), 250)
    assert span.provisional and span == day_by_day_add(calendar, date(2026, 12, 31), 250)
    assert calendar.add_working_days(date(2025, 12, 31), 1) == day_by_day_add(calendar, date(2025, 12, 31), 1)
    # A period ending on a year's last working day stays in that year.
    assert calendar.add_working_days(date(2026, 12, 30), 1).due_on == date(2026, 12, 31)
    assert calendar.add_working_days(date(2026, 12, 1), 22).due_on == date(2026, 12, 31)
    assert not calendar.add_working_days(date(2025, 12, 31), 1).provisional
