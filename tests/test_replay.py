"""Today's workflow code replays the histories recorded from earlier runs
(tests/histories, written by `python -m tests.histories.record`): a change
that would break running commissions fails here before it is deployed."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from appraisal.worker import WORKFLOWS
from appraisal.workflows.calendar import CalendarReloadInput, CalendarReloadResult

HISTORIES = Path(__file__).resolve().parent / "histories"
RECORDED = sorted(HISTORIES.rglob("*.json"))
"""Today's recordings beside those of earlier releases (v1/: before delivering only to webhooks)."""


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def steps(history: WorkflowHistory) -> list[str]:
    """Accepted updates, signals, fired timers and the ending, in order."""
    found: list[str] = []
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            found.append(
                event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
            )
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            found.append(f"signal:{event.workflow_execution_signaled_event_attributes.signal_name}")
        elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
            found.append("timer")
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            found.append("completed")
    return found


def test_the_recorded_histories_cover_the_paths_they_are_named_for() -> None:
    recorded = {path.stem: steps(load(path)) for path in HISTORIES.glob("*.json")}
    assert recorded.keys() >= {  # histories kept from earlier releases may sit beside them
        "happy_path",
        "materials_and_extension",
        "overdue_escalated",
        "calendar_reload",
        "calendar_recomputed_commission",
    }
    assert [s for s in recorded["happy_path"] if s != "timer"] == [
        "register",
        "decide_acceptance",
        "submit_report",
        "sign_report",
        "sign_report",
        "issue_report",
        "close",
        "completed",
    ]
    materials = recorded["materials_and_extension"]
    assert materials[-3:] == ["request_materials", "supply_materials", "extend_examination"]
    assert "completed" not in materials  # still running, as a commission is during an upgrade
    overdue = recorded["overdue_escalated"]
    assert overdue.count("timer") >= 3  # warning, overdue, escalation
    assert overdue[-2:] == ["reassign", "completed"]
    assert recorded["calendar_reload"] == ["completed"]
    assert "signal:recompute_clocks" in recorded["calendar_recomputed_commission"]
    assert recorded["withdrawn"][-2:] == ["withdraw", "completed"]
    assert recorded["terminated"][-3:] == ["decide_acceptance", "terminate", "completed"]
    assert recorded["daily_anchor"] == ["completed"]


@pytest.mark.parametrize("path", RECORDED, ids=[str(p.relative_to(HISTORIES)) for p in RECORDED])
async def test_todays_workflows_replay_each_recorded_history(path: Path) -> None:
    result = await Replayer(workflows=WORKFLOWS).replay_workflow(load(path), raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_all_histories_replay_together() -> None:
    async def histories() -> AsyncIterator[WorkflowHistory]:
        for path in RECORDED:
            yield load(path)

    results = await Replayer(workflows=WORKFLOWS).replay_workflows(histories(), raise_on_replay_failure=True)
    assert results.replay_failures == {}


@workflow.defn(name="CalendarReloadWorkflow", sandboxed=False)
class IncompatibleCalendarReload:
    """What a careless change looks like: a timer where history has an activity."""

    @workflow.run
    async def run(self, inp: CalendarReloadInput) -> CalendarReloadResult:
        await workflow.sleep(timedelta(seconds=1))
        return CalendarReloadResult()


async def test_an_incompatible_change_fails_the_replay() -> None:
    result = await Replayer(workflows=[IncompatibleCalendarReload]).replay_workflow(
        load(HISTORIES / "calendar_reload.json"), raise_on_replay_failure=False
    )
    assert isinstance(result.replay_failure, workflow.NondeterminismError)
