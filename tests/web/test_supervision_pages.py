"""The bureau's own pages by form: register an institution and an appraiser, suspend the
appraiser, draw an inspection, load a year's calendar; each through the same service as its
REST route, a refused one back with its rule and nothing changed."""

from collections.abc import Callable

import httpx

from appraisal.core.settings import Settings
from appraisal.domain.roles import Actor
from tests.web.scenario import supervisor
from tests.web.test_pages import page, post_form, sign_in
from tests.web.test_steps_by_form import step_error

Auth = Callable[[Actor], dict[str, str]]


async def test_the_bureau_keeps_its_registry_draws_and_calendar_by_clicking(
    api: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await sign_in(api, settings, supervisor)
    assert "登记鉴定机构 Register an institution" in await page(api, "/ui/registry")
    institution: dict[str, str | list[str]] = {
        "name": "渝北司法鉴定所 Yubei Appraisal",
        "categories": ["forensic_clinical"],
        "reason": "准予登记",
    }
    assert (await post_form(api, "/ui/registry/institutions", institution)).status_code == 303
    listed = (await api.get("/v1/registry/institutions", headers=auth(supervisor))).json()
    new = next(i for i in listed if i["name"] == institution["name"])
    outside: dict[str, str | list[str]] = {
        "name": "张三",
        "institution_id": new["id"],
        "categories": ["audio_visual"],
    }
    refused = await post_form(api, "/ui/registry/appraisers", outside)
    assert (
        refused.status_code in (409, 422) and "REG-1" in step_error(refused.text)
    ) or "categor" in step_error(refused.text)
    appraiser = {**outside, "categories": ["forensic_clinical"], "senior_title": "true"}
    assert (await post_form(api, "/ui/registry/appraisers", appraiser)).status_code == 303
    found = (
        await api.get(
            "/v1/registry/appraisers", params={"institution_id": new["id"]}, headers=auth(supervisor)
        )
    ).json()
    (registered,) = found
    assert registered["senior_title"] is True
    suspended = await post_form(
        api,
        f"/ui/registry/appraisers/{registered['id']}/status",
        {"status": "suspended", "reason": "违规 暂停执业"},
    )
    assert suspended.status_code == 303
    renewed = await post_form(
        api, f"/ui/registry/appraisers/{registered['id']}/licence", {"licence_valid_until": "2031-06-30"}
    )
    assert renewed.status_code == 303
    changes = (
        await api.get(
            "/v1/registry/changes", params={"entity_id": registered["id"]}, headers=auth(supervisor)
        )
    ).json()
    assert [c["action"] for c in changes] == ["created", "status", "updated"]
    assert changes[-1]["after"]["licence_valid_until"] == "2031-06-30"

    drawn = await post_form(
        api, "/ui/inspections", {"institutions": "1", "case_files_per_institution": "1", "inspectors": "1"}
    )
    assert drawn.status_code == 303
    assert "✓ 一致 the same picks" in await page(api, "/ui/inspections")

    calendar = await page(api, "/ui/calendar?year=2030")
    assert "暂定 Provisional" in calendar
    no_source = await post_form(api, "/ui/calendar/2030", {"rest_days": "2030-01-01"})
    assert no_source.status_code == 422 and "依据 Source: 必填" in step_error(no_source.text)
    loaded = await post_form(
        api, "/ui/calendar/2030", {"rest_days": "2030-01-01\r\n2030-10-01", "source": "国办发明电〔2029〕1号"}
    )
    assert loaded.status_code == 303
    shown = (await api.get("/v1/calendar/2030", headers=auth(supervisor))).json()
    assert shown["official"] is True and shown["source"] == "国办发明电〔2029〕1号"
