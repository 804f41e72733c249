"""A party in a real browser (tests/web/browsing.py): the court's clerk schedules a random draw with
the party (its one-time link shown once), the party opens the link in its own browser and signs
in, watches its page while the clerk runs the draw — the institution drawn, the draw re-run from
its recorded seed — then sees its commission move when the institution accepts, and cannot reach
another commission by its address."""

from collections.abc import Callable

import httpx
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.domain.roles import Actor, Role
from appraisal.seed import seed_demo_accounts
from tests.api.test_commissions_api import entrust
from tests.factories import court_actor
from tests.web.browsing import screenshot
from tests.web.test_browser_commission import sign_in

Auth = Callable[[Actor], dict[str, str]]
LIVE = 20_000
"""How long the party's page may take to show a change (it refreshes every 3 seconds), in ms."""


async def test_a_party_signs_in_by_its_link_and_watches_the_draw_and_its_commission(
    served: str,
    browser: Browser,
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
) -> None:
    await seed_demo_accounts(sessions, now=await temporal_env.get_current_time())
    other = await entrust(api, auth, court_reference="(2026)渝0103民初950号-鉴1")

    clerk_context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    clerk = await clerk_context.new_page()
    await sign_in(clerk, served, "court-1")
    await clerk.click("nav a:has-text('摇号 Draws')")
    await clerk.fill("#court_reference", "(2026)渝0103民初951号-鉴1")
    await clerk.fill("#case_number", "(2026)渝0103民初951号")
    await clerk.select_option("#category", "forensic_clinical")
    await clerk.fill("#matters", "伤残等级评定")
    await clerk.fill("#place", "第三法庭")
    await clerk.locator("input[name='party.name']").first.fill("原告张某")
    await clerk.locator("input[name='party.phone']").first.fill("13800000000")
    await clerk.click("#draw-form button")
    link = (await clerk.locator("code.party-link").first.inner_text()).strip()
    assert link.startswith("/ui/party/sign-in/")
    await expect(clerk.locator("#draw-status")).to_contain_text("待摇号")

    party_context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    party = await party_context.new_page()
    await party.goto(served + link)
    await party.click("#party-login button")
    await expect(party).to_have_url(f"{served}/ui/party")
    await expect(party.locator("#draw-status")).to_contain_text("摇号尚未进行")
    await expect(party.locator("#viewer")).to_contain_text("原告张某")
    await screenshot(party, "party-draw-waiting")

    # The clerk runs the draw; the party's page shows it without a reload.
    await clerk.click("#run-draw button")
    await expect(clerk.locator("#drawn")).to_be_visible()
    await expect(party.locator("#draw-reproduced")).to_contain_text("✓", timeout=LIVE)
    await expect(party.locator("#stage")).to_contain_text("待受理", timeout=LIVE)
    drawn = (await party.locator("#institution").inner_text()).strip()
    assert drawn and drawn in await party.locator("#draw-candidates").inner_text()
    await screenshot(party, "party-draw")

    # The commission moves: the institution drawn asks for materials, its clock pauses.
    commission_id = (await clerk.locator("#drawn a").get_attribute("href") or "").rsplit("/", 1)[1]
    commission = (await api.get(f"/v1/commissions/{commission_id}", headers=auth(court_actor))).json()
    desk = Actor(Role.INSTITUTION, commission["institution_id"], "desk")
    asked = await api.post(
        f"/v1/commissions/{commission_id}/material-requests",
        json={"description": "补充病历"},
        headers=auth(desk),
    )
    assert asked.status_code == 200, asked.text
    await expect(party.locator("#stage")).to_contain_text("补充材料中", timeout=LIVE)
    await clerk.click("#drawn a")
    await expect(clerk.locator("#party-list")).to_contain_text("原告张某")
    await expect(clerk.locator("#draw-reproduced")).to_be_visible()
    await screenshot(clerk, "court-parties")
    await screenshot(party, "party-commission")

    # Another commission is not within its reach, by address or by the staff's pages.
    await party.goto(f"{served}/ui/commissions/{other['id']}")
    await expect(party.locator("h1")).to_contain_text("403")
    await expect(party.locator("body")).not_to_contain_text(other["court_reference"])
    answer = await party.request.get(f"{served}/v1/commissions/{other['id']}/party-view")
    assert answer.status == 401, "the workspace's session is not an API token"
    await party.goto(f"{served}/ui/party")
    await expect(party.locator("body")).not_to_contain_text(other["court_reference"])
    await party_context.close()
    await clerk_context.close()
