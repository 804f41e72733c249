"""The complaint endpoints end to end: httpx → FastAPI → time-skipping Temporal
→ production worker → PostgreSQL. Registration and its refusals, every step
of POST /v1/complaints/{id}/decision and each of its 409s, bad bodies (422
naming the field) and who may see what."""

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.db.models import IntegrityEntryRow
from appraisal.domain.calendar import WorkingCalendar, local_today
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU, OTHER_BUREAU
from tests.api.test_commissions_api import entrust
from tests.factories import CLINICAL_APPRAISERS, ELSEWHERE, INSTITUTION, OTHER_INSTITUTION, court_actor

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")
other_bureau = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspector")
APPRAISER = CLINICAL_APPRAISERS[0]
KNEW_ON = (local_today(datetime.now(UTC)) - timedelta(days=60)).isoformat()
"""Sixty days before the run began: inside the three-year bar (CMP-1) and before
the day of registration on every hard day the run moves to."""


def complaint_body(reference: str = "渝司投〔2026〕1号", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": reference,
        "complainant": {"name": "张三", "kind": "person", "interest": "被鉴定人，鉴定意见涉及其伤残等级"},
        "institution_id": INSTITUTION.id,
        "appraiser_id": APPRAISER.id,
        "summary": "鉴定人应回避而未回避",
        "knew_on": KNEW_ON,
        "materials": [{"name": "投诉书", "sha256": "cd" * 32}],
    }
    body.update(overrides)
    return body


async def register(api: httpx.AsyncClient, auth: Auth, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/v1/complaints", json=complaint_body(**overrides), headers=auth(supervisor))
    assert response.status_code == 201, response.text
    return dict(response.json())


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def clock(body: dict[str, Any], rule: str) -> dict[str, Any]:
    return dict(next(c for c in body["clocks"] if c["rule"] == rule))


async def env_today(temporal_env: WorkflowEnvironment) -> date:
    return local_today(await temporal_env.get_current_time())


@pytest.mark.dated
async def test_registration_is_idempotent_on_the_reference_and_shows_the_acceptance_clock(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    today = await env_today(temporal_env)
    created = await register(api, auth)
    assert created["stage"] == "awaiting_acceptance"
    assert created["institution_id"] == INSTITUTION.id and created["appraiser_id"] == APPRAISER.id
    assert created["received_on"] == today.isoformat() and created["bureau_id"] == BUREAU.id
    acceptance = clock(created, "CMP-5")
    assert acceptance["unit"] == "working_day" and acceptance["working_days_left"] == 7
    assert acceptance["due_on"] == WorkingCalendar().add_working_days(today, 7).due_on.isoformat()
    assert created["open_tasks"] == [
        {
            "kind": "decide_complaint_acceptance",
            "assignee_role": "supervisor",
            "assignee_id": BUREAU.id,
            "due_on": acceptance["due_on"],
            "rule": "CMP-5",
        }
    ]
    again = await api.post("/v1/complaints", json=complaint_body(), headers=auth(supervisor))
    assert again.status_code == 200 and again.json()["id"] == created["id"]
    fetched = await api.get(f"/v1/complaints/{created['id']}", headers=auth(supervisor))
    assert fetched.status_code == 200 and fetched.json()["complainant"]["interest"].startswith("被鉴定人")
    trail = (await api.get(f"/v1/complaints/{created['id']}/audit", headers=auth(supervisor))).json()
    assert [e["kind"] for e in trail] == ["complaint.registered"]
    assert trail[0]["actor_role"] == "supervisor" and trail[0]["data"]["knew_on"] == KNEW_ON


async def test_an_appraiser_alone_names_the_institution_and_a_linked_commission_must_be_its(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    commission = await entrust(api, auth, reference="REF-COMPLAINED")
    body = await register(
        api, auth, reference="渝司投〔2026〕2号", institution_id=None, commission_id=commission["id"]
    )
    assert body["institution_id"] == INSTITUTION.id and body["commission_id"] == commission["id"]
    elsewhere = await api.post(
        "/v1/complaints",
        json=complaint_body(
            "渝司投〔2026〕3号",
            institution_id=OTHER_INSTITUTION.id,
            appraiser_id=None,
            commission_id=commission["id"],
        ),
        headers=auth(supervisor),
    )
    assert error(elsewhere) == (422, "invalid_input")
    assert elsewhere.json()["error"]["details"][0]["field"] == "commission_id"


@pytest.mark.dated
async def test_a_time_barred_complaint_or_another_bureaus_institution_is_refused_with_409(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    today = await env_today(temporal_env)
    received = today - timedelta(days=10)
    barred = await api.post(
        "/v1/complaints",
        json=complaint_body(
            "渝司投〔2026〕9号",
            received_on=received.isoformat(),
            # Three years and a month: past the bar however far a rest day rolls its last day.
            knew_on=(received - timedelta(days=3 * 366 + 31)).isoformat(),
        ),
        headers=auth(supervisor),
    )
    assert error(barred) == (409, "time_barred")
    assert barred.json()["error"]["details"] == {"rule": "CMP-1"}
    not_ours = await api.post("/v1/complaints", json=complaint_body(), headers=auth(other_bureau))
    assert error(not_ours) == (409, "not_in_bureau")
    assert not_ours.json()["error"]["details"] == {"rule": "CMP-2"}
    # Nothing was started for either: the same references register normally afterwards.
    assert (await register(api, auth, reference="渝司投〔2026〕9号"))["stage"] == "awaiting_acceptance"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"knew_on": None}, "knew_on"),
        ({"knew_on": "2026-02-30"}, "knew_on"),
        ({"knew_on": timedelta(days=-1), "received_on": timedelta(days=-2)}, "knew_on"),
        ({"received_on": "2099-01-01"}, "received_on"),
        ({"institution_id": None, "appraiser_id": None}, "institution_id"),
        ({"institution_id": "no-such-institution", "appraiser_id": None}, "institution_id"),
        ({"appraiser_id": ELSEWHERE.id}, "appraiser_id"),
        ({"commission_id": "no-such-commission"}, "commission_id"),
        ({"complainant": {"name": "张三", "kind": "neighbour", "interest": "x"}}, "complainant.kind"),
        ({"complainant": {"name": "张三", "kind": "person", "interest": " "}}, "complainant.interest"),
        ({"summary": ""}, "summary"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_a_bad_registration_is_422_naming_the_field(
    api: httpx.AsyncClient, auth: Auth, overrides: dict[str, Any], field: str, today: date
) -> None:
    """A timedelta in the overrides is that many days from today."""
    dated = {k: (today + v).isoformat() if isinstance(v, timedelta) else v for k, v in overrides.items()}
    body = complaint_body("渝司投〔2026〕422号", **dated)
    response = await api.post(
        "/v1/complaints", json={k: v for k, v in body.items() if v is not None}, headers=auth(supervisor)
    )
    assert error(response) == (422, "invalid_input"), response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


async def test_only_the_bureaus_supervisors_see_or_act_on_a_complaint(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    cid = (await register(api, auth))["id"]
    for method, path, body in (
        ("GET", f"/v1/complaints/{cid}", None),
        ("GET", f"/v1/complaints/{cid}/audit", None),
        ("POST", f"/v1/complaints/{cid}/decision", {"decision": "accept"}),
    ):
        assert error(await api.request(method, path, json=body, headers=auth(court_actor))) == (
            403,
            "forbidden",
        )
        outside = await api.request(method, path, json=body, headers=auth(other_bureau))
        assert (
            error(outside) == (404, "not_found") and outside.json()["error"]["message"] == "no such complaint"
        )
    assert error(await api.get("/v1/complaints/no-such-complaint", headers=auth(supervisor))) == (
        404,
        "not_found",
    )
    assert error(await api.post("/v1/complaints", json=complaint_body(), headers=auth(court_actor))) == (
        403,
        "forbidden",
    )
    # Still untouched.
    assert (await api.get(f"/v1/complaints/{cid}", headers=auth(supervisor))).json()[
        "stage"
    ] == "awaiting_acceptance"


@pytest.mark.dated
async def test_every_step_through_the_decision_endpoint(
    api: httpx.AsyncClient,
    auth: Auth,
    temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    today = await env_today(temporal_env)
    calendar = WorkingCalendar()
    cid = (await register(api, auth))["id"]
    url = f"/v1/complaints/{cid}/decision"

    async def step(body: dict[str, Any]) -> dict[str, Any]:
        response = await api.post(url, json=body, headers=auth(supervisor))
        assert response.status_code == 200, response.text
        return dict(response.json())

    paused = await step({"decision": "request_supplement", "description": "补充鉴定意见书"})
    assert (
        paused["stage"] == "awaiting_supplement"
        and paused["pending_supplement"]["description"] == "补充鉴定意见书"
    )
    assert clock(paused, "CMP-5")["paused"] and clock(paused, "CMP-5")["working_days_left"] == 7
    resumed = await step(
        {"decision": "supplement_received", "materials": [{"name": "意见书", "sha256": "ef" * 32}]}
    )
    assert resumed["stage"] == "awaiting_acceptance" and not clock(resumed, "CMP-5")["paused"]
    extended = await step({"decision": "extend_acceptance", "days": 15, "reason": "案情复杂"})
    acceptance = clock(extended, "CMP-5")
    assert acceptance["extended"] and acceptance["working_days_left"] == 22
    assert acceptance["due_on"] == calendar.add_working_days(today, 22).due_on.isoformat()

    accepted = await step({"decision": "accept", "note": "符合受理条件"})
    assert accepted["stage"] == "handling" and accepted["accepted_on"] == today.isoformat()
    handling = clock(accepted, "CMP-6")
    assert handling["unit"] == "natural_day" and handling["budget_days"] == 60
    assert handling["due_on"] == calendar.add_natural_days(today, 60).due_on.isoformat()
    assert handling["working_days_left"] == calendar.working_days_between(
        today, date.fromisoformat(handling["due_on"])
    )
    extended = await step(
        {"decision": "extend_handling", "days": 30, "reason": "需专家论证", "approved_by": "李局长"}
    )
    assert clock(extended, "CMP-6")["due_on"] == calendar.add_natural_days(today, 90).due_on.isoformat()

    decided = await step(
        {"decision": "decide", "findings": "鉴定人应回避而未回避", "outcome": "criticism_or_correction_order"}
    )
    assert decided["stage"] == "decided" and decided["decision"]["outcome"] == "criticism_or_correction_order"
    assert clock(decided, "CMP-6")["stopped"] and clock(decided, "CMP-7")["working_days_left"] == 7
    assert {(e["subject_kind"], e["subject_id"]) for e in decided["integrity_entries"]} == {
        ("appraiser", APPRAISER.id),
        ("institution", INSTITUTION.id),
    }
    async with sessions() as session:
        assert len((await session.exec(select(IntegrityEntryRow))).all()) == 2

    closed = await step({"decision": "notify_parties", "method": "挂号信"})
    assert closed["stage"] == "closed" and closed["notice"]["method"] == "挂号信"
    assert all(c["stopped"] for c in closed["clocks"]) and closed["open_tasks"] == []
    assert error(await api.post(url, json={"decision": "accept"}, headers=auth(supervisor))) == (
        409,
        "not_in_stage",
    )
    trail = (await api.get(f"/v1/complaints/{cid}/audit", headers=auth(supervisor))).json()
    assert [e["kind"] for e in trail] == [
        "complaint.registered",
        "clock.paused",
        "clock.resumed",
        "clock.extended",
        "complaint.accepted",
        "clock.extended",
        "complaint.decided",
        "integrity.recorded",
        "complaint.parties_notified",
    ]
    assert [e["seq"] for e in trail] == list(range(1, 10))
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(trail))


@pytest.mark.dated
async def test_each_step_not_allowed_now_is_409_with_its_rule(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    today = await env_today(temporal_env)
    cid = (await register(api, auth))["id"]
    url = f"/v1/complaints/{cid}/decision"

    async def refused(body: dict[str, Any]) -> tuple[int, str]:
        return error(await api.post(url, json=body, headers=auth(supervisor)))

    assert await refused({"decision": "decide", "findings": "x", "outcome": "no_action"}) == (
        409,
        "not_in_stage",
    )
    assert await refused({"decision": "notify_parties"}) == (409, "not_in_stage")
    assert await refused({"decision": "supplement_received"}) == (409, "not_in_stage")
    assert await refused(
        {"decision": "extend_handling", "days": 5, "reason": "x", "approved_by": "局长"}
    ) == (
        409,
        "not_in_stage",
    )
    assert await refused({"decision": "extend_acceptance", "days": 16, "reason": "x"}) == (
        409,
        "extension_too_long",
    )
    assert await refused({"decision": "accept", "on": "2025-12-31"}) == (409, "date_out_of_range")
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert await refused({"decision": "accept", "on": tomorrow}) == (409, "date_out_of_range")
    assert (
        await api.post(
            url, json={"decision": "extend_acceptance", "days": 3, "reason": "x"}, headers=auth(supervisor)
        )
    ).status_code == 200
    assert await refused({"decision": "extend_acceptance", "days": 3, "reason": "x"}) == (
        409,
        "extension_already_granted",
    )
    assert (await api.post(url, json={"decision": "accept"}, headers=auth(supervisor))).status_code == 200
    assert await refused({"decision": "request_supplement", "description": "x"}) == (409, "not_in_stage")
    assert await refused(
        {"decision": "extend_handling", "days": 31, "reason": "x", "approved_by": "局长"}
    ) == (
        409,
        "extension_too_long",
    )
    assert await refused({"decision": "decline", "ground": "CMP-4-3", "reason": "x"}) == (409, "not_in_stage")
    detail = (
        await api.post(
            url, json={"decision": "extend_acceptance", "days": 3, "reason": "x"}, headers=auth(supervisor)
        )
    ).json()
    assert detail["error"]["code"] == "not_in_stage"
    trail = (await api.get(f"/v1/complaints/{cid}/audit", headers=auth(supervisor))).json()
    assert [e["kind"] for e in trail] == ["complaint.registered", "clock.extended", "complaint.accepted"]


async def test_a_declined_complaint_records_its_ground_and_ends(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = (await register(api, auth))["id"]
    url = f"/v1/complaints/{cid}/decision"
    declined = await api.post(
        url,
        json={"decision": "decline", "ground": "CMP-4-3", "reason": "仅对鉴定意见有异议"},
        headers=auth(supervisor),
    )
    assert declined.status_code == 200, declined.text
    body = declined.json()
    assert body["stage"] == "declined" and body["decline"]["ground"] == "CMP-4-3"
    assert clock(body, "CMP-5")["stopped"] and body["open_tasks"] == []
    again = await api.post(url, json={"decision": "accept"}, headers=auth(supervisor))
    assert error(again) == (409, "not_in_stage")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "decision"),
        ({"decision": "approve"}, "decision"),
        ({"decision": "decline", "reason": "x"}, "ground"),
        ({"decision": "decline", "ground": "CMP-4-9", "reason": "x"}, "ground"),
        ({"decision": "decline", "ground": "CMP-4-1"}, "reason"),
        ({"decision": "extend_acceptance", "reason": "x"}, "days"),
        ({"decision": "extend_acceptance", "days": 0, "reason": "x"}, "days"),
        ({"decision": "extend_handling", "days": 5, "reason": "x"}, "approved_by"),
        ({"decision": "request_supplement"}, "description"),
        ({"decision": "decide", "outcome": "no_action"}, "findings"),
        ({"decision": "decide", "findings": "x", "outcome": "fine"}, "outcome"),
        ({"decision": "accept", "findings": "x"}, "findings"),
        ({"decision": "accept", "on": "2026-13-01"}, "on"),
        ({"decision": "notify_parties", "days": 3}, "days"),
        ({"decision": "accept", "surprise": True}, "surprise"),
    ],
)
async def test_a_bad_decision_body_is_422_naming_the_field(
    api: httpx.AsyncClient, auth: Auth, body: dict[str, Any], field: str
) -> None:
    cid = (await register(api, auth))["id"]
    response = await api.post(f"/v1/complaints/{cid}/decision", json=body, headers=auth(supervisor))
    assert error(response) == (422, "invalid_input"), response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]
