"""A step taken by clicking: the intake desk's acceptance form goes through the same
service and the same Temporal Update as POST …/acceptance. A refused decision comes back
on the page with the rule and changes nothing; an accepted one lands on the commission as
that step left it (read your writes by its sequence)."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from appraisal.core.settings import Settings
from appraisal.domain.audit import report_hash
from appraisal.domain.calendar import CHINA_TZ
from appraisal.domain.roles import Actor
from appraisal.report_pdf import read_manifest
from tests.api.test_audit_api import issued_commission
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.factories import (
    OTHER_INSTITUTION,
    appraiser_actor,
    court_actor,
    head_actor,
    institution_actor,
    signature,
)
from tests.web.test_pages import HTML, page, post_form, sign_in
from tests.workflows.test_commission_workflow import eventually

Auth = Callable[[Actor], dict[str, str]]


async def test_the_desk_accepts_by_clicking_after_a_refused_attempt(
    api: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    cid = (await entrust(api, auth, reference="REF-FORM-ACCEPT"))["id"]
    trail_before = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(institution_actor))).json()
    await sign_in(api, settings, institution_actor)
    inbox = await page(api, "/ui/inbox")
    link = f'href="/ui/commissions/{cid}#do-decide_acceptance"'
    assert link in inbox, "the task opens the form that takes it"
    html = await page(api, f"/ui/commissions/{cid}")
    assert 'id="do-decide_acceptance"' in html
    offered = re.findall(r'name="appraiser_ids" value="([^"]+)"', html)
    assert set(APPRAISER_IDS) <= set(offered), "the institution's qualified appraisers are offered"
    path = f"/ui/commissions/{cid}/acceptance"

    one = await post_form(api, path, {"decision": "accept", "appraiser_ids": APPRAISER_IDS[0]})
    assert one.status_code == 409, one.text
    error = re.search(r'id="step-error">(.*?)</p>', one.text, re.S)
    assert error and "未通过" in error.group(1) and "PROC-" in error.group(1), one.text[:2000]
    assert 'id="accept-form"' in one.text, "the form stays, to try again"
    unchanged = (await api.get(f"/v1/commissions/{cid}", headers=auth(institution_actor))).json()
    assert unchanged["stage"] == "awaiting_acceptance"
    trail = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(institution_actor))).json()
    assert trail == trail_before, "a refused step writes nothing"

    forged = await api.post(path, data={"decision": "accept", "appraiser_ids": APPRAISER_IDS}, headers=HTML)
    assert forged.status_code == 403, "no CSRF token, no step"

    accepted = await post_form(api, path, {"decision": "accept", "appraiser_ids": APPRAISER_IDS})
    assert accepted.status_code == 303, accepted.text[:2000]
    assert re.fullmatch(rf"/ui/commissions/{cid}\?seq=\d+", accepted.headers["location"])
    after = await page(api, accepted.headers["location"])
    assert "鉴定中 Examining" in after and 'id="accept-form"' not in after
    commission = (await api.get(f"/v1/commissions/{cid}", headers=auth(institution_actor))).json()
    assert commission["stage"] == "examining" and commission["appraiser_ids"] == APPRAISER_IDS
    events = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(institution_actor))).json()
    assert events[-1]["actor_role"] == "institution" and len(events) > len(trail_before)


async def read_after(api: httpx.AsyncClient, auth: Auth, cid: str, taken: httpx.Response) -> dict[str, Any]:
    """The commission as the step a form took left it: the API read at the sequence the
    form's redirect carries."""
    seq = taken.headers["location"].rsplit("seq=", 1)[1]
    response = await api.get(f"/v1/commissions/{cid}", headers={**auth(court_actor), "X-Min-Seq": seq})
    assert response.status_code == 200, response.text
    return dict(response.json())


def step_error(html: str) -> str:
    found = re.search(r'id="step-error">(.*?)</p>', html, re.S)
    assert found, "the refused form says why"
    return found.group(1)


async def test_objection_and_testimony_by_clicking(
    api: httpx.AsyncClient, auth: Auth, settings: Settings, temporal_env: WorkflowEnvironment
) -> None:
    """After issue, every later step is a form too: the court forwards an objection, the
    appraiser answers it, the court maintains it and summons; the appraiser confirms, and the
    court records the outcome (refused before the hearing, with what was chosen kept)."""
    cid = await issued_commission(api, auth, "REF-FORM-TESTIMONY")
    first = appraiser_actor(APPRAISER_IDS[0])
    now = (await temporal_env.get_current_time()).astimezone(CHINA_TZ)
    await sign_in(api, settings, court_actor)
    forwarded = await post_form(
        api,
        f"/ui/commissions/{cid}/objections",
        {
            "party": "原告 张三",
            "content": "鉴定意见依据不足\r\n请说明。",
            "reply_by": (now + timedelta(days=10)).date().isoformat(),
        },
    )
    assert forwarded.status_code == 303, forwarded.text[:2000]
    (objection,) = (await read_after(api, auth, cid, forwarded))["objections"]
    assert objection["content"] == "鉴定意见依据不足\n请说明。", "the browser's CRLF arrives as LF"

    await sign_in(api, settings, first)
    reply_path = f"/ui/commissions/{cid}/objections/{objection['id']}/reply"
    assert f'action="{reply_path}"' in await page(api, f"/ui/commissions/{cid}")
    assert (await post_form(api, reply_path, {"content": "依据见第三部分。"})).status_code == 303

    await sign_in(api, settings, court_actor)
    resolution = f"/ui/commissions/{cid}/objections/{objection['id']}/resolution"
    assert (await post_form(api, resolution, {"resolution": "maintained"})).status_code == 303
    hearing = now + timedelta(days=5)
    summoned = await post_form(
        api,
        f"/ui/commissions/{cid}/testimony",
        {
            "hearing_at": hearing.strftime("%Y-%m-%dT%H:%M"),
            "place": "第三法庭",
            "appraiser_ids": [APPRAISER_IDS[0]],
        },
    )
    assert summoned.status_code == 303, summoned.text[:2000]
    (testimony,) = (await read_after(api, auth, cid, summoned))["testimonies"]
    assert testimony["hearing_at"].startswith(hearing.strftime("%Y-%m-%dT%H:%M")), "a local time, in China"
    tid = testimony["testimony_id"]

    await sign_in(api, settings, first)
    confirmation = f"/ui/commissions/{cid}/testimony/{tid}/confirmation"
    assert f'action="{confirmation}"' in await page(api, f"/ui/commissions/{cid}")
    assert (await post_form(api, confirmation, {"response": "confirm"})).status_code == 303

    await sign_in(api, settings, court_actor)
    outcome = f"/ui/commissions/{cid}/testimony/{tid}/outcome"
    early = await post_form(api, outcome, {f"results.{APPRAISER_IDS[0]}": "appeared", "note": "当庭质询"})
    assert early.status_code == 409 and "尚未开庭" in step_error(early.text)
    assert ">当庭质询</textarea>" in early.text, "what was typed stays in the refused form"
    await temporal_env.sleep(hearing - await temporal_env.get_current_time() + timedelta(hours=3))
    assert (await post_form(api, outcome, {f"results.{APPRAISER_IDS[0]}": "appeared"})).status_code == 303

    async def issued_again() -> bool | None:
        current = (await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))).json()
        return True if current["stage"] == "issued" else None

    await eventually(issued_again)
    kinds = [
        e["kind"] for e in (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
    ]
    for kind in (
        "objection.forwarded",
        "objection.answered",
        "testimony.confirmed",
        "testimony.outcome_recorded",
    ):
        assert kind in kinds, kinds


async def test_the_court_orders_a_reappraisal_by_clicking(
    api: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    cid = await issued_commission(api, auth, "REF-FORM-REAPPRAISAL")
    await sign_in(api, settings, court_actor)
    assert f'action="/ui/commissions/{cid}/reappraisal"' in await page(api, f"/ui/commissions/{cid}")
    order = {
        "court_reference": "REF-FORM-REAPPRAISAL-2",
        "ground": "PROC-31-4",
        "mode": "designated",
        "institution_id": OTHER_INSTITUTION.id,
    }
    unreasoned = await post_form(api, f"/ui/commissions/{cid}/reappraisal", order)
    assert unreasoned.status_code == 422 and "理由 Reason: 必填" in step_error(unreasoned.text)
    assert 'value="REF-FORM-REAPPRAISAL-2"' in unreasoned.text, "what was typed stays"
    assert (await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))).json()["reappraisals"] == []

    ordered = await post_form(
        api, f"/ui/commissions/{cid}/reappraisal", {**order, "reason": "原鉴定依据不足"}
    )
    assert ordered.status_code == 303, ordered.text[:2000]
    new_id = ordered.headers["location"].split("/ui/commissions/")[1].split("?")[0]
    assert new_id != cid
    new = (await api.get(f"/v1/commissions/{new_id}", headers=auth(court_actor))).json()
    assert new["reappraisal_of"] == cid and new["institution_id"] == OTHER_INSTITUTION.id
    assert "REF-FORM-REAPPRAISAL-2" in await page(api, ordered.headers["location"])


async def test_the_report_form_takes_the_statutory_sections_and_the_page_links_the_sealed_pdf(
    api: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    """The appraiser writes 一、基本情况 … 七、附件 in the workspace as the API takes them: the
    sections are in the report's hash and on the sealed PDF the commission page links to."""
    cid = (await entrust(api, auth, reference="REF-FORM-REPORT"))["id"]
    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200, accepted.text
    first = appraiser_actor(APPRAISER_IDS[0])
    await sign_in(api, settings, first)
    html = await page(api, f"/ui/commissions/{cid}?seq={accepted.json()['last_event_seq']}")
    for name in ("examination_period", "place", "present", "examinee", "case_summary", "materials_summary"):
        assert f'name="{name}"' in html, name
    assert "五、分析说明" in html and "二、基本案情" in html
    sections = {
        "examination_period": "2026年11月2日",
        "place": "检验室",
        "present": "被鉴定人",
        "examinee": "赵某",
        "case_summary": "交通事故。",
        "materials_summary": "病历载骨折。",
        "analysis": "依据5.10.6.1条。",
    }
    posted = await post_form(
        api,
        f"/ui/commissions/{cid}/report",
        {"content": "检验所见：左膝屈曲90°。", "opinion": "构成十级伤残", **sections},
    )
    assert posted.status_code == 303, posted.text[:2000]
    seq = posted.headers["location"].split("seq=")[1]
    report = (await api.get(f"/v1/commissions/{cid}", headers={**auth(first), "X-Min-Seq": seq})).json()[
        "report"
    ]
    assert report["content_hash"] == report_hash("检验所见：左膝屈曲90°。", "构成十级伤残", [], sections)

    second = appraiser_actor(APPRAISER_IDS[1])
    for actor in (first, second):
        body = {"kind": "sign", "signature": signature(actor.organisation_id, report["content_hash"])}
        signed = await api.post(f"/v1/commissions/{cid}/signatures", json=body, headers=auth(actor))
        assert signed.status_code == 200, signed.text
    issued = await api.post(f"/v1/commissions/{cid}/issue", json={}, headers=auth(head_actor))
    assert issued.status_code == 200, issued.text
    await sign_in(api, settings, court_actor)
    html = await page(api, f"/ui/commissions/{cid}?seq={issued.json()['last_event_seq']}")
    assert f'href="/ui/commissions/{cid}/report.pdf"' in html
    assert issued.json()["report"]["document_number"] in html  # 编号, as the issue recorded it
    download = await api.get(f"/ui/commissions/{cid}/report.pdf", headers=HTML)
    assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
    assert (
        download.content
        == (await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(court_actor))).content
    )
    manifest = read_manifest(download.content)
    assert manifest["sections"] == sections
    verdict = (await api.get(f"/v1/commissions/{cid}/verify", headers=auth(court_actor))).json()
    assert verdict["ok"], verdict  # the trail's report text, sections included, hashes as signed
