"""The clock endpoints through the REST API: materials, extension, the court's
limit, escalations in the inbox, re-entrustment, the calendar, notifications."""

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.activities.notification import NotificationActivities
from appraisal.db.models import Notification
from appraisal.domain.calendar import WorkingCalendar, local_today
from appraisal.domain.events import DeliveryRequest
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU
from tests.api.test_commissions_api import APPRAISER_IDS, entrust, inbox
from tests.factories import (
    OTHER_INSTITUTION,
    appraiser_actor,
    court_actor,
    head_actor,
    institution_actor,
)
from tests.workflows.test_commission_workflow import eventually

pytestmark = pytest.mark.dated

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def accepted(api: httpx.AsyncClient, auth: Auth, **entrust_overrides: Any) -> str:
    cid = str((await entrust(api, auth, **entrust_overrides))["id"])
    response = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert response.status_code == 200, response.text
    return cid


def clock(body: dict[str, Any], rule: str) -> dict[str, Any]:
    return dict(next(c for c in body["clocks"] if c["rule"] == rule))


async def test_material_request_pauses_and_supply_resumes(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = await accepted(api, auth)
    url = f"/v1/commissions/{cid}"
    appraiser = appraiser_actor(APPRAISER_IDS[0])
    assert error(
        await api.post(f"{url}/material-requests", json={"description": "x"}, headers=auth(court_actor))
    ) == (403, "forbidden")
    paused = await api.post(
        f"{url}/material-requests", json={"description": "补充病历"}, headers=auth(appraiser)
    )
    assert paused.status_code == 200, paused.text
    body = paused.json()
    assert body["stage"] == "awaiting_materials" and body["pending_request"]["description"] == "补充病历"
    examination = clock(body, "PROC-17")
    assert examination["paused"] and examination["working_days_left"] == 30 - examination["used_days"]
    assert any(t == (cid, "supply_materials") for t in await inbox(api, auth, court_actor))
    again = await api.post(
        f"{url}/material-requests", json={"description": "再补"}, headers=auth(institution_actor)
    )
    assert error(again) == (409, "not_in_stage")
    early = await api.post(f"{url}/materials", json={"received_on": "2020-01-01"}, headers=auth(court_actor))
    assert error(early) == (409, "date_out_of_range")
    assert error(await api.post(f"{url}/materials", json={}, headers=auth(institution_actor))) == (
        403,
        "forbidden",
    )
    resumed = await api.post(
        f"{url}/materials",
        json={"materials": [{"name": "病历", "sha256": "ef" * 32}]},
        headers=auth(court_actor),
    )
    assert resumed.status_code == 200 and resumed.json()["stage"] == "examining"
    assert not clock(resumed.json(), "PROC-17")["paused"]
    assert error(await api.post(f"{url}/materials", json={}, headers=auth(court_actor))) == (
        409,
        "not_in_stage",
    )
    kinds = [e["kind"] for e in (await api.get(f"{url}/audit", headers=auth(court_actor))).json()]
    assert kinds[-2:] == ["clock.paused", "clock.resumed"]


async def test_material_request_during_intake_pauses_the_acceptance_clock(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    cid = (await entrust(api, auth))["id"]
    url = f"/v1/commissions/{cid}"
    witness = await api.post(
        f"{url}/material-requests",
        json={"description": "x", "kind": "witness"},
        headers=auth(institution_actor),
    )
    assert error(witness) == (409, "not_in_stage")
    paused = await api.post(
        f"{url}/material-requests", json={"description": "委托书不完整"}, headers=auth(institution_actor)
    )
    assert paused.status_code == 200 and clock(paused.json(), "PROC-03")["paused"]
    resumed = await api.post(f"{url}/materials", json={}, headers=auth(court_actor))
    assert resumed.json()["stage"] == "awaiting_acceptance"


async def test_extension_by_the_head_once_and_every_409(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = await accepted(api, auth)
    url = f"/v1/commissions/{cid}/extension"
    assert error(
        await api.post(url, json={"working_days": 10, "reason": "复杂"}, headers=auth(institution_actor))
    ) == (403, "forbidden")
    assert error(
        await api.post(url, json={"working_days": 31, "reason": "复杂"}, headers=auth(head_actor))
    ) == (409, "extension_too_long")
    assert (
        await api.post(url, json={"working_days": 0, "reason": "复杂"}, headers=auth(head_actor))
    ).status_code == 422
    assert (await api.post(url, json={"working_days": 10}, headers=auth(head_actor))).status_code == 422
    granted = await api.post(url, json={"working_days": 30, "reason": "案情复杂"}, headers=auth(head_actor))
    assert granted.status_code == 200
    examination = clock(granted.json(), "PROC-17")
    assert examination["extended"] and examination["working_days_left"] == 60
    assert error(
        await api.post(url, json={"working_days": 5, "reason": "再延"}, headers=auth(head_actor))
    ) == (409, "extension_already_granted")
    notified = [n["kind"] for n in (await api.get("/v1/notifications", headers=auth(court_actor))).json()]
    assert "clock.extended" in notified


async def test_no_extension_or_pause_after_the_deadline(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    today = local_today(await temporal_env.get_current_time())
    cid = (await entrust(api, auth, received_on=(today - timedelta(days=90)).isoformat()))["id"]
    url = f"/v1/commissions/{cid}"
    await api.post(
        f"{url}/acceptance",
        json={
            "decision": "accept",
            "appraiser_ids": APPRAISER_IDS,
            "agreement_effective_on": (today - timedelta(days=80)).isoformat(),
        },
        headers=auth(institution_actor),
    )
    late = await api.post(
        f"{url}/extension", json={"working_days": 10, "reason": "迟"}, headers=auth(head_actor)
    )
    assert error(late) == (409, "deadline_passed")
    pause = await api.post(
        f"{url}/material-requests", json={"description": "迟"}, headers=auth(institution_actor)
    )
    assert error(pause) == (409, "deadline_passed")


async def test_court_limit_caps_the_examination_budget(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = await accepted(api, auth, court_deadline_working_days=20)
    body = (await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))).json()
    assert clock(body, "PROC-17")["budget_days"] == 20 and clock(body, "PROC-17")["working_days_left"] == 20


async def test_overdue_commission_escalates_into_inboxes_and_the_court_reentrusts(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    today = local_today(await temporal_env.get_current_time())
    old = await entrust(api, auth, received_on=(today - timedelta(days=60)).isoformat())
    cid = old["id"]
    acceptance = clock(old, "PROC-03")
    # Brought in from paper already past every rung: they wait for the catch-up window.
    assert not acceptance["overdue"] and acceptance["rungs_fired"] == []
    assert [r["kind"] for r in acceptance["next_rungs"]] == ["warning", "overdue", "escalation"]
    caught_up = max(datetime.fromisoformat(r["fires_at"]) for r in acceptance["next_rungs"])
    await temporal_env.sleep(caught_up - await temporal_env.get_current_time() + timedelta(minutes=1))

    async def escalated_to_head() -> bool | None:
        # The rungs fire when the window ends; their projection follows.
        return True if (cid, "overdue_escalation") in await inbox(api, auth, head_actor) else None

    await eventually(escalated_to_head)
    assert (cid, "overdue_escalation") in await inbox(api, auth, supervisor)
    assert (cid, "overdue_remedy") in await inbox(api, auth, court_actor)
    filtered = await api.get("/v1/commissions", params={"overdue": "true"}, headers=auth(supervisor))
    assert [c["id"] for c in filtered.json()["items"]] == [cid]

    body = {
        "court_reference": "REENTRUSTED-1",
        "selection": {"mode": "designated", "institution_id": OTHER_INSTITUTION.id},
        "reason": "逾期未受理",
    }
    same = {**body, "selection": {"mode": "designated", "institution_id": old["institution_id"]}}
    assert error(
        await api.post(f"/v1/commissions/{cid}/reentrustment", json=same, headers=auth(court_actor))
    ) == (409, "same_institution")
    assert error(
        await api.post(f"/v1/commissions/{cid}/reentrustment", json=body, headers=auth(institution_actor))
    ) == (403, "forbidden")
    # Five at once (a court's system retrying): one creates it, the rest are its repeats.
    tries = await asyncio.gather(
        *(
            api.post(f"/v1/commissions/{cid}/reentrustment", json=body, headers=auth(court_actor))
            for _ in range(5)
        )
    )
    assert sorted(t.status_code for t in tries) == [200, 200, 200, 200, 201], [t.text for t in tries]
    assert len({t.json()["id"] for t in tries}) == 1
    new = next(t for t in tries if t.status_code == 201).json()
    assert new["previous_commission_id"] == cid and new["institution_id"] == OTHER_INSTITUTION.id
    assert new["stage"] == "awaiting_acceptance"
    repeated = await api.post(f"/v1/commissions/{cid}/reentrustment", json=body, headers=auth(court_actor))
    assert repeated.status_code == 200 and repeated.json()["id"] == new["id"]

    async def reassigned() -> dict[str, Any] | None:  # the old commission's closure, once projected
        current = (await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))).json()
        return current if current["stage"] == "reassigned" else None

    closed = await eventually(reassigned)
    assert closed["reassigned_to"] == new["id"]
    assert closed["refund"]["rule"] == "CRT-5"
    kinds = [
        e["kind"] for e in (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
    ]
    assert kinds[-2:] == ["commission.reassigned", "fee.refund_ordered"]
    assert (cid, "overdue_escalation") not in await inbox(api, auth, head_actor)


async def test_reentrustment_needs_an_overdue_commission(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = (await entrust(api, auth))["id"]
    body = {
        "court_reference": "TOO-EARLY",
        "selection": {"mode": "designated", "institution_id": OTHER_INSTITUTION.id},
        "reason": "想换",
    }
    assert error(
        await api.post(f"/v1/commissions/{cid}/reentrustment", json=body, headers=auth(court_actor))
    ) == (409, "not_overdue")
    withdrawn = await api.post(
        f"/v1/commissions/{cid}/withdrawal", json={"reason": "撤回"}, headers=auth(court_actor)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    ended = await api.post(f"/v1/commissions/{cid}/reentrustment", json=body, headers=auth(court_actor))
    assert error(ended) == (409, "not_in_stage") and ended.json()["error"]["details"] == {"rule": "CRT-5"}


async def test_calendar_read_and_load(api: httpx.AsyncClient, auth: Auth) -> None:
    year_2026 = (await api.get("/v1/calendar/2026", headers=auth(court_actor))).json()
    assert year_2026["official"] is True and "2026-10-10" in year_2026["makeup_workdays"]
    year_2027 = (await api.get("/v1/calendar/2027", headers=auth(court_actor))).json()
    assert year_2027["official"] is False and "2027-02-08" in year_2027["rest_days"]
    assert (await api.get("/v1/calendar/1900", headers=auth(court_actor))).status_code == 422
    body = {
        "rest_days": ["2027-01-01", "2027-02-05"],
        "makeup_workdays": ["2027-02-20"],
        "source": "国办发明电〔2026〕N号",
    }
    assert error(await api.put("/v1/calendar/2027", json=body, headers=auth(court_actor))) == (
        403,
        "forbidden",
    )
    weekday = {**body, "makeup_workdays": ["2027-02-22"]}
    bad = await api.put("/v1/calendar/2027", json=weekday, headers=auth(supervisor))
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "makeup_workdays"
    wrong_year = {**body, "rest_days": ["2028-01-01"]}
    assert (await api.put("/v1/calendar/2027", json=wrong_year, headers=auth(supervisor))).status_code == 422
    loaded = await api.put("/v1/calendar/2027", json=body, headers=auth(supervisor))
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["official"] is True and loaded.json()["reload_workflow_id"].startswith(
        "calendar-2027-"
    )
    shown = (await api.get("/v1/calendar/2027", headers=auth(court_actor))).json()
    assert (
        shown["official"]
        and shown["rest_days"] == ["2027-01-01", "2027-02-05"]
        and shown["loaded_by"] == "inspector"
    )


async def test_notifications_are_delivered_once_per_receiver_and_event(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    hook = "http://court-system.test/hooks/appraisal"
    assert (
        await api.put("/v1/notifications/webhook", json={"url": hook}, headers=auth(court_actor))
    ).status_code == 200
    assert (
        await api.put("/v1/notifications/webhook", json={"url": "ftp://x"}, headers=auth(court_actor))
    ).status_code == 422
    cid = await accepted(api, auth)

    async def accepted_notification() -> Notification | None:
        async with sessions() as session:
            return (
                await session.exec(
                    select(Notification).where(
                        Notification.commission_id == cid,
                        Notification.kind == "commission.accepted",
                        Notification.receiver_role == "court",
                    )
                )
            ).first()

    accepted_row = await eventually(accepted_notification)
    # The worker's own delivery may already have run against the unreachable test host; either
    # way the row is still pending. Deliver it here: first the receiver is down, then up.
    received: list[str] = []

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    def up(request: httpx.Request) -> httpx.Response:
        received.append(request.headers["Idempotency-Key"])
        return httpx.Response(204)

    request = DeliveryRequest(workflow_id=accepted_row.workflow_id, event_seq=accepted_row.event_seq)
    failing = NotificationActivities(sessions, httpx.AsyncClient(transport=httpx.MockTransport(down)))
    try:
        await failing.deliver_notifications(request)
    except RuntimeError:
        pass
    else:
        raise AssertionError("a failed delivery must raise so Temporal retries it")
    working = NotificationActivities(sessions, httpx.AsyncClient(transport=httpx.MockTransport(up)))
    result = await working.deliver_notifications(request)
    again = await working.deliver_notifications(request)
    assert result.delivered >= 1 and again.delivered == 0
    assert received == [
        f"{accepted_row.workflow_id}:{accepted_row.event_seq}:court:{court_actor.organisation_id}"
    ]
    mine = (await api.get("/v1/notifications", headers=auth(court_actor))).json()
    statuses = {n["kind"]: n["status"] for n in mine}
    assert statuses["commission.accepted"] == "delivered"

    async def institution_row_settled() -> str | None:
        async with sessions() as session:
            row = (
                await session.exec(
                    select(Notification).where(
                        Notification.commission_id == cid, Notification.receiver_role == "institution"
                    )
                )
            ).first()
        return row.status if row and row.status != "pending" else None

    # Without a webhook the notification is kept, readable, and marked so.
    assert await eventually(institution_row_settled) == "no_endpoint"


def test_calendar_module_agrees_with_the_api_example() -> None:
    assert WorkingCalendar().add_working_days(date(2026, 9, 24), 7).due_on == date(2026, 10, 12)
