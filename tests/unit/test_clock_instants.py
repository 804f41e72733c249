"""The rules behind the rung instants, on fixed dates of the published 2026 schedule:
the catch-up window of a clock planned after its rungs, a court-set date rolled past
a rest day, the complaint bar's last day, and the rule a refusal to testify cites."""

from datetime import date, datetime

import pytest

from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar
from appraisal.domain.clock import ClockPlanRequest, plan_clock
from appraisal.domain.complaint import check_time_bar, time_bar_date
from appraisal.domain.errors import RuleViolation
from appraisal.domain.testimony import CaseKind, refusal_rule

calendar = WorkingCalendar()


@pytest.mark.parametrize(
    ("planned_at", "window_ends"),
    [
        # A Wednesday: the end of Thursday.
        (datetime(2026, 12, 2, 10, tzinfo=CHINA_TZ), datetime(2026, 12, 4, tzinfo=CHINA_TZ)),
        # A Friday: the end of Monday.
        (datetime(2026, 12, 4, 23, tzinfo=CHINA_TZ), datetime(2026, 12, 8, tzinfo=CHINA_TZ)),
        # The eve of National Day: the end of Thursday 10-08, the first working day after the holiday.
        (datetime(2026, 9, 30, 9, tzinfo=CHINA_TZ), datetime(2026, 10, 9, tzinfo=CHINA_TZ)),
    ],
)
def test_rungs_already_past_wait_until_the_end_of_the_next_working_day(
    planned_at: datetime, window_ends: datetime
) -> None:
    plan = plan_clock(calendar, ClockPlanRequest("PROC-03", "2026-09-01", 7, planned_at=planned_at))
    assert plan.catch_up_until == window_ends
    assert plan_clock(calendar, ClockPlanRequest("PROC-03", "2026-09-01", 7)).catch_up_until is None


def test_a_court_set_saturday_rolls_to_monday() -> None:
    # Forwarded on Wednesday 2026-12-02 with the reply due Saturday 12-12: 10 natural days.
    plan = plan_clock(calendar, ClockPlanRequest("CRT-7", "2026-12-02", 10))
    assert plan.due_on == "2026-12-14"


def test_the_complaint_bar_rolls_a_last_day_on_a_rest_day() -> None:
    assert time_bar_date(date(2023, 11, 21)) == date(2026, 11, 21)
    assert time_bar_date(date(2023, 11, 21), calendar.is_working_day) == date(2026, 11, 23)
    # The eve of National Day 2023 → 2026-09-30, a working day: no roll.
    assert time_bar_date(date(2023, 9, 30), calendar.is_working_day) == date(2026, 9, 30)
    # 2023-10-01 → Thursday 2026-10-01, National Day: the first working day after it is 10-08.
    assert time_bar_date(date(2023, 10, 1), calendar.is_working_day) == date(2026, 10, 8)
    check_time_bar(knew_on="2023-11-21", received_on="2026-11-23", last_day="2026-11-23")
    with pytest.raises(RuleViolation) as refused:
        check_time_bar(knew_on="2023-11-21", received_on="2026-11-24", last_day="2026-11-23")
    assert refused.value.code == "time_barred" and refused.value.rule == "CMP-1"


def test_a_refusal_to_testify_cites_the_rule_of_its_case_kind() -> None:
    assert refusal_rule(CaseKind.CRIMINAL) == "TST-6"
    assert refusal_rule(CaseKind.CIVIL) == refusal_rule(CaseKind.ADMINISTRATIVE) == "TST-4"
