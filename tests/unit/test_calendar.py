from datetime import date, datetime, timedelta

import pytest

from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar, YearSchedule

calendar = WorkingCalendar()


def test_acceptance_example_from_rules_crosses_mid_autumn_and_national_day() -> None:
    # RULES.md: received Thu 2026-09-24, 7 working days → end of Mon 2026-10-12.
    deadline = calendar.add_working_days(date(2026, 9, 24), 7)
    assert deadline.due_on == date(2026, 10, 12)
    assert deadline.due_at == datetime(2026, 10, 13, tzinfo=CHINA_TZ)
    assert deadline.due_at.isoformat() == "2026-10-13T00:00:00+08:00"
    assert deadline.provisional is False


def test_examination_example_from_the_issue() -> None:
    assert calendar.add_working_days(date(2026, 9, 30), 30).due_on == date(2026, 11, 17)


def test_period_crossing_spring_festival_2026_counts_make_up_saturdays() -> None:
    # Tue 2026-02-10 + 30 working days → Mon 2026-03-30 (RULES.md checked example):
    # 2/15–2/23 are off, while Sat 2/14 and Sat 2/28 are make-up working days.
    assert calendar.add_working_days(date(2026, 2, 10), 30).due_on == date(2026, 3, 30)
    assert calendar.is_working_day(date(2026, 2, 14))
    assert calendar.is_working_day(date(2026, 2, 28))
    assert not calendar.is_working_day(date(2026, 2, 17))
    assert not calendar.is_working_day(date(2026, 2, 23))


def test_day_one_is_the_first_working_day_strictly_after_the_trigger() -> None:
    # Friday trigger: day 1 is Monday.
    assert calendar.add_working_days(date(2026, 11, 27), 1).due_on == date(2026, 11, 30)


def test_deadline_in_an_unpublished_year_is_provisional() -> None:
    deadline = calendar.add_working_days(date(2026, 12, 15), 30)
    assert deadline.due_on == date(2027, 1, 27)
    assert deadline.provisional is True
    assert not calendar.schedule(2027).official
    assert calendar.schedule(2026).official


def test_loaded_official_schedule_overrides_the_base_rule() -> None:
    schedule = YearSchedule(2027, frozenset({date(2027, 1, 1), date(2027, 1, 4)}), frozenset(), official=True)
    loaded = WorkingCalendar({2027: schedule})
    deadline = loaded.add_working_days(date(2026, 12, 31), 1)
    assert deadline.due_on == date(2027, 1, 5)
    assert deadline.provisional is False


def test_natural_day_period_rolls_over_rest_days() -> None:
    # 10 days after 2026-09-25 is Mon 2026-10-05, a National Day rest day → Thu 10-08.
    assert calendar.add_natural_days(date(2026, 9, 25), 10).due_on == date(2026, 10, 8)
    # Ending on a working day stays put.
    assert calendar.add_natural_days(date(2026, 11, 2), 3).due_on == date(2026, 11, 5)


def test_working_days_between_is_half_open_and_signed() -> None:
    assert calendar.working_days_between(date(2026, 9, 24), date(2026, 10, 12)) == 7
    assert calendar.working_days_between(date(2026, 10, 12), date(2026, 9, 24)) == -7
    assert calendar.working_days_between(date(2026, 10, 12), date(2026, 10, 12)) == 0


def test_a_period_has_at_least_one_day() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        calendar.add_working_days(date(2026, 1, 5), 0)


def test_every_deadline_is_a_working_day_over_a_year() -> None:
    day = date(2026, 1, 1)
    for offset in range(0, 365, 7):
        trigger = day + timedelta(days=offset)
        assert calendar.is_working_day(calendar.add_working_days(trigger, 7).due_on)
