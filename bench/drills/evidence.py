"""Evidence for an unexpected answer: what the commission's Temporal history
says happened to its Updates, workflow tasks and activities, one line per
event that matters (the rest is counted)."""

import json
import re
from collections import Counter

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client


def _line(event: HistoryEvent) -> str | None:
    kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    when = event.event_time.ToDatetime().strftime("%H:%M:%S.%f")[:-3]
    head = f"{event.event_id:>4} {when} {kind}"
    if event.HasField("workflow_execution_update_admitted_event_attributes"):
        request = event.workflow_execution_update_admitted_event_attributes.request
        return f"{head} {request.input.name} id={request.meta.update_id}"
    if event.HasField("workflow_execution_update_accepted_event_attributes"):
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        return f"{head} {request.input.name} id={request.meta.update_id}"
    if event.HasField("workflow_execution_update_completed_event_attributes"):
        completed = event.workflow_execution_update_completed_event_attributes
        outcome = "ok" if completed.outcome.HasField("success") else completed.outcome.failure.message
        return f"{head} id={completed.meta.update_id} → {outcome}"
    if event.HasField("workflow_task_failed_event_attributes"):
        failed = event.workflow_task_failed_event_attributes
        return f"{head} cause={failed.cause} {failed.failure.message[:160]}"
    if event.HasField("workflow_task_timed_out_event_attributes"):
        return f"{head} {event.workflow_task_timed_out_event_attributes.timeout_type}"
    if event.HasField("activity_task_scheduled_event_attributes"):
        return f"{head} {event.activity_task_scheduled_event_attributes.activity_type.name}"
    if event.HasField("activity_task_started_event_attributes"):
        return f"{head} attempt {event.activity_task_started_event_attributes.attempt}"
    if event.HasField("activity_task_timed_out_event_attributes"):
        return f"{head} {event.activity_task_timed_out_event_attributes.failure.message[:160]}"
    if event.HasField("activity_task_failed_event_attributes"):
        return f"{head} {event.activity_task_failed_event_attributes.failure.message[:160]}"
    if kind.startswith("WORKFLOW_TASK_") or kind in {"ACTIVITY_TASK_COMPLETED", "MARKER_RECORDED"}:
        return head
    return None


async def history_story(client: Client, workflow_id: str) -> list[str]:
    """The Update, workflow-task and activity events of one workflow's history."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    lines: list[str] = []
    others: Counter[str] = Counter()
    for event in history.events:
        line = _line(event)
        if line is None:
            others[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")] += 1
        else:
            lines.append(line)
    if others:
        lines.append("other events: " + ", ".join(f"{k} {v}" for k, v in others.most_common()))
    return lines


def log_errors(text: str, *, limit: int = 5, tail: int = 12) -> list[str]:
    """The first `limit` ERROR records of a JSON log (the API's or the
    worker's): time, request id, message and the end of the traceback."""
    found: list[str] = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("level") not in {"ERROR", "CRITICAL"}:
            continue
        found.append(f"{entry.get('time')} request {entry.get('request_id', '-')}: {entry.get('message')}")
        exception = str(entry.get("exception", ""))
        found += ["    " + x for x in exception.splitlines()[-tail:]]
        if sum(1 for x in found if not x.startswith("    ")) == limit:
            break
    return found


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*")


def exception_summary(text: str) -> list[str]:
    """Each distinct exception (the last `SomeError: message` line of the
    traceback) of the ERROR records of a JSON log, with its count; no file
    paths, no links."""
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in {"ERROR", "CRITICAL"}:
            lines = [x for x in str(entry.get("exception", "")).splitlines() if EXCEPTION_LINE.match(x)]
            counts[lines[-1][:200] if lines else str(entry.get("message")).strip()[:200]] += 1
    return [f"{n} × {last}" for last, n in counts.most_common()]
