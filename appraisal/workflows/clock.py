"""The statutory clock every timed stage of every workflow uses: start,
pause, resume, extend, recompute, stop, the next wake-up, and a snapshot for
queries. The rule table says the limit, unit and ladder; the workflow plans
on the calendar years it holds and only sleeps until the next rung and
records what fired. No stage hand-codes a timer."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

from appraisal.domain.calendar import WorkingCalendar, YearNotHeld, YearSchedule, end_of_day, local_today
from appraisal.domain.clock import CalendarYearsRequest, ClockPlan, ClockPlanRequest, plan_clock
from appraisal.domain.commission import (
    CalendarChanged,
    ClockPause,
    ClockSnapshot,
    PlannedRung,
    check_date_within_history,
)
from appraisal.domain.roles import Actor
from appraisal.domain.rules import CLOCK_RULES, ClockRule, Rung, RungKind
from appraisal.workflows.versions import Versions

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.clock import ClockActivities

PLANNING_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
PLANNING_TIMEOUT = timedelta(seconds=10)


class Planner:
    """Plans the clocks of one workflow. On the current shape it plans inside the workflow
    task, on the calendar years the workflow holds: a year is loaded through a local
    activity the first time a plan reaches it, and again when the calendar-reload signal
    says it changed, so a replay plans on what the history recorded. Older histories
    planned every segment in a local activity of its own, and still do."""

    def __init__(self, versions: Versions) -> None:
        self.versions = versions
        self.years: dict[int, YearSchedule] = {}

    async def plan(self, request: ClockPlanRequest) -> ClockPlan:
        if not self.versions.current:
            return await workflow.execute_local_activity_method(
                ClockActivities.plan_clock,
                request,
                start_to_close_timeout=PLANNING_TIMEOUT,
                retry_policy=PLANNING_RETRY,
            )
        while True:
            try:
                return plan_clock(WorkingCalendar(self.years, only_overrides=True), request)
            except YearNotHeld as missing:  # the following year too: periods run over New Year
                await self._load([missing.year, missing.year + 1])

    async def reload(self, year: int) -> None:
        """A year's schedule was loaded anew (the calendar-reload signal)."""
        if self.versions.current and year in self.years:
            await self._load([year])

    async def _load(self, years: list[int]) -> None:
        loaded = await workflow.execute_local_activity_method(
            ClockActivities.calendar_years,
            CalendarYearsRequest(years),
            start_to_close_timeout=PLANNING_TIMEOUT,
            retry_policy=PLANNING_RETRY,
        )
        for held in loaded.years:
            self.years[held.year] = held.schedule()


BELATED_RUNGS_WAIT = "belated-rungs-wait"
"""Patch: a rung whose instant has passed when it is planned waits for the catch-up window
(CATCH_UP_WORKING_DAYS); a stop or a pause settles the rungs due before its own day; a
resumption plans every rung of the new segment afresh. Earlier histories fired such rungs
at once and kept them fired across a resumption dated in the past."""


@dataclass(frozen=True)
class FiredRung:
    clock: "StatutoryClock"
    rung: Rung
    at: datetime

    @property
    def data(self) -> dict[str, Any]:
        """What the audit event of a fired rung records."""
        state = self.clock.state
        return {"rule": self.clock.rule.rule_id, "due_on": state.due_on, "rung_at": self.at.isoformat()}


class StatutoryClock:
    def __init__(self, rule: ClockRule, state: ClockSnapshot, planner: Planner) -> None:
        self.rule = rule
        self.state = state
        self.planner = planner

    @classmethod
    async def start(
        cls,
        rule_id: str,
        started_on: str,
        budget_days: int,
        *,
        planner: Planner,
        court_set_on: str | None = None,
    ) -> "StatutoryClock":
        rule = CLOCK_RULES[rule_id]
        clock = cls(
            rule,
            ClockSnapshot(
                rule=rule_id,
                name=rule.name,
                unit=rule.unit.value,
                started_on=started_on,
                budget_days=budget_days,
                due_on="",
                due_at=workflow.now(),
                segment_start=started_on,
            ),
            planner,
        )
        await clock.recompute()
        if court_set_on is not None and court_set_on != clock.state.due_on:
            clock.state.court_set_on = court_set_on
        return clock

    # ---- state ----

    @property
    def running(self) -> bool:
        return not self.state.stopped and not self.state.paused

    def next_wake_up(self) -> datetime | None:
        if not self.running or not self.state.next_rungs:
            return None
        return self.state.next_rungs[0].fires_at

    def fire_due(self, now: datetime) -> list[FiredRung]:
        """Marks every rung whose timer has come; returns them."""
        fired: list[FiredRung] = []
        while self.running and self.state.next_rungs and self.state.next_rungs[0].fires_at <= now:
            fired.append(self._mark_fired(self.state.next_rungs.pop(0)))
        return fired

    def _mark_fired(self, planned: PlannedRung) -> FiredRung:
        self.state.rungs_fired.append(planned.kind)
        if planned.kind == RungKind.OVERDUE:
            self.state.overdue = True
        return FiredRung(self, next(r for r in self.rule.ladder if r.kind == planned.kind), planned.at)

    def _settle_before(self, day: str) -> list[FiredRung]:
        """The rungs still waiting whose instants came before `day` (when a step dated
        that day stops or pauses the clock) did happen: they are fired now, each dated
        at its own instant; the later ones never are."""
        if not self.planner.versions.earlier_patch(BELATED_RUNGS_WAIT):
            return []
        before = end_of_day(date.fromisoformat(day))
        return [self._mark_fired(r) for r in sorted(self.state.next_rungs, key=_at) if r.at < before]

    # ---- transitions ----

    async def recompute(self, *, resumed: bool = False) -> tuple[str, str]:
        """Plans the running segment again (at start, on resumption, after an
        extension or a calendar change); returns (old due_on, new due_on)."""
        belated_wait = self.planner.versions.earlier_patch(BELATED_RUNGS_WAIT)
        now = workflow.now()
        old = self.state.due_on
        plan = await self.planner.plan(
            ClockPlanRequest(
                rule_id=self.rule.rule_id,
                segment_start=self.state.segment_start,
                budget_days=self.state.total_budget,
                used_days=self.state.used_days,
                planned_at=now if belated_wait else None,
            )
        )
        self.state.due_on = plan.due_on
        self.state.due_at = plan.due_at
        self.state.provisional = plan.provisional
        planned = {r.kind: r.at for r in plan.rungs}
        if resumed and belated_wait:
            # Every rung of the new segment lies after the pause: none of it was reached yet.
            self.state.rungs_fired = [k for k in self.state.rungs_fired if k not in planned]
        else:
            # A rung the new plan puts in the future is no longer reached: it fires
            # again when its new instant comes (the earlier firing stays audited).
            self.state.rungs_fired = [
                k for k in self.state.rungs_fired if k not in planned or planned[k] <= now
            ]
        self.state.overdue = RungKind.OVERDUE in self.state.rungs_fired

        def fires_at(at: datetime) -> datetime:
            if belated_wait and at <= now and plan.catch_up_until is not None:
                return max(at, plan.catch_up_until)
            return at

        self.state.next_rungs = sorted(
            (
                PlannedRung(r.kind, r.at, fires_at(r.at))
                for r in plan.rungs
                if r.kind not in self.state.rungs_fired
            ),
            key=lambda r: (r.fires_at, r.at),
        )
        return old, plan.due_on

    async def pause(self, *, on: str, reason: str, by: str) -> list[FiredRung]:
        """CAL-6: the budget spent through `on` is kept; nothing runs meanwhile.
        Returns the rungs that came due before `on`, to be recorded before the pause."""
        plan = await self.planner.plan(
            ClockPlanRequest(
                rule_id=self.rule.rule_id,
                segment_start=self.state.segment_start,
                budget_days=self.state.total_budget,
                used_days=self.state.used_days,
                pause_on=on,
            )
        )
        settled = self._settle_before(on)
        self.state.paused = True
        self.state.paused_on = on
        self.state.pause_reason = reason
        self.state.pauses.append(
            ClockPause(reason=reason, paused_on=on, paused_by=by, used_days=plan.used_days)
        )
        self.state.used_days = plan.used_days
        self.state.next_rungs = []
        return settled

    async def resume(self, *, on: str) -> None:
        """The remaining budget counts again from the first day after `on`."""
        self.state.paused = False
        self.state.paused_on = None
        self.state.pause_reason = None
        self.state.pauses[-1].resumed_on = on
        self.state.segment_start = on
        await self.recompute(resumed=True)

    async def extend(self, *, working_days: int, by: str, reason: str) -> None:
        self.state.extension_days += working_days
        self.state.extended = True
        self.state.extended_by = by
        self.state.extension_reason = reason
        await self.recompute()

    def stop(self, on: str) -> list[FiredRung]:
        """The step was done on `on` (a past date when brought up from paper):
        the clock is overdue only if that day is after the last day. Returns the
        rungs that came due before `on`, to be recorded before the step."""
        settled = self._settle_before(on)
        self.state.stopped = True
        self.state.stopped_on = on
        self.state.overdue = on > self.state.due_on
        self.state.next_rungs = []
        return settled


def _at(rung: PlannedRung) -> datetime:
    return rung.at


# ---- the loop every timed workflow runs: sleep until the next rung, fire what is due ----


async def sleep_until_due(
    clocks: Iterable[StatutoryClock],
    *,
    woken: Callable[[], bool],
    summary: str,
    also: Iterable[datetime] = (),
) -> bool:
    """Sleeps until the earliest pending rung of the clocks (or instant in `also`) or
    until `woken()` holds; True when it slept until that instant, False when woken."""
    wake_ups = [w for c in clocks if (w := c.next_wake_up()) is not None]
    wake_ups += also
    timeout = max(min(wake_ups) - workflow.now(), timedelta(0)) if wake_ups else None
    try:
        await workflow.wait_condition(woken, timeout=timeout, timeout_summary=summary)
    except TimeoutError:
        return True
    return False


RUNG_ORDER = ("none", RungKind.WARNING, RungKind.OVERDUE, RungKind.ESCALATION)


def highest_rung(clocks: Iterable[StatutoryClock]) -> str:
    """The highest rung fired on any of the clocks, as a word the Temporal UI can filter on."""
    level = max(
        (RUNG_ORDER.index(k) for c in clocks for k in c.state.rungs_fired if k in RUNG_ORDER), default=0
    )
    return str(RUNG_ORDER[level])


def due_rungs(clocks: Iterable[StatutoryClock], now: datetime) -> Iterator[FiredRung]:
    """Fires the due rungs clock by clock, lazily: a clock's rungs are marked when the
    caller reaches it, so each recorded event's snapshot shows only what fired so far."""
    for clock in clocks:
        yield from clock.fire_due(now)


@dataclass(frozen=True)
class Replanned:
    """A running clock that a calendar load moved (or made official): its `clock.recomputed` event."""

    clock: StatutoryClock
    old_due_on: str
    change: CalendarChanged

    @property
    def moved(self) -> bool:
        return self.old_due_on != self.clock.state.due_on

    @property
    def actor(self) -> Actor:
        return Actor(role="system", organisation_id="", subject=f"calendar {self.change.year}")

    @property
    def data(self) -> dict[str, Any]:
        state = self.clock.state
        return {
            "rule": self.clock.rule.rule_id,
            "year": self.change.year,
            "loaded_by": self.change.loaded_by,
            "old_due_on": self.old_due_on,
            "new_due_on": state.due_on,
            "provisional": state.provisional,
        }


async def replan_for_calendar(
    planner: Planner, clocks: Iterable[StatutoryClock], change: CalendarChanged
) -> AsyncIterator[Replanned]:
    """Plans every running clock again on the calendar now in force, yielding each one
    that moved before planning the next, so its event is recorded in the same order."""
    await planner.reload(change.year)
    for clock in clocks:
        if clock.state.stopped or clock.state.paused:
            continue
        was_provisional = clock.state.provisional
        old, new = await clock.recompute()
        if old != new or was_provisional != clock.state.provisional:
            yield Replanned(clock, old, change)


class ClockedWorkflow:
    """What the complaint, admission, evaluation and penalty workflows share around their
    statutory clocks: the calendar-reload signal that plans every running deadline again,
    and the dates a step may name. Each sets these attributes in its own `__init__` and
    records through its own `_record`."""

    lock: asyncio.Lock
    planner: Planner
    clocks: dict[str, StatutoryClock]
    clocks_changed: bool
    _record: Callable[[str, Actor, dict[str, Any]], Awaitable[None]]

    @workflow.signal
    async def recompute_clocks(self, change: CalendarChanged) -> None:
        """A year's official schedule was loaded: every running deadline is planned again."""
        async with self.lock:
            async for replanned in replan_for_calendar(self.planner, self.clocks.values(), change):
                self.clocks_changed = True
                await self._record("clock.recomputed", replanned.actor, replanned.data)

    def _today(self) -> str:
        return local_today(workflow.now()).isoformat()

    def _date_between(self, value: str, earliest: str, name: str) -> str:
        return check_date_within_history(
            value, earliest=earliest, today=local_today(workflow.now()), name=name
        ).isoformat()

    def _within_history(self, value: str, rule: ClockRule, name: str) -> str:
        """A step's date lies between the start of the clock it ends (its last resumption) and today."""
        return self._date_between(value, self.clocks[rule.rule_id].state.segment_start, name)
