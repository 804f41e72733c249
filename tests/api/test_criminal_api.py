"""A criminal case from investigation on, through the REST API (ENT-1…4, PROC-36, CAL-4): a
public security organ entrusts, tells the suspect and the victim of the opinion, decides their
applications, and hands the case to the procuratorate and then the court, each seeing the
linked history; every organ with its own case numbers, scope and roles."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU, POLICE, PROCURATORATES
from tests.api.test_commissions_api import APPRAISER_IDS, entrustment
from tests.factories import (
    COURT,
    OTHER_INSTITUTION,
    SENIOR_ELSEWHERE,
    appraiser_actor,
    court_actor,
    head_actor,
    institution_actor,
    signature,
)
from tests.workflows.test_commission_workflow import eventually

Auth = Callable[[Actor], dict[str, str]]
police = Actor(Role.PUBLIC_SECURITY, POLICE[0].id, "officer 王")
other_police = Actor(Role.PUBLIC_SECURITY, POLICE[1].id, "officer 赵")
procurator = Actor(Role.PROCURATORATE, PROCURATORATES[0].id, "procurator 陈")
other_procurator = Actor(Role.PROCURATORATE, PROCURATORATES[1].id, "procurator 周")
POLICE_CASE = "A5001035000002026010001"
PROCURATORATE_CASE = "渝渝中检刑诉〔2026〕12号"
COURT_CASE = "(2026)渝0103刑初12号"


async def entrust_as(
    api: httpx.AsyncClient, auth: Auth, actor: Actor, reference: str, case_number: str, **overrides: Any
) -> dict[str, Any]:
    body = entrustment(reference, case_number=case_number, **overrides)
    response = await api.post("/v1/commissions", json=body, headers=auth(actor))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def issue(api: httpx.AsyncClient, auth: Auth, cid: str) -> dict[str, Any]:
    """The institution accepts, both appraisers sign, the head issues."""
    url = f"/v1/commissions/{cid}"
    accepted = await api.post(
        f"{url}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200, accepted.text
    first = appraiser_actor(APPRAISER_IDS[0])
    report = await api.post(
        f"{url}/report",
        json={"content": "损伤检验所见", "opinion": "被害人之损伤构成轻伤二级"},
        headers=auth(first),
    )
    assert report.status_code == 200, report.text
    report_hash = report.json()["report"]["content_hash"]
    for appraiser_id in APPRAISER_IDS:
        signed = await api.post(
            f"{url}/signatures",
            json={"kind": "sign", "signature": signature(appraiser_id, report_hash)},
            headers=auth(appraiser_actor(appraiser_id)),
        )
        assert signed.status_code == 200, signed.text
    issued = await api.post(f"{url}/issue", json={}, headers=auth(head_actor))
    assert issued.status_code == 200, issued.text
    return dict(issued.json())


async def tasks_of(api: httpx.AsyncClient, auth: Auth, actor: Actor) -> list[tuple[str, str, str | None]]:
    response = await api.get("/v1/tasks", headers=auth(actor))
    assert response.status_code == 200, response.text
    return [(t["commission_id"], t["kind"], t["due_on"]) for t in response.json()]


async def test_a_police_organ_entrusts_with_its_own_case_numbers_and_scope(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    commission = await entrust_as(api, auth, police, "渝公渝中鉴委〔2026〕1号", POLICE_CASE)
    assert commission["court_id"] == commission["entrusting_organ_id"] == POLICE[0].id
    assert commission["entrusting_role"] == "public_security" and commission["case_kind"] == "criminal"
    assert commission["entrusting_reference"] == commission["court_reference"] == "渝公渝中鉴委〔2026〕1号"
    # The general names work in a body too, and a repeat is the same commission.
    again = await api.post(
        "/v1/commissions",
        json={
            **{k: v for k, v in entrustment(case_number=POLICE_CASE).items() if k != "court_reference"},
            "entrusting_reference": "渝公渝中鉴委〔2026〕1号",
        },
        headers=auth(police),
    )
    assert again.status_code == 200 and again.json()["id"] == commission["id"]

    court_number = await api.post(
        "/v1/commissions",
        json=entrustment("渝公渝中鉴委〔2026〕2号", case_number=COURT_CASE),
        headers=auth(police),
    )
    assert court_number.status_code == 422, court_number.text
    assert "case_number" in court_number.text and "ENT-2-3" in court_number.text

    cid = commission["id"]
    assert (await api.get(f"/v1/commissions/{cid}", headers=auth(other_police))).status_code == 404
    assert (await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))).status_code == 404
    assert (await api.get(f"/v1/commissions/{cid}", headers=auth(procurator))).status_code == 404
    listed = (await api.get("/v1/commissions", headers=auth(police))).json()
    assert [c["id"] for c in listed["items"]] == [cid]
    by_organ = await api.get(f"/v1/commissions?entrusting_organ_id={POLICE[0].id}", headers=auth(police))
    assert [c["id"] for c in by_organ.json()["items"]] == [cid]
    # The institution's notice of a new commission goes to it; the police organ sees its own steps.
    assert (cid, "decide_acceptance", commission["clocks"][0]["due_on"]) in await tasks_of(
        api, auth, institution_actor
    )
    # A court's own steps stay the court's: the police organ summons nobody to a hearing.
    summons = await api.post(
        f"/v1/commissions/{cid}/testimony",
        json={"hearing_at": "2030-01-07T09:30:00+08:00", "place": "法庭", "appraiser_ids": APPRAISER_IDS},
        headers=auth(police),
    )
    assert summons.status_code == 403


@pytest.mark.dated
async def test_the_suspect_and_the_victim_are_told_and_an_application_refused_in_custody(
    api: httpx.AsyncClient, auth: Auth, today: date
) -> None:
    cid = (await entrust_as(api, auth, police, "渝公渝中鉴委〔2026〕3号", POLICE_CASE))["id"]
    url = f"/v1/commissions/{cid}"
    early = await api.post(
        f"{url}/opinion-notices",
        json={"persons": [{"role": "suspect", "name": "张某"}]},
        headers=auth(police),
    )
    assert early.status_code == 409 and "not_in_stage" in early.text, "told of an opinion not yet issued"
    await issue(api, auth, cid)
    assert (cid, "notify_opinion", None) in await tasks_of(api, auth, police)

    applied_early = await api.post(
        f"{url}/applications",
        json={"applicant_role": "suspect", "applicant_name": "张某", "kind": "reappraisal", "reason": "不服"},
        headers=auth(police),
    )
    assert applied_early.status_code == 409 and "opinion_not_notified" in applied_early.text
    told = await api.post(
        f"{url}/opinion-notices",
        json={"persons": [{"role": "suspect", "name": "张某"}, {"role": "victim", "name": "李某"}]},
        headers=auth(police),
    )
    assert told.status_code == 200, told.text
    (notice,) = told.json()["opinion_notices"]
    assert notice["version"] == 1 and [p["role"] for p in notice["persons"]] == ["suspect", "victim"]
    assert "notify_opinion" not in [kind for _, kind, _ in await tasks_of(api, auth, police)]

    applied = await api.post(
        f"{url}/applications",
        json={
            "applicant_role": "suspect",
            "applicant_name": "张某",
            "kind": "reappraisal",
            "reason": "依据不足",
        },
        headers=auth(police),
    )
    assert applied.status_code == 200, applied.text
    (application,) = applied.json()["applications"]
    assert application["status"] == "pending"
    assert (cid, "decide_application", None) in await tasks_of(api, auth, police)
    decision_url = f"{url}/applications/{application['id']}/decision"
    by_court = await api.post(decision_url, json={"granted": False, "reason": "x"}, headers=auth(court_actor))
    assert by_court.status_code == 403, "a court decides nothing here"
    no_ground = await api.post(
        decision_url, json={"granted": True, "reason": "依据不足"}, headers=auth(police)
    )
    assert no_ground.status_code == 409 and "PROC-36" in no_ground.text

    refused = await api.post(
        decision_url,
        json={"granted": False, "reason": "鉴定程序合法、依据充分", "in_custody": True},
        headers=auth(police),
    )
    assert refused.status_code == 200, refused.text
    body = refused.json()
    assert body["stage"] == "issued" and body["applications"][0]["status"] == "refused"
    clock = next(c for c in body["clocks"] if c["rule"] == "PROC-36-CAL-4")
    # CAL-4: three natural days while the suspect is in custody, the last day even a holiday.
    assert clock["due_on"] == (today + timedelta(days=3)).isoformat()
    assert (cid, "notify_applicant", clock["due_on"]) in await tasks_of(api, auth, police)
    closing = await api.post(f"{url}/closure", json={}, headers=auth(police))
    assert closing.status_code == 409 and "application_open" in closing.text, "the applicant is told first"

    notified = await api.post(
        f"{url}/applications/{application['id']}/notice",
        json={"note": "书面通知已送达"},
        headers=auth(police),
    )
    assert notified.status_code == 200, notified.text
    told_in_writing = notified.json()["applications"][0]
    assert told_in_writing["status"] == "notified" and told_in_writing["late"] is False
    assert next(c for c in notified.json()["clocks"] if c["rule"] == "PROC-36-CAL-4")["stopped"]
    kinds = await steps_in_trail(api, auth, url)
    assert kinds[-4:] == [
        "opinion.notified",
        "application.received",
        "application.decided",
        "applicant.notified",
    ]
    verdict = (await api.get(f"{url}/verify", headers=auth(police))).json()
    assert verdict["ok"] is True, verdict


@pytest.mark.dated
async def test_a_refused_application_out_of_custody_rolls_past_a_rest_day(
    api: httpx.AsyncClient, auth: Auth, today: date
) -> None:
    cid = (await entrust_as(api, auth, police, "渝公渝中鉴委〔2026〕4号", POLICE_CASE))["id"]
    url = f"/v1/commissions/{cid}"
    await issue(api, auth, cid)
    await api.post(
        f"{url}/opinion-notices", json={"persons": [{"role": "victim", "name": "李某"}]}, headers=auth(police)
    )
    applied = await api.post(
        f"{url}/applications",
        json={
            "applicant_role": "victim",
            "applicant_name": "李某",
            "kind": "supplementary",
            "reason": "漏检",
        },
        headers=auth(police),
    )
    application_id = applied.json()["applications"][0]["id"]
    refused = await api.post(
        f"{url}/applications/{application_id}/decision",
        json={"granted": False, "reason": "无遗漏"},
        headers=auth(police),
    )
    clock = next(c for c in refused.json()["clocks"] if c["rule"] == "PROC-36")
    expected = WorkingCalendar().add_natural_days(today, 3).due_on  # CAL-3: a rest day rolls
    assert clock["due_on"] == expected.isoformat()


async def test_a_supplementary_appraisal_granted_on_a_victims_application_starts_at_once(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    cid = (await entrust_as(api, auth, police, "渝公渝中鉴委〔2026〕5号", POLICE_CASE))["id"]
    url = f"/v1/commissions/{cid}"
    await issue(api, auth, cid)
    await api.post(
        f"{url}/opinion-notices", json={"persons": [{"role": "victim", "name": "李某"}]}, headers=auth(police)
    )
    applied = await api.post(
        f"{url}/applications",
        json={
            "applicant_role": "victim",
            "applicant_name": "李某",
            "kind": "supplementary",
            "reason": "新证物",
        },
        headers=auth(police),
    )
    application_id = applied.json()["applications"][0]["id"]
    granted = await api.post(
        f"{url}/applications/{application_id}/decision",
        json={"granted": True, "reason": "发现新的有鉴定意义的证物", "ground": "PROC-36-S2"},
        headers=auth(police),
    )
    assert granted.status_code == 200, granted.text
    body = granted.json()
    assert body["stage"] == "examining" and body["supplementary"]["ground"] == "PROC-36-S2"
    assert any(c["rule"] == "PROC-30" and not c["stopped"] for c in body["clocks"])
    kinds = await steps_in_trail(api, auth, url)
    assert kinds[-2:] == ["application.decided", "supplementary.requested"]


async def test_a_reappraisal_granted_is_ordered_as_a_new_linked_commission(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    cid = (await entrust_as(api, auth, police, "渝公渝中鉴委〔2026〕6号", POLICE_CASE))["id"]
    url = f"/v1/commissions/{cid}"
    await issue(api, auth, cid)
    await api.post(
        f"{url}/opinion-notices",
        json={"persons": [{"role": "suspect", "name": "张某"}]},
        headers=auth(police),
    )
    applied = await api.post(
        f"{url}/applications",
        json={
            "applicant_role": "suspect",
            "applicant_name": "张某",
            "kind": "reappraisal",
            "reason": "依据不足",
        },
        headers=auth(police),
    )
    application_id = applied.json()["applications"][0]["id"]
    granted = await api.post(
        f"{url}/applications/{application_id}/decision",
        json={"granted": True, "reason": "鉴定意见依据明显不足", "ground": "PROC-36-R4"},
        headers=auth(police),
    )
    assert granted.status_code == 200 and granted.json()["applications"][0]["status"] == "granted"
    assert (cid, "order_reappraisal", None) in await tasks_of(api, auth, police)
    ordered = await api.post(
        f"{url}/reappraisal",
        json={
            "entrusting_reference": "渝公渝中鉴委〔2026〕6号-重",
            "ground": "PROC-31-4",
            "reason": "准予重新鉴定 (PROC-36-R4)",
            "selection": {"mode": "designated", "institution_id": OTHER_INSTITUTION.id},
        },
        headers=auth(police),
    )
    assert ordered.status_code == 201, ordered.text
    again = ordered.json()
    assert again["reappraisal_of"] == cid and again["entrusting_role"] == "public_security"
    assert again["case_number"] == POLICE_CASE and again["institution_id"] == OTHER_INSTITUTION.id
    assert "order_reappraisal" not in [kind for _, kind, _ in await tasks_of(api, auth, police)]
    assert SENIOR_ELSEWHERE.institution_id == OTHER_INSTITUTION.id


async def test_the_case_moves_to_the_procuratorate_and_the_court_each_seeing_the_linked_history(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    police_cid = (await entrust_as(api, auth, police, "渝公渝中鉴委〔2026〕7号", POLICE_CASE))["id"]
    await issue(api, auth, police_cid)
    elsewhere = await entrust_as(api, auth, police, "渝公渝中鉴委〔2026〕8号", "A5001035000002026010099")

    to_court = await api.post(
        "/v1/case-transfers",
        json={"case_number": POLICE_CASE, "to_organ_id": COURT.id, "to_case_number": COURT_CASE},
        headers=auth(police),
    )
    assert to_court.status_code == 409 and "ENT-4" in to_court.text, "investigation goes to the procuratorate"
    bad_number = await api.post(
        "/v1/case-transfers",
        json={
            "case_number": POLICE_CASE,
            "to_organ_id": procurator.organisation_id,
            "to_case_number": "12号",
        },
        headers=auth(police),
    )
    assert bad_number.status_code == 422 and "to_case_number" in bad_number.text

    handed = await api.post(
        "/v1/case-transfers",
        json={
            "case_number": POLICE_CASE,
            "to_organ_id": procurator.organisation_id,
            "to_case_number": PROCURATORATE_CASE,
            "note": "移送审查起诉",
        },
        headers=auth(police),
    )
    assert handed.status_code == 201, handed.text
    transfer = handed.json()
    assert transfer["commission_ids"] == [police_cid] and transfer["recorded_in_chain"] == [police_cid]
    repeat = await api.post(
        "/v1/case-transfers",
        json={
            "case_number": POLICE_CASE,
            "to_organ_id": procurator.organisation_id,
            "to_case_number": PROCURATORATE_CASE,
        },
        headers=auth(police),
    )
    assert repeat.status_code == 200 and repeat.json()["id"] == transfer["id"]

    seen = await api.get(f"/v1/commissions/{police_cid}", headers=auth(procurator))
    assert seen.status_code == 200, "the procuratorate sees the police commission without entrusting it"
    assert seen.json()["transfers"][0]["to_organ_id"] == procurator.organisation_id
    assert (await api.get(f"/v1/commissions/{police_cid}", headers=auth(other_procurator))).status_code == 404
    assert (await api.get(f"/v1/commissions/{elsewhere['id']}", headers=auth(procurator))).status_code == 404
    trail = (await api.get(f"/v1/commissions/{police_cid}/audit", headers=auth(procurator))).json()
    assert trail[-1]["kind"] == "case.transferred" and trail[-1]["actor_role"] == "public_security"
    step = await api.post(f"/v1/commissions/{police_cid}/closure", json={}, headers=auth(procurator))
    assert step.status_code == 409, "the procuratorate reads the police commission; it does not act on it"

    own = await entrust_as(api, auth, procurator, "渝渝中检技鉴〔2026〕1号", PROCURATORATE_CASE)
    court_number = await api.post(
        "/v1/commissions",
        json=entrustment("渝渝中检技鉴〔2026〕2号", case_number=POLICE_CASE),
        headers=auth(procurator),
    )
    assert court_number.status_code == 422 and "ENT-2-2" in court_number.text
    listed = {c["id"] for c in (await api.get("/v1/commissions", headers=auth(procurator))).json()["items"]}
    assert listed == {police_cid, own["id"]}

    again = await api.post(
        "/v1/case-transfers",
        json={
            "case_number": POLICE_CASE,
            "to_organ_id": other_procurator.organisation_id,
            "to_case_number": "渝江北检刑诉〔2026〕3号",
        },
        headers=auth(police),
    )
    assert again.status_code == 409 and "case_not_held" in again.text, (
        "the case is with the procuratorate now"
    )

    prosecuted = await api.post(
        "/v1/case-transfers",
        json={"case_number": PROCURATORATE_CASE, "to_organ_id": COURT.id, "to_case_number": COURT_CASE},
        headers=auth(procurator),
    )
    assert prosecuted.status_code == 201, prosecuted.text
    assert set(prosecuted.json()["commission_ids"]) == {police_cid, own["id"]}
    court_sees = {
        c["id"] for c in (await api.get("/v1/commissions", headers=auth(court_actor))).json()["items"]
    }
    assert court_sees == {police_cid, own["id"]}
    police_trail = (await api.get(f"/v1/commissions/{police_cid}/audit", headers=auth(court_actor))).json()
    handovers = [e for e in police_trail if e["kind"] == "case.transferred"]
    assert [e["data"]["to_kind"] for e in handovers] == ["procuratorate", "court"]
    assert handovers[1]["actor_role"] == "procuratorate"

    history = await api.get(f"/v1/commissions/{police_cid}/case", headers=auth(court_actor))
    assert history.status_code == 200, history.text
    case = history.json()
    assert [n["case_number"] for n in case["case_numbers"]] == [POLICE_CASE, PROCURATORATE_CASE, COURT_CASE]
    assert [n["kind"] for n in case["case_numbers"]] == ["public_security", "procuratorate", "court"]
    assert {c["id"] for c in case["commissions"]} == {police_cid, own["id"]}
    assert len(case["transfers"]) == 2
    # The police organ sees the case's way on, not the later organs' own commissions.
    police_view = (await api.get(f"/v1/commissions/{police_cid}/case", headers=auth(police))).json()
    assert {c["id"] for c in police_view["commissions"]} == {police_cid}
    assert len(police_view["transfers"]) == 2
    transfers = (await api.get("/v1/case-transfers", headers=auth(procurator))).json()
    assert len(transfers) == 2
    for viewer in (police, procurator, court_actor):
        verdict = (await api.get(f"/v1/commissions/{police_cid}/verify", headers=auth(viewer))).json()
        assert verdict["ok"] is True, verdict

    async def notified() -> bool | None:
        sent = (await api.get("/v1/notifications", headers=auth(court_actor))).json()
        return True if any(n["kind"] == "case.transferred" for n in sent) else None

    assert await eventually(notified)


async def test_an_institution_an_investigative_organ_set_up_takes_no_outside_commission(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")
    by_court = await api.post(
        "/v1/registry/institutions",
        json={"name": "法院鉴定中心", "categories": ["forensic_clinical"], "founded_by_organ_id": COURT.id},
        headers=auth(supervisor),
    )
    assert by_court.status_code == 422 and "founded_by_organ_id" in by_court.text, "a court sets up none"
    lab = await api.post(
        "/v1/registry/institutions",
        json={
            "name": "渝中分局物证鉴定室",
            "categories": ["forensic_clinical", "forensic_pathology"],
            "founded_by_organ_id": POLICE[0].id,
        },
        headers=auth(supervisor),
    )
    assert lab.status_code == 201, lab.text
    lab_id = lab.json()["id"]
    assert lab.json()["founded_by_organ_id"] == POLICE[0].id
    designated = {"mode": "designated", "institution_id": lab_id}
    # Its own organ, and another organ of the same system, entrust it (ENT-3: the same system, I).
    own = await api.post(
        "/v1/commissions",
        json=entrustment("渝公渝中鉴委〔2026〕31号", case_number=POLICE_CASE, selection=designated),
        headers=auth(police),
    )
    assert own.status_code == 201, own.text
    same_system = await api.post(
        "/v1/commissions",
        json=entrustment("渝公江北鉴委〔2026〕1号", case_number=POLICE_CASE, selection=designated),
        headers=auth(other_police),
    )
    assert same_system.status_code == 201, same_system.text
    for outsider, number in ((court_actor, COURT_CASE), (procurator, PROCURATORATE_CASE)):
        refused = await api.post(
            "/v1/commissions",
            json=entrustment(f"OUTSIDE-{outsider.role}", case_number=number, selection=designated),
            headers=auth(outsider),
        )
        assert refused.status_code == 409 and "institution_not_open" in refused.text, refused.text
        assert "ENT-3" in refused.text
    # A court's random draw never lands there: the lab is no candidate of a court.
    drawn = await api.post(
        "/v1/commissions",
        json=entrustment("(2026)渝0103刑初12号-鉴9", case_number=COURT_CASE, selection={"mode": "random"}),
        headers=auth(court_actor),
    )
    assert drawn.status_code == 201, drawn.text
    selection = (
        await api.get(f"/v1/commissions/{drawn.json()['id']}/selection", headers=auth(court_actor))
    ).json()
    assert lab_id not in selection["candidates"] and drawn.json()["institution_id"] != lab_id


async def steps_in_trail(api: httpx.AsyncClient, auth: Auth, url: str) -> list[str]:
    """The trail's event kinds without the seal, which the workflow records beside the main path
    a moment after the issue, wherever the steps that followed it have reached."""
    trail = (await api.get(f"{url}/audit", headers=auth(police))).json()
    return [e["kind"] for e in trail if e["kind"] != "report.sealed"]
