"""A supervisor's inbox holds more than commissions: the bureau's complaint
steps and licences about to expire (REG-8) wait there too, soonest first."""

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from appraisal.domain.roles import Actor
from appraisal.seed import INSTITUTIONS
from tests.api.test_complaints_api import register, supervisor
from tests.api.test_registry_api import api_today

pytestmark = pytest.mark.dated

Auth = Callable[[Actor], dict[str, str]]


async def supervisor_inbox(api: httpx.AsyncClient, auth: Auth) -> list[dict[str, object]]:
    response = await api.get("/v1/tasks", headers=auth(supervisor))
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_complaint_steps_wait_in_the_supervisors_inbox(api: httpx.AsyncClient, auth: Auth) -> None:
    complaint = await register(api, auth)
    (task,) = [t for t in await supervisor_inbox(api, auth) if t["complaint_id"] == complaint["id"]]
    assert task["commission_id"] is None and task["court_reference"] == complaint["reference"]
    assert task["rule"] == "CMP-5" and task["stage"] == "awaiting_acceptance"
    assert task["due_on"] == next(c for c in complaint["clocks"] if c["rule"] == "CMP-5")["due_on"]
    accepted = await api.post(
        f"/v1/complaints/{complaint['id']}/decision",
        json={"decision": "accept"},
        headers=auth(supervisor),
    )
    assert accepted.status_code == 200, accepted.text
    (task,) = [t for t in await supervisor_inbox(api, auth) if t["complaint_id"] == complaint["id"]]
    assert task["rule"] == "CMP-6" and task["stage"] == "handling"


async def test_an_expiring_licence_waits_in_the_inbox_until_renewed(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    today = await api_today(api, auth)
    soon = (today + timedelta(days=30)).isoformat()
    url = f"/v1/registry/institutions/{INSTITUTIONS[2].id}"
    assert (
        await api.patch(url, json={"licence_valid_until": soon}, headers=auth(supervisor))
    ).status_code == 200
    (task,) = [t for t in await supervisor_inbox(api, auth) if t["licence_task_id"] is not None]
    assert task["kind"] == "renew_licence" and task["due_on"] == soon and task["rule"] == "REG-8"
    assert INSTITUTIONS[2].id in str(task["court_reference"])
    later = (today + timedelta(days=365 * 5)).isoformat()
    assert (
        await api.patch(url, json={"licence_valid_until": later}, headers=auth(supervisor))
    ).status_code == 200
    assert [t for t in await supervisor_inbox(api, auth) if t["licence_task_id"] is not None] == []
