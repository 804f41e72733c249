"""Random inspections (双随机一公开) over REST: a supervisor draws institutions,
case files and inspectors from a seed; anyone with a token reads the published
draw and whether it re-runs to the same picks."""

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from appraisal.db.inspection import InspectionSizes, draw
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU, INSPECTORS, INSTITUTIONS, OTHER_BUREAU
from tests.api.test_commissions_api import entrust
from tests.factories import ELSEWHERE, appraiser_actor, court_actor, institution_actor

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspection desk")
other_bureau = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspection desk")


async def case_files(api: httpx.AsyncClient, auth: Auth) -> dict[str, list[str]]:
    """Two commissions at each of the demo bureau's three institutions."""
    files: dict[str, list[str]] = {}
    for n, (institution, category) in enumerate(
        [
            (INSTITUTIONS[0], "forensic_clinical"),
            (INSTITUTIONS[1], "trace_evidence"),
            (INSTITUTIONS[2], "audio_visual"),
        ]
    ):
        for m in range(2):
            commission = await entrust(
                api,
                auth,
                reference=f"INSPECT-{n}-{m}",
                category=category,
                selection={"mode": "designated", "institution_id": institution.id},
            )
            files.setdefault(institution.id, []).append(commission["id"])
    return files


async def draw_now(api: httpx.AsyncClient, auth: Auth, **body: Any) -> httpx.Response:
    sizes = {"institutions": 2, "case_files_per_institution": 1, "inspectors": 2}
    return await api.post("/v1/supervision/inspections", json={**sizes, **body}, headers=auth(supervisor))


async def test_a_seeded_draw_is_stored_published_and_reproducible(api: httpx.AsyncClient, auth: Auth) -> None:
    files = await case_files(api, auth)
    response = await draw_now(api, auth, seed=20261201)
    assert response.status_code == 201, response.text
    drawn = response.json()
    assert (
        drawn["seed"] == 20261201 and drawn["origin"] == "manual" and drawn["drawn_by"] == "inspection desk"
    )
    candidates, picks = drawn["candidates"], drawn["picks"]
    assert candidates["institutions"] == sorted(i.id for i in INSTITUTIONS)
    assert candidates["inspectors"] == sorted(i.id for i in INSPECTORS)
    assert len(picks["institutions"]) == 2 and set(picks["institutions"]) <= set(candidates["institutions"])
    assert set(picks["case_files"]) == set(picks["institutions"])
    for institution_id, chosen in picks["case_files"].items():
        assert candidates["case_files"][institution_id] == sorted(files[institution_id])
        assert len(chosen) == 1 and chosen[0] in files[institution_id]
    assert len(set(picks["inspectors"])) == 2 and set(picks["inspectors"]) <= set(candidates["inspectors"])
    expected = draw(20261201, candidates, InspectionSizes(2, 1, 2))
    assert picks == expected and drawn["reproduced"] is True

    # Published: every role reads it, inside the bureau or not.
    for actor in (court_actor, institution_actor, appraiser_actor(ELSEWHERE.id), other_bureau):
        read = await api.get(f"/v1/supervision/inspections/{drawn['id']}", headers=auth(actor))
        assert read.status_code == 200 and read.json() == drawn
    listed = await api.get("/v1/supervision/inspections", headers=auth(court_actor))
    assert listed.json()["total"] == 1 and listed.json()["items"] == [drawn]

    # The same seed over the same lists draws the same again; the newest is listed first.
    again = (await draw_now(api, auth, seed=20261201)).json()
    assert again["id"] != drawn["id"] and again["picks"] == drawn["picks"]
    page = (
        await api.get("/v1/supervision/inspections", params={"limit": 1}, headers=auth(court_actor))
    ).json()
    assert [i["id"] for i in page["items"]] == [again["id"]] and page["has_more"] is True
    elsewhere = {"bureau_id": OTHER_BUREAU.id}
    assert (await api.get("/v1/supervision/inspections", params=elsewhere, headers=auth(court_actor))).json()[
        "total"
    ] == 0


async def test_only_a_supervisor_draws_and_bad_sizes_change_nothing(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    body = {"institutions": 1, "case_files_per_institution": 1, "inspectors": 1}
    for actor in (court_actor, institution_actor):
        refused = await api.post("/v1/supervision/inspections", json=body, headers=auth(actor))
        assert refused.status_code == 403
    bad_bodies: list[tuple[dict[str, Any], str]] = [
        ({"institutions": 0}, "institutions"),
        ({"inspectors": 51}, "inspectors"),
        ({"period": "2026-13"}, "period"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**63}, "seed"),
    ]
    for bad, field in bad_bodies:
        response = await draw_now(api, auth, **bad)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == field
    assert (await api.get("/v1/supervision/inspections", headers=auth(supervisor))).json()["total"] == 0
    assert (
        await api.get("/v1/supervision/inspections/nowhere", headers=auth(court_actor))
    ).status_code == 404


@pytest.mark.dated
async def test_suspended_institutions_and_other_months_are_left_out(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    files = await case_files(api, auth)
    suspended = INSTITUTIONS[0].id
    status = await api.post(
        f"/v1/registry/institutions/{suspended}/status",
        json={"status": "suspended", "reason": "整改"},
        headers=auth(supervisor),
    )
    assert status.status_code == 200
    commission = await api.get(f"/v1/commissions/{files[INSTITUTIONS[1].id][0]}", headers=auth(court_actor))
    received = date.fromisoformat(commission.json()["received_on"])
    this_month = f"{received:%Y-%m}"
    drawn = (
        await draw_now(api, auth, institutions=5, case_files_per_institution=5, period=this_month)
    ).json()
    assert suspended not in drawn["candidates"]["institutions"]
    assert sorted(drawn["picks"]["institutions"]) == sorted(i.id for i in INSTITUTIONS[1:])  # all there are
    assert {i: sorted(f) for i, f in drawn["picks"]["case_files"].items()} == {
        i.id: sorted(files[i.id]) for i in INSTITUTIONS[1:]
    }
    last_year = f"{received.year - 1}-{received:%m}"
    earlier = (await draw_now(api, auth, period=last_year)).json()
    assert all(chosen == [] for chosen in earlier["picks"]["case_files"].values())
    assert earlier["period"] == last_year and earlier["reproduced"] is True


async def test_a_rewritten_draw_no_longer_reproduces(
    api: httpx.AsyncClient, auth: Auth, engine: AsyncEngine
) -> None:
    drawn = (await draw_now(api, auth, seed=7)).json()
    async with engine.begin() as conn:
        await conn.execute(
            text("update inspection set picks = jsonb_set(picks, '{inspectors}', '[]') where id = :id"),
            {"id": drawn["id"]},
        )
    read = await api.get(f"/v1/supervision/inspections/{drawn['id']}", headers=auth(court_actor))
    assert read.json()["picks"]["inspectors"] == [] and read.json()["reproduced"] is False


async def test_nothing_to_draw_from_is_a_conflict(
    api: httpx.AsyncClient, auth: Auth, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("update inspector set status = 'retired'"))
    refused = await draw_now(api, auth)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_inspector"
    empty = await api.post(
        "/v1/supervision/inspections",
        json={"institutions": 1, "case_files_per_institution": 1, "inspectors": 1},
        headers=auth(other_bureau),
    )
    assert empty.status_code == 409 and empty.json()["error"]["code"] == "no_candidate_institution"
    assert (await api.get("/v1/supervision/inspections", headers=auth(supervisor))).json()["total"] == 0
