"""Read-your-writes by sequence (docs/architecture.md, "Consistency"): a step answers as
soon as its workflow holds it, with the commission's sequence in X-Seq; a read given it
back as X-Min-Seq waits until the read model has projected it, and only then answers."""

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from appraisal.core.settings import Settings
from appraisal.domain.roles import Actor, Role
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.factories import OTHER_INSTITUTION, court_actor, institution_actor
from tests.workflows.test_commission_workflow import eventually

Auth = Callable[[Actor], dict[str, str]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, the read-your-writes bound short enough to reach in a test."""
    return settings.model_copy(update={"read_your_writes_seconds": 2})


async def projection_waits_on_a_lock(engine: AsyncEngine) -> bool | None:
    async with engine.connect() as conn:
        waiting = await conn.scalar(
            text("select count(*) from pg_stat_activity where wait_event_type = 'Lock' and state = 'active'")
        )
    return True if waiting else None


async def test_a_step_answers_before_its_projection_and_a_read_with_its_seq_waits_for_it(
    api: httpx.AsyncClient, auth: Auth, engine: AsyncEngine
) -> None:
    commission = await entrust(api, auth)
    cid, entrusted_seq = commission["id"], commission["last_event_seq"]
    # The entrustment answers once its row exists: a read without a sequence finds it.
    plain = await api.get(f"/v1/commissions/{cid}", headers={**auth(court_actor), "X-Min-Seq": ""})
    assert plain.status_code == 200 and plain.json()["last_event_seq"] == entrusted_seq

    async with engine.connect() as holder:
        # Hold the read model's row: the acceptance's projection must wait behind this lock.
        transaction = await holder.begin()
        await holder.execute(text("select 1 from commission where id = :cid for update"), {"cid": cid})
        step = await api.post(
            f"/v1/commissions/{cid}/acceptance",
            json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
            headers=auth(institution_actor),
        )
        assert step.status_code == 200, step.text
        seq = int(step.headers["X-Seq"])
        assert seq == step.json()["last_event_seq"] > entrusted_seq and step.json()["stage"] == "examining"
        await eventually(lambda: projection_waits_on_a_lock(engine))

        stale = await api.get(f"/v1/commissions/{cid}", headers={**auth(court_actor), "X-Min-Seq": ""})
        assert stale.json()["stage"] == "awaiting_acceptance"  # no sequence: the read model as it is
        # The bound (2 s here) passes while the row is held: 503, and nothing is changed.
        behind = await api.get("/v1/commissions", headers={**auth(court_actor), "X-Min-Seq": f"{cid}:{seq}"})
        assert behind.status_code == 503 and behind.json()["error"]["details"] == {"dependency": "read model"}
        assert behind.headers["Retry-After"] == "5"
        await transaction.rollback()
    # Released: the projection goes through, and a read given the sequence sees the step.
    trail = await api.get(
        f"/v1/commissions/{cid}/audit", headers={**auth(court_actor), "X-Min-Seq": str(seq)}
    )
    assert trail.status_code == 200, trail.text
    assert [e["kind"] for e in trail.json()][-1] == "commission.accepted" and trail.json()[-1]["seq"] == seq


async def test_a_bad_sequence_is_422_naming_the_header_and_another_scope_waits_for_nothing(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    cid = (await entrust(api, auth))["id"]
    for bad in ("abc", "0", "-3", f"{cid}:x", "1" * 12, ",".join(f"c{n}:1" for n in range(21))):
        response = await api.get("/v1/commissions", headers={**auth(court_actor), "X-Min-Seq": bad})
        assert response.status_code == 422, bad
        assert [d["field"] for d in response.json()["error"]["details"]] == ["header.X-Min-Seq"]
    # A sequence far ahead on a commission the caller cannot see, or one that does not exist:
    # not waited for, so the answer says nothing of whether it exists.
    outsider = Actor(Role.INSTITUTION, OTHER_INSTITUTION.id, "desk")
    for target in (cid, "no-such-commission"):
        response = await api.get(
            f"/v1/commissions/{target}", headers={**auth(outsider), "X-Min-Seq": "999999"}
        )
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


async def test_the_openapi_document_states_the_contract(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    acceptance = document["paths"]["/v1/commissions/{commission_id}/acceptance"]["post"]
    assert "X-Seq" in acceptance["responses"]["200"]["headers"]
    listing = document["paths"]["/v1/commissions"]["get"]
    (min_seq,) = [p for p in listing["parameters"] if p["name"] == "X-Min-Seq"]
    assert min_seq["in"] == "header" and "read your writes" in min_seq["description"]
