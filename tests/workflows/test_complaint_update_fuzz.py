"""No input jams a complaint: every Update of the complaint workflow, driven along whole
lives (accept, decide, tell the parties, varied, with generated steps between) by every
kind of actor, is refused by its validator or taken, and no workflow task ever fails
(tests/workflows/test_update_fuzz.py does the same for the commission)."""

import asyncio
import dataclasses
import inspect
import typing
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.domain.calendar import local_today
from appraisal.domain.commission import Material
from appraisal.domain.complaint import (
    DECLINE_GROUNDS,
    TERMINAL_COMPLAINT_STAGES,
    ComplaintAcceptance,
    ComplaintDecision,
    ComplaintDecline,
    ComplaintExtension,
    ComplaintSnapshot,
    Outcome,
    PartiesNotice,
    SupplementReceipt,
    SupplementRequest,
)
from appraisal.workflows.complaint import ComplaintWorkflow
from tests.workflows.test_complaint_workflow import complaint_input, other_bureau, start, supervisor
from tests.workflows.test_update_fuzz import failed_tasks, request_for, value_for

UPDATES = [
    name
    for name, member in vars(ComplaintWorkflow).items()
    if inspect.iscoroutinefunction(member)
    and not name.startswith("_")
    and name not in ("run", "register")
    and typing.get_type_hints(member).get("return") is ComplaintSnapshot
]
HAPPY_PATH = ["accept", "decide", "notify_parties"]


def argument_type(update: str) -> Any:
    hints = typing.get_type_hints(getattr(ComplaintWorkflow, update))
    return next(v for k, v in hints.items() if k != "return")


def templates(today: date) -> dict[str, Any]:
    on = today.isoformat()
    extension = ComplaintExtension(supervisor, 10, "案情复杂", "局长", on)
    requests: dict[str, Any] = {
        "accept": ComplaintAcceptance(supervisor, on),
        "decline": ComplaintDecline(supervisor, next(iter(DECLINE_GROUNDS)), "不属受理范围", on),
        "request_supplement": SupplementRequest(supervisor, "补充证据", on),
        "receive_supplement": SupplementReceipt(supervisor, on, [Material("证据", "ab" * 32)]),
        "extend_acceptance": extension,
        "extend_handling": extension,
        "decide": ComplaintDecision(supervisor, "经查，鉴定人未回避", Outcome.INDUSTRY_DISCIPLINE, on),
        "notify_parties": PartiesNotice(supervisor, on, "挂号信"),
    }
    assert set(requests) == set(UPDATES), "a new Update needs its template here"
    return requests


def varied(template: Any, today: date) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(type(template))
    others = st.sampled_from([other_bureau]).map(lambda a: dataclasses.replace(template, actor=a))
    one = [
        st.builds(
            lambda v, f=f.name: dataclasses.replace(template, **{f: v}), value_for(hints[f.name], today)
        )
        for f in dataclasses.fields(template)
    ]
    return st.one_of(st.just(template), others, *one)


def one_step(today: date) -> st.SearchStrategy[tuple[str, Any]]:
    return st.sampled_from(UPDATES).flatmap(
        lambda u: st.tuples(
            st.just(u), st.one_of(varied(templates(today)[u], today), request_for(argument_type(u), today))
        )
    )


def a_life(today: date) -> st.SearchStrategy[list[tuple[str, Any]]]:
    base = templates(today)
    parts = [
        st.tuples(
            st.lists(one_step(today), max_size=2),
            st.one_of(st.just((u, base[u])), st.tuples(st.just(u), varied(base[u], today))),
        ).map(lambda pair: [*pair[0], pair[1]])
        for u in HAPPY_PATH
    ]
    return st.tuples(*parts).map(lambda lists: [step for part in lists for step in part])


async def take(
    handle: WorkflowHandle[ComplaintWorkflow, ComplaintSnapshot], step: tuple[str, Any]
) -> ComplaintSnapshot | None:
    update, request = step
    try:
        return await asyncio.wait_for(handle.execute_update(getattr(ComplaintWorkflow, update), request), 30)
    except (WorkflowUpdateFailedError, RPCError):
        return None


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_update_the_validator_takes_fails_a_complaint_workflow_task(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker, data: st.DataObject
) -> None:
    today = local_today(await temporal_env.get_current_time())
    life = data.draw(a_life(today), label="steps")
    handle, _ = await start(temporal_env, task_queue, complaint_input(today.isoformat()))
    for step in life:
        snapshot = await take(handle, step)
        if snapshot is None:
            continue
        assert await failed_tasks(temporal_env, handle.id) == [], step
        if snapshot.stage in TERMINAL_COMPLAINT_STAGES:
            break
    assert await failed_tasks(temporal_env, handle.id) == []
