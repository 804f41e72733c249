"""The dashboard in a real browser (tests/web/browsing.py): signs in by pasting a token,
clicks overview → commission → appraiser trace → inbox, and takes a screenshot of each
page (docs/dashboard.md shows them)."""

from collections.abc import Callable

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from temporalio.testing import WorkflowEnvironment

from appraisal.api.auth import issue_token
from appraisal.core.settings import Settings
from appraisal.domain.roles import Actor
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.factories import court_actor
from tests.web.browsing import screenshot
from tests.web.scenario import Scenario, drive, supervisor

pytestmark = pytest.mark.dated

Auth = Callable[[Actor], dict[str, str]]


async def sign_in(page: Page, base: str, settings: Settings, actor: Actor, *, shot: str = "") -> None:
    await page.goto(f"{base}/ui/overview")
    await expect(page).to_have_url(f"{base}/ui/login?next=%2Fui%2Foverview")
    if shot:
        await screenshot(page, shot)
    await page.click("summary:has-text('使用令牌登录')")
    await page.fill("#token", issue_token(settings, actor))
    await page.click("#token-login button")
    await expect(page).to_have_url(f"{base}/ui/overview")


async def test_click_through_the_dashboard(
    served: str,
    browser: Browser,
    api: httpx.AsyncClient,
    auth: Auth,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
) -> None:
    scenario: Scenario = await drive(api, auth, temporal_env)
    counts = (await api.get("/v1/supervision/overview", headers=auth(supervisor))).json()["counts"]
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    await sign_in(page, served, settings, supervisor, shot="login")
    await expect(page.locator("#viewer")).to_contain_text("重庆市司法局")
    await expect(page.locator("#count-total")).to_have_text(str(counts["total"]))
    await expect(page.locator("#count-overdue")).to_have_text("2")
    await expect(page.locator("#count-escalations")).to_have_text("2")
    await expect(page.locator("#chart-stage g.bar")).to_have_count(len(counts["by_stage"]))
    await expect(page.locator("#overdue-list tbody tr")).to_have_count(2)

    # The counts panel refreshes in place (htmx), without reloading the page.
    await page.evaluate("window.stillTheSamePage = true")
    await entrust(api, auth, court_reference="(2026)渝0103民初105号-鉴1")
    await page.click("#refresh")
    await expect(page.locator("#count-total")).to_have_text(str(counts["total"] + 1))
    assert await page.evaluate("window.stillTheSamePage") is True

    await page.select_option("#due_within", "10")
    await page.click("button:has-text('应用 Apply')")
    await expect(page).to_have_url(f"{served}/ui/overview?due_within=10")
    await expect(page.locator("#due-soon-list tbody a")).not_to_have_count(0)
    await screenshot(page, "overview")

    reference = scenario.paused_late["court_reference"]
    await page.click(f"#overdue-list a:has-text('{reference}')")
    await expect(page).to_have_url(f"{served}/ui/commissions/{scenario.paused_late['id']}")
    await expect(page.locator("#court-reference")).to_have_text(reference)
    await expect(page.locator("#stage")).to_have_text("鉴定中 Examining")
    await expect(page.locator("svg.timeline rect.pause")).to_have_count(1)
    await expect(page.locator("svg.timeline line.today")).to_have_count(1)
    await expect(page.locator("#verdict")).to_contain_text("✓ 哈希链校验通过")
    trail = (
        await api.get(f"/v1/commissions/{scenario.paused_late['id']}/audit", headers=auth(supervisor))
    ).json()
    await expect(page.locator("#audit-trail tbody tr")).to_have_count(len(trail))
    await screenshot(page, "commission")

    await page.click(f"#appraisers a[href='/ui/appraisers/{APPRAISER_IDS[0]}']")
    await expect(page).to_have_url(f"{served}/ui/appraisers/{APPRAISER_IDS[0]}")
    await expect(page.locator("#trace tbody")).to_contain_text("受理 Accepted")
    await expect(page.locator("#trace tbody")).to_contain_text("时限暂停 Clock paused")
    await expect(page.locator("#trace .unverified")).to_have_count(0)
    await screenshot(page, "appraiser")

    await page.click("nav a:has-text('待办 Inbox')")
    await expect(page).to_have_url(f"{served}/ui/inbox")
    await expect(page.locator("#inbox tbody tr")).to_have_count(2)
    await expect(page.locator("#inbox tbody")).to_contain_text("逾期督办 Overdue escalation")
    await screenshot(page, "inbox")

    await page.click("button:has-text('退出 Sign out')")
    await expect(page.locator(".notice")).to_have_text("已退出 Signed out")
    await page.goto(f"{served}/ui/inbox")
    await expect(page).to_have_url(f"{served}/ui/login?next=%2Fui%2Finbox")

    assert problems == [], problems

    # A court sees its own commissions only (the scenario's four and the one added); another
    # court's commission is "not found".
    await sign_in(page, served, settings, court_actor)
    await expect(page.locator("#count-total")).to_have_text("5")
    await page.goto(f"{served}/ui/commissions/{scenario.other_courts['id']}")
    await expect(page.locator("h1")).to_contain_text("404 · 未找到 Not found")
    await context.close()
