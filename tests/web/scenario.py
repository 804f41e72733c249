"""Commissions driven through the REST API into the states the dashboard shows:
overdue and escalated at intake, overdue in examination after a pause, fresh,
refused, and one of another court."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from appraisal.domain.calendar import local_today
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU
from tests.api.test_commissions_api import APPRAISER_IDS, entrust, entrustment, inbox
from tests.factories import OTHER_COURT, appraiser_actor, court_actor, institution_actor, past_catch_up
from tests.workflows.test_commission_workflow import eventually

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")
other_court = Actor(Role.COURT, OTHER_COURT.id, "clerk")


@dataclass(frozen=True)
class Scenario:
    late_intake: dict[str, Any]
    """Received 60 days ago, never accepted: overdue, escalated to the bureau."""
    paused_late: dict[str, Any]
    """Accepted 80 days ago, paused for materials and resumed, overdue in examination."""
    fresh: dict[str, Any]
    refused: dict[str, Any]
    other_courts: dict[str, Any]


async def step(
    api: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await api.post(url, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def drive(api: httpx.AsyncClient, auth: Auth, env: WorkflowEnvironment) -> Scenario:
    today = local_today(await env.get_current_time())

    def ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    late_intake = await entrust(api, auth, court_reference="(2026)渝0103民初101号-鉴1", received_on=ago(60))
    paused = await entrust(api, auth, court_reference="(2026)渝0103民初102号-鉴1", received_on=ago(90))
    url = f"/v1/commissions/{paused['id']}"
    decision = {"decision": "accept", "appraiser_ids": APPRAISER_IDS, "agreement_effective_on": ago(80)}
    await step(api, f"{url}/acceptance", decision, auth(institution_actor))
    request = {"description": "补充病历 Further medical records", "requested_on": ago(70)}
    await step(api, f"{url}/material-requests", request, auth(appraiser_actor(APPRAISER_IDS[0])))
    supply = {"materials": [{"name": "病历", "sha256": "cd" * 32}], "received_on": ago(60)}
    paused_late = await step(api, f"{url}/materials", supply, auth(court_actor))
    fresh = await entrust(api, auth, court_reference="(2026)渝0103民初103号-鉴1")
    refused = await entrust(api, auth, court_reference="(2026)渝0103民初104号-鉴1")
    refusal = {"decision": "refuse", "ground": "PROC-05-5", "reason": "超出技术条件"}
    refused = await step(api, f"/v1/commissions/{refused['id']}/acceptance", refusal, auth(institution_actor))
    response = await api.post(
        "/v1/commissions", json=entrustment("(2026)渝0105民初201号-鉴1"), headers=auth(other_court)
    )
    assert response.status_code == 201, response.text
    # Both were brought in from paper past their rungs: those fire once the catch-up window ends.
    await past_catch_up(env, late_intake, paused_late)

    async def both_escalated() -> bool | None:
        # Their projection follows the rungs.
        escalated = {cid for cid, kind in await inbox(api, auth, supervisor) if kind == "overdue_escalation"}
        return True if {late_intake["id"], paused["id"]} <= escalated else None

    await eventually(both_escalated)
    return Scenario(late_intake, paused_late, fresh, refused, dict(response.json()))
