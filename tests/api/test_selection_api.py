"""The selection re-run (SEL-1 … SEL-3): a random draw's recorded seed and
candidates give the recorded institution again; exclusions shape the candidates."""

from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from appraisal.domain.commission import random_pick
from appraisal.domain.roles import Actor, Role
from tests.api.test_commissions_api import entrust, entrustment
from tests.factories import INSTITUTION, OTHER_COURT, OTHER_INSTITUTION, court_actor

Auth = Callable[[Actor], dict[str, str]]
CLINICAL_INSTITUTIONS = sorted([INSTITUTION.id, OTHER_INSTITUTION.id])


async def selection(
    api: httpx.AsyncClient, auth: Auth, cid: str, actor: Actor = court_actor
) -> httpx.Response:
    return await api.get(f"/v1/commissions/{cid}/selection", headers=auth(actor))


async def test_a_random_draw_re_runs_to_the_recorded_institution(api: httpx.AsyncClient, auth: Auth) -> None:
    commission = await entrust(api, auth, reference="RANDOM-1", selection={"mode": "random"})
    response = await selection(api, auth, commission["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "random" and len(body["seed"]) == 32
    assert body["candidates"] == CLINICAL_INSTITUTIONS
    assert body["institution_id"] == commission["institution_id"] == body["recomputed_institution_id"]
    assert body["recomputed_institution_id"] == random_pick(body["seed"], body["candidates"])
    assert body["reproduced"] is True and body["event_verified"] is True
    # The institution drawn sees it too; another court does not.
    drawn = Actor(Role.INSTITUTION, commission["institution_id"], "desk")
    assert (await selection(api, auth, commission["id"], drawn)).json()["reproduced"] is True
    outsider = Actor(Role.COURT, OTHER_COURT.id, "clerk")
    assert (await selection(api, auth, commission["id"], outsider)).status_code == 404


async def test_excluded_institutions_are_left_out_of_the_candidates(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    random_excluding = {"mode": "random", "excluded_institution_ids": [INSTITUTION.id]}
    for n in range(6):
        commission = await entrust(api, auth, reference=f"EXCLUDED-{n}", selection=random_excluding)
        assert commission["institution_id"] == OTHER_INSTITUTION.id
        body = (await selection(api, auth, commission["id"])).json()
        assert body["candidates"] == [OTHER_INSTITUTION.id] and body["reproduced"] is True
    everyone_excluded = {"mode": "random", "excluded_institution_ids": CLINICAL_INSTITUTIONS}
    refused = await api.post(
        "/v1/commissions",
        json=entrustment("EXCLUDED-ALL", selection=everyone_excluded),
        headers=auth(court_actor),
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_candidate_institution"
    designated_excluding = {
        "mode": "designated",
        "institution_id": INSTITUTION.id,
        "excluded_institution_ids": [OTHER_INSTITUTION.id],
    }
    invalid = await api.post(
        "/v1/commissions",
        json=entrustment("EXCLUDED-D", selection=designated_excluding),
        headers=auth(court_actor),
    )
    assert invalid.status_code == 422
    assert invalid.json()["error"]["details"][0]["field"] == "selection.excluded_institution_ids"


async def test_a_designated_institution_has_nothing_to_re_run(api: httpx.AsyncClient, auth: Auth) -> None:
    commission = await entrust(api, auth, reference="DESIGNATED-SEL")
    body = (await selection(api, auth, commission["id"])).json()
    assert body["mode"] == "designated" and body["institution_id"] == INSTITUTION.id
    assert body["seed"] == "" and body["candidates"] == []
    assert body["reproduced"] is None and body["recomputed_institution_id"] is None
    assert body["event_verified"] is True


async def test_a_rewritten_candidate_list_no_longer_reproduces(
    api: httpx.AsyncClient, auth: Auth, engine: AsyncEngine
) -> None:
    commission = await entrust(api, auth, reference="RANDOM-TAMPER", selection={"mode": "random"})
    elsewhere = next(i for i in CLINICAL_INSTITUTIONS if i != commission["institution_id"])
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "update audit_event set data = jsonb_set(data, '{selection_candidates}', "
                "jsonb_build_array(cast(:elsewhere as text))) "
                "where commission_id = :cid and kind = 'commission.entrusted'"
            ),
            {"cid": commission["id"], "elsewhere": elsewhere},
        )
    body = (await selection(api, auth, commission["id"])).json()
    assert body["recomputed_institution_id"] == elsewhere
    assert body["reproduced"] is False and body["event_verified"] is False
