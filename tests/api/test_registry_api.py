"""Registry writes by the supervising bureau: create, change, suspend, reinstate,
revoke (final), each audited in a hash chain; and the registry enforced where
institutions are selected and appraisers assigned."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from appraisal.domain.audit import chain_hash
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU, INSTITUTIONS, OTHER_BUREAU
from tests.api.test_commissions_api import APPRAISER_IDS, entrust, entrustment
from tests.factories import (
    CLINICAL_APPRAISERS,
    INSTITUTION,
    OTHER_INSTITUTION,
    court_actor,
    institution_actor,
)

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "registrar")
other_bureau = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "registrar")


async def api_today(api: httpx.AsyncClient, auth: Auth) -> date:
    """The API's today (the time-skipping server's), read back from a commission's clock."""
    commission = await entrust(api, auth, reference=f"TODAY-{id(api)}")
    return date.fromisoformat(commission["received_on"])


async def changes(api: httpx.AsyncClient, auth: Auth, entity_id: str = "") -> list[dict[str, Any]]:
    response = await api.get(
        "/v1/registry/changes", params={"entity_id": entity_id} if entity_id else {}, headers=auth(supervisor)
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def set_status(
    api: httpx.AsyncClient, auth: Auth, kind: str, entity_id: str, status: str, **extra: Any
) -> httpx.Response:
    return await api.post(
        f"/v1/registry/{kind}/{entity_id}/status",
        json={"status": status, "reason": f"决定: {status}", **extra},
        headers=auth(supervisor),
    )


async def test_create_change_and_suspend_are_audited_in_a_verifiable_chain(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    created = await api.post(
        "/v1/registry/institutions",
        json={"name": "两江司法鉴定所", "categories": ["forensic_clinical"], "reason": "许可"},
        headers=auth(supervisor),
    )
    assert created.status_code == 201, created.text
    institution = created.json()
    assert institution["bureau_id"] == BUREAU.id and institution["status"] == "active"
    hired = await api.post(
        "/v1/registry/appraisers",
        json={"name": "吴刚", "institution_id": institution["id"], "categories": ["forensic_clinical"]},
        headers=auth(supervisor),
    )
    assert hired.status_code == 201, hired.text
    appraiser = hired.json()
    renamed = await api.patch(
        f"/v1/registry/institutions/{institution['id']}",
        json={"name": "两江司法鉴定中心", "reason": "更名"},
        headers=auth(supervisor),
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "两江司法鉴定中心"
    titled = await api.patch(
        f"/v1/registry/appraisers/{appraiser['id']}",
        json={"senior_title": True, "licence_valid_until": "2099-06-30"},
        headers=auth(supervisor),
    )
    assert titled.status_code == 200
    assert titled.json()["senior_title"] is True and titled.json()["licence_valid_until"] == "2099-06-30"
    suspended = await set_status(api, auth, "appraisers", appraiser["id"], "suspended", until="2099-01-31")
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended" and suspended.json()["status_until"] == "2099-01-31"
    listed = await api.get(
        "/v1/registry/appraisers", params={"institution_id": institution["id"]}, headers=auth(court_actor)
    )
    assert [a["status"] for a in listed.json()] == ["suspended"]

    trail = await changes(api, auth)
    assert [(c["entity_kind"], c["action"]) for c in trail] == [
        ("institution", "created"),
        ("appraiser", "created"),
        ("institution", "updated"),
        ("appraiser", "updated"),
        ("appraiser", "status"),
    ]
    renaming = trail[2]
    assert renaming["before"]["name"] == "两江司法鉴定所" and renaming["after"]["name"] == "两江司法鉴定中心"
    assert renaming["reason"] == "更名" and renaming["actor_subject"] == "registrar"
    assert trail[4]["before"]["status"] == "active" and trail[4]["reason"] == "决定: suspended"
    prev = ""
    for seq, change in enumerate(trail, start=1):
        assert change["seq"] == seq and change["prev_hash"] == prev
        fields = {k: v for k, v in change.items() if k not in ("id", "hash")}
        assert chain_hash(prev, fields) == change["hash"]
        prev = change["hash"]
    assert [c["action"] for c in await changes(api, auth, appraiser["id"])] == [
        "created",
        "updated",
        "status",
    ]


async def test_a_revocation_is_final(api: httpx.AsyncClient, auth: Auth) -> None:
    appraiser = CLINICAL_APPRAISERS[0].id
    assert (await set_status(api, auth, "appraisers", appraiser, "suspended")).status_code == 200
    revoked = await set_status(api, auth, "appraisers", appraiser, "revoked")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    for status in ("active", "suspended", "revoked"):
        again = await set_status(api, auth, "appraisers", appraiser, status)
        assert again.status_code == 409 and again.json()["error"]["code"] == "registry_status_final"
    institution = OTHER_INSTITUTION.id
    assert (await set_status(api, auth, "institutions", institution, "revoked")).status_code == 200
    back = await set_status(api, auth, "institutions", institution, "active")
    assert back.status_code == 409 and back.json()["error"]["code"] == "registry_status_final"
    assert [c["after"]["status"] for c in await changes(api, auth, appraiser)] == ["suspended", "revoked"]
    assert [c["after"]["status"] for c in await changes(api, auth, institution)] == ["revoked"]


async def test_only_the_bureaus_supervisor_writes(api: httpx.AsyncClient, auth: Auth) -> None:
    body = {"name": "某鉴定所", "categories": ["forensic_clinical"]}
    for actor in (court_actor, institution_actor):
        assert (
            await api.post("/v1/registry/institutions", json=body, headers=auth(actor))
        ).status_code == 403
        patched = await api.patch(
            f"/v1/registry/institutions/{INSTITUTION.id}", json={"name": "x"}, headers=auth(actor)
        )
        assert patched.status_code == 403
        status = await api.post(
            f"/v1/registry/appraisers/{APPRAISER_IDS[0]}/status",
            json={"status": "suspended", "reason": "x"},
            headers=auth(actor),
        )
        assert status.status_code == 403
        assert (await api.get("/v1/registry/changes", headers=auth(actor))).status_code == 403
    elsewhere = await api.post(
        f"/v1/registry/institutions/{INSTITUTION.id}/status",
        json={"status": "suspended", "reason": "x"},
        headers=auth(other_bureau),
    )
    assert elsewhere.status_code == 404
    hired = await api.post(
        "/v1/registry/appraisers",
        json={"name": "某人", "institution_id": INSTITUTION.id, "categories": ["forensic_clinical"]},
        headers=auth(other_bureau),
    )
    assert hired.status_code == 409 and hired.json()["error"]["code"] == "not_in_bureau"
    assert (await api.get("/v1/registry/changes", headers=auth(other_bureau))).json() == []
    assert await changes(api, auth) == []
    assert (await api.get("/v1/registry/institutions", headers=auth(court_actor))).status_code == 200


async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    url = f"/v1/registry/institutions/{INSTITUTION.id}"
    before = (await api.get("/v1/registry/institutions", headers=auth(court_actor))).json()
    refused: list[tuple[str, str, dict[str, Any], str]] = [
        ("PATCH", url, {}, "body"),
        ("PATCH", url, {"categories": []}, "categories"),
        ("PATCH", url, {"categories": ["法医"]}, "categories.0"),
        ("PATCH", url, {"name": None}, "body"),
        ("PATCH", url, {"status": "revoked"}, "status"),
        ("POST", f"{url}/status", {"status": "paused", "reason": "x"}, "status"),
        ("POST", f"{url}/status", {"status": "suspended"}, "reason"),
        ("POST", f"{url}/status", {"status": "revoked", "reason": "x", "until": "2099-01-01"}, "body"),
        ("POST", f"{url}/status", {"status": "suspended", "reason": "x", "until": "2001-01-01"}, "until"),
        (
            "POST",
            "/v1/registry/appraisers",
            {"name": "某人", "institution_id": INSTITUTION.id, "categories": ["audio_visual"]},
            "categories",
        ),
        (
            "POST",
            "/v1/registry/appraisers",
            {"name": "某人", "institution_id": "nowhere", "categories": ["audio_visual"]},
            "institution_id",
        ),
        (
            "POST",
            "/v1/registry/institutions",
            {"name": "某所", "categories": ["trace_evidence", "trace_evidence"]},
            "categories",
        ),
    ]
    for method, path, body, field in refused:
        response = await api.request(method, path, json=body, headers=auth(supervisor))
        assert response.status_code == 422, (body, response.text)
        assert field in [d["field"] for d in response.json()["error"]["details"]], (body, response.text)
    assert (await api.get("/v1/registry/institutions", headers=auth(court_actor))).json() == before
    assert await changes(api, auth) == []


@pytest.mark.dated
async def test_an_appraiser_suspended_after_entrustment_is_refused_at_acceptance(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    cid = (await entrust(api, auth))["id"]
    suspended = APPRAISER_IDS[1]
    assert (await set_status(api, auth, "appraisers", suspended, "suspended")).status_code == 200
    accept = {"decision": "accept", "appraiser_ids": APPRAISER_IDS}
    refused = await api.post(
        f"/v1/commissions/{cid}/acceptance", json=accept, headers=auth(institution_actor)
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "appraiser_not_active" and error["details"]["appraiser_id"] == suspended
    assert CLINICAL_APPRAISERS[1].name in error["message"] and error["details"]["rule"] == "REG-7"
    still = await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))
    assert still.json()["stage"] == "awaiting_acceptance" and still.json()["appraiser_ids"] == []

    assert (await set_status(api, auth, "appraisers", suspended, "active")).status_code == 200
    today = date.fromisoformat(still.json()["received_on"])
    expired = await api.patch(
        f"/v1/registry/appraisers/{APPRAISER_IDS[0]}",
        json={"licence_valid_until": (today - timedelta(days=1)).isoformat()},
        headers=auth(supervisor),
    )
    assert expired.status_code == 200
    refused = await api.post(
        f"/v1/commissions/{cid}/acceptance", json=accept, headers=auth(institution_actor)
    )
    assert refused.status_code == 409 and refused.json()["error"]["details"]["rule"] == "REG-8"

    renewed = await api.patch(
        f"/v1/registry/appraisers/{APPRAISER_IDS[0]}",
        json={"licence_valid_until": (today + timedelta(days=365 * 5)).isoformat()},
        headers=auth(supervisor),
    )
    assert renewed.status_code == 200
    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance", json=accept, headers=auth(institution_actor)
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["appraiser_ids"] == APPRAISER_IDS


@pytest.mark.dated
async def test_a_suspended_institution_is_never_drawn_nor_designated(
    api: httpx.AsyncClient, auth: Auth, engine: AsyncEngine
) -> None:
    suspended, other = INSTITUTION.id, OTHER_INSTITUTION.id  # both registered for forensic_clinical
    assert (await set_status(api, auth, "institutions", suspended, "suspended")).status_code == 200
    for n in range(8):
        drawn = await entrust(api, auth, reference=f"DRAW-{n}", selection={"mode": "random"})
        assert drawn["institution_id"] == other
        selection = await api.get(f"/v1/commissions/{drawn['id']}/selection", headers=auth(court_actor))
        assert selection.json()["candidates"] == [other]
    designated = await api.post(
        "/v1/commissions", json=entrustment("DESIGNATED-1"), headers=auth(court_actor)
    )
    assert designated.status_code == 409
    assert designated.json()["error"]["code"] == "institution_not_active"
    assert designated.json()["error"]["details"]["rule"] == "REG-6"

    # A suspension with a last day lapses after it.
    async with engine.begin() as conn:
        await conn.execute(
            text("update institution set status_until = current_date - 400 where id = :id"), {"id": suspended}
        )
    assert (
        await api.post("/v1/commissions", json=entrustment("DESIGNATED-2"), headers=auth(court_actor))
    ).status_code == 201


async def test_an_appraiser_suspended_before_entrustment_is_not_eligible(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    assert (await set_status(api, auth, "appraisers", APPRAISER_IDS[1], "suspended")).status_code == 200
    cid = (await entrust(api, auth))["id"]
    # Reinstated after entrustment: the registry allows them again, but the workflow's
    # list of eligible appraisers was fixed at entrustment without them.
    assert (await set_status(api, auth, "appraisers", APPRAISER_IDS[1], "active")).status_code == 200
    accept = {"decision": "accept", "appraiser_ids": APPRAISER_IDS}
    refused = await api.post(
        f"/v1/commissions/{cid}/acceptance", json=accept, headers=auth(institution_actor)
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "appraiser_not_qualified"


@pytest.mark.dated
async def test_licence_tasks_open_for_expiring_licences_and_close_on_renewal(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    today = await api_today(api, auth)
    soon = (today + timedelta(days=30)).isoformat()
    renewed = await api.patch(
        f"/v1/registry/institutions/{INSTITUTIONS[2].id}",
        json={"licence_valid_until": soon},
        headers=auth(supervisor),
    )
    assert renewed.status_code == 200
    tasks = await api.get("/v1/registry/licence-tasks", headers=auth(supervisor))
    assert tasks.status_code == 200
    (task,) = tasks.json()
    assert task["entity_id"] == INSTITUTIONS[2].id and task["due_on"] == soon and task["rule"] == "REG-8"
    assert task["entity_name"] == INSTITUTIONS[2].name and task["kind"] == "licence_renewal"
    assert (await api.get("/v1/registry/licence-tasks", headers=auth(court_actor))).status_code == 403
    assert (await api.get("/v1/registry/licence-tasks", headers=auth(other_bureau))).json() == []

    later = (today + timedelta(days=365 * 5)).isoformat()
    await api.patch(
        f"/v1/registry/institutions/{INSTITUTIONS[2].id}",
        json={"licence_valid_until": later},
        headers=auth(supervisor),
    )
    assert (await api.get("/v1/registry/licence-tasks", headers=auth(supervisor))).json() == []
