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
from temporalio.converter import DataConverter
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from appraisal.domain import testimony as tm
from appraisal.services.audit import recorded_events
from appraisal.worker import WORKFLOW_SANDBOX, WORKFLOWS
from appraisal.workflows.calendar import CalendarReloadInput, CalendarReloadResult

HISTORIES = Path(__file__).resolve().parent / "histories"
RECORDED = sorted(HISTORIES.rglob("*.json"))
"""Today's recordings beside those of earlier releases (v1/: before delivering only to webhooks;
v2/: before the court's reminder to record a testimony's outcome; v3/: before rungs already past
when planned waited for the catch-up window; v4/: before a step answered ahead of its projection;
v5/: before the one shape marker, clocks planned in the workflow and upserts of changes only;
v6/: before the daily anchor started its courts' delivery)."""


def replayer() -> Replayer:
    """Today's workflows in the production sandbox: the domain module passed
    through, as the worker runs them (its datetimes decode only there)."""
    return Replayer(
        workflows=WORKFLOWS, workflow_runner=SandboxedWorkflowRunner(restrictions=WORKFLOW_SANDBOX)
    )


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def steps(history: WorkflowHistory) -> list[str]:
    """Accepted updates, signals, fired timers, children ended and the ending, in order."""
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
        elif kind == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
            child = event.child_workflow_execution_completed_event_attributes.workflow_type.name
            found.append(f"child_completed:{child}")
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            found.append("completed")
    return found


def kinds_of_testimony_events(history: WorkflowHistory) -> list[str]:
    """The kinds of the `testimony_event` signals a commission received, in order."""
    converter = DataConverter.default.payload_converter
    kinds: list[str] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signal = event.workflow_execution_signaled_event_attributes
            if signal.signal_name == "testimony_event":
                (received,) = converter.from_payloads(signal.input.payloads, [tm.TestimonyEvent])
                kinds.append(received.kind)
    return kinds


def without_timers_and_signals(recorded: list[str]) -> list[str]:
    return [s for s in recorded if s != "timer" and not s.startswith("signal:")]


ISSUE = ["register", "decide_acceptance", "submit_report", "sign_report", "sign_report", "issue_report"]


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
    assert recorded["anchor_delivery"] == ["completed"]


def test_the_histories_after_acceptance_and_issue_cover_their_paths() -> None:
    recorded = {path.stem: steps(load(path)) for path in HISTORIES.glob("*.json")}
    assert without_timers_and_signals(recorded["recusal"]) == [
        "register",
        "decide_acceptance",
        "request_recusal",
        "decide_recusal",
    ]  # still running with the reserve appraiser
    assert without_timers_and_signals(recorded["after_issue"]) == [
        *ISSUE,
        "forward_objection",
        "answer_objection",
        "resolve_objection",
        "summon_testimony",
        "child_completed:TestimonyWorkflow",
        "request_supplementary",
        "submit_report",
        "sign_report",
        "sign_report",
        "issue_report",
        "submit_correction",
        "sign_report",
        "sign_report",
        "issue_report",
        "close",
        "completed",
    ]
    after_issue = recorded["after_issue"]
    summoned, supplemented = after_issue.index("summon_testimony"), after_issue.index("request_supplementary")
    assert set(after_issue[summoned + 1 : supplemented]) <= {
        "signal:testimony_event",
        "child_completed:TestimonyWorkflow",
        "timer",
    }
    assert kinds_of_testimony_events(load(HISTORIES / "after_issue.json")) == [
        "testimony.summoned",
        "testimony.confirmed",
        "testimony.decline_requested",
        "testimony.request_ruled",
        "testimony.reminder",
        "testimony.outcome_recorded",
        "testimony.opinion_excluded",
        "testimony.penalty_referred",
        "testimony.refund_ruled",
        "testimony.concluded",
    ]
    testimony = recorded["after_issue_testimony"]
    assert without_timers_and_signals(testimony) == [
        "confirm",
        "confirm",
        "rule_on_request",
        "record_outcome",
        "rule_on_refund",
        "completed",
    ]
    assert "timer" in testimony[testimony.index("rule_on_request") : testimony.index("record_outcome")]
    assert without_timers_and_signals(recorded["reappraisal"]) == [*ISSUE, "order_reappraisal"]
    paper = recorded["paper_commission"]
    assert without_timers_and_signals(paper) == [
        "register",
        "decide_acceptance",
        "request_materials",
        "supply_materials",
    ]  # still running, its replanned rungs waiting for the catch-up window
    assert "timer" in paper[: paper.index("decide_acceptance")]  # the acceptance rungs, after the window
    assert without_timers_and_signals(recorded["complaint"]) == [
        "register",
        "accept",
        "decide",
        "notify_parties",
        "completed",
    ]


def test_the_histories_of_exit_independence_and_penalties_cover_their_paths() -> None:
    recorded = {path.stem: steps(load(path)) for path in HISTORIES.glob("*.json")}
    commission = recorded["registry_exit_commission"]
    assert without_timers_and_signals(commission) == [
        "register",
        "decide_acceptance",
        "report_interference",
        "review_interference",
    ]  # left running, as at an upgrade
    assert commission.count("signal:registry_status_changed") == 2  # barred, then restored
    assert recorded["registry_exit_fan_out"][-1] == "completed"  # the restoration's run
    assert without_timers_and_signals(recorded["penalty_case"]) == [
        "register",
        "record_investigation",
        "notify_proposal",
        "record_statement",
        "schedule_hearing",
        "record_hearing",
        "decide",
        "serve",
        "completed",
    ]


def test_each_history_names_the_workflow_it_replays_with() -> None:
    """The Replayer picks the class by the recorded type: the child and the
    complaint replay through their own workflows, not the commission's."""
    registered = {w.__name__ for w in WORKFLOWS}
    types = {
        path.stem: load(path).events[0].workflow_execution_started_event_attributes.workflow_type.name
        for path in HISTORIES.glob("*.json")
    }
    assert set(types.values()) <= registered
    assert types["after_issue_testimony"] == "TestimonyWorkflow"
    assert types["complaint"] == "ComplaintWorkflow"
    assert types["penalty_case"] == "PenaltyWorkflow"
    assert types["registry_exit_fan_out"] == "RegistryExitWorkflow"
    assert types["after_issue"] == types["recusal"] == types["reappraisal"] == "CommissionWorkflow"


@pytest.mark.parametrize("path", RECORDED, ids=[str(p.relative_to(HISTORIES)) for p in RECORDED])
async def test_todays_workflows_replay_each_recorded_history(path: Path) -> None:
    result = await replayer().replay_workflow(load(path), raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_all_histories_replay_together() -> None:
    async def histories() -> AsyncIterator[WorkflowHistory]:
        for path in RECORDED:
            yield load(path)

    results = await replayer().replay_workflows(histories(), raise_on_replay_failure=True)
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


@pytest.mark.parametrize("path", [HISTORIES / "happy_path.json", HISTORIES / "v5" / "happy_path.json"])
def test_every_recorded_event_can_be_read_back_from_the_history(path: Path) -> None:
    """The verify endpoint's cross-check reads each event's sequence and hash from the
    recording activity's input in the history, on this shape and the one before."""
    recorded = recorded_events(load(path))
    assert [seq for seq, _ in recorded] == list(range(1, len(recorded) + 1))
    assert len(recorded) >= 6 and all(len(hash_) == 64 for _, hash_ in recorded)


def test_the_registration_and_evaluation_histories_cover_their_paths() -> None:
    recorded = {path.stem: steps(load(path)) for path in HISTORIES.glob("*.json")}
    assert without_timers_and_signals(recorded["admission"]) == [
        "register",
        "request_correction",
        "supply_correction",
        "accept",
        "draw_panel",
        "recuse_expert",
        "submit_review",
        "submit_review",
        "submit_review",
        "extend_decision",
        "approve",
        "completed",
    ]
    assert without_timers_and_signals(recorded["admission_under_review"]) == [
        "register",
        "accept",
        "draw_panel",
    ]
    evaluation = recorded["integrity_evaluation"]
    assert without_timers_and_signals(evaluation) == [
        "register",
        "self_assess",
        "self_assess",
        "self_assess",
        "adjust_grade",
        "publish_proposed",
        "file_objection",
        "decide_objection",
        "confirm",
        "completed",
    ]
    # The objection period closed by its own timer before the objection was decided.
    assert "timer" in evaluation[evaluation.index("file_objection") : evaluation.index("decide_objection")]
