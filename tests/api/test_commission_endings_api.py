"""Withdrawal by the court before issue, and termination by the institution
(PROC-20, PROC-21): written reasons, materials returned, refund recorded."""

from collections.abc import Callable

import httpx
from temporalio.testing import WorkflowEnvironment

from appraisal.domain.roles import Actor
from appraisal.workflows.commission import workflow_id_for
from tests.api.test_audit_api import issued_commission
from tests.api.test_commission_clocks_api import accepted, error
from tests.api.test_commissions_api import entrust, inbox
from tests.factories import appraiser_actor, court_actor, head_actor, institution_actor

Auth = Callable[[Actor], dict[str, str]]


async def audit_kinds(api: httpx.AsyncClient, auth: Auth, cid: str) -> list[str]:
    return [
        e["kind"] for e in (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
    ]


async def test_the_court_withdraws_before_issue(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = await accepted(api, auth, reference="REF-WITHDRAW")
    url = f"/v1/commissions/{cid}/withdrawal"
    assert error(await api.post(url, json={"reason": "x"}, headers=auth(institution_actor))) == (
        403,
        "forbidden",
    )
    assert (await api.post(url, json={}, headers=auth(court_actor))).status_code == 422
    withdrawn = await api.post(url, json={"reason": "当事人和解"}, headers=auth(court_actor))
    assert withdrawn.status_code == 200, withdrawn.text
    body = withdrawn.json()
    assert body["stage"] == "withdrawn" and body["open_tasks"] == []
    assert all(c["stopped"] for c in body["clocks"])
    assert (await audit_kinds(api, auth, cid))[-2:] == ["commission.withdrawn", "materials.returned"]
    assert await inbox(api, auth, appraiser_actor(body["appraiser_ids"][0])) == []
    again = await api.post(url, json={"reason": "再撤"}, headers=auth(court_actor))
    assert error(again) == (409, "not_in_stage")
    notified = [
        n["kind"] for n in (await api.get("/v1/notifications", headers=auth(institution_actor))).json()
    ]
    assert "commission.withdrawn" in notified


async def test_a_step_reaching_an_ended_workflow_is_refused_as_not_in_stage(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    """The read model still shows the stage before the ending (the step that ended the
    workflow is being recorded): the next step is a 409, not a 404."""
    cid = await accepted(api, auth, reference="REF-ENDED-RACE")
    await temporal_env.client.get_workflow_handle(workflow_id_for(cid)).terminate("the race, staged")
    late = await api.post(
        f"/v1/commissions/{cid}/withdrawal", json={"reason": "晚了"}, headers=auth(court_actor)
    )
    assert error(late) == (409, "not_in_stage")


async def test_no_withdrawal_once_issued(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = await issued_commission(api, auth, "REF-WITHDRAW-LATE")
    late = await api.post(
        f"/v1/commissions/{cid}/withdrawal", json={"reason": "晚了"}, headers=auth(court_actor)
    )
    assert error(late) == (409, "not_in_stage")


async def test_the_institution_terminates_with_a_listed_ground(api: httpx.AsyncClient, auth: Auth) -> None:
    intake = (await entrust(api, auth, reference="REF-TERMINATE-EARLY"))["id"]
    early = await api.post(
        f"/v1/commissions/{intake}/termination",
        json={"ground": "PROC-20-5", "reason": "不可抗力"},
        headers=auth(institution_actor),
    )
    assert error(early) == (409, "not_in_stage")

    cid = await accepted(api, auth, reference="REF-TERMINATE")
    url = f"/v1/commissions/{cid}/termination"
    body = {"ground": "PROC-20-2", "reason": "检材已耗尽且无法补充"}
    assert error(await api.post(url, json=body, headers=auth(head_actor))) == (403, "forbidden")
    unknown = await api.post(url, json={**body, "ground": "PROC-99"}, headers=auth(institution_actor))
    assert error(unknown) == (409, "unknown_ground")
    terminated = await api.post(url, json=body, headers=auth(institution_actor))
    assert terminated.status_code == 200, terminated.text
    state = terminated.json()
    assert state["stage"] == "terminated" and state["refund"]["rule"] == "PROC-21"
    assert (await audit_kinds(api, auth, cid))[-3:] == [
        "commission.terminated",
        "materials.returned",
        "fee.refund_ordered",
    ]
    court_notes = (await api.get("/v1/notifications", headers=auth(court_actor))).json()
    assert any(n["kind"] == "commission.terminated" and "PROC-20-2" in n["message"] for n in court_notes)
