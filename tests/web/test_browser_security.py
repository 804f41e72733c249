"""The workspace's guards in a real browser (tests/web/browsing.py): a form posted without
its CSRF token is refused, repeated wrong passwords lock an account, another court's
commission is not reachable by its URL, and a user disabled by their administrator is signed
out at their next page, in the browser they were working in."""

from collections.abc import Callable

import httpx
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.domain.accounts import FAILURES_BEFORE_LOCK
from appraisal.domain.roles import Actor
from appraisal.seed import DEMO_PASSWORD, seed_demo_accounts
from tests.api.test_commissions_api import entrust
from tests.factories import INSTITUTION
from tests.web.browsing import screenshot

Auth = Callable[[Actor], dict[str, str]]
NEW_PASSWORD = "second-desk-2026-secret"


async def signed_in(
    browser: Browser, base: str, username: str, password: str = DEMO_PASSWORD
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{base}/ui/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#account-login button")
    await expect(page.locator("#viewer")).to_contain_text(username)
    return context, page


async def test_csrf_lockout_other_organisations_and_a_disabled_user_in_the_browser(
    served: str,
    browser: Browser,
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
) -> None:
    await seed_demo_accounts(sessions, now=await temporal_env.get_current_time())
    commission = await entrust(api, auth, court_reference="(2026)渝0103民初909号-鉴1")

    # The institution's administrator creates a second desk account in the browser.
    admin_context, admin = await signed_in(browser, served, "institution-1")
    await admin.click("nav a:has-text('账户 Accounts')")
    await admin.fill("#new-username", "desk-two")
    await admin.fill("#new-display-name", "第二受理员")
    await admin.select_option("#new-place", f"institution|{INSTITUTION.id}")
    await admin.fill("#new-password", NEW_PASSWORD)
    await admin.click("#account-form button")
    await expect(admin.locator("#created")).to_contain_text("desk-two")
    await screenshot(admin, "institution-accounts")

    # A form stripped of its CSRF token, as a forged cross-site post would be: refused.
    await admin.evaluate("document.querySelector('#account-form input[name=csrftoken]').remove()")
    await admin.fill("#new-username", "desk-three")
    await admin.fill("#new-display-name", "第三受理员")
    await admin.fill("#new-password", NEW_PASSWORD)
    async with admin.expect_response(lambda r: r.request.method == "POST") as refused:
        await admin.click("#account-form button")
    assert (await refused.value).status == 403
    await expect(admin.locator("h1")).to_contain_text("表单已过期或来自其他网站")
    await admin.goto(f"{served}/ui/accounts")
    await expect(admin.locator("#accounts")).not_to_contain_text("desk-three")

    # desk-two works, until the administrator disables the account: its next page signs it out.
    desk_context, desk = await signed_in(browser, served, "desk-two", NEW_PASSWORD)
    await expect(desk).to_have_url(f"{served}/ui/inbox")
    await expect(desk.locator("#inbox")).to_contain_text(commission["court_reference"])
    await admin.fill("input[aria-label='停用原因 Reason for desk-two']", "调岗 moved to another post")
    await admin.click("#disable-desk-two")
    await expect(admin.locator("#accounts")).to_contain_text("已停用 Disabled")
    await desk.reload()
    await expect(desk).to_have_url(f"{served}/ui/login?next=%2Fui%2Finbox")
    await desk.fill("#username", "desk-two")
    await desk.fill("#password", NEW_PASSWORD)
    await desk.click("#account-login button")
    await expect(desk.locator("#login-error")).to_contain_text("账户已停用")
    await desk_context.close()
    await admin_context.close()

    # Five wrong passwords lock the account: then even the right one is refused for a while.
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{served}/ui/login")
    for _ in range(FAILURES_BEFORE_LOCK):
        await page.fill("#username", "head-2")
        await page.fill("#password", "not-the-password-1")
        await page.click("#account-login button")
        await expect(page.locator("#login-error")).to_contain_text("用户名或密码错误")
    await page.fill("#username", "head-2")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("#account-login button")
    await expect(page.locator("#login-error")).to_contain_text("账户已锁定")
    await context.close()

    # Another court's clerk cannot reach this court's commission by typing its URL.
    other_context, other = await signed_in(browser, served, "court-2")
    await other.goto(f"{served}/ui/commissions/{commission['id']}")
    await expect(other.locator("h1")).to_contain_text("404 · 未找到 Not found")
    await expect(other.locator("body")).not_to_contain_text(commission["court_reference"])
    await other_context.close()
