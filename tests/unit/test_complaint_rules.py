"""The complaint rows of the rule table and the pure checks (RULES.md section 10)."""

from datetime import date

import pytest

from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.clock import ClockPlanRequest, plan_clock
from appraisal.domain.complaint import Complainant, ComplaintInput, check_registration, time_bar_date
from appraisal.domain.errors import RuleViolation
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import CLOCK_RULES, DayUnit


def test_the_rule_table_holds_the_complaint_clocks() -> None:
    cmp5, cmp6, cmp7 = CLOCK_RULES["CMP-5"], CLOCK_RULES["CMP-6"], CLOCK_RULES["CMP-7"]
    assert (cmp5.limit, cmp5.unit, cmp5.extension_max, cmp5.pausable_by) == (
        7,
        DayUnit.WORKING,
        15,
        (Role.SUPERVISOR,),
    )
    assert (cmp6.limit, cmp6.unit, cmp6.extension_max, cmp6.pausable_by) == (60, DayUnit.NATURAL, 30, ())
    assert (cmp7.limit, cmp7.unit, cmp7.extension_max) == (7, DayUnit.WORKING, 0)
    assert all("144" in r.source for r in (cmp5, cmp6, cmp7))


def test_the_time_bar_ends_three_years_on() -> None:
    assert time_bar_date(date(2023, 11, 29)) == date(2026, 11, 29)
    assert time_bar_date(date(2024, 2, 29)) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("knew_on", "received_on", "code"),
    [
        ("2023-11-29", "2026-11-29", None),
        ("2023-11-28", "2026-11-29", "time_barred"),
        ("2026-11-30", "2026-11-29", "date_out_of_range"),
    ],
)
def test_registration_checks_the_time_bar(knew_on: str, received_on: str, code: str | None) -> None:
    inp = ComplaintInput(
        complaint_id="c",
        bureau_id="b",
        reference="r",
        received_on=received_on,
        knew_on=knew_on,
        registered_by=Actor(Role.SUPERVISOR, "b", "inspector"),
        complainant=Complainant("张三", "person", "当事人"),
        institution_id="i",
        summary="s",
    )
    if code is None:
        check_registration(inp)
        return
    with pytest.raises(RuleViolation) as refused:
        check_registration(inp)
    assert refused.value.code == code


def test_the_handling_clock_counts_natural_days_and_its_extension_from_the_same_start() -> None:
    calendar = WorkingCalendar()
    plan = plan_clock(calendar, ClockPlanRequest("CMP-6", "2026-08-04", 60))
    assert plan.due_on == "2026-10-08"  # day 60 is 10/3, in the National Day holiday
    assert [r.kind for r in plan.rungs] == ["warning", "overdue", "escalation"]
    warning = plan.rungs[0].at.date()
    assert warning == date(2026, 9, 22)  # day 48 of 60 ends at 24:00 local: the next day 00:00
    extended = plan_clock(calendar, ClockPlanRequest("CMP-6", "2026-08-04", 90))
    assert extended.due_on == "2026-11-02"
