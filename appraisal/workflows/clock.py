"""The statutory clock every timed stage uses: start, stop, the next wake-up
and a snapshot for queries. Deadlines are planned by an activity; the
workflow only sleeps until the next rung and records what fired."""

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from appraisal.domain.clock import ClockPlan, ClockPlanRequest
from appraisal.domain.commission import ClockSnapshot
from appraisal.domain.rules import CLOCK_RULES, ClockRule, RungKind

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.clock import plan_clock

PLANNING_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


class StatutoryClock:
    def __init__(self, rule: ClockRule, state: ClockSnapshot, plan: ClockPlan) -> None:
        self.rule = rule
        self.state = state
        self._pending = sorted(
            (r for r in plan.rungs if r.kind not in state.rungs_fired),
            key=lambda r: r.at,
        )

    @classmethod
    async def start(cls, rule_id: str, started_on: str, budget_days: int) -> "StatutoryClock":
        rule = CLOCK_RULES[rule_id]
        plan = await workflow.execute_local_activity(
            plan_clock,
            ClockPlanRequest(rule_id=rule_id, segment_start=started_on, budget_days=budget_days),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=PLANNING_RETRY,
        )
        state = ClockSnapshot(
            rule=rule_id,
            name=rule.name,
            unit=rule.unit.value,
            started_on=started_on,
            budget_days=budget_days,
            due_on=plan.due_on,
            due_at=plan.due_at,
            provisional=plan.provisional,
        )
        return cls(rule, state, plan)

    @property
    def running(self) -> bool:
        return not self.state.stopped and not self.state.paused

    def next_wake_up(self) -> datetime | None:
        if not self.running or not self._pending:
            return None
        return self._pending[0].at

    def fire_due(self, now: datetime) -> list[tuple[str, datetime]]:
        """Marks every rung whose instant has come; returns (kind, instant)."""
        fired: list[tuple[str, datetime]] = []
        while self.running and self._pending and self._pending[0].at <= now:
            rung = self._pending.pop(0)
            self.state.rungs_fired.append(rung.kind)
            if rung.kind == RungKind.OVERDUE:
                self.state.overdue = True
            fired.append((rung.kind, rung.at))
        return fired

    def stop(self, on: str) -> None:
        """The step was done on `on` (a past date when brought up from paper):
        the clock is overdue only if that day is after the last day."""
        self.state.stopped = True
        self.state.stopped_on = on
        self.state.overdue = on > self.state.due_on
        self._pending.clear()
