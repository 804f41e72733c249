"""Every route × every role × inside/outside the caller's organisation, and no
token: the API answers each cell as the policy table says. A route without a
rule fails here."""

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi.routing import APIRoute

from appraisal.api.policy import POLICY, Scope, policy_table
from appraisal.core.signing import demo_private_key, public_key_b64
from appraisal.domain.calendar import local_today
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU, EXPERTS, INVESTIGATIVE_ORGANS, OTHER_BUREAU, POLICE, PROCURATORATES
from tests.api.test_commissions_api import APPRAISER_IDS, entrust, entrustment
from tests.api.test_complaints_api import complaint_body
from tests.factories import (
    ELSEWHERE,
    INSTITUTION,
    OTHER_COURT,
    OTHER_INSTITUTION,
    appraiser_actor,
    court_actor,
    head_actor,
    institution_actor,
)

Auth = Callable[[Actor], dict[str, str]]
ROOT = Path(__file__).resolve().parents[2]

INSIDE = {
    Role.COURT: court_actor,
    Role.INSTITUTION: institution_actor,
    Role.INSTITUTION_HEAD: head_actor,
    Role.APPRAISER: appraiser_actor(APPRAISER_IDS[0]),
    Role.SUPERVISOR: Actor(Role.SUPERVISOR, BUREAU.id, "inspector"),
    Role.PROCURATORATE: Actor(Role.PROCURATORATE, PROCURATORATES[0].id, "procurator"),
    Role.PUBLIC_SECURITY: Actor(Role.PUBLIC_SECURITY, POLICE[0].id, "officer"),
    Role.INVESTIGATIVE_ORGAN: Actor(Role.INVESTIGATIVE_ORGAN, INVESTIGATIVE_ORGANS[0].id, "officer"),
    # Set once the matrix's application has drawn its panel: an expert on it.
    Role.EXPERT: Actor(Role.EXPERT, EXPERTS[0].id, "expert"),
    # Role.PARTY: a party of the matrix's commission, registered by the test (PTY-1).
}
POOL_ELSEWHERE = next(e for e in EXPERTS if "forensic_clinical" not in e.categories)
"""Never drawn for the matrix's application (a forensic_clinical appraiser's)."""
OUTSIDE = {
    Role.COURT: Actor(Role.COURT, OTHER_COURT.id, "clerk"),
    Role.INSTITUTION: Actor(Role.INSTITUTION, OTHER_INSTITUTION.id, "desk"),
    Role.INSTITUTION_HEAD: Actor(Role.INSTITUTION_HEAD, OTHER_INSTITUTION.id, "head"),
    Role.APPRAISER: appraiser_actor(ELSEWHERE.id),
    Role.SUPERVISOR: Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspector"),
    Role.PROCURATORATE: Actor(Role.PROCURATORATE, PROCURATORATES[1].id, "procurator"),
    Role.PUBLIC_SECURITY: Actor(Role.PUBLIC_SECURITY, POLICE[1].id, "officer"),
    Role.INVESTIGATIVE_ORGAN: Actor(Role.INVESTIGATIVE_ORGAN, INVESTIGATIVE_ORGANS[1].id, "officer"),
    Role.EXPERT: Actor(Role.EXPERT, POOL_ELSEWHERE.id, "expert"),
    # Role.PARTY: a party of another court's commission, registered by the test.
}
OWN_CASE_NUMBERS = {
    Role.PROCURATORATE: "渝渝中检刑诉〔2026〕1号",
    Role.PUBLIC_SECURITY: "A5001035000002026019999",
    Role.INVESTIGATIVE_ORGAN: "渝缉私刑立字〔2026〕8号",
}
"""Each other entrusting organ's commission in the matrix, in its own case-number format (ENT-2):
inside, it is the organ's own; outside, another organ's of the same role (404)."""


def body_for(method: str, path: str) -> dict[str, Any] | None:
    if method not in ("POST", "PUT", "PATCH"):
        return None
    bodies: dict[str, dict[str, Any]] = {
        "/v1/commissions": entrustment(f"MATRIX-{uuid.uuid4().hex[:8]}"),
        "acceptance": {"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        "material-requests": {"description": "补充材料"},
        "materials": {},
        "extension": {"working_days": 5, "reason": "复杂"},
        "reentrustment": {
            "court_reference": f"MATRIX-RE-{uuid.uuid4().hex[:8]}",
            "selection": {"mode": "designated", "institution_id": OTHER_INSTITUTION.id},
            "reason": "逾期",
        },
        "report": {"content": "检验所见", "opinion": "意见"},
        "signatures": {"kind": "sign", "signature": "AAAA"},
        "issue": {},
        "withdrawal": {"reason": "撤回"},
        "termination": {"ground": "PROC-20-5", "reason": "不可抗力"},
        "closure": {},
        "/v1/complaints": complaint_body(f"MATRIX-C-{uuid.uuid4().hex[:8]}"),
        "decision": {"decision": "accept"},
        "webhook": {"url": "http://hooks.test/appraisal"},
        "{year}": {"rest_days": ["2030-01-01"], "makeup_workdays": [], "source": "test"},
        "institutions": {"name": "矩阵鉴定所", "categories": ["forensic_clinical"]},
        "appraisers": {"name": "矩阵", "institution_id": INSTITUTION.id, "categories": ["forensic_clinical"]},
        "{institution_id}": {"licence_valid_until": None},
        "{appraiser_id}": {"licence_valid_until": None},
        "status": {"status": "active", "reason": "矩阵"},  # already active: changes nothing
        "/v1/supervision/inspections": {"institutions": 1, "case_files_per_institution": 1, "inspectors": 1},
        "recusals": {"appraiser_id": APPRAISER_IDS[0], "ground": "PROC-10-2", "reason": "曾参与"},
        "{recusal_id}/decision": {"granted": False, "reason": "不成立"},
        "objections": {"party": "被告", "content": "有异议", "reply_by": "2030-01-07"},
        "reply": {"content": "答复"},
        "resolution": {"resolution": "withdrawn"},
        "supplementary": {"ground": "PROC-30-1", "reason": "新材料"},
        "corrections": {
            "content": "检验所见",
            "opinion": "意见",
            "defect_kind": "PROC-28-1",
            "description": "笔误",
        },
        "reappraisal": {
            "court_reference": f"MATRIX-RA-{uuid.uuid4().hex[:8]}",
            "ground": "PROC-31-1",
            "reason": "重新鉴定",
            "selection": {"mode": "designated", "institution_id": OTHER_INSTITUTION.id},
        },
        "testimony": {
            "hearing_at": "2030-01-07T09:30:00+08:00",
            "place": "第一法庭",
            "appraiser_ids": APPRAISER_IDS,
        },
        "confirmation": {"response": "confirm"},
        "ruling": {"appraiser_id": APPRAISER_IDS[0], "allow": True},
        "outcome": {"results": {}},
        "refund-ruling": {"ordered": False},
        "interference": {
            "who": "某律师",
            "occurred_at": "2026-12-01T10:00:00+08:00",
            "what": "要求作出某种鉴定意见",
            "signature": "AAAA",
        },
        "{report_id}/review": {"note": "已约谈"},
        "results": {"results": [{"institution_id": INSTITUTION.id, "conclusion": "no_issue"}]},
        "steps": {"step": "investigate", "findings": "查明"},
        "opinion-notices": {"persons": [{"role": "suspect", "name": "张某"}]},
        "applications": {
            "applicant_role": "suspect",
            "applicant_name": "张某",
            "kind": "reappraisal",
            "reason": "x",
        },
        "{application_id}/decision": {"granted": False, "reason": "不准予"},
        "notice": {},
        # No commission of this case: a refusal (409), or the organ's own rules (ENT-2, ENT-4).
        "/v1/case-transfers": {
            "case_number": "A5001035000002026010000",
            "to_organ_id": PROCURATORATES[0].id,
            "to_case_number": "渝渝中检刑诉〔2026〕99号",
        },
        "parties": {"parties": [{"name": "矩阵丙", "side": "third_party"}]},
        "party-requests": {"kind": "materials", "materials": [{"name": "病历", "sha256": "ab" * 32}]},
        "{request_id}/decline": {"reason": "不予转交"},
        "{commission_id}/complaints": {"summary": "鉴定超期未出具"},
        "report-release": {},
        "quote": {"items": [{"matter": "伤残等级评定", "amount": "100"}]},
        "answer": {"accepted": True},
        "payments": {"amount": "1", "reference": "MATRIX-PAY"},
        "refund": {"amount": "1", "reference": "MATRIX-REFUND"},
        "/v1/fee-standards": {
            "category": "forensic_clinical",
            "ceiling": "1800",
            "source": "矩阵标准 (test)",
        },
        "/v1/draws": {
            "entrustment": entrustment(f"MATRIX-DN-{uuid.uuid4().hex[:8]}", selection={"mode": "random"})
        },
        "contact": {"phone": "13900000000"},
        "login": {},  # the dashboard's form: no token shows the form again (200)
        "logout": {},
        "/v1/admissions": {
            "reference": f"MATRIX-A-{uuid.uuid4().hex[:8]}",
            "kind": "change",
            "subject_kind": "appraiser",
            "entity_id": APPRAISER_IDS[0],
            "change": {"senior_title": True},
        },
        "review": {"score": 80, "recommendation": "approve", "opinion": "矩阵", "signature": "A" * 86 + "=="},
        "recusal": {"reason": "利害关系"},
        "correction": {},
        "/v1/experts": {
            "name": "矩阵专家",
            "categories": ["forensic_clinical"],
            "public_key": public_key_b64(demo_private_key(uuid.uuid4().hex)),
        },
        "courses": {
            "kind": "in_service",
            "title": "矩阵课程",
            "organiser": "协会",
            "starts_on": "2026-01-05",
            "ends_on": "2026-01-05",
            "hours": 8,
        },
        "attendance": {"records": [{"appraiser_id": APPRAISER_IDS[0]}]},
        "/v1/evaluations": {"year": local_today(datetime.now(UTC)).year - 1},
        "self-assessment": {"score": 90, "summary": "矩阵"},
        "{evaluation_id}/objections": {
            "subject_kind": "appraiser",
            "subject_id": APPRAISER_IDS[0],
            "reason": "矩阵",
        },
        "{evaluation_id}/decision": {"decision": "confirm"},
    }
    tail = path.rsplit("/", 1)[-1]
    return bodies.get(path) or bodies.get("/".join(path.rsplit("/", 2)[-2:])) or bodies.get(tail, {})


def test_every_route_has_an_access_rule_and_the_docs_show_the_table(api_app_routes: list[APIRoute]) -> None:
    missing = [
        (method, route.path)
        for route in api_app_routes
        for method in route.methods or ()
        if (method, route.path) not in POLICY
    ]
    assert missing == [], f"routes without an access rule in appraisal/api/policy.py: {missing}"
    assert policy_table() in (ROOT / "docs" / "security.md").read_text(encoding="utf-8"), (
        "docs/security.md is out of date: run python -m appraisal.api.policy"
    )


async def test_the_whole_matrix(
    api: httpx.AsyncClient, auth: Auth, api_app_routes: list[APIRoute], today: date
) -> None:
    cid = (await entrust(api, auth))["id"]
    inside, outside = dict(INSIDE), dict(OUTSIDE)
    registered = await api.post(
        f"/v1/commissions/{cid}/parties",
        json={"parties": [{"name": "矩阵甲", "side": "plaintiff"}, {"name": "矩阵乙", "side": "defendant"}]},
        headers=auth(court_actor),
    )
    assert registered.status_code == 201, registered.text
    mine, spare = registered.json()["parties"]
    inside[Role.PARTY] = Actor(Role.PARTY, mine["party"]["id"], mine["party"]["username"])
    elsewhere = await api.post(
        "/v1/commissions",
        json=entrustment(f"MATRIX-P-{uuid.uuid4().hex[:8]}"),
        headers=auth(OUTSIDE[Role.COURT]),
    )
    assert elsewhere.status_code == 201, elsewhere.text
    theirs = await api.post(
        f"/v1/commissions/{elsewhere.json()['id']}/parties",
        json={"parties": [{"name": "他案当事人", "side": "plaintiff"}]},
        headers=auth(OUTSIDE[Role.COURT]),
    )
    assert theirs.status_code == 201, theirs.text
    outside[Role.PARTY] = Actor(Role.PARTY, theirs.json()["parties"][0]["party"]["id"], "party")
    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200
    complaint = await api.post(
        "/v1/complaints", json=complaint_body("MATRIX-C"), headers=auth(INSIDE[Role.SUPERVISOR])
    )
    assert complaint.status_code == 201, complaint.text
    params = {"commission_id": cid, "year": "2030", "appraiser_id": APPRAISER_IDS[0], "kind": "appraisers"}
    params["complaint_id"] = complaint.json()["id"]
    params["institution_id"] = INSTITUTION.id
    params["entity_id"] = APPRAISER_IDS[0]
    # Sub-resources that do not exist: a step on one is refused by the commission's rules (409).
    own = {Role.COURT: cid}
    for role, number in OWN_CASE_NUMBERS.items():
        theirs = await api.post(
            "/v1/commissions",
            json=entrustment(f"MATRIX-{role}-{uuid.uuid4().hex[:8]}", case_number=number),
            headers=auth(INSIDE[role]),
        )
        assert theirs.status_code == 201, theirs.text
        own[role] = theirs.json()["id"]
    draws: dict[Role, str] = {}
    for role in (Role.COURT, *OWN_CASE_NUMBERS):
        number = OWN_CASE_NUMBERS.get(role, "(2026)渝0103民初4321号")
        draw = await api.post(
            "/v1/draws",
            json={
                "entrustment": entrustment(
                    f"MATRIX-D-{role}-{uuid.uuid4().hex[:8]}",
                    case_number=number,
                    selection={"mode": "random"},
                )
            },
            headers=auth(INSIDE[role]),
        )
        assert draw.status_code == 201, draw.text
        draws[role] = draw.json()["draw"]["id"]
    params |= {
        "party_id": mine["party"]["id"],
        "request_id": "1",
        "token": "no-such-link-token-0000",
        "application_id": "1",
        "recusal_id": "1",
        "objection_id": "1",
        "testimony_id": "no-such-testimony",
        "username": "no-such-account",
        "day": "2026-01-05",
    }
    supervisor = INSIDE[Role.SUPERVISOR]
    change = body_for("POST", "/v1/admissions")
    application = await api.post("/v1/admissions", json=change, headers=auth(institution_actor))
    assert application.status_code == 201, application.text
    params["admission_id"] = application.json()["id"]
    decision = f"/v1/admissions/{params['admission_id']}/decision"
    assert (
        await api.post(decision, json={"decision": "accept"}, headers=auth(supervisor))
    ).status_code == 200
    drawn = await api.post(decision, json={"decision": "draw_panel", "size": 3}, headers=auth(supervisor))
    assert drawn.status_code == 200, drawn.text
    inside[Role.EXPERT] = Actor(Role.EXPERT, drawn.json()["panel"][0]["expert_id"], "expert")
    course = await api.post(
        "/v1/training/courses", json=body_for("POST", "/courses"), headers=auth(supervisor)
    )
    assert course.status_code == 201, course.text
    params["course_id"] = course.json()["id"]
    evaluation = await api.post(
        "/v1/evaluations", json=body_for("POST", "/v1/evaluations"), headers=auth(supervisor)
    )
    assert evaluation.status_code == 201, evaluation.text
    params["evaluation_id"] = evaluation.json()["id"]
    inspection = await api.post(
        "/v1/supervision/inspections",
        json=body_for("POST", "/v1/supervision/inspections"),
        headers=auth(INSIDE[Role.SUPERVISOR]),
    )
    assert inspection.status_code == 201, inspection.text
    params["inspection_id"] = inspection.json()["id"]
    case = await api.post(
        "/v1/penalties",
        json={
            "reference": "MATRIX-P",
            "subject_kind": "institution",
            "subject_id": INSTITUTION.id,
            "source": "bureau",
            "summary": "超范围鉴定",
            "breach_on": today.isoformat(),
        },
        headers=auth(INSIDE[Role.SUPERVISOR]),
    )
    assert case.status_code == 201, case.text
    params["case_id"] = case.json()["id"]
    params["report_id"] = "1"  # no such interference report: the review is refused (409)
    wrong: list[str] = []
    checked = 0
    # The workspace's forms are posted as a browser posts them, with the CSRF token of a page.
    page_token = re.search(r'name="csrftoken" value="([^"]+)"', (await api.get("/ui/login")).text)
    assert page_token is not None

    async def call(method: str, path: str, headers: dict[str, str], role: Role | None = None) -> int:
        nonlocal checked
        checked += 1
        url = path.format(
            **params
            | {
                "commission_id": own.get(role, cid) if role else cid,
                "draw_id": draws.get(role, draws[Role.COURT]) if role else draws[Role.COURT],
            }
        )
        if method == "POST" and path.startswith("/ui/"):
            form = {"csrftoken": page_token.group(1)}
            return (await api.request(method, url, data=form, headers=headers)).status_code
        body = body_for(method, path)
        if path == "/v1/party-sign-in":  # a link of its own, used up by this one call
            body = {"token": spare["sign_in_link"].rsplit("/", 1)[1]}
        response = await api.request(method, url, json=body, headers=headers)
        return response.status_code

    for route in api_app_routes:
        for method in sorted(route.methods or ()):
            access = POLICY[(method, route.path)]
            cell = f"{method} {route.path}"
            anonymous = await call(method, route.path, {})
            if access.scope is Scope.PUBLIC:
                if anonymous not in (200, 503):
                    wrong.append(f"{cell} without a token: {anonymous}")
                continue
            if anonymous != 401:
                wrong.append(f"{cell} without a token: {anonymous}, expected 401")
            for role in Role:
                for place, principals in (("inside", inside), ("outside", outside)):
                    status = await call(method, route.path, auth(principals[role]), role)
                    if role not in access.roles or (
                        access.scope is Scope.ADMINISTERED and role != Role.SUPERVISOR
                    ):
                        expected = "403"
                        ok = status == 403
                    elif (
                        access.scope in (Scope.COMMISSION, Scope.BUREAU, Scope.DRAW) and place == "outside"
                    ) or (
                        # Bureau-wide: the outside institution and appraiser are under the same bureau.
                        access.scope is Scope.BUREAU_WIDE and place == "outside" and role == Role.SUPERVISOR
                    ):
                        expected = "404"
                        ok = status == 404
                    else:
                        expected = "allowed (2xx, a form's 303, or 409/422 for the commission's state)"
                        # A testimony, an anchor or another organ's party the matrix did not create: 404.
                        absent = any(
                            p in route.path for p in ("{testimony_id}", "{day}", "{username}", "{party_id}")
                        )
                        form_taken = status == 303 and route.path.startswith("/ui/") and method == "POST"
                        ok = status < 300 or status in (409, 422) or (absent and status == 404) or form_taken
                    if not ok:
                        wrong.append(f"{cell} as {role} {place}: {status}, expected {expected}")
    assert wrong == [], "\n".join(wrong)
    pairs = [(m, r.path) for r in api_app_routes for m in r.methods or ()]
    public = len([pair for pair in pairs if POLICY[pair].scope is Scope.PUBLIC])
    cells = len(pairs)
    assert checked == public + (cells - public) * (1 + 2 * len(Role))
