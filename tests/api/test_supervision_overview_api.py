"""GET /v1/supervision/overview: counts from the read model after commissions
were driven through the API, the working-day cut-off of "due soon", scope by
bureau, and the 403/422 answers."""

from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal import seed
from appraisal.db.models import Appraiser, Bureau, Institution
from appraisal.domain.calendar import WorkingCalendar, local_today
from appraisal.domain.roles import Actor, Role
from appraisal.domain.stages import Stage
from appraisal.seed import BUREAU, INSTITUTIONS, demo_id
from tests.api.test_commissions_api import APPRAISER_IDS, entrust, inbox
from tests.factories import INSTITUTION, court_actor, institution_actor, past_catch_up
from tests.workflows.test_commission_workflow import eventually

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")
OTHER_BUREAU = Bureau(id=demo_id("bureau-other"), name="另一司法局 Another bureau")
OTHER_BUREAU_INSTITUTION = Institution(
    id=demo_id("inst-other-bureau"),
    name="外省司法鉴定中心 Out-of-province Centre",
    bureau_id=OTHER_BUREAU.id,
    categories=["forensic_clinical"],
)
other_supervisor = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspector")


@pytest.fixture
async def other_bureau(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Bureau]:
    """A second bureau with one institution and two appraisers, removed afterwards
    so no other test draws its institution at random."""
    appraisers = [
        Appraiser(
            id=demo_id(f"appr-other-bureau-{n}"),
            name=f"外省鉴定人 {n}",
            institution_id=OTHER_BUREAU_INSTITUTION.id,
            categories=["forensic_clinical"],
        )
        for n in (1, 2)
    ]
    async with sessions() as session, session.begin():
        session.add(Bureau.model_validate(OTHER_BUREAU))
        await session.flush()
        session.add(Institution.model_validate(OTHER_BUREAU_INSTITUTION))
        await session.flush()
        session.add_all(appraisers)
    yield OTHER_BUREAU
    async with sessions() as session, session.begin():
        await session.exec(delete(Appraiser).where(col(Appraiser.id).in_([a.id for a in appraisers])))
        await session.exec(delete(Institution).where(col(Institution.id) == OTHER_BUREAU_INSTITUTION.id))
        await session.exec(delete(Bureau).where(col(Bureau.id) == OTHER_BUREAU.id))


async def overview(api: httpx.AsyncClient, auth: Auth, actor: Actor, **params: Any) -> dict[str, Any]:
    response = await api.get("/v1/supervision/overview", params=params, headers=auth(actor))
    assert response.status_code == 200, response.text
    return dict(response.json())


def counts_of(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "by_stage"} | {
        "by_stage": {stage: n for stage, n in body["by_stage"].items() if n}
    }


@pytest.mark.dated
async def test_counts_by_stage_institution_and_category_after_driving_the_api(
    api: httpx.AsyncClient,
    auth: Auth,
    temporal_env: WorkflowEnvironment,
    other_bureau: Bureau,
) -> None:
    today = local_today(await temporal_env.get_current_time())
    fresh = await entrust(api, auth, court_reference="OVERVIEW-FRESH")
    examining = await entrust(api, auth, court_reference="OVERVIEW-EXAMINING")
    accepted = await api.post(
        f"/v1/commissions/{examining['id']}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200, accepted.text
    refused = await entrust(api, auth, court_reference="OVERVIEW-REFUSED")
    refusal = await api.post(
        f"/v1/commissions/{refused['id']}/acceptance",
        json={"decision": "refuse", "ground": "PROC-05-5", "reason": "超出技术条件"},
        headers=auth(institution_actor),
    )
    assert refusal.status_code == 200, refusal.text
    late = await entrust(
        api, auth, court_reference="OVERVIEW-LATE", received_on=(today - timedelta(days=60)).isoformat()
    )
    elsewhere = await entrust(
        api,
        auth,
        court_reference="OVERVIEW-OTHER-BUREAU",
        selection={"mode": "designated", "institution_id": OTHER_BUREAU_INSTITUTION.id},
    )

    await past_catch_up(temporal_env, late)

    async def escalated() -> bool | None:
        # The late commission's rungs fire when the catch-up window ends; their projection follows.
        return True if (late["id"], "overdue_escalation") in await inbox(api, auth, supervisor) else None

    await eventually(escalated)

    # The fresh commission's acceptance is due on the 7th working day: inside 7, outside 6.
    acceptance_due = date.fromisoformat(fresh["clocks"][0]["due_on"])
    assert acceptance_due == WorkingCalendar().add_working_days(today, 7).due_on
    body = await overview(api, auth, supervisor, due_within=7)
    assert body["today"] == today.isoformat() and body["due_within"] == 7
    assert body["due_by"] == acceptance_due.isoformat()
    expected = {
        "total": 4,
        "open": 3,
        "by_stage": {"awaiting_acceptance": 2, "examining": 1, "refused": 1},
        "overdue": 1,
        "due_soon": 1,
        "escalations_open": 1,
    }
    assert counts_of(body["counts"]) == expected
    assert set(body["counts"]["by_stage"]) >= set(Stage)
    by_institution = {i["institution_id"]: i for i in body["by_institution"]}
    assert set(by_institution) == {i.id for i in INSTITUTIONS}, "the whole bureau, and only it"
    assert counts_of(by_institution[INSTITUTION.id]) == {
        **expected,
        "institution_id": INSTITUTION.id,
        "name": INSTITUTION.name,
    }
    for quiet in INSTITUTIONS[1:]:
        assert by_institution[quiet.id]["total"] == 0 and by_institution[quiet.id]["name"] == quiet.name
    by_category = {c["category"]: c for c in body["by_category"]}
    assert set(by_category) == {c for i in INSTITUTIONS for c in i.categories}
    assert counts_of(by_category["forensic_clinical"]) == {**expected, "category": "forensic_clinical"}
    assert by_category["trace_evidence"]["total"] == 0

    narrower = await overview(api, auth, supervisor, due_within=6)
    assert narrower["counts"]["due_soon"] == 0 and narrower["due_by"] < acceptance_due.isoformat()
    assert (await overview(api, auth, supervisor))["due_within"] == 5
    listed = await api.get(
        "/v1/commissions",
        params={"overdue": "false", "due_before": body["due_by"]},
        headers=auth(supervisor),
    )
    assert [c["id"] for c in listed.json()["items"]] == [fresh["id"]], "the list agrees with the count"

    theirs = await overview(api, auth, other_supervisor, due_within=7)
    assert counts_of(theirs["counts"]) == {
        "total": 1,
        "open": 1,
        "by_stage": {"awaiting_acceptance": 1},
        "overdue": 0,
        "due_soon": 1,
        "escalations_open": 0,
    }
    assert [i["institution_id"] for i in theirs["by_institution"]] == [OTHER_BUREAU_INSTITUTION.id]
    assert [c["category"] for c in theirs["by_category"]] == ["forensic_clinical"]
    assert elsewhere["id"] not in {c["id"] for c in listed.json()["items"]}


async def test_an_empty_bureau_counts_zero_and_lists_its_institutions(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    body = await overview(api, auth, supervisor)
    assert counts_of(body["counts"]) == {
        "total": 0,
        "open": 0,
        "by_stage": {},
        "overdue": 0,
        "due_soon": 0,
        "escalations_open": 0,
    }
    assert sorted(i["name"] for i in body["by_institution"]) == sorted(i.name for i in INSTITUTIONS)
    nobody = await overview(api, auth, Actor(Role.SUPERVISOR, seed.OTHER_BUREAU.id, "inspector"))
    assert nobody["by_institution"] == [] and nobody["by_category"] == []
    ghost = await api.get(
        "/v1/supervision/overview", headers=auth(Actor(Role.SUPERVISOR, "no-such-bureau", "x"))
    )
    assert ghost.status_code == 401 and "not in the registry" in ghost.json()["error"]["message"]


async def test_bad_due_within_is_422_naming_the_field(api: httpx.AsyncClient, auth: Auth) -> None:
    for bad in ("0", "61", "five"):
        response = await api.get(
            "/v1/supervision/overview", params={"due_within": bad}, headers=auth(supervisor)
        )
        assert response.status_code == 422, bad
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and error["details"][0]["field"] == "query.due_within"


async def test_only_supervisors_may_ask(api: httpx.AsyncClient, auth: Auth) -> None:
    for actor in (court_actor, institution_actor, Actor(Role.INSTITUTION_HEAD, INSTITUTION.id, "head")):
        response = await api.get("/v1/supervision/overview", headers=auth(actor))
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert (await api.get("/v1/supervision/overview")).status_code == 401
