"""Registration applications end to end: httpx → FastAPI → time-skipping Temporal →
production worker → PostgreSQL. A new institution from the bureau's window to its licence and
registry entry; an appraiser filed by their institution, registered with their key, assigned
to nothing until pre-service training; a correction, a refusal with its remedies, a change, a
renewal filed too late; REG-2's one institution; ENT-3's investigative organs; who sees what."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from appraisal.core.signing import demo_private_key, fingerprint, public_key_b64, sign
from appraisal.domain.admission import review_hash
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU, EXPERTS, OTHER_BUREAU, POLICE
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.factories import (
    INSTITUTION,
    OTHER_INSTITUTION,
    court_actor,
    institution_actor,
)

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "registrar")
other_bureau = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "registrar")
other_desk = Actor(Role.INSTITUTION, OTHER_INSTITUTION.id, "desk")


def expert(expert_id: str) -> Actor:
    return Actor(Role.EXPERT, expert_id, "expert")


def institution_body(reference: str = "渝司登〔2026〕1号", **details: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "kind": "admission",
        "subject_kind": "institution",
        "institution": {
            "name": "朝天门司法鉴定所",
            "categories": ["forensic_clinical"],
            "founding_organ_kind": "social",
            "legal_representative": "周正",
            "appraisers_per_category": {"forensic_clinical": 3},
            "laboratory_accredited": True,
            "equipment": "法医临床检查设备一套",
            **details,
        },
        "materials": [{"name": "申请书", "sha256": "ab" * 32}],
    }


def appraiser_body(
    reference: str, key_holder: str, identity: str = "500103199001011234", **details: Any
) -> dict[str, Any]:
    return {
        "reference": reference,
        "kind": "admission",
        "subject_kind": "appraiser",
        "appraiser": {
            "name": "钱新 Qian Xin",
            "categories": ["forensic_clinical"],
            "identity_number": identity,
            "senior_title": True,
            "qualification": "senior_title",
            "years_in_field": 8,
            "public_key": public_key_b64(demo_private_key(key_holder)),
            **details,
        },
    }


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def file(
    api: httpx.AsyncClient, auth: Auth, body: dict[str, Any], actor: Actor = supervisor
) -> dict[str, Any]:
    response = await api.post("/v1/admissions", json=body, headers=auth(actor))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def decide(
    api: httpx.AsyncClient, auth: Auth, admission_id: str, actor: Actor = supervisor, **body: Any
) -> httpx.Response:
    return await api.post(f"/v1/admissions/{admission_id}/decision", json=body, headers=auth(actor))


def signed_review(
    admission_id: str, expert_id: str, score: int = 88, recommendation: str = "approve"
) -> dict[str, Any]:
    opinion = "人员、设备、实验室符合条件"
    digest = review_hash(
        admission_id=admission_id,
        expert_id=expert_id,
        score=score,
        recommendation=recommendation,
        opinion=opinion,
    )
    return {
        "score": score,
        "recommendation": recommendation,
        "opinion": opinion,
        "signature": sign(demo_private_key(expert_id), digest.encode()),
    }


async def through_review(api: httpx.AsyncClient, auth: Auth, admission_id: str) -> dict[str, Any]:
    """Accepted, a panel drawn from the pool, every expert's signed review."""
    assert (await decide(api, auth, admission_id, decision="accept")).status_code == 200
    drawn = await decide(api, auth, admission_id, decision="draw_panel", size=3, review_days=10)
    assert drawn.status_code == 200, drawn.text
    body = dict(drawn.json())
    for member in body["panel"]:
        reviewed = await api.post(
            f"/v1/admissions/{admission_id}/review",
            json=signed_review(admission_id, member["expert_id"]),
            headers=auth(expert(member["expert_id"])),
        )
        assert reviewed.status_code == 200, reviewed.text
        body = dict(reviewed.json())
    return body


@pytest.mark.dated
async def test_a_new_institution_goes_from_the_window_to_its_licence_and_registry_entry(
    api: httpx.AsyncClient, auth: Auth, today: date
) -> None:
    calendar = WorkingCalendar()
    filed = await file(api, auth, institution_body())
    assert filed["stage"] == "awaiting_acceptance" and filed["gaps"] == [] and filed["review_required"]
    acceptance = next(c for c in filed["clocks"] if c["rule"] == "ADM-1")
    assert acceptance["due_on"] == calendar.add_working_days(today, 5).due_on.isoformat()
    assert acceptance["working_days_left"] == 5
    again = await api.post("/v1/admissions", json=institution_body(), headers=auth(supervisor))
    assert again.status_code == 200 and again.json()["id"] == filed["id"]
    aid = filed["id"]
    tasks = (await api.get("/v1/tasks", headers=auth(supervisor))).json()
    assert {(t["admission_id"], t["kind"]) for t in tasks} >= {(aid, "decide_admission_acceptance")}
    # The pool: active, in the category, not of the applicant; the draw re-runs the same.
    assert error(await decide(api, auth, aid, decision="approve")) == (409, "not_in_stage")
    assert error(await decide(api, auth, aid, decision="accept", size=3)) == (422, "invalid_input")
    await decide(api, auth, aid, decision="accept")
    assert error(await decide(api, auth, aid, decision="approve")) == (409, "review_required")
    drawn = (await decide(api, auth, aid, decision="draw_panel", size=3, seed=42)).json()
    clinical = sorted(e.id for e in EXPERTS if "forensic_clinical" in e.categories)
    assert drawn["stage"] == "expert_review" and drawn["draws"][0]["candidates"] == clinical
    assert drawn["draws"][0]["reproduced"] is True and len(drawn["panel"]) == 3
    panel = [m["expert_id"] for m in drawn["panel"]]
    outsider = next(e.id for e in EXPERTS if e.id not in panel)
    assert (await api.get(f"/v1/admissions/{aid}", headers=auth(expert(outsider)))).status_code == 404
    seen = await api.get(f"/v1/admissions/{aid}", headers=auth(expert(panel[0])))
    assert seen.status_code == 200
    expert_tasks = (await api.get("/v1/tasks", headers=auth(expert(panel[0])))).json()
    assert [(t["admission_id"], t["kind"]) for t in expert_tasks] == [(aid, "submit_expert_review")]
    forged = signed_review(aid, panel[1])  # another expert's key
    bad = await api.post(f"/v1/admissions/{aid}/review", json=forged, headers=auth(expert(panel[0])))
    assert error(bad) == (409, "bad_signature")
    for member in panel:
        reviewed = await api.post(
            f"/v1/admissions/{aid}/review", json=signed_review(aid, member), headers=auth(expert(member))
        )
        assert reviewed.status_code == 200, reviewed.text
    concluded = reviewed.json()
    assert concluded["stage"] == "deciding" and concluded["review_concluded"]
    assert [r["key_fingerprint"] for r in concluded["reviews"]] == [
        fingerprint(public_key_b64(demo_private_key(m))) for m in panel
    ]
    approved = (await decide(api, auth, aid, decision="approve", note="准予登记")).json()
    licence = approved["decision"]
    assert approved["stage"] == "approved" and licence["valid_from"] == today.isoformat()
    listed = (await api.get("/v1/registry/institutions", headers=auth(court_actor))).json()
    entry = next(i for i in listed if i["id"] == approved["entity_id"])
    assert entry["licence_number"] == licence["licence_number"]
    assert entry["licence_valid_until"] == licence["valid_until"] and entry["founded_by_organ_id"] is None
    trail = (await api.get(f"/v1/admissions/{aid}/audit", headers=auth(supervisor))).json()
    assert trail[0]["kind"] == "admission.registered" and trail[-1]["kind"] == "admission.approved"
    assert [
        d["reproduced"]
        for d in (await api.get(f"/v1/admissions/{aid}/panel", headers=auth(supervisor))).json()
    ] == [True]
    # A court can now entrust the new institution.
    commission = await entrust(
        api,
        auth,
        court_reference="NEW-INST-1",
        selection={"mode": "designated", "institution_id": entry["id"]},
    )
    assert commission["institution_id"] == entry["id"]


@pytest.mark.dated
async def test_an_appraiser_is_registered_with_their_key_and_assigned_only_after_pre_service_training(
    api: httpx.AsyncClient, auth: Auth, today: date
) -> None:
    outside = appraiser_body("APP-1", "qian-xin", categories=["audio_visual"])
    assert error(await api.post("/v1/admissions", json=outside, headers=auth(institution_actor))) == (
        422,
        "invalid_input",
    )
    filed = await file(api, auth, appraiser_body("APP-1", "qian-xin"), institution_actor)
    assert filed["applicant_institution_id"] == INSTITUTION.id
    assert "identity_number" not in str(filed) and len(filed["appraiser"]["identity_hash"]) == 64
    approved = await through_review(api, auth, filed["id"])
    approved = (await decide(api, auth, filed["id"], decision="approve")).json()
    new_id = approved["entity_id"]
    keys = (await api.get("/v1/registry/keys", headers=auth(court_actor))).json()
    assert any(k["appraiser_id"] == new_id for k in keys)
    # One person, one institution (REG-2): the same identity filed elsewhere is refused.
    elsewhere = appraiser_body("APP-2", "qian-xin-2")
    refused = await api.post("/v1/admissions", json=elsewhere, headers=auth(institution_actor))
    assert error(refused) == (409, "already_practising")
    # TRN-1: not assignable before a pre-service course is recorded completed.
    commission = await entrust(api, auth, court_reference="TRN-1-CHECK")
    assignment = {"decision": "accept", "appraiser_ids": [new_id, APPRAISER_IDS[0]]}
    blocked = await api.post(
        f"/v1/commissions/{commission['id']}/acceptance", json=assignment, headers=auth(institution_actor)
    )
    assert error(blocked)[0] == 409 and blocked.json()["error"]["details"]["rule"] == "TRN-1"
    course = await api.post(
        "/v1/training/courses",
        json={
            "kind": "pre_service",
            "title": "新任鉴定人岗前培训",
            "organiser": "重庆市司法鉴定协会",
            "starts_on": (today - timedelta(days=3)).isoformat(),
            "ends_on": today.isoformat(),
            "hours": 40,
        },
        headers=auth(supervisor),
    )
    assert course.status_code == 201, course.text
    recorded = await api.post(
        f"/v1/training/courses/{course.json()['id']}/attendance",
        json={"records": [{"appraiser_id": new_id}]},
        headers=auth(supervisor),
    )
    assert recorded.status_code == 200 and recorded.json()["pre_service_completed"] == [new_id]
    training = (await api.get(f"/v1/training/appraisers/{new_id}", headers=auth(institution_actor))).json()
    assert training["needs_pre_service_training"] is False and training["records"][0]["kind"] == "pre_service"


async def test_a_correction_is_asked_once_and_a_refusal_names_reasons_and_remedies(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    filed = await file(
        api,
        auth,
        appraiser_body("APP-C", "zheng", qualification="experience", years_in_field=6),
        institution_actor,
    )
    aid = filed["id"]
    assert filed["gaps"] == ["6 years in the field, 10 needed"]
    asked = (await decide(api, auth, aid, decision="request_correction", description="缺工作经历证明")).json()
    assert (
        asked["stage"] == "awaiting_correction"
        and next(c for c in asked["clocks"] if c["rule"] == "ADM-1")["paused"]
    )
    tasks = (await api.get("/v1/tasks", headers=auth(institution_actor))).json()
    assert (aid, "supply_admission_correction") in {(t["admission_id"], t["kind"]) for t in tasks}
    # Only the applicant hands it in; another institution does not see the application at all.
    other = await api.post(f"/v1/admissions/{aid}/correction", json={}, headers=auth(other_desk))
    assert other.status_code == 404
    supplied = await api.post(
        f"/v1/admissions/{aid}/correction",
        json={"materials": [{"name": "工作经历证明", "sha256": "cd" * 32}]},
        headers=auth(institution_actor),
    )
    assert supplied.status_code == 200 and supplied.json()["stage"] == "awaiting_acceptance"
    assert error(await decide(api, auth, aid, decision="request_correction", description="再补")) == (
        409,
        "correction_already_requested",
    )
    await through_review(api, auth, aid)
    assert error(await decide(api, auth, aid, decision="approve")) == (409, "not_qualified")
    refused = (await decide(api, auth, aid, decision="refuse", reason="工作年限不足十年 (REG-2)")).json()
    assert refused["stage"] == "refused"
    assert [r["remedy"] for r in refused["decision"]["remedies"]] == [
        "administrative_review",
        "administrative_lawsuit",
    ]
    assert error(await decide(api, auth, aid, decision="accept")) == (409, "not_in_stage")


@pytest.mark.dated
async def test_changes_renewals_and_who_may_file(api: httpx.AsyncClient, auth: Auth, today: date) -> None:
    appraiser_id = APPRAISER_IDS[0]
    new_key = public_key_b64(demo_private_key("rotated"))
    change = {
        "reference": "CHG-1",
        "kind": "change",
        "subject_kind": "appraiser",
        "entity_id": appraiser_id,
        "change": {"public_key": new_key},
    }
    # Only the appraiser's own institution (or the bureau) files it.
    assert error(await api.post("/v1/admissions", json=change, headers=auth(other_desk))) == (
        409,
        "wrong_actor",
    )
    filed = await file(api, auth, change, institution_actor)
    assert not filed["review_required"]  # no new category: no expert panel
    assert (
        await api.get(
            f"/v1/admissions/{filed['id']}", headers=auth(Actor(Role.APPRAISER, appraiser_id, "me"))
        )
    ).status_code == 200
    await decide(api, auth, filed["id"], decision="accept")
    changed = (await decide(api, auth, filed["id"], decision="approve")).json()
    assert changed["stage"] == "approved"
    keys = [
        k
        for k in (await api.get("/v1/registry/keys", headers=auth(court_actor))).json()
        if k["appraiser_id"] == appraiser_id
    ]
    assert {k["fingerprint"] for k in keys if k["valid_until"] is None} == {fingerprint(new_key)}
    # A renewal comes at least 30 days before the licence ends (ADM-7).
    patched = await api.patch(
        f"/v1/registry/institutions/{INSTITUTION.id}",
        json={"licence_valid_until": (today + timedelta(days=20)).isoformat()},
        headers=auth(supervisor),
    )
    assert patched.status_code == 200
    renewal = {
        "reference": "REN-1",
        "kind": "renewal",
        "subject_kind": "institution",
        "entity_id": INSTITUTION.id,
    }
    assert error(await api.post("/v1/admissions", json=renewal, headers=auth(institution_actor))) == (
        409,
        "renewal_too_late",
    )
    # A new institution is filed at the bureau's window, not by another institution.
    assert error(
        await api.post("/v1/admissions", json=institution_body("X"), headers=auth(institution_actor))
    ) == (
        409,
        "wrong_actor",
    )
    assert (
        await api.post("/v1/admissions", json=institution_body("Y"), headers=auth(court_actor))
    ).status_code == 403
    assert (await api.get("/v1/admissions", headers=auth(other_bureau))).json() == []


async def test_an_investigative_organs_institution_is_registered_but_never_offered(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    unnamed = await file(
        api,
        auth,
        institution_body("INV-0", name="某侦查机关鉴定所", founding_organ_kind="investigative_organ"),
    )
    assert unnamed["gaps"] == ["set up by an investigative organ: which one is not named (ENT-3)"]
    filed = await file(
        api,
        auth,
        institution_body(
            "INV-1",
            name="某公安局物证鉴定所",
            founding_organ_kind="investigative_organ",
            founded_by_organ_id=POLICE[0].id,
        ),
    )
    await through_review(api, auth, filed["id"])
    approved = (await decide(api, auth, filed["id"], decision="approve")).json()
    designated = await api.post(
        "/v1/commissions",
        json={
            "court_reference": "INV-DESIGNATED",
            "case_number": "(2026)渝0103民初9号",
            "category": "forensic_clinical",
            "matters": ["伤残等级评定"],
            "selection": {"mode": "designated", "institution_id": approved["entity_id"]},
        },
        headers=auth(court_actor),
    )
    assert error(designated) == (409, "institution_not_open")
    assert designated.json()["error"]["details"]["rule"] == "ENT-3"
    listed = (await api.get("/v1/registry/institutions", headers=auth(court_actor))).json()
    assert next(i for i in listed if i["id"] == approved["entity_id"])["founded_by_organ_id"] == POLICE[0].id
    drawn = await entrust(api, auth, court_reference="INV-RANDOM", selection={"mode": "random"})
    selection = (await api.get(f"/v1/commissions/{drawn['id']}/selection", headers=auth(court_actor))).json()
    assert approved["entity_id"] not in selection["candidates"] and selection["candidates"]
    barred = await file(api, auth, institution_body("COURT-1", founding_organ_kind="court"))
    assert barred["gaps"] == ["set up by a court: barred"]
