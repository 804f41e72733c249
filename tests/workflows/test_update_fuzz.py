"""No input jams a commission: every Update of the commission workflow, driven with
generated inputs (plausible values and arbitrary ones, from every kind of actor), is
either refused by its validator or taken, and no workflow task ever fails, in the
commission or in a testimony child it starts. A failing task would retry forever and
the commission could never move again (a hearing at 9999-12-31 once did exactly that)."""

import asyncio
import dataclasses
import inspect
import types
import typing
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.domain.calendar import CHINA_TZ, local_today
from appraisal.domain.commission import CommissionSnapshot, Material, RegistrationRequest
from appraisal.domain.criminal import NotifiedPerson
from appraisal.domain.fees import FeeItem
from appraisal.domain.parties import PartyRecord
from appraisal.domain.roles import Actor, Role
from appraisal.domain.stages import TERMINAL_STAGES
from appraisal.seed import BUREAU, POLICE, PROCURATORATES
from appraisal.workflows.commission import CommissionWorkflow, workflow_id_for
from tests.factories import (
    CLINICAL_APPRAISERS,
    ELSEWHERE,
    INSTITUTION,
    OTHER_INSTITUTION,
    RESERVE_APPRAISER,
    appraiser_actor,
    commission_input,
    court_actor,
    head_actor,
    institution_actor,
)
from tests.workflows.test_commission_workflow import start

APPRAISER_IDS = [a.id for a in CLINICAL_APPRAISERS]
POLICE_CASE = "A5001035000002026010001"

UPDATES = [
    name
    for name, member in vars(CommissionWorkflow).items()
    if inspect.iscoroutinefunction(member)
    and not name.startswith("_")
    and name not in ("run", "register")
    and typing.get_type_hints(member).get("return") is CommissionSnapshot
]
"""Every step Update (the asynchronous handlers answering a snapshot; the query is not one)."""
POLICE_ACTOR = Actor(Role.PUBLIC_SECURITY, POLICE[0].id, "officer")
PARTY_ACTOR = Actor(Role.PARTY, "party-1", "party")
ACTORS = [
    PARTY_ACTOR,
    court_actor,
    POLICE_ACTOR,
    institution_actor,
    head_actor,
    appraiser_actor(APPRAISER_IDS[0]),
    appraiser_actor(APPRAISER_IDS[1]),
    appraiser_actor(ELSEWHERE.id),
    Actor(Role.SUPERVISOR, INSTITUTION.bureau_id, "inspector"),
]
WORDS = [
    "accept", "refuse", "sign", "dissent", "materials", "witness", "withdrawn", "maintained", "waived",
    "confirm", "decline", "remote", "PROC-10-2", "PROC-20-5", "PROC-28-1", "PROC-30-1", "PROC-31-1",
    "TST-8-1", "1", "2", RESERVE_APPRAISER.id, *APPRAISER_IDS, "检验所见", "",
    "suspect", "victim", "supplementary", "reappraisal", "PROC-36-S1", "PROC-36-R4", "procuratorate",
    PROCURATORATES[0].id, POLICE[0].id, "party-1", "party", "entruster", "objection", "plaintiff",
]  # fmt: skip
"""Values the validators look for, so that generated steps are taken as well as refused."""


HAPPY_PATH = [
    "register_parties", "quote_fee", "answer_fee_quote", "record_payment",
    "decide_acceptance", "submit_party_request", "submit_report", "sign_report", "sign_report",
    "issue_report", "release_report", "forward_objection", "answer_objection", "summon_testimony", "close",
]  # fmt: skip
"""The steps of a commission's whole life, in order: each run takes them, varied, with other
generated steps in between."""

CRIMINAL_PATH = [
    "decide_acceptance", "submit_report", "sign_report", "sign_report", "issue_report",
    "notify_opinion", "receive_application", "decide_application", "notify_applicant",
    "record_transfer", "close",
]  # fmt: skip
"""A criminal case's commission, entrusted by a police organ (PROC-36, ENT-4)."""


def text_for(today: date) -> st.SearchStrategy[str]:
    days = st.integers(-400, 800).map(lambda n: (today + timedelta(days=n)).isoformat())
    far = st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat)
    return st.one_of(st.sampled_from(WORDS), days, far, st.text(max_size=40))


def value_for(kind: Any, today: date) -> st.SearchStrategy[Any]:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Actor:
        return st.sampled_from(ACTORS)
    if kind is str:
        return text_for(today)
    if kind is bool:
        return st.booleans()
    if kind is int:
        return st.integers(-(2**31), 2**31)
    if kind is datetime:
        now = datetime.combine(today, datetime.min.time(), tzinfo=CHINA_TZ)
        near = st.integers(-3 * 24, 400 * 24).map(lambda h: now + timedelta(hours=h))
        edge = st.sampled_from([datetime(9999, 12, 31, 23, 59, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC)])
        return st.one_of(near, edge)
    if kind is Material:
        return st.builds(Material, text_for(today), st.text(alphabet="0123456789abcdef", max_size=64))
    if origin is list:
        return st.lists(value_for(args[0], today), max_size=4)
    if origin is dict:
        return st.dictionaries(text_for(today), value_for(args[1], today), max_size=3)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(value_for(a, today) for a in args))
    if kind is type(None):
        return st.none()
    if dataclasses.is_dataclass(kind):
        return request_for(kind, today)
    raise NotImplementedError(f"no strategy for {kind}")


def request_for(kind: Any, today: date) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(kind)
    return st.builds(kind, **{f.name: value_for(hints[f.name], today) for f in dataclasses.fields(kind)})


def templates(today: date) -> dict[str, Any]:
    """A request each step would take in the right stage: the base a generated request varies."""
    on, first = today.isoformat(), APPRAISER_IDS[0]
    hearing = datetime.combine(today + timedelta(days=5), datetime.min.time(), tzinfo=CHINA_TZ)
    hints = {u: argument_type(u) for u in UPDATES}
    values: dict[str, tuple[Any, ...]] = {
        "decide_acceptance": (institution_actor, "accept", APPRAISER_IDS, on),
        "request_materials": (institution_actor, "补充病历", on, "materials"),
        "supply_materials": (court_actor, on, [Material("病历", "ab" * 32)]),
        "extend_examination": (head_actor, 10, "案情复杂"),
        "reassign": (court_actor, str(uuid.uuid4()), OTHER_INSTITUTION.id, "逾期"),
        "withdraw": (court_actor, "撤回"),
        "terminate": (institution_actor, "PROC-20-5", "不可抗力"),
        "request_recusal": (appraiser_actor(first), first, "PROC-10-2", "曾参与"),
        "decide_recusal": (institution_actor, "1", True, "成立", RESERVE_APPRAISER.id),
        "forward_objection": (court_actor, "被告", "有异议", (today + timedelta(days=10)).isoformat()),
        "answer_objection": (appraiser_actor(first), "1", "答复"),
        "resolve_objection": (court_actor, "1", "withdrawn", ""),
        "summon_testimony": (court_actor, hearing + timedelta(hours=9), "第一法庭", APPRAISER_IDS, "", ""),
        "request_supplementary": (court_actor, "PROC-30-1", "新材料", []),
        "submit_correction": (appraiser_actor(first), "PROC-28-1", "笔误", "检验所见", "十级伤残", []),
        "order_reappraisal": (court_actor, str(uuid.uuid4()), OTHER_INSTITUTION.id, "PROC-31-1", "重新鉴定"),
        "submit_report": (appraiser_actor(first), "检验所见", "十级伤残", []),
        "sign_report": (appraiser_actor(first), "sign", "", "c2lnbmF0dXJl", ""),
        "issue_report": (head_actor,),
        "close": (court_actor, ""),
        "report_interference": (
            appraiser_actor(first),
            "某公司法务",
            f"{on}T10:00:00+08:00",
            "要求某种意见",
            True,
            "c2lnbmF0dXJl",
            "fp",
        ),
        "review_interference": (Actor(Role.SUPERVISOR, BUREAU.id, "bureau"), "1", "已约谈"),
        "notify_opinion": (POLICE_ACTOR, [NotifiedPerson("suspect", "张某")], on, ""),
        "receive_application": (POLICE_ACTOR, "suspect", "张某", "reappraisal", "依据不足", on),
        "decide_application": (POLICE_ACTOR, "1", False, "依据充分", "", True),
        "notify_applicant": (POLICE_ACTOR, "1", on, ""),
        "record_transfer": (
            POLICE_ACTOR, "t-1", POLICE[0].id, POLICE_CASE, PROCURATORATES[0].id, "procuratorate",
            "procuratorate", "渝渝中检刑诉〔2026〕12号", on, "",
        ),
        "register_parties": (court_actor, [PartyRecord("party-1", "张三", "plaintiff")]),
        "submit_party_request": (PARTY_ACTOR, "materials", "复诊记录", [Material("复诊", "cd" * 32)]),
        "decline_party_request": (court_actor, "1", "无关"),
        "release_report": (court_actor, ""),
        "quote_fee": (
            institution_actor, [FeeItem("伤残等级评定", 150000, 180000, "s-1", "渝价")], "party", "party-1", "",
        ),
        "answer_fee_quote": (PARTY_ACTOR, True, ""),
        "record_payment": (institution_actor, 150000, "P-1", on, ""),
        "record_refund": (institution_actor, 150000, "R-1", on, ""),
    }  # fmt: skip
    return {u: hints[u](*values[u]) for u in UPDATES}


def varied(template: Any, today: date) -> st.SearchStrategy[Any]:
    """The template as it is, with another actor, or with one field generated."""
    hints = typing.get_type_hints(type(template))
    one = [
        st.builds(
            lambda v, f=f.name: dataclasses.replace(template, **{f: v}), value_for(hints[f.name], today)
        )
        for f in dataclasses.fields(template)
    ]
    return st.one_of(st.just(template), *one)


def argument_type(update: str) -> Any:
    hints = typing.get_type_hints(getattr(CommissionWorkflow, update))
    return next(v for k, v in hints.items() if k != "return")


async def failed_tasks(env: WorkflowEnvironment, workflow_id: str) -> list[str]:
    history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    return [
        e.workflow_task_failed_event_attributes.failure.message
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]


def one_step(today: date) -> st.SearchStrategy[tuple[str, Any]]:
    """Any step, with a request varied from its template or generated whole."""
    return st.sampled_from(UPDATES).flatmap(
        lambda u: st.tuples(
            st.just(u), st.one_of(varied(templates(today)[u], today), request_for(argument_type(u), today))
        )
    )


def a_life(today: date, path: list[str] = HAPPY_PATH) -> st.SearchStrategy[list[tuple[str, Any]]]:
    """The happy path's steps (the second signature by the other appraiser), each varied now and
    then, with up to two other steps before each."""
    base = templates(today)
    if path is CRIMINAL_PATH:
        base["close"] = dataclasses.replace(base["close"], actor=POLICE_ACTOR)
    second = dataclasses.replace(base["sign_report"], actor=appraiser_actor(APPRAISER_IDS[1]))
    signatures = [i for i, u in enumerate(path) if u == "sign_report"]
    planned = [(u, second if i == signatures[-1] else base[u]) for i, u in enumerate(path)]
    parts = [
        st.tuples(
            st.lists(one_step(today), max_size=2),
            st.one_of(st.just(step), st.just(step), st.tuples(st.just(step[0]), varied(step[1], today))),
        ).map(lambda pair: [*pair[0], pair[1]])
        for step in planned
    ]
    return st.tuples(*parts).map(lambda lists: [step for part in lists for step in part])


async def take(
    handle: WorkflowHandle[CommissionWorkflow, CommissionSnapshot],
    step: tuple[str, Any],
) -> CommissionSnapshot | None:
    """The step's answer, or None when it is refused or the commission has ended."""
    update, request = step
    try:
        return await asyncio.wait_for(handle.execute_update(getattr(CommissionWorkflow, update), request), 30)
    except (WorkflowUpdateFailedError, RPCError):
        return None


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_update_the_validator_takes_fails_a_workflow_task(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker, data: st.DataObject
) -> None:
    today = local_today(await temporal_env.get_current_time())
    life = data.draw(a_life(today), label="steps")
    inp = commission_input(today.isoformat(), bureau_id=BUREAU.id)
    handle, _ = await start(temporal_env, task_queue, inp)
    children: set[str] = set()
    for step in life:
        snapshot = await take(handle, step)
        if snapshot is None:
            continue
        children |= {t["workflow_id"] for t in snapshot.testimonies}  # each one's state, as a dict
        for workflow_id in [handle.id, *children]:
            assert await failed_tasks(temporal_env, workflow_id) == [], step
        if snapshot.stage in TERMINAL_STAGES:
            break


@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_update_of_a_criminal_case_fails_a_workflow_task(
    temporal_env: WorkflowEnvironment, task_queue: str, worker: Worker, data: st.DataObject
) -> None:
    """The same, on a commission a police organ entrusted: the PROC-36 steps and the hand-over
    taken and refused with generated inputs."""
    today = local_today(await temporal_env.get_current_time())
    life = data.draw(a_life(today, CRIMINAL_PATH), label="steps")
    inp = commission_input(
        today.isoformat(),
        court_id=POLICE[0].id,
        case_number=POLICE_CASE,
        entrusted_by=POLICE_ACTOR,
        entrusting_kind="public_security",
        case_kind="criminal",
    )
    handle = await temporal_env.client.start_workflow(
        CommissionWorkflow.run, inp, id=workflow_id_for(inp.commission_id), task_queue=task_queue
    )
    await handle.execute_update(CommissionWorkflow.register, RegistrationRequest(POLICE_ACTOR))
    for step in life:
        snapshot = await take(handle, step)
        if snapshot is None:
            continue
        assert await failed_tasks(temporal_env, handle.id) == [], step
        if snapshot.stage in TERMINAL_STAGES:
            break
