"""The hard days are of the kinds they claim, after the day the run starts, each once."""

from datetime import date, timedelta

import pytest

from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar
from tests.hard_days import hard_days, with_makeup_saturday


@pytest.mark.parametrize(
    "today", [date(2026, 3, 2), date(2026, 9, 30), date(2026, 12, 3), date(2026, 12, 31), date(2027, 6, 1)]
)
def test_each_hard_day_is_of_its_kind(today: date) -> None:
    calendar = WorkingCalendar()
    days = hard_days(today, calendar)
    kinds = {d.kind: d.at.astimezone(CHINA_TZ).date() for d in days}
    assert all(day > today for day in kinds.values())
    assert len(set(kinds.values())) == len(kinds)  # a day of two kinds runs once
    assert {"saturday", "makeup_saturday"} <= kinds.keys()
    saturday = kinds["saturday"]
    assert saturday.weekday() == 5 and not calendar.is_working_day(saturday)
    if "friday_before_holiday" in kinds:
        eve = kinds["friday_before_holiday"]
        after = eve + timedelta(days=1)
        assert calendar.is_working_day(eve) and after in calendar.schedule(after.year).rest_days
    if "last_working_day_of_year" in kinds:
        last = kinds["last_working_day_of_year"]
        rest = [last + timedelta(days=n) for n in range(1, (date(last.year, 12, 31) - last).days + 1)]
        assert calendar.is_working_day(last) and not any(calendar.is_working_day(d) for d in rest)
    makeup = next(d for d in days if d.kind == "makeup_saturday")
    day = kinds["makeup_saturday"]
    if makeup.makeup_saturday is None:
        assert day in calendar.schedule(day.year).makeup_workdays
    else:
        added = with_makeup_saturday(calendar.schedule(day.year), day)
        assert not calendar.is_working_day(day) and added.is_working_day(day)


def test_the_year_end_days_of_2026() -> None:
    kinds = {d.kind: d.at.isoformat() for d in hard_days(date(2026, 12, 3))}
    assert kinds == {
        "saturday": "2026-12-05T00:30:00+08:00",
        "friday_before_holiday": "2027-04-30T23:30:00+08:00",
        # Also 31 December and the day before provisional 2027: run once.
        "last_working_day_of_year": "2026-12-31T16:00:00+08:00",
        "makeup_saturday": "2026-12-19T09:00:00+08:00",
    }
