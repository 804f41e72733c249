"""The parties (当事人) through the REST API (PTY-1): registered by the organ, signed in by a link
that works once; what a party sees of its commission (and nothing of another's, nor of the
staff's deliberation); materials and an objection passed on through the organ; the report once
released; its own complaint to the bureau; and a random draw scheduled with the parties, run while
they watch (SEL-3)."""

from collections.abc import Callable
from datetime import date, timedelta

import httpx
import pytest

from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU
from tests.api.test_commissions_api import entrust, entrustment
from tests.api.test_fees_api import issue, register_party
from tests.factories import (
    OTHER_COURT,
    court_actor,
    institution_actor,
)

Auth = Callable[[Actor], dict[str, str]]
SUPERVISOR = Actor(Role.SUPERVISOR, BUREAU.id, "complaints-officer")
MATERIAL = {"name": "复诊病历", "sha256": "cd" * 32}


@pytest.mark.dated
async def test_a_party_sees_its_commission_alone_and_acts_through_the_organ(
    api: httpx.AsyncClient, auth: Auth, today: date
) -> None:
    commission = await entrust(api, auth, court_reference="(2026)渝0103民初88号-鉴1")
    cid = commission["id"]
    registered = await api.post(
        f"/v1/commissions/{cid}/parties",
        json={"parties": [{"name": "李四", "side": "defendant", "email": "lisi@example.test"}]},
        headers=auth(court_actor),
    )
    assert registered.status_code == 201, registered.text
    link = registered.json()["parties"][0]["sign_in_link"]
    assert link.startswith("/ui/party/sign-in/")
    token = link.rsplit("/", 1)[1]
    first = await api.post("/v1/party-sign-in", json={"token": token})
    assert first.status_code == 200, first.text
    again = await api.post("/v1/party-sign-in", json={"token": token})
    assert again.status_code == 401 and "已使用" in again.json()["error"]["message"], "a link works once"
    party_id = first.json()["party_id"]
    party = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert first.json()["commission_id"] == cid

    # Only the organ that entrusted it registers parties; the institution may not.
    other = await api.post(
        f"/v1/commissions/{cid}/parties",
        json={"parties": [{"name": "王五", "side": "third_party"}]},
        headers=auth(institution_actor),
    )
    assert other.status_code == 403
    retried = await api.post(
        f"/v1/commissions/{cid}/parties",
        json={"parties": [{"name": "李四", "side": "defendant"}]},
        headers=auth(court_actor),
    )
    assert retried.status_code == 409 and retried.json()["error"]["code"] == "duplicate_party"
    listed = await api.get(f"/v1/commissions/{cid}/parties", headers=auth(court_actor))
    assert [p["email"] for p in listed.json()] == ["lisi@example.test"]
    assert listed.json()[0]["link_used_at"] is not None

    seen = await api.get(f"/v1/commissions/{cid}/party-view", headers=party)
    assert seen.status_code == 200, seen.text
    view = seen.json()
    assert view["stage"] == "awaiting_acceptance" and view["party"]["name"] == "李四"
    assert [m["name"] for m in view["materials"]] == ["病历"] and view["materials"][0]["how"] == "entrusted"
    assert view["report"] is None and view["clocks"][0]["rule"] == "PROC-03"

    # Nothing of the staff's: no list, no commission's full record, no trail, no other commission.
    for path in (
        "/v1/commissions",
        f"/v1/commissions/{cid}",
        f"/v1/commissions/{cid}/audit",
        f"/v1/commissions/{cid}/verify",
    ):
        assert (await api.get(path, headers=party)).status_code == 403, path
    another = await api.post(
        "/v1/commissions",
        json=entrustment("(2026)渝0104民初5号-鉴1"),
        headers=auth(Actor(Role.COURT, OTHER_COURT.id, "clerk")),
    )
    assert another.status_code == 201
    assert (
        await api.get(f"/v1/commissions/{another.json()['id']}/party-view", headers=party)
    ).status_code == 404
    offered = await api.post(
        f"/v1/commissions/{another.json()['id']}/party-requests",
        json={"kind": "materials", "materials": [MATERIAL]},
        headers=party,
    )
    assert offered.status_code == 404

    # Materials offered through the organ, supplied when the institution asks for them.
    offer = await api.post(
        f"/v1/commissions/{cid}/party-requests",
        json={"kind": "materials", "content": "复诊记录", "materials": [MATERIAL]},
        headers=party,
    )
    assert offer.status_code == 200, offer.text
    assert offer.json()["party_requests"][0]["status"] == "pending"
    tasks = (await api.get("/v1/tasks", headers=auth(court_actor))).json()
    assert ("review_party_request", cid) in {(t["kind"], t["commission_id"]) for t in tasks}
    asked = await api.post(
        f"/v1/commissions/{cid}/material-requests",
        json={"description": "复诊记录"},
        headers=auth(institution_actor),
    )
    assert asked.status_code == 200, asked.text
    supplied = await api.post(
        f"/v1/commissions/{cid}/materials", json={"party_request_id": "1"}, headers=auth(court_actor)
    )
    assert supplied.status_code == 200, supplied.text
    assert supplied.json()["stage"] == "awaiting_acceptance"
    assert supplied.json()["party_requests"][0]["status"] == "accepted"
    view = (
        await api.get(
            f"/v1/commissions/{cid}/party-view", headers={**party, "X-Min-Seq": supplied.headers["X-Seq"]}
        )
    ).json()
    assert {(m["name"], m["how"]) for m in view["materials"]} == {
        ("病历", "entrusted"),
        ("复诊病历", "supplied"),
    }
    assert view["requests"][0]["status"] == "accepted"

    # Issued, the report stays the organ's until it releases it.
    issued_seq = await issue(api, auth, cid)
    view = (
        await api.get(f"/v1/commissions/{cid}/party-view", headers={**party, "X-Min-Seq": issued_seq})
    ).json()
    assert view["stage"] == "issued" and view["report"] is None
    hidden = await api.get(f"/v1/commissions/{cid}/report.pdf", headers=party)
    assert hidden.status_code == 409 and hidden.json()["error"]["code"] == "report_not_released"
    released = await api.post(f"/v1/commissions/{cid}/report-release", json={}, headers=auth(court_actor))
    assert released.status_code == 200, released.text
    view = (
        await api.get(
            f"/v1/commissions/{cid}/party-view", headers={**party, "X-Min-Seq": released.headers["X-Seq"]}
        )
    ).json()
    assert view["report"]["opinion"] == "构成十级伤残" and len(view["report"]["signed_by"]) == 2
    pdf = await api.get(f"/v1/commissions/{cid}/report.pdf", headers=party)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # An objection, filed by the party, forwarded by the court (CRT-7).
    objection = await api.post(
        f"/v1/commissions/{cid}/party-requests",
        json={"kind": "objection", "content": "伤残等级偏高"},
        headers=party,
    )
    assert objection.status_code == 200, objection.text
    forwarded = await api.post(
        f"/v1/commissions/{cid}/objections",
        json={
            "party": "李四",
            "content": "伤残等级偏高",
            "reply_by": (today + timedelta(days=15)).isoformat(),
            "party_request_id": "2",
        },
        headers=auth(court_actor),
    )
    assert forwarded.status_code == 200, forwarded.text
    mine = (await api.get(f"/v1/commissions/{cid}/party-view", headers=party)).json()
    assert mine["objections"][0]["status"] == "awaiting_reply"
    assert mine["requests"][1]["handled_as"] == "1"

    # Its own complaint to the bureau; the bureau sees it, and so does the party, nobody else's.
    complained = await api.post(
        f"/v1/commissions/{cid}/complaints",
        json={"summary": "鉴定人收取额外费用", "reference": "C1"},
        headers=party,
    )
    assert complained.status_code == 201, complained.text
    complaint_id = complained.json()["id"]
    assert complained.json()["complainant"]["name"] == "李四"
    repeated = await api.post(
        f"/v1/commissions/{cid}/complaints",
        json={"summary": "鉴定人收取额外费用", "reference": "C1"},
        headers=party,
    )
    assert repeated.status_code == 200 and repeated.json()["id"] == complaint_id
    assert (await api.get(f"/v1/complaints/{complaint_id}", headers=auth(SUPERVISOR))).status_code == 200
    view = (await api.get(f"/v1/commissions/{cid}/party-view", headers=party)).json()
    assert [c["id"] for c in view["complaints"]] == [complaint_id]
    assert view["complaints"][0]["stage"] == "awaiting_acceptance"
    assert all(n["message"] for n in view["notifications"])
    assert party_id


@pytest.mark.dated
async def test_the_bureau_counts_a_fee_violation_found_on_a_partys_complaint(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    commission = await entrust(api, auth, court_reference="(2026)渝0103民初89号-鉴1")
    cid = commission["id"]
    _, party = await register_party(api, auth, cid)
    complained = await api.post(
        f"/v1/commissions/{cid}/complaints", json={"summary": "超标准收费"}, headers=party
    )
    assert complained.status_code == 201, complained.text
    path = f"/v1/complaints/{complained.json()['id']}/decision"
    assert (await api.post(path, json={"decision": "accept"}, headers=auth(SUPERVISOR))).status_code == 200
    decided = await api.post(
        path,
        json={
            "decision": "decide",
            "findings": "超出收费标准收取鉴定费",
            "outcome": "criticism_or_correction_order",
            "fee_violation": True,
        },
        headers=auth(SUPERVISOR),
    )
    assert decided.status_code == 200, decided.text
    record = await api.get(
        f"/v1/supervision/integrity/institutions/{commission['institution_id']}", headers=auth(SUPERVISOR)
    )
    counts = record.json()["counts"]
    assert counts["fee_violations"] == 1 and counts["upheld_complaints"] == 1
    deductions = {d["item"]: d["count"] for d in record.json()["evaluation"]["deductions"]}
    assert deductions["fee_violation"] == 1
    assert [e["rule"] for e in record.json()["entries"]] == ["REG-5"]


async def test_a_draw_scheduled_with_the_parties_run_while_they_watch(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    body = {
        "entrustment": entrustment("(2026)渝0103民初90号-鉴1", selection={"mode": "random"}),
        "parties": [{"name": "赵六", "side": "applicant"}],
        "place": "第三法庭",
    }
    created = await api.post("/v1/draws", json=body, headers=auth(court_actor))
    assert created.status_code == 201, created.text
    draw = created.json()["draw"]
    assert draw["status"] == "scheduled" and len(draw["candidates_now"]) >= 2
    token = created.json()["parties"][0]["sign_in_link"].rsplit("/", 1)[1]
    signed = await api.post("/v1/party-sign-in", json={"token": token})
    party = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    waiting = (await api.get("/v1/party", headers=party)).json()
    assert waiting["commission_id"] is None and waiting["draw"]["id"] == draw["id"]
    assert (await api.post(f"/v1/draws/{draw['id']}/run", headers=party)).status_code == 403
    again = await api.post("/v1/draws", json=body, headers=auth(court_actor))
    assert again.status_code == 200 and again.json()["parties"] == [], "the same draw, no new links"

    run = await api.post(f"/v1/draws/{draw['id']}/run", headers=auth(court_actor))
    assert run.status_code == 200, run.text
    cid = run.json()["id"]
    assert run.json()["selection_mode"] == "random"
    rerun = await api.post(f"/v1/draws/{draw['id']}/run", headers=auth(court_actor))
    assert rerun.status_code == 200 and rerun.json()["id"] == cid
    me = (await api.get("/v1/party", headers=party)).json()
    assert me["commission_id"] == cid and me["draw"] is None
    view = (await api.get(f"/v1/commissions/{cid}/party-view", headers=party)).json()
    assert view["selection"]["reproduced"] is True and view["selection"]["event_verified"] is True
    assert view["institution_id"] in view["selection"]["candidates"]
    assert view["candidate_names"][view["institution_id"]] == view["institution"]
    drawn = (await api.get(f"/v1/draws/{draw['id']}", headers=auth(court_actor))).json()
    assert drawn["status"] == "drawn" and drawn["commission_id"] == cid
    trail = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
    assert [e["kind"] for e in trail][:2] == ["commission.entrusted", "party.registered"]
