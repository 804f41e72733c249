"""Planning a statutory clock: from a rule, the running segment's trigger and
the budget already spent, the deadline and the instant of every rung of the
escalation ladder; and measuring the budget spent up to a pause. Pure; a
workflow plans on the calendar years it holds (loaded through an activity),
so replay never depends on the calendar in force at replay time."""

from dataclasses import dataclass, field
from datetime import date, datetime

from appraisal.domain.calendar import Deadline, HeldYear, WorkingCalendar, end_of_day, local_today
from appraisal.domain.rules import CATCH_UP_WORKING_DAYS, CLOCK_RULES, DayUnit


@dataclass
class ClockPlanRequest:
    rule_id: str
    segment_start: str
    """The trigger date: the period's day 1 is the first (working) day after it."""
    budget_days: int
    """The whole budget, extensions included."""
    used_days: int = 0
    """Budget already spent before this segment (pauses carry it over)."""
    pause_on: str | None = None
    """When set: measure the budget spent up to and including this day instead."""
    planned_at: datetime | None = None
    """The workflow's now: when set, the plan says until when a rung already past waits."""


@dataclass
class CalendarYearsRequest:
    years: list[int] = field(default_factory=list)


@dataclass
class CalendarYears:
    """The schedules in force of the years asked for (operator's loads over the package's)."""

    years: list[HeldYear] = field(default_factory=list)


@dataclass
class RungPlan:
    kind: str
    at: datetime


@dataclass
class ClockPlan:
    due_on: str
    due_at: datetime
    provisional: bool
    rungs: list[RungPlan] = field(default_factory=list)
    used_days: int = 0
    """With `pause_on`: the budget spent through that day."""
    catch_up_until: datetime | None = None
    """With `planned_at`: when a rung whose instant has already passed fires
    (CATCH_UP_WORKING_DAYS after the planning day)."""


def ceil_percent(budget: int, percent: int) -> int:
    return -(-budget * percent // 100)


def used_through(calendar: WorkingCalendar, request: ClockPlanRequest, day: date) -> int:
    """CAL-6: days elapsed after the segment's trigger up to and including `day`."""
    start = date.fromisoformat(request.segment_start)
    if CLOCK_RULES[request.rule_id].unit is DayUnit.WORKING:
        elapsed = calendar.working_days_between(start, day)
    else:
        elapsed = (day - start).days
    return request.used_days + max(elapsed, 0)


def plan_clock(calendar: WorkingCalendar, request: ClockPlanRequest) -> ClockPlan:
    rule = CLOCK_RULES[request.rule_id]
    start = date.fromisoformat(request.segment_start)

    def after(days: int) -> Deadline:
        if rule.unit is DayUnit.WORKING:
            return calendar.add_working_days(start, days)
        return calendar.add_natural_days(start, days, roll=rule.unit is not DayUnit.NATURAL_IN_CUSTODY)

    remaining = request.budget_days - request.used_days
    if remaining > 0:
        deadline = after(remaining)
    else:  # paused on its last day: what is left is the rest of the resumption day
        deadline = Deadline(start, end_of_day(start), not calendar.schedule(start.year).official)
    rungs: list[RungPlan] = []
    for rung in rule.ladder:
        if rung.percent_used is not None:
            day_number = ceil_percent(request.budget_days, rung.percent_used)
            if day_number <= request.used_days or day_number >= request.budget_days:
                continue  # already behind us, or not before the deadline itself
            at = after(day_number - request.used_days).due_at
        else:
            late_by = rung.working_days_after_deadline or 0
            if late_by == 0:
                at = deadline.due_at
            else:
                at = end_of_day(calendar.add_working_days(deadline.due_on, late_by).due_on)
        rungs.append(RungPlan(rung.kind.value, at))
    used = used_through(calendar, request, date.fromisoformat(request.pause_on)) if request.pause_on else 0
    catch_up_until = None
    if request.planned_at is not None:
        planning_day = local_today(request.planned_at)
        catch_up_until = calendar.add_working_days(planning_day, CATCH_UP_WORKING_DAYS).due_at
    return ClockPlan(
        deadline.due_on.isoformat(), deadline.due_at, deadline.provisional, rungs, used, catch_up_until
    )
