"""Penalties, exit and public disclosure in the workspace. By form, in process: the bureau files
a penalty case and takes it to its served decision (a refused step back with its rule, nothing
changed), records an inspection's results. In headless Chromium without a session: the public
pages (registry, closed inspections, published penalties, provisional grades) show what was
published and nothing confidential, and need no sign-in."""

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.core.settings import Settings
from appraisal.domain.roles import Actor
from appraisal.seed import seed_demo_accounts
from tests.api.test_commissions_api import entrust
from tests.factories import INSTITUTION, institution_actor
from tests.web.browsing import screenshot
from tests.web.scenario import supervisor
from tests.web.test_browser_commission import FIRST, SECOND, key_file, username_of
from tests.web.test_browser_commission import sign_in as sign_in_account
from tests.web.test_pages import page, post_form, sign_in
from tests.web.test_steps_by_form import step_error

Auth = Callable[[Actor], dict[str, str]]


@pytest.mark.dated
async def test_the_bureau_takes_a_penalty_case_to_its_decision_by_clicking(
    api: httpx.AsyncClient, auth: Auth, settings: Settings, today: date
) -> None:
    await sign_in(api, settings, supervisor)
    listing = await page(api, "/ui/penalties")
    assert "立案 File a case" in listing
    filed = await post_form(
        api,
        "/ui/penalties",
        {
            "reference": "渝司罚立〔2026〕网1号",
            "source": "bureau",
            "subject_kind": "institution",
            "institution_id": INSTITUTION.id,
            "summary": "超出登记业务范围鉴定",
            "breach_on": (today - timedelta(days=10)).isoformat(),
        },
    )
    assert filed.status_code == 303, filed.text
    case_path = filed.headers["location"]
    shown = await page(api, case_path)
    assert "调查取证 Investigate" in shown and "CMP-9" in shown
    refused = await post_form(
        api, f"{case_path}/steps", {"step": "propose", "facts": "…", "penalties": "warning", "basis": "…"}
    )
    assert refused.status_code == 409
    assert "须先调查" in step_error(refused.text)  # the rule in Chinese first, nothing changed
    assert "penalty.proposed" not in str(
        (await api.get(f"/v1/penalties/{case_path.rsplit('/', 1)[1]}/audit", headers=auth(supervisor))).json()
    )
    for form in (
        {"step": "investigate", "findings": "抽查案卷三份，均超范围"},
        {"step": "propose", "facts": "超范围鉴定", "penalties": "warning", "basis": "令95 第三十九条"},
        {"step": "statement", "statement": "无异议", "waives_hearing": "true"},
        {"step": "decide", "penalties": "warning", "reasons": "超出登记业务范围", "basis": "令95 第三十九条",
         "publish": "true", "decision_number": "渝司罚决〔2026〕9号"},
        {"step": "serve", "method": "直接送达"},
    ):  # fmt: skip
        taken = await post_form(api, f"{case_path}/steps", form)
        assert taken.status_code == 303, (form["step"], taken.text[-2000:])
    closed = await page(api, case_path)
    assert "已结案 Closed" in closed and "已公开 published" in closed
    published = (await api.get("/v1/public/penalties")).json()
    assert [p["decision_number"] for p in published] == ["渝司罚决〔2026〕9号"]


@pytest.mark.dated
async def test_the_public_pages_need_no_sign_in_and_show_nothing_confidential(
    served: str, browser: Browser, api: httpx.AsyncClient, auth: Auth, today: date
) -> None:
    # What the bureau published: a suspension, a closed inspection, a penalty decision.
    suspended = await api.post(
        f"/v1/registry/institutions/{INSTITUTION.id}/status",
        json={"status": "suspended", "reason": "停业整改", "until": (today + timedelta(days=90)).isoformat()},
        headers=auth(supervisor),
    )
    assert suspended.status_code == 200
    drawn = (
        await api.post(
            "/v1/supervision/inspections",
            json={"seed": 11, "institutions": 1, "case_files_per_institution": 2, "inspectors": 1},
            headers=auth(supervisor),
        )
    ).json()
    [drawn_institution] = drawn["picks"]["institutions"]
    closed = await api.post(
        f"/v1/supervision/inspections/{drawn['id']}/results",
        json={
            "results": [
                {"institution_id": drawn_institution, "conclusion": "rectification", "summary": "档案不全"}
            ]
        },
        headers=auth(supervisor),
    )
    assert closed.status_code == 200
    case = (
        await api.post(
            "/v1/penalties",
            json={
                "reference": f"渝司罚立〔2026〕{uuid.uuid4().hex[:4]}号",
                "subject_kind": "institution",
                "subject_id": INSTITUTION.id,
                "source": "bureau",
                "summary": "机密的案件事实 CONFIDENTIAL-FACTS",
                "breach_on": today.isoformat(),
            },
            headers=auth(supervisor),
        )
    ).json()
    for body in (
        {"step": "investigate", "findings": "机密调查 CONFIDENTIAL-FINDINGS"},
        {"step": "propose", "facts": "事实", "penalties": ["warning"], "basis": "令95 第三十九条"},
        {"step": "statement", "statement": "无", "waives_hearing": True},
        {"step": "decide", "penalties": ["warning"], "reasons": "理由", "basis": "令95 第三十九条", "publish": True,
         "decision_number": "渝司罚决〔2026〕公1号"},
        {"step": "serve"},
    ):  # fmt: skip
        taken = await api.post(f"/v1/penalties/{case['id']}/steps", json=body, headers=auth(supervisor))
        assert taken.status_code == 200, taken.text

    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    assert await context.cookies() == []  # nobody is signed in
    tab = await context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))

    await tab.goto(f"{served}/ui/public")
    await expect(tab.locator("h1")).to_contain_text("信息公开")
    await expect(tab.locator("#viewer")).to_have_count(0)
    await screenshot(tab, "public-index")

    await tab.click("#public-nav >> text=名册 Registry")
    await expect(tab).to_have_url(f"{served}/ui/public/registry")
    row = tab.locator("#public-institutions tr", has_text=INSTITUTION.name)
    await expect(row).to_contain_text("暂停执业")
    await expect(row).to_contain_text("否 No")
    await expect(tab.locator("#public-appraisers tbody tr")).not_to_have_count(0)
    await screenshot(tab, "public-registry")

    await tab.click("#public-nav >> text=抽查结果 Inspections")
    await expect(tab.locator("#public-inspections")).to_contain_text("责令整改")
    await expect(tab.locator("#public-inspections")).to_contain_text("档案不全")
    await expect(tab.locator("#public-inspections")).to_contain_text("11")  # the seed, re-runnable
    await screenshot(tab, "public-inspections")

    await tab.click("#public-nav >> text=处罚公示 Penalties")
    penalties = tab.locator("#public-penalties")
    await expect(penalties).to_contain_text("渝司罚决〔2026〕公1号")
    await expect(penalties).to_contain_text(INSTITUTION.name)
    await expect(penalties).to_contain_text("警告")
    await screenshot(tab, "public-penalties")

    await tab.click("#public-nav >> text=诚信等级 Grades")
    await expect(tab.locator("#grades-status")).to_contain_text("暂定 Provisional")
    await expect(tab.locator("#public-grades tbody tr")).not_to_have_count(0)
    await screenshot(tab, "public-grades")

    for path in ("/ui/public", "/ui/public/registry", "/ui/public/inspections", "/ui/public/penalties"):
        await tab.goto(f"{served}{path}")
        html = await tab.content()
        assert "CONFIDENTIAL" not in html and case["id"] not in html
        for commission_file in drawn["picks"]["case_files"].get(drawn_institution, []):
            assert commission_file not in html  # which case files were drawn stays private
    # A signed-in page still asks for a sign-in: public means only these pages.
    await tab.goto(f"{served}/ui/penalties")
    await expect(tab).to_have_url(f"{served}/ui/login?next=%2Fui%2Fpenalties")
    assert problems == []
    await context.close()


async def test_an_appraiser_signs_an_interference_record_in_the_browser_and_the_bureau_reviews_it(
    served: str,
    browser: Browser,
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    await seed_demo_accounts(sessions, now=await temporal_env.get_current_time())
    cid = (await entrust(api, auth, court_reference=f"(2026)渝0103民初{uuid.uuid4().hex[:6]}号-鉴1"))["id"]
    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": [FIRST.id, SECOND.id]},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = await context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda e: problems.append(str(e)))
    await sign_in_account(tab, served, username_of(FIRST.id))
    await tab.goto(f"{served}/ui/commissions/{cid}")
    await tab.fill("#interference-who", "某公司法务 李某")
    await tab.fill("#interference-when", "2026-12-01T10:30")
    await tab.fill("#interference-what", "来电要求将伤残等级定为八级")
    await tab.check("#interference-hidden")
    await tab.set_input_files("#interference-key", key_file(tmp_path, FIRST.id))
    await screenshot(tab, "appraiser-interference")
    await tab.click("#interference-form button")
    await expect(tab.locator("#interference-records")).to_be_visible()
    await expect(tab.locator("#interference-records + table")).to_contain_text("某公司法务 李某")
    await context.close()

    bureau = (await api.get(f"/v1/commissions/{cid}", headers=auth(supervisor))).json()
    [report] = bureau["interference"]
    assert report["hidden_from_institution"] is True and report["occurred_at"] == "2026-12-01T10:30:00+08:00"
    desk = (await api.get(f"/v1/commissions/{cid}", headers=auth(institution_actor))).json()
    assert desk["interference"] == []
    tasks = (await api.get("/v1/tasks", headers=auth(supervisor))).json()
    assert ("review_interference", cid) in {(t["kind"], t["commission_id"]) for t in tasks}
    assert problems == []
