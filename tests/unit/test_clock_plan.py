from datetime import date, datetime

from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar, end_of_day
from appraisal.domain.clock import ClockPlanRequest, ceil_percent, plan_clock

calendar = WorkingCalendar()


def test_examination_ladder_warns_at_80_percent_and_escalates_5_working_days_late() -> None:
    plan = plan_clock(calendar, ClockPlanRequest("PROC-17", "2026-09-30", 30))
    assert plan.due_on == "2026-11-17"
    rungs = {r.kind: r.at for r in plan.rungs}
    # 24th working day after 2026-09-30.
    assert rungs["warning"] == end_of_day(calendar.add_working_days(date(2026, 9, 30), 24).due_on)
    assert rungs["overdue"] == datetime(2026, 11, 18, tzinfo=CHINA_TZ)
    assert rungs["escalation"] == datetime(2026, 11, 25, tzinfo=CHINA_TZ)


def test_acceptance_warning_falls_on_day_five_of_seven() -> None:
    plan = plan_clock(calendar, ClockPlanRequest("PROC-03", "2026-09-24", 7))
    warning = next(r for r in plan.rungs if r.kind == "warning")
    assert warning.at == datetime(2026, 10, 10, tzinfo=CHINA_TZ)  # end of Fri 10-09, day 5
    assert ceil_percent(7, 70) == 5


def test_court_cap_shortens_the_budget() -> None:
    plan = plan_clock(calendar, ClockPlanRequest("PROC-17", "2026-09-30", 20))
    assert plan.due_on == calendar.add_working_days(date(2026, 9, 30), 20).due_on.isoformat()
