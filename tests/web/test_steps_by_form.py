"""A step taken by clicking: the intake desk's acceptance form goes through the same
service and the same Temporal Update as POST …/acceptance. A refused decision comes back
on the page with the rule and changes nothing; an accepted one lands on the commission as
that step left it (read your writes by its sequence)."""

import re
from collections.abc import Callable

import httpx

from appraisal.core.settings import Settings
from appraisal.domain.roles import Actor
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.factories import institution_actor
from tests.web.test_pages import HTML, page, post_form, sign_in

Auth = Callable[[Actor], dict[str, str]]


async def test_the_desk_accepts_by_clicking_after_a_refused_attempt(
    api: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    cid = (await entrust(api, auth, reference="REF-FORM-ACCEPT"))["id"]
    trail_before = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(institution_actor))).json()
    await sign_in(api, settings, institution_actor)
    html = await page(api, f"/ui/commissions/{cid}")
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
