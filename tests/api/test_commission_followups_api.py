"""Recusal, objections, supplementary appraisal, correction and re-appraisal
through the REST API: each step audited, visible in the commission and in
the inbox of whoever must act next."""

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from appraisal.domain import testimony as tm
from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU
from tests.api.test_audit_api import issued_commission
from tests.api.test_commission_clocks_api import accepted, error
from tests.api.test_commission_endings_api import audit_kinds
from tests.api.test_commissions_api import inbox
from tests.factories import (
    CLINICAL_APPRAISERS,
    ELSEWHERE,
    INSTITUTION,
    OTHER_INSTITUTION,
    RESERVE_APPRAISER,
    SENIOR_ELSEWHERE,
    appraiser_actor,
    court_actor,
    head_actor,
    institution_actor,
    signature,
)
from tests.workflows.test_commission_workflow import eventually

Auth = Callable[[Actor], dict[str, str]]
FIRST, SECOND = (appraiser_actor(a.id) for a in CLINICAL_APPRAISERS)
OTHER_DESK = Actor(Role.INSTITUTION, OTHER_INSTITUTION.id, "desk")


async def state(api: httpx.AsyncClient, auth: Auth, cid: str, actor: Actor = court_actor) -> dict[str, Any]:
    response = await api.get(f"/v1/commissions/{cid}", headers=auth(actor))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def post(
    api: httpx.AsyncClient, auth: Auth, actor: Actor, url: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await api.post(url, json=body, headers=auth(actor))
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def sign_all_and_issue(
    api: httpx.AsyncClient, auth: Auth, cid: str, report_hash: str
) -> dict[str, Any]:
    for actor in (FIRST, SECOND):
        await post(
            api,
            auth,
            actor,
            f"/v1/commissions/{cid}/signatures",
            {"kind": "sign", "signature": signature(actor.organisation_id, report_hash)},
        )
    return await post(api, auth, head_actor, f"/v1/commissions/{cid}/issue", {})


async def test_recusal_by_an_appraiser_decided_by_the_institution(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = await accepted(api, auth, reference="REF-RECUSAL")
    url = f"/v1/commissions/{cid}/recusals"
    body = {"appraiser_id": SECOND.organisation_id, "ground": "PROC-10-1", "reason": "与被鉴定人系表兄弟"}
    assert error(await api.post(url, json=body, headers=auth(institution_actor))) == (403, "forbidden")
    assert error(await api.post(url, json={**body, "ground": "X"}, headers=auth(SECOND))) == (
        409,
        "unknown_ground",
    )
    assert (await api.post(url, json={**body, "reason": ""}, headers=auth(SECOND))).status_code == 422
    requested = await post(api, auth, SECOND, url, body)
    assert requested["recusals"][0]["status"] == "pending"
    assert (cid, "decide_recusal") in await inbox(api, auth, institution_actor)

    decision_url = f"{url}/1/decision"
    unqualified = {"granted": True, "reason": "回避成立", "replacement_id": ELSEWHERE.id}
    refused = await api.post(decision_url, json=unqualified, headers=auth(institution_actor))
    assert error(refused) == (409, "appraiser_not_qualified")
    decided = await post(
        api, auth, institution_actor, decision_url, {**unqualified, "replacement_id": RESERVE_APPRAISER.id}
    )
    assert decided["appraiser_ids"] == [FIRST.organisation_id, RESERVE_APPRAISER.id]
    assert decided["recusals"][0]["status"] == "granted"
    assert (cid, "submit_report") in await inbox(api, auth, appraiser_actor(RESERVE_APPRAISER.id))
    assert (cid, "decide_recusal") not in await inbox(api, auth, institution_actor)
    assert (await audit_kinds(api, auth, cid))[-2:] == ["recusal.requested", "recusal.decided"]
    replaced = await api.get(f"/v1/commissions/{cid}", headers=auth(SECOND))
    assert replaced.status_code == 404  # no longer assigned: out of scope


@pytest.mark.dated
async def test_objection_answered_then_maintained(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = await issued_commission(api, auth, "REF-OBJECTION")
    today = date.fromisoformat((await state(api, auth, cid))["received_on"])
    url = f"/v1/commissions/{cid}/objections"
    body = {
        "party": "被告 重庆某运输公司",
        "content": "伤残等级评定过高",
        "reply_by": str(today + timedelta(days=10)),
    }
    assert error(await api.post(url, json=body, headers=auth(FIRST))) == (403, "forbidden")
    assert (
        await api.post(url, json={**body, "reply_by": "next week"}, headers=auth(court_actor))
    ).status_code == 422
    too_far = {**body, "reply_by": str(today + timedelta(days=400))}
    assert error(await api.post(url, json=too_far, headers=auth(court_actor))) == (409, "date_out_of_range")

    forwarded = await post(api, auth, court_actor, url, body)
    crt7 = next(c for c in forwarded["clocks"] if c["rule"] == "CRT-7")
    # The court's date, rolled to the next working day when it is a rest day (CAL-3).
    rolled = WorkingCalendar().add_natural_days(today, 10).due_on.isoformat()
    assert crt7["due_on"] == rolled and crt7["unit"] == "natural_day"
    assert crt7["court_set_on"] == (None if rolled == body["reply_by"] else body["reply_by"])
    assert (cid, "answer_objection") in await inbox(api, auth, FIRST)
    reply = await post(api, auth, SECOND, f"{url}/1/reply", {"content": "依据分级标准5.10.1条，评定无误"})
    assert reply["objections"][0]["status"] == "answered" and not reply["objections"][0]["late"]
    assert (cid, "answer_objection") not in await inbox(api, auth, FIRST)
    again = await api.post(f"{url}/1/reply", json={"content": "再答"}, headers=auth(FIRST))
    assert error(again) == (409, "objection_answered")
    resolution = {"resolution": "maintained", "note": "被告已预交出庭费用"}
    resolved = await post(api, auth, court_actor, f"{url}/1/resolution", resolution)
    assert resolved["objections"][0]["status"] == "maintained"
    assert (await audit_kinds(api, auth, cid))[-3:] == [
        "objection.forwarded",
        "objection.answered",
        "objection.resolved",
    ]


async def test_supplementary_then_correction_keep_every_version(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = await issued_commission(api, auth, "REF-SUPPLEMENT")
    base = f"/v1/commissions/{cid}"
    requested = await post(
        api, auth, court_actor, f"{base}/supplementary", {"ground": "PROC-30-2", "reason": "法院补充新病历"}
    )
    assert requested["stage"] == "examining" and requested["supplementary"]["ground"] == "PROC-30-2"
    assert (cid, "submit_report") in await inbox(api, auth, FIRST)
    submitted = await post(api, auth, FIRST, f"{base}/report", {"content": "补充检验", "opinion": "九级伤残"})
    assert submitted["report"]["kind"] == "supplementary" and submitted["report"]["previous_version"] == 1
    issued = await sign_all_and_issue(api, auth, cid, submitted["report"]["content_hash"])
    assert issued["stage"] == "issued" and [r["version"] for r in issued["earlier_reports"]] == [1]

    correction = {
        "defect_kind": "PROC-28-2",
        "description": "鉴定书编号有误",
        "content": "补充检验（编号更正）",
        "opinion": "九级伤残",
    }
    changed = await api.post(
        f"{base}/corrections", json={**correction, "opinion": "八级"}, headers=auth(FIRST)
    )
    assert error(changed) == (409, "correction_changes_opinion")
    corrected = await post(api, auth, FIRST, f"{base}/corrections", correction)
    assert corrected["stage"] == "signing" and corrected["report"]["kind"] == "correction"
    assert corrected["report"]["correction"]["defect_kind"] == "PROC-28-2"
    assert [r["version"] for r in corrected["earlier_reports"]] == [1, 2]
    assert (cid, "sign_report") in await inbox(api, auth, SECOND)
    final = await sign_all_and_issue(api, auth, cid, corrected["report"]["content_hash"])
    assert final["stage"] == "issued" and final["report"]["version"] == 3
    verified = (await api.get(f"{base}/verify", headers=auth(court_actor))).json()
    assert verified["ok"] is True


async def test_reappraisal_is_a_new_linked_commission_elsewhere(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = await issued_commission(api, auth, "REF-REAPPRAISE")
    url = f"/v1/commissions/{cid}/reappraisal"
    body = {
        "court_reference": "REF-REAPPRAISE-重新鉴定",
        "ground": "PROC-31-4",
        "reason": "双方对伤残等级争议较大",
        "selection": {"mode": "designated", "institution_id": INSTITUTION.id},
    }
    same = await api.post(url, json=body, headers=auth(court_actor))
    assert error(same) == (409, "same_institution")
    assert error(await api.post(url, json={**body, "ground": "X"}, headers=auth(court_actor))) == (
        409,
        "unknown_ground",
    )
    elsewhere = {**body, "selection": {"mode": "designated", "institution_id": OTHER_INSTITUTION.id}}
    created = await api.post(url, json=elsewhere, headers=auth(court_actor))
    assert created.status_code == 201, created.text
    new = created.json()
    assert new["reappraisal_of"] == cid and new["institution_id"] == OTHER_INSTITUTION.id
    repeated = await api.post(url, json=elsewhere, headers=auth(court_actor))
    assert repeated.status_code == 200 and repeated.json()["id"] == new["id"]

    async def superseded() -> dict[str, Any] | None:
        # The answer is the new commission's (its X-Seq): the old one's read model follows.
        found = await state(api, auth, cid)
        return found if found["opinion_status"] == "superseded" else None

    old = await eventually(superseded)
    assert old["opinion_status"] == "superseded" and old["reappraisals"] == [new["id"]]
    assert old["refund"] is None  # ground 4: no refund (PROC-35)
    forward = [
        (i["id"], i["relation"], i["link"])
        for i in (await api.get(f"/v1/commissions/{cid}/lineage", headers=auth(court_actor))).json()
    ]
    assert forward == [(cid, "self", ""), (new["id"], "later", "reappraisal")]
    back = (await api.get(f"/v1/commissions/{new['id']}/lineage", headers=auth(court_actor))).json()
    assert [(i["id"], i["relation"]) for i in back] == [(cid, "earlier"), (new["id"], "self")]
    theirs = (await api.get(f"/v1/commissions/{new['id']}/lineage", headers=auth(OTHER_DESK))).json()
    assert [i["relation"] for i in theirs] == ["self"]  # the original is another institution's

    junior = next(a for a in (ELSEWHERE,) if not a.senior_title)
    acceptance = f"/v1/commissions/{new['id']}/acceptance"
    without_senior = {"decision": "accept", "appraiser_ids": [junior.id, "x" * 36]}
    assert error(await api.post(acceptance, json=without_senior, headers=auth(OTHER_DESK)))[0] == 409
    team = {"decision": "accept", "appraiser_ids": [SENIOR_ELSEWHERE.id, junior.id]}
    accepted_new = await post(api, auth, OTHER_DESK, acceptance, team)
    assert accepted_new["stage"] == "examining"


@pytest.mark.dated
async def test_testimony_summoned_confirmed_and_recorded(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    cid = await issued_commission(api, auth, "REF-TESTIMONY")
    hearing_at = (await temporal_env.get_current_time() + timedelta(days=5)).astimezone(CHINA_TZ)
    url = f"/v1/commissions/{cid}/testimony"
    body = {
        "hearing_at": hearing_at.isoformat(),
        "place": "第三法庭",
        "appraiser_ids": [FIRST.organisation_id],
    }
    assert error(await api.post(url, json=body, headers=auth(FIRST))) == (403, "forbidden")
    naive = {**body, "hearing_at": hearing_at.replace(tzinfo=None).isoformat()}
    assert (await api.post(url, json=naive, headers=auth(court_actor))).status_code == 422
    summoned = await post(api, auth, court_actor, url, body)
    assert summoned["stage"] == "in_testimony"
    (testimony,) = summoned["testimonies"]
    assert testimony["short_notice"] is False
    tid = testimony["testimony_id"]
    assert (cid, "confirm_testimony") in await inbox(api, auth, FIRST)
    assert (await state(api, auth, cid))["stage"] == "in_testimony"

    late_notice = {"response": "decline", "ground": "TST-8-1", "reason": "通知太晚"}
    declined = await api.post(f"{url}/{tid}/confirmation", json=late_notice, headers=auth(FIRST))
    assert error(declined) == (409, "notice_not_late")
    confirmed = await post(api, auth, FIRST, f"{url}/{tid}/confirmation", {"response": "confirm"})
    assert confirmed["appraisers"][0]["state"] == "confirmed"
    outcome = {"results": {FIRST.organisation_id: "appeared"}, "note": "当庭接受质询"}
    early = await api.post(f"{url}/{tid}/outcome", json=outcome, headers=auth(court_actor))
    assert error(early) == (409, "hearing_not_held")
    assert (await api.get(f"{url}/{uuid.uuid4()}", headers=auth(court_actor))).status_code == 404

    await temporal_env.sleep(hearing_at - await temporal_env.get_current_time() + timedelta(hours=3))
    recorded = await post(api, auth, court_actor, f"{url}/{tid}/outcome", outcome)
    assert recorded["stage"] == "concluded" and recorded["excluded_from_fact_finding"] is False

    async def issued_again() -> dict[str, Any] | None:
        current = await state(api, auth, cid)
        return current if current["stage"] == "issued" else None

    current = await eventually(issued_again)
    assert current["opinion_status"] == "valid" and current["testimonies"][0]["stage"] == "concluded"

    async def concluded_in_the_trail() -> list[str] | None:
        # The outcome's own event already carries the concluded testimony (and so the
        # commission back at `issued`); the child's closing event is recorded after it.
        kinds = await audit_kinds(api, auth, cid)
        return kinds if kinds[-1] == "testimony.concluded" else None

    kinds = await eventually(concluded_in_the_trail)
    assert kinds[kinds.index("testimony.outcome_recorded") + 1 :] == ["testimony.concluded"]
    assert "testimony.confirmed" in kinds and "testimony.outcome_recorded" in kinds
    again = await api.post(f"{url}/{tid}/outcome", json=outcome, headers=auth(court_actor))
    assert error(again) == (409, "not_in_stage")


@pytest.mark.dated
async def test_a_testimony_step_reaching_an_ended_child_is_refused_as_not_in_stage(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    cid = await issued_commission(api, auth, "REF-TESTIMONY-ENDED")
    hearing_at = (await temporal_env.get_current_time() + timedelta(days=5)).astimezone(CHINA_TZ)
    url = f"/v1/commissions/{cid}/testimony"
    body = {
        "hearing_at": hearing_at.isoformat(),
        "place": "第一法庭",
        "appraiser_ids": [FIRST.organisation_id],
    }
    (testimony,) = (await post(api, auth, court_actor, url, body))["testimonies"]
    tid = testimony["testimony_id"]
    await temporal_env.client.get_workflow_handle(tm.testimony_workflow_id(cid, tid)).terminate(
        "the race, staged"
    )
    late = await api.post(f"{url}/{tid}/confirmation", json={"response": "confirm"}, headers=auth(FIRST))
    assert error(late) == (409, "not_in_stage")


@pytest.mark.dated
async def test_in_a_criminal_case_a_refusal_to_testify_returns_the_commission_without_a_refund_ruling(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    cid = await issued_commission(api, auth, "REF-TESTIMONY-CRIMINAL", case_number="(2026)渝0103刑初77号")
    hearing_at = (await temporal_env.get_current_time() + timedelta(days=5)).astimezone(CHINA_TZ)
    url = f"/v1/commissions/{cid}/testimony"
    body = {
        "hearing_at": hearing_at.isoformat(),
        "place": "第一法庭",
        "appraiser_ids": [FIRST.organisation_id],
    }
    (testimony,) = (await post(api, auth, court_actor, url, body))["testimonies"]
    assert testimony["case_kind"] == "criminal"
    tid = testimony["testimony_id"]
    await temporal_env.sleep(hearing_at - await temporal_env.get_current_time() + timedelta(hours=3))
    outcome = {"results": {FIRST.organisation_id: "absent_without_valid_reason"}}
    recorded = await post(api, auth, court_actor, f"{url}/{tid}/outcome", outcome)
    assert recorded["stage"] == "concluded" and recorded["excluded_from_fact_finding"] is True
    assert recorded["refund_ruling"] is None

    async def issued_again() -> dict[str, Any] | None:
        current = await state(api, auth, cid)
        return current if current["stage"] == "issued" else None

    current = await eventually(issued_again)
    assert current["opinion_status"] == "excluded"
    assert (cid, "rule_on_testimony_refund") not in await inbox(api, auth, court_actor)
    refund = await api.post(f"{url}/{tid}/refund-ruling", json={"ordered": True}, headers=auth(court_actor))
    assert error(refund) == (409, "not_in_stage")


async def test_a_replacement_suspended_since_entrustment_is_refused(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    cid = await accepted(api, auth, reference="REF-RECUSAL-SUSPENDED")
    url = f"/v1/commissions/{cid}/recusals"
    body = {"appraiser_id": SECOND.organisation_id, "ground": "PROC-10-1", "reason": "近亲属"}
    await post(api, auth, SECOND, url, body)
    suspended = await api.post(
        f"/v1/registry/appraisers/{RESERVE_APPRAISER.id}/status",
        json={"status": "suspended", "reason": "拒不出庭作证 (REG-7)"},
        headers=auth(Actor(Role.SUPERVISOR, BUREAU.id, "registrar")),
    )
    assert suspended.status_code == 200, suspended.text
    decision = {"granted": True, "reason": "回避成立", "replacement_id": RESERVE_APPRAISER.id}
    refused = await api.post(f"{url}/1/decision", json=decision, headers=auth(institution_actor))
    assert error(refused) == (409, "appraiser_not_active")
    assert (await state(api, auth, cid))["recusals"][0]["status"] == "pending"
