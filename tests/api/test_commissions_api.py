"""The REST contract end to end: httpx → FastAPI → time-skipping Temporal →
production worker → PostgreSQL."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.api.auth import issue_token
from appraisal.core.settings import Settings
from appraisal.db.models import Commission
from appraisal.domain.calendar import local_today
from appraisal.domain.roles import Actor, Role
from appraisal.seed import OTHER_BUREAU
from tests.factories import (
    CLINICAL_APPRAISERS,
    ELSEWHERE,
    INSTITUTION,
    OTHER_COURT,
    OTHER_INSTITUTION,
    appraiser_actor,
    court_actor,
    head_actor,
    institution_actor,
    signature,
)
from tests.workflows.test_commission_workflow import eventually

Auth = Callable[[Actor], dict[str, str]]
APPRAISER_IDS = [a.id for a in CLINICAL_APPRAISERS]


def entrustment(reference: str = "(2026)渝0103民初1234号-鉴1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "court_reference": reference,
        "case_number": "(2026)渝0103民初1234号",
        "category": "forensic_clinical",
        "matters": ["伤残等级评定"],
        "selection": {"mode": "designated", "institution_id": INSTITUTION.id},
        "materials": [{"name": "病历", "sha256": "ab" * 32}],
    }
    body.update(overrides)
    return body


async def entrust(api: httpx.AsyncClient, auth: Auth, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/v1/commissions", json=entrustment(**overrides), headers=auth(court_actor))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def inbox(api: httpx.AsyncClient, auth: Auth, actor: Actor) -> list[tuple[str, str]]:
    response = await api.get("/v1/tasks", headers=auth(actor))
    assert response.status_code == 200, response.text
    return [(t["commission_id"], t["kind"]) for t in response.json()]


@pytest.mark.dated
async def test_happy_path_by_rest(api: httpx.AsyncClient, auth: Auth) -> None:
    commission = await entrust(api, auth)
    cid = commission["id"]
    assert commission["stage"] == "awaiting_acceptance"
    (clock,) = commission["clocks"]
    assert clock["rule"] == "PROC-03" and clock["budget_days"] == 7
    assert clock["working_days_left"] == 7 and clock["due_at"].endswith("+08:00")
    assert (cid, "decide_acceptance") in await inbox(api, auth, institution_actor)

    fetched = await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))
    assert fetched.status_code == 200 and fetched.json()["stage"] == "awaiting_acceptance"

    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["stage"] == "examining" and body["appraiser_ids"] == APPRAISER_IDS
    examination = next(c for c in body["clocks"] if c["rule"] == "PROC-17")
    assert examination["working_days_left"] == 30 and not examination["overdue"]
    assert await inbox(api, auth, institution_actor) == []
    first, second = (appraiser_actor(a) for a in APPRAISER_IDS)
    assert (cid, "submit_report") in await inbox(api, auth, first)

    report = await api.post(
        f"/v1/commissions/{cid}/report",
        json={
            "content": "检验所见……",
            "opinion": "构成十级伤残",
            "attachments": [{"name": "照片", "sha256": "cd" * 32}],
        },
        headers=auth(first),
    )
    assert report.status_code == 200, report.text
    assert report.json()["stage"] == "signing"
    report_hash = report.json()["report"]["content_hash"]
    for appraiser in (first, second):
        assert (cid, "sign_report") in await inbox(api, auth, appraiser)
        body = {"kind": "sign", "signature": signature(appraiser.organisation_id, report_hash)}
        signed = await api.post(f"/v1/commissions/{cid}/signatures", json=body, headers=auth(appraiser))
        assert signed.status_code == 200, signed.text
        assert await inbox(api, auth, appraiser) == []
    assert (cid, "issue_report") in await inbox(api, auth, head_actor)

    issued = await api.post(f"/v1/commissions/{cid}/issue", json={}, headers=auth(head_actor))
    assert issued.status_code == 200 and issued.json()["stage"] == "issued"
    assert await inbox(api, auth, head_actor) == []
    assert (cid, "close_commission") in await inbox(api, auth, court_actor)

    async def sealed() -> bool | None:  # recorded beside the main path: the trail's order is fixed once it is
        trail = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
        return True if any(e["kind"] == "report.sealed" for e in trail) else None

    await eventually(sealed)
    closed = await api.post(
        f"/v1/commissions/{cid}/closure", json={"reason": "判决已生效"}, headers=auth(court_actor)
    )
    assert closed.status_code == 200 and closed.json()["stage"] == "closed"
    assert await inbox(api, auth, court_actor) == []
    again = await api.post(f"/v1/commissions/{cid}/closure", json={}, headers=auth(court_actor))
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_in_stage"

    audit = await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))
    assert audit.status_code == 200
    trail = [(e["kind"], e["actor_role"], e["actor_organisation_id"]) for e in audit.json()]
    assert trail == [
        ("commission.entrusted", "court", court_actor.organisation_id),
        ("commission.accepted", "institution", INSTITUTION.id),
        ("report.submitted", "appraiser", first.organisation_id),
        ("report.signed", "appraiser", first.organisation_id),
        ("report.signed", "appraiser", second.organisation_id),
        ("report.issued", "institution_head", INSTITUTION.id),
        ("report.sealed", "system", ""),
        ("commission.closed", "court", court_actor.organisation_id),
    ]
    assert all(e["occurred_at"] for e in audit.json())


async def test_repeated_court_reference_returns_the_existing_commission(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await entrust(api, auth, reference="REF-IDEMPOTENT")
    again = await api.post("/v1/commissions", json=entrustment("REF-IDEMPOTENT"), headers=auth(court_actor))
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    other_court = Actor(Role.COURT, OTHER_COURT.id, "clerk")
    theirs = await api.post("/v1/commissions", json=entrustment("REF-IDEMPOTENT"), headers=auth(other_court))
    assert theirs.status_code == 201 and theirs.json()["id"] != first["id"]
    async with sessions() as session:
        count = (await session.exec(select(func.count()).select_from(Commission))).one()
    assert count == 2


@pytest.mark.dated
async def test_paper_commission_registered_with_its_true_deadlines(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    today = local_today(await temporal_env.get_current_time())
    received = today - timedelta(days=30)  # more than 7 working days, whatever the holidays
    commission = await entrust(api, auth, received_on=received.isoformat())
    clock = commission["clocks"][0]
    assert clock["started_on"] == received.isoformat() and clock["working_days_left"] < 0
    # Its overdue is dated at the deadline but waits for the catch-up window, so that
    # an acceptance made on paper in time can still be entered first.
    overdue = next(r for r in clock["next_rungs"] if r["kind"] == "overdue")
    at, fires_at = (datetime.fromisoformat(overdue[key]) for key in ("at", "fires_at"))
    assert at == datetime.fromisoformat(clock["due_at"]) and fires_at > at
    assert not clock["overdue"]
    await temporal_env.sleep(fires_at - await temporal_env.get_current_time() + timedelta(minutes=1))

    async def overdue_now() -> bool | None:
        body = (await api.get(f"/v1/commissions/{commission['id']}", headers=auth(court_actor))).json()
        return True if body["clocks"][0]["overdue"] else None

    await eventually(overdue_now)


async def test_without_a_valid_token_401(api: httpx.AsyncClient, settings: Settings) -> None:
    assert (await api.get("/v1/commissions")).status_code == 401
    bad = await api.get("/v1/commissions", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
    forged = Settings(jwt_secret="another-secret-" + "y" * 40)
    token = issue_token(forged, court_actor)
    assert (await api.get("/v1/commissions", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    expired = issue_token(settings, court_actor, ttl=timedelta(seconds=-1))
    assert (
        await api.get("/v1/commissions", headers={"Authorization": f"Bearer {expired}"})
    ).status_code == 401


async def test_wrong_role_403_and_outside_scope_404(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = (await entrust(api, auth))["id"]
    decision = {"decision": "accept", "appraiser_ids": APPRAISER_IDS}
    # The court sees the commission but may not accept it.
    as_court = await api.post(f"/v1/commissions/{cid}/acceptance", json=decision, headers=auth(court_actor))
    assert as_court.status_code == 403 and as_court.json()["error"]["code"] == "forbidden"
    assert (
        await api.post("/v1/commissions", json=entrustment("X"), headers=auth(institution_actor))
    ).status_code == 403
    # Another institution, another court, an unassigned appraiser: the commission does not exist for them.
    outsiders = [
        Actor(Role.INSTITUTION, OTHER_INSTITUTION.id, "desk"),
        Actor(Role.COURT, OTHER_COURT.id, "clerk"),
        appraiser_actor(ELSEWHERE.id),
        Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspector"),
    ]
    for outsider in outsiders:
        response = await api.get(f"/v1/commissions/{cid}", headers=auth(outsider))
        assert response.status_code == 404, outsider
        assert response.json()["error"]["code"] == "not_found"
        listed = await api.get("/v1/commissions", headers=auth(outsider))
        assert listed.json()["total"] == 0
    stolen = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json=decision,
        headers=auth(Actor(Role.INSTITUTION, OTHER_INSTITUTION.id, "x")),
    )
    assert stolen.status_code == 404
    assert (await api.get("/v1/commissions/no-such-id", headers=auth(court_actor))).status_code == 404
    supervisor = Actor(Role.SUPERVISOR, INSTITUTION.bureau_id, "inspector")
    assert (await api.get(f"/v1/commissions/{cid}", headers=auth(supervisor))).status_code == 200


async def test_steps_not_allowed_now_409_with_the_rule_code(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = (await entrust(api, auth))["id"]
    url = f"/v1/commissions/{cid}"
    one = await api.post(
        f"{url}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS[:1]},
        headers=auth(institution_actor),
    )
    assert one.status_code == 409
    assert one.json()["error"]["code"] == "too_few_appraisers"
    assert one.json()["error"]["details"] == {"rule": "PROC-09"}
    unqualified = await api.post(
        f"{url}/acceptance",
        json={"decision": "accept", "appraiser_ids": [APPRAISER_IDS[0], ELSEWHERE.id]},
        headers=auth(institution_actor),
    )
    assert unqualified.status_code == 409 and unqualified.json()["error"]["code"] == "appraiser_not_qualified"
    early = await api.post(f"{url}/issue", json={}, headers=auth(head_actor))
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_in_stage"
    # Nothing changed: still awaiting acceptance, with one event.
    state = (await api.get(url, headers=auth(court_actor))).json()
    assert state["stage"] == "awaiting_acceptance" and state["last_event_seq"] == 1

    await api.post(
        f"{url}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    first = appraiser_actor(APPRAISER_IDS[0])
    second = appraiser_actor(APPRAISER_IDS[1])
    report = await api.post(f"{url}/report", json={"content": "c", "opinion": "o"}, headers=auth(first))
    report_hash = report.json()["report"]["content_hash"]
    mine = {"kind": "sign", "signature": signature(first.organisation_id, report_hash)}
    forged = await api.post(f"{url}/signatures", json=mine, headers=auth(second))
    assert forged.status_code == 422 and forged.json()["error"]["details"][0]["field"] == "signature"
    wrong_text = {"kind": "sign", "signature": signature(first.organisation_id, "0" * 64)}
    assert (await api.post(f"{url}/signatures", json=wrong_text, headers=auth(first))).status_code == 422
    assert (
        await api.post(f"{url}/signatures", json={"kind": "sign"}, headers=auth(first))
    ).status_code == 422
    assert (await api.post(f"{url}/signatures", json=mine, headers=auth(first))).status_code == 200
    twice = await api.post(f"{url}/signatures", json=mine, headers=auth(first))
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_signed"
    dissent_text = "伤残等级应为九级"
    dissent = {
        "kind": "dissent",
        "statement": dissent_text,
        "signature": signature(second.organisation_id, report_hash, "dissent", dissent_text),
    }
    dissented = await api.post(f"{url}/signatures", json=dissent, headers=auth(second))
    assert dissented.status_code == 200 and dissented.json()["stage"] == "awaiting_issue"
    signatures = dissented.json()["report"]["signatures"]
    assert [s["kind"] for s in signatures] == ["sign", "dissent"]
    assert all(len(s["key_fingerprint"]) == 64 for s in signatures)


@pytest.mark.dated
async def test_invalid_bodies_422_naming_the_field(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    court = auth(court_actor)
    missing = await api.post("/v1/commissions", json={"case_number": "x"}, headers=court)
    assert missing.status_code == 422
    fields = {f["field"] for f in missing.json()["error"]["details"]}
    assert {"court_reference", "category", "selection"} <= fields
    bad_hash = await api.post(
        "/v1/commissions", json=entrustment(materials=[{"name": "x", "sha256": "nope"}]), headers=court
    )
    assert (
        bad_hash.status_code == 422
        and bad_hash.json()["error"]["details"][0]["field"] == "materials.0.sha256"
    )
    unknown = await api.post("/v1/commissions", json=entrustment(colour="red"), headers=court)
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "colour"
    today = local_today(await temporal_env.get_current_time())
    future = await api.post(
        "/v1/commissions",
        json=entrustment(received_on=(today + timedelta(days=2)).isoformat()),
        headers=court,
    )
    assert future.status_code == 422 and future.json()["error"]["details"][0]["field"] == "received_on"
    ancient = await api.post(
        "/v1/commissions",
        json=entrustment(received_on=(today - timedelta(days=400)).isoformat()),
        headers=court,
    )
    assert ancient.status_code == 422
    nowhere = await api.post(
        "/v1/commissions", json=entrustment(selection={"mode": "designated"}), headers=court
    )
    assert (
        nowhere.status_code == 422
        and nowhere.json()["error"]["details"][0]["field"] == "selection.institution_id"
    )
    listed = await api.get("/v1/commissions", headers=court)
    assert listed.json()["total"] == 0

    cid = (await entrust(api, auth))["id"]
    refusal = await api.post(
        f"/v1/commissions/{cid}/acceptance", json={"decision": "refuse"}, headers=auth(institution_actor)
    )
    assert refusal.status_code == 422 and "ground" in refusal.json()["error"]["message"]
    assert (await api.get("/v1/commissions?limit=0", headers=court)).status_code == 422


async def test_institution_not_registered_for_the_category_409(api: httpx.AsyncClient, auth: Auth) -> None:
    response = await api.post(
        "/v1/commissions",
        json=entrustment(category="audio_visual"),
        headers=auth(court_actor),
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "institution_not_qualified"


async def test_refusal_returns_materials_and_ends_the_commission(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = (await entrust(api, auth))["id"]
    refused = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "refuse", "ground": "PROC-05-5", "reason": "超出技术条件"},
        headers=auth(institution_actor),
    )
    assert refused.status_code == 200 and refused.json()["stage"] == "refused"
    kinds = [
        e["kind"] for e in (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
    ]
    assert kinds == ["commission.entrusted", "commission.refused", "materials.returned"]
    assert await inbox(api, auth, institution_actor) == []


async def test_random_selection_is_recorded_and_reproducible(api: httpx.AsyncClient, auth: Auth) -> None:
    commission = await entrust(api, auth, selection={"mode": "random"})
    audit = (await api.get(f"/v1/commissions/{commission['id']}/audit", headers=auth(court_actor))).json()
    data = audit[0]["data"]
    from appraisal.domain.commission import random_pick

    assert commission["institution_id"] in data["selection_candidates"]
    assert random_pick(data["selection_seed"], data["selection_candidates"]) == commission["institution_id"]


async def test_health_and_readiness(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "temporal": "ok"}
