"""The escalation search attribute: the highest rung fired on any running clock."""

from datetime import UTC, datetime

from appraisal.domain.commission import ClockSnapshot
from appraisal.domain.rules import CLOCK_RULES
from appraisal.workflows.clock import Planner, StatutoryClock, highest_rung
from appraisal.workflows.versions import Versions


def clock(rule: str, fired: list[str]) -> StatutoryClock:
    state = ClockSnapshot(
        rule=rule,
        name=rule,
        unit="working_day",
        started_on="2026-11-02",
        budget_days=30,
        due_on="2026-12-14",
        due_at=datetime(2026, 12, 14, 16, tzinfo=UTC),
        rungs_fired=fired,
    )
    return StatutoryClock(CLOCK_RULES[rule], state, Planner(Versions()))


def test_the_highest_rung_across_clocks_wins_not_the_last_word_alphabetically() -> None:
    escalated = clock("PROC-17", ["warning", "overdue", "escalation"])
    warned = clock("CRT-7", ["warning"])
    assert highest_rung([escalated, warned]) == "escalation"
    assert highest_rung([warned]) == "warning"
    assert highest_rung([clock("PROC-03", [])]) == "none"
    assert highest_rung([]) == "none"
