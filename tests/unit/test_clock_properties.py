"""Properties of the working-day arithmetic behind every statutory clock."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.clock import ClockPlanRequest, plan_clock

calendar = WorkingCalendar()
days_2026 = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 10, 31))
budgets = st.integers(min_value=1, max_value=60)


@settings(max_examples=150, deadline=None)
@given(start=days_2026, budget=budgets, pause_after=st.integers(0, 90), pause_length=st.integers(0, 60))
def test_pause_and_resume_neither_lose_nor_gain_budget(
    start: date, budget: int, pause_after: int, pause_length: int
) -> None:
    first = ClockPlanRequest("PROC-17", start.isoformat(), budget)
    due = date.fromisoformat(plan_clock(calendar, first).due_on)
    paused_on = min(start + timedelta(days=pause_after), due)
    used = plan_clock(
        calendar, ClockPlanRequest("PROC-17", start.isoformat(), budget, pause_on=paused_on.isoformat())
    ).used_days
    resumed_on = paused_on + timedelta(days=pause_length)
    resumed = plan_clock(
        calendar, ClockPlanRequest("PROC-17", resumed_on.isoformat(), budget, used_days=used)
    )
    new_due = date.fromisoformat(resumed.due_on)
    # Working days counted before the pause plus after the resumption make the budget exactly.
    assert used + calendar.working_days_between(resumed_on, new_due) == budget
    assert used == calendar.working_days_between(start, paused_on)
    assert new_due >= due


@settings(max_examples=150, deadline=None)
@given(start=days_2026, budget=budgets, extra=st.integers(1, 30))
def test_extension_is_monotonic(start: date, budget: int, extra: int) -> None:
    before = calendar.add_working_days(start, budget).due_on
    after = calendar.add_working_days(start, budget + extra).due_on
    assert after > before
    # Adding M working days after the deadline in force is the same as a budget of N + M.
    assert calendar.add_working_days(before, extra).due_on == after


@settings(max_examples=200, deadline=None)
@given(start=days_2026, budget=budgets)
def test_deadline_is_always_a_working_day(start: date, budget: int) -> None:
    assert calendar.is_working_day(calendar.add_working_days(start, budget).due_on)


@settings(max_examples=200, deadline=None)
@given(start=days_2026, days=st.integers(1, 90))
def test_natural_day_periods_roll_over_rest_days(start: date, days: int) -> None:
    due = calendar.add_natural_days(start, days).due_on
    nominal = start + timedelta(days=days)
    assert due >= nominal and calendar.is_working_day(due)
    rolled = nominal
    while rolled < due:
        assert not calendar.is_working_day(rolled)
        rolled += timedelta(days=1)


def test_pause_example_from_the_clocks_issue() -> None:
    # Agreement effective 2026-04-01, materials asked on 04-10, received 04-30 → due 2026-06-05.
    used = plan_clock(
        calendar, ClockPlanRequest("PROC-17", "2026-04-01", 30, pause_on="2026-04-10")
    ).used_days
    assert used == 6  # 4/2, 4/3, 4/7, 4/8, 4/9, 4/10 (Qingming 4/4–4/6)
    assert (
        plan_clock(calendar, ClockPlanRequest("PROC-17", "2026-04-30", 30, used_days=used)).due_on
        == "2026-06-05"
    )


def test_extension_example_from_the_clocks_issue() -> None:
    # due_on 2026-03-30 extended by 30 working days → 2026-05-14.
    start = date(2026, 2, 10)
    assert calendar.add_working_days(start, 30).due_on == date(2026, 3, 30)
    assert plan_clock(calendar, ClockPlanRequest("PROC-17", start.isoformat(), 60)).due_on == "2026-05-14"
