"""Penalties, exit, independence and public disclosure end to end: httpx → FastAPI →
time-skipping Temporal → production worker → PostgreSQL. A penalty case filed and taken to
its served decision by REST, published without a token; a suspension by REST reaching a
running commission; an appraiser's signed interference record reaching the bureau and kept
from the institution; an inspection's results made public; an unusual rate raising a task."""

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from appraisal.core.signing import demo_private_key, interference_message, sign
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU, OTHER_BUREAU
from appraisal.workflows.supervision import SupervisionRatesWorkflow
from tests.api.test_commissions_api import entrust
from tests.factories import (
    CLINICAL_APPRAISERS,
    INSTITUTION,
    OTHER_INSTITUTION,
    appraiser_actor,
    court_actor,
    head_actor,
    institution_actor,
)

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "执法人员")
other_bureau = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "执法人员")
TEAM = [a.id for a in CLINICAL_APPRAISERS]


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def case_body(today: date, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": f"渝司罚立〔2026〕{uuid.uuid4().hex[:6]}号",
        "subject_kind": "institution",
        "subject_id": INSTITUTION.id,
        "source": "bureau",
        "summary": "超出登记业务范围鉴定",
        "breach_on": (today - timedelta(days=30)).isoformat(),
    }
    body.update(overrides)
    return body


async def step(api: httpx.AsyncClient, auth: Auth, case_id: str, **body: Any) -> httpx.Response:
    return await api.post(f"/v1/penalties/{case_id}/steps", json=body, headers=auth(supervisor))


@pytest.mark.dated
async def test_a_penalty_case_by_rest_from_filing_to_its_published_decision(
    api: httpx.AsyncClient, auth: Auth, today: date
) -> None:
    body = case_body(today)
    filed = await api.post("/v1/penalties", json=body, headers=auth(supervisor))
    assert filed.status_code == 201, filed.text
    case = filed.json()
    assert case["stage"] == "investigating" and case["clocks"][0]["rule"] == "CMP-9"
    again = await api.post("/v1/penalties", json=body, headers=auth(supervisor))
    assert (again.status_code, again.json()["id"]) == (200, case["id"])
    assert error(await api.get(f"/v1/penalties/{case['id']}", headers=auth(other_bureau))) == (
        404,
        "not_found",
    )
    assert (await api.get(f"/v1/penalties/{case['id']}", headers=auth(institution_actor))).status_code == 403

    cid = case["id"]
    assert error(await step(api, auth, cid, step="propose", facts="…", penalties=["fine"], basis="…")) == (
        409,
        "investigation_required",
    )
    stray = await step(api, auth, cid, step="investigate", findings="查明", hearing_on=today.isoformat())
    assert (
        error(stray) == (422, "invalid_input")
        and stray.json()["error"]["details"][0]["field"] == "hearing_on"
    )
    assert (
        await step(api, auth, cid, step="investigate", findings="抽查三份案卷，均超范围")
    ).status_code == 200
    too_much = await step(
        api, auth, cid, step="propose", facts="超范围鉴定", penalties=["fine"], basis="令95 第三十八条",
        fine_yuan=40_000, illegal_gains_yuan=20_000,
    )  # fmt: skip
    assert error(too_much) == (409, "fine_out_of_range")
    proposed = await step(
        api, auth, cid, step="propose", facts="超范围鉴定", penalties=["warning", "fine"], basis="令95 第三十八条",
        fine_yuan=30_000, illegal_gains_yuan=12_000,
    )  # fmt: skip
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["proposal"]["hearing_right"] is True
    waived = await step(
        api, auth, cid, step="statement", statement="认可事实，不要求听证", waives_hearing=True
    )
    assert waived.json()["stage"] == "deciding"
    decided = await step(
        api, auth, cid, step="decide", penalties=["warning", "fine"], reasons="超出登记业务范围",
        basis="令95 第三十八条、第三十九条", fine_yuan=30_000, illegal_gains_yuan=12_000,
        decision_number="渝司罚决〔2026〕7号",
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    served = await step(api, auth, cid, step="serve", method="直接送达")
    assert served.json()["stage"] == "closed" and served.json()["outcome"]["published"] is True

    published = await api.get("/v1/public/penalties")  # no token
    assert published.status_code == 200
    [entry] = [p for p in published.json() if p["case_id"] == cid]
    assert entry["subject_name"] == INSTITUTION.name and entry["penalties"] == ["warning", "fine"]
    assert entry["fine_yuan"] == 30_000 and entry["decision_number"] == "渝司罚决〔2026〕7号"
    assert not {"summary", "facts", "reasons", "findings", "statement"} & set(entry)
    trail = await api.get(f"/v1/penalties/{cid}/audit", headers=auth(supervisor))
    assert [e["kind"] for e in trail.json()][-2:] == ["penalty.served", "penalty.outcome_recorded"]
    record = await api.get(
        f"/v1/supervision/integrity/institutions/{INSTITUTION.id}",
        params={"year": str(today.year)},
        headers=auth(supervisor),
    )
    assert "administrative_penalty" in [e["kind"] for e in record.json()["entries"]]
    assert record.json()["counts"]["administrative_penalties"] == 1
    penalty = next(
        d for d in record.json()["evaluation"]["deductions"] if d["item"] == "administrative_penalty"
    )
    assert (penalty["count"], penalty["points"]) == (1, 40)


@pytest.mark.dated
async def test_filing_refusals(api: httpx.AsyncClient, auth: Auth, today: date) -> None:
    old = case_body(today, breach_on=(today - timedelta(days=3 * 366)).isoformat())
    assert error(await api.post("/v1/penalties", json=old, headers=auth(supervisor))) == (409, "time_barred")
    elsewhere = case_body(today, subject_id=OTHER_INSTITUTION.id)
    refused = await api.post("/v1/penalties", json=elsewhere, headers=auth(other_bureau))
    assert error(refused) == (422, "invalid_input")  # not under that bureau
    unreferred = case_body(today, source="complaint")
    assert error(await api.post("/v1/penalties", json=unreferred, headers=auth(supervisor))) == (
        422,
        "invalid_input",
    )
    no_such = case_body(today, source="inspection", source_id=str(uuid.uuid4()))
    assert error(await api.post("/v1/penalties", json=no_such, headers=auth(supervisor))) == (
        422,
        "invalid_input",
    )


@pytest.mark.dated
async def test_a_suspension_by_rest_reaches_a_running_commission_and_the_public_registry(
    api: httpx.AsyncClient, auth: Auth, today: date
) -> None:
    commission = await entrust(api, auth, court_reference=f"(2026)渝0103民初{uuid.uuid4().hex[:6]}号-鉴1")
    cid = commission["id"]
    suspended = await api.post(
        f"/v1/registry/institutions/{INSTITUTION.id}/status",
        json={
            "status": "suspended",
            "reason": "停业整改 (REG-6)",
            "until": (today + timedelta(days=90)).isoformat(),
        },
        headers=auth(supervisor),
    )
    assert suspended.status_code == 200, suspended.text

    async def barred() -> dict[str, Any] | None:
        body = (await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))).json()
        return body if body["registry_bars"] else None

    from tests.workflows.test_commission_workflow import eventually

    body = await eventually(barred, within=30)
    assert body["registry_bars"][0]["status"] == "suspended"
    assert any(t["kind"] == "registry_exit_remedy" for t in body["open_tasks"])
    # The institution's token is refused outright; its step never reaches the workflow.
    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": TEAM},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 401
    tasks = (await api.get("/v1/tasks", headers=auth(court_actor))).json()
    assert ("registry_exit_remedy", cid) in {(t["kind"], t["commission_id"]) for t in tasks}
    withdrawn = await api.post(
        f"/v1/commissions/{cid}/withdrawal", json={"reason": "机构停业整改"}, headers=auth(court_actor)
    )
    assert withdrawn.json()["stage"] == "withdrawn"

    registry = (await api.get("/v1/public/registry/institutions")).json()  # no token
    listed = next(i for i in registry if i["id"] == INSTITUTION.id)
    assert (listed["status"], listed["may_practise"]) == ("suspended", False)
    appraisers = (
        await api.get("/v1/public/registry/appraisers", params={"institution_id": INSTITUTION.id})
    ).json()
    assert {a["institution_name"] for a in appraisers} == {INSTITUTION.name}
    deregistered = await api.post(
        f"/v1/registry/institutions/{INSTITUTION.id}/status",
        json={"status": "deregistered", "reason": "注销"},
        headers=auth(supervisor),
    )
    assert deregistered.json()["status"] == "deregistered"
    final = await api.post(
        f"/v1/registry/institutions/{INSTITUTION.id}/status",
        json={"status": "active", "reason": "恢复"},
        headers=auth(supervisor),
    )
    assert error(final) == (409, "registry_status_final")


def interference_body(commission_id: str, appraiser_id: str, *, hidden: bool) -> dict[str, Any]:
    occurred_at = datetime.fromisoformat("2026-12-01T10:30:00+08:00")
    who, what = "某公司法务 李某", "来电要求将伤残等级定为八级，并称已与机构领导打过招呼"
    message = interference_message(
        commission_id=commission_id, who=who, occurred_at=occurred_at.isoformat(), what=what, hidden=hidden
    )
    return {
        "who": who,
        "occurred_at": occurred_at.isoformat(),
        "what": what,
        "hidden_from_institution": hidden,
        "signature": sign(demo_private_key(appraiser_id), message),
    }


async def test_an_interference_record_reaches_the_bureau_and_is_kept_from_the_institution(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    commission = await entrust(api, auth, court_reference=f"(2026)渝0103民初{uuid.uuid4().hex[:6]}号-鉴1")
    cid = commission["id"]
    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": TEAM},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200
    appraiser = appraiser_actor(TEAM[0])
    forged = interference_body(cid, TEAM[1], hidden=True)  # signed with another appraiser's key
    refused = await api.post(f"/v1/commissions/{cid}/interference", json=forged, headers=auth(appraiser))
    assert (
        error(refused) == (422, "invalid_input")
        and refused.json()["error"]["details"][0]["field"] == "signature"
    )
    recorded = await api.post(
        f"/v1/commissions/{cid}/interference",
        json=interference_body(cid, TEAM[0], hidden=True),
        headers=auth(appraiser),
    )
    assert recorded.status_code == 200, recorded.text
    seq = recorded.headers["X-Seq"]
    wait = {"X-Min-Seq": f"{cid}:{seq}"}

    tasks = (await api.get("/v1/tasks", headers={**auth(supervisor), **wait})).json()
    assert ("review_interference", cid) in {(t["kind"], t["commission_id"]) for t in tasks}
    for viewer in (institution_actor, head_actor):
        seen = (await api.get(f"/v1/commissions/{cid}", headers={**auth(viewer), **wait})).json()
        assert seen["interference"] == []
        trail = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(viewer))).json()
        assert not [e for e in trail if e["kind"].startswith("interference.")]
    bureau_view = (await api.get(f"/v1/commissions/{cid}", headers=auth(supervisor))).json()
    [report] = bureau_view["interference"]
    assert report["who"] == "某公司法务 李某" and report["key_fingerprint"]
    trace = (await api.get(f"/v1/supervision/appraisers/{TEAM[0]}/trace", headers=auth(supervisor))).json()
    assert "interference.reported" in [i["kind"] for i in trace["items"]]
    verify = (await api.get(f"/v1/commissions/{cid}/verify", headers=auth(supervisor))).json()
    assert verify["ok"] is True

    reviewed = await api.post(
        f"/v1/commissions/{cid}/interference/{report['id']}/review",
        json={"note": "已约谈该公司，并通报机构负责人"},
        headers=auth(supervisor),
    )
    assert reviewed.json()["interference"][0]["status"] == "reviewed"
    again = await api.post(
        f"/v1/commissions/{cid}/interference/{report['id']}/review",
        json={"note": "…"},
        headers=auth(supervisor),
    )
    assert error(again) == (409, "already_reviewed")


@pytest.mark.dated
async def test_an_inspection_closed_with_results_is_public_without_case_files(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    drawn = await api.post(
        "/v1/supervision/inspections",
        json={"seed": 7, "institutions": 2, "case_files_per_institution": 1, "inspectors": 1},
        headers=auth(supervisor),
    )
    assert drawn.status_code == 201, drawn.text
    inspection = drawn.json()
    institutions = inspection["picks"]["institutions"]
    assert (await api.get("/v1/public/inspections")).json() == []  # not closed: not yet public
    partial = await api.post(
        f"/v1/supervision/inspections/{inspection['id']}/results",
        json={"results": [{"institution_id": institutions[0], "conclusion": "no_issue"}]},
        headers=auth(supervisor),
    )
    assert error(partial) == (422, "invalid_input") and len(institutions) == 2
    results = [
        {"institution_id": institutions[0], "conclusion": "no_issue"},
        {"institution_id": institutions[1], "conclusion": "penalty_referral", "summary": "超范围鉴定"},
    ]
    closed = await api.post(
        f"/v1/supervision/inspections/{inspection['id']}/results",
        json={"results": results},
        headers=auth(supervisor),
    )
    assert closed.status_code == 200 and closed.json()["closed_at"]
    again = await api.post(
        f"/v1/supervision/inspections/{inspection['id']}/results",
        json={"results": results},
        headers=auth(supervisor),
    )
    assert error(again) == (409, "inspection_closed")
    [public] = (await api.get("/v1/public/inspections")).json()
    assert [r["conclusion"] for r in public["results"]] == ["no_issue", "penalty_referral"]
    year = int(public["closed_at"][:4])
    for institution_id, findings in ((institutions[0], 0), (institutions[1], 1)):
        record = (
            await api.get(
                f"/v1/supervision/integrity/institutions/{institution_id}",
                params={"year": year},
                headers=auth(supervisor),
            )
        ).json()
        assert record["counts"]["inspection_findings"] == findings, "a finding enters the integrity record"
    assert [e["link"] for e in record["entries"]] == [f"/v1/supervision/inspections/{inspection['id']}"]
    assert "picks" not in public and "candidates" not in public
    # The referral opens a penalty case against that institution, and only that one.
    subject = institutions[1]
    filed = await api.post(
        "/v1/penalties",
        json={
            "reference": "渝司罚立〔2026〕抽1号",
            "subject_kind": "institution",
            "subject_id": subject,
            "source": "inspection",
            "source_id": inspection["id"],
            "summary": "抽查发现超范围鉴定",
            "breach_on": public["closed_at"][:10],
        },
        headers=auth(supervisor),
    )
    assert filed.status_code == 201, filed.text
    other = await api.post(
        "/v1/penalties",
        json={
            "reference": "渝司罚立〔2026〕抽2号",
            "subject_kind": "institution",
            "subject_id": institutions[0],
            "source": "inspection",
            "source_id": inspection["id"],
            "summary": "…",
            "breach_on": public["closed_at"][:10],
        },
        headers=auth(supervisor),
    )
    assert error(other) == (409, "not_referred")


async def test_an_unusual_refusal_rate_raises_a_task_for_the_bureau(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment, settings: Any
) -> None:
    ids = [
        (await entrust(api, auth, court_reference=f"(2026)渝0103民初{n}{uuid.uuid4().hex[:4]}号-鉴1"))["id"]
        for n in range(10)
    ]
    for cid in ids[:4]:
        refused = await api.post(
            f"/v1/commissions/{cid}/acceptance",
            json={"decision": "refuse", "ground": "PROC-05-5", "reason": "超出技术能力"},
            headers=auth(institution_actor),
        )
        assert refused.status_code == 200
    wait = {"X-Min-Seq": ",".join(f"{cid}:3" for cid in ids[:4])}
    overview = (await api.get("/v1/supervision/overview", headers={**auth(supervisor), **wait})).json()
    mine = next(r for r in overview["rates"] if r["institution_id"] == INSTITUTION.id)
    refusal = next(r for r in mine["rates"] if r["metric"] == "refusal")
    assert (refusal["numerator"], refusal["denominator"], refusal["rate"]) == (4, 10, 0.4)
    assert refusal["province_rate"] == 0.4 and refusal["unusual"] is False  # it is the whole province
    # Another institution's ten commissions, none refused, bring the province down to 20 %.
    for n in range(10):
        await entrust(
            api,
            auth,
            court_reference=f"(2026)渝0103民初X{n}{uuid.uuid4().hex[:4]}号-鉴1",
            selection={"mode": "designated", "institution_id": OTHER_INSTITUTION.id},
        )
    swept = await temporal_env.client.execute_workflow(
        SupervisionRatesWorkflow.run, id=f"rates-{uuid.uuid4()}", task_queue=settings.task_queue
    )
    assert swept.opened == 1
    alerts = (await api.get("/v1/supervision/alerts", headers=auth(supervisor))).json()
    assert [(a["institution_id"], a["metric"]) for a in alerts] == [(INSTITUTION.id, "refusal")]
    tasks = (await api.get("/v1/tasks", headers=auth(supervisor))).json()
    assert [(t["kind"], t["rule"]) for t in tasks if t["alert_id"]] == [("review_unusual_rate", "SUP-1")]
    again = await temporal_env.client.execute_workflow(
        SupervisionRatesWorkflow.run, id=f"rates-{uuid.uuid4()}", task_queue=settings.task_queue
    )
    assert (again.opened, again.closed) == (0, 0)
