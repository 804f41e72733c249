"""Valid-looking steps that once jammed a commission or answered the wrong status."""

from collections.abc import Callable

import httpx

from appraisal.domain.roles import Actor
from tests.api.test_audit_api import issued_commission
from tests.api.test_commission_clocks_api import error
from tests.api.test_commission_followups_api import FIRST, state
from tests.factories import court_actor

Auth = Callable[[Actor], dict[str, str]]


async def test_a_hearing_at_the_end_of_time_is_refused_and_the_court_can_still_close(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    cid = await issued_commission(api, auth, "REF-HEARING-9999")
    url = f"/v1/commissions/{cid}"
    summons = {
        "hearing_at": "9999-12-31T23:59:59-12:00",
        "place": "第一法庭",
        "appraiser_ids": [FIRST.organisation_id],
    }
    assert error(await api.post(f"{url}/testimony", json=summons, headers=auth(court_actor))) == (
        409,
        "date_out_of_range",
    )
    assert (await state(api, auth, cid))["stage"] == "issued"
    closed = await api.post(f"{url}/closure", json={}, headers=auth(court_actor))
    assert closed.status_code == 200, closed.text
    assert closed.json()["stage"] == "closed"
