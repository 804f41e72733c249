"""One commission from entrustment to closure entirely by clicking, in headless Chromium
(tests/web/browsing.py): each person signs in with their own account and password — the
court's clerk, the institution's intake desk, its head, two appraisers — and takes their
steps through the commission page's forms. Among them: a refused step whose rule the page
shows inline (nothing changed), one pause for materials, a material file hashed in the
browser, a signature and a signed dissent made in the browser with WebCrypto from the
appraiser's own key file. Then the audit trail, and `appraisal verify` on the PDF the
court downloads."""

import asyncio
import base64
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.cli import main as appraisal_command
from appraisal.core.signing import demo_private_key
from appraisal.domain.calendar import CHINA_TZ
from appraisal.domain.roles import Actor
from appraisal.seed import APPRAISERS, DEMO_PASSWORD, seed_demo_accounts
from tests.factories import CLINICAL_APPRAISERS, INSTITUTION, court_actor
from tests.web.browsing import screenshot

Auth = Callable[[Actor], dict[str, str]]
FIRST, SECOND = CLINICAL_APPRAISERS
REFERENCE = "(2026)渝0103民初777号-鉴1"


def username_of(appraiser_id: str) -> str:
    return f"appraiser-{[a.id for a in APPRAISERS].index(appraiser_id) + 1}"


def key_file(folder: Path, appraiser_id: str) -> Path:
    """The appraiser's own private key, as a file they hold (the demo's key, base64 of the
    raw 32 bytes: what `appraisal demo-key` prints)."""
    raw = demo_private_key(appraiser_id).private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    path = folder / f"{appraiser_id}.key"
    path.write_text(base64.b64encode(raw).decode(), encoding="ascii")
    return path


async def sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/ui/login")
    await page.fill("#username", username)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("#account-login button")
    await expect(page.locator("#viewer")).to_be_visible()


async def sign_out(page: Page) -> None:
    await page.click("button:has-text('退出 Sign out')")
    await expect(page.locator(".notice")).to_have_text("已退出 Signed out")


async def from_inbox(page: Page, base: str, commission_id: str) -> None:
    """A desk, a head and an appraiser start on their inbox; the task opens the commission."""
    await expect(page).to_have_url(f"{base}/ui/inbox")
    # The link lands on the form that takes the task (#do-<step>), or on the clocks.
    await page.click(f"#inbox a[href^='/ui/commissions/{commission_id}#']")
    await expect(page.locator("#court-reference")).to_have_text(REFERENCE)


async def test_a_commission_from_entrustment_to_closure_by_clicking(
    served: str,
    browser: Browser,
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seed_demo_accounts(sessions, now=await temporal_env.get_current_time())
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    stage = page.locator("#stage")

    # The court entrusts, a material file hashed in the browser (the file is not uploaded).
    await sign_in(page, served, "court-1")
    await page.click("nav a:has-text('委托鉴定 Entrust')")
    medical_record = tmp_path / "病历.pdf"
    medical_record.write_bytes(b"%PDF-1.4 medical record")
    await page.fill("#court_reference", REFERENCE)
    await page.fill("#case_number", "(2026)渝0103民初777号")
    await page.select_option("#category", "forensic_clinical")
    await page.fill("#matters", "伤残等级评定\n误工期评定")
    await page.check("input[name=mode][value=designated]")
    await page.select_option("#institution_id", INSTITUTION.id)
    await page.locator("#entrust-form input[data-hash-file]").first.set_input_files(medical_record)
    digest = hashlib.sha256(medical_record.read_bytes()).hexdigest()
    await expect(page.locator("#entrust-form input[name='materials.sha256']").first).to_have_value(digest)
    await screenshot(page, "court-entrust")
    await page.click("#entrust-form button")
    await expect(stage).to_have_text("待受理 Awaiting acceptance")
    commission_id = page.url.split("/ui/commissions/")[1].split("?")[0]
    await sign_out(page)

    # The desk: one appraiser is not enough (refused inline, nothing changed); it asks for materials.
    await sign_in(page, served, "institution-1")
    await from_inbox(page, served, commission_id)
    await page.check(f"#accept-form input[value='{FIRST.id}']")
    await page.click("#accept-form button")
    await expect(page.locator("#step-error")).to_contain_text("未通过")
    await expect(page.locator("#step-error")).to_contain_text("PROC-")
    await expect(stage).to_have_text("待受理 Awaiting acceptance")
    await screenshot(page, "desk-refused-step")
    await page.fill("#material-requests-description", "补充近三个月病历 The last three months' records")
    await page.click("#step-material-requests button")
    await expect(stage).to_have_text("补充材料中 Awaiting materials")
    await expect(page.locator("#clocks")).to_contain_text("暂停 Paused")
    await sign_out(page)

    await sign_in(page, served, "court-1")
    await page.goto(f"{served}/ui/commissions/{commission_id}")
    await page.locator("#step-materials input[name='materials.name']").first.fill("近三个月病历")
    await page.locator("#step-materials input[name='materials.sha256']").first.fill("ef" * 32)
    await page.click("#step-materials button")
    await expect(stage).to_have_text("待受理 Awaiting acceptance")
    await sign_out(page)

    await sign_in(page, served, "institution-1")
    await from_inbox(page, served, commission_id)
    await page.check(f"#accept-form input[value='{FIRST.id}']")
    await page.check(f"#accept-form input[value='{SECOND.id}']")
    await page.click("#accept-form button")
    await expect(stage).to_have_text("鉴定中 Examining")
    await sign_out(page)

    # The first appraiser writes the report and signs it in the browser.
    await sign_in(page, served, username_of(FIRST.id))
    await from_inbox(page, served, commission_id)
    await page.fill("#report-place", "西南司法鉴定中心法医临床检验室")
    await page.fill("#report-case_summary", "2026年3月1日，被鉴定人因交通事故受伤。")
    await page.fill("#report-content", "检查所见：左腕关节活动受限。")
    await page.fill("#report-analysis", "符合外伤后遗改变。")
    await page.fill("#report-opinion", "被鉴定人左腕损伤构成十级伤残。")
    await page.click("#step-report button")
    await expect(stage).to_have_text("签名中 Signing")
    await page.set_input_files("#sign-key", key_file(tmp_path, FIRST.id))
    await screenshot(page, "appraiser-sign")
    await page.click("#sign-form button")
    await expect(page.locator("#report .signatures")).to_contain_text("签名 signed")
    await expect(page.locator("#signing")).to_have_count(0)
    await sign_out(page)

    # The second dissents, signed the same way.
    await sign_in(page, served, username_of(SECOND.id))
    await from_inbox(page, served, commission_id)
    await page.select_option("#sign-kind", "dissent")
    await page.fill("#sign-statement", "我认为应评定为九级：腕关节功能丧失超过 50%。")
    await page.set_input_files("#sign-key", key_file(tmp_path, SECOND.id))
    await page.click("#sign-form button")
    await expect(stage).to_have_text("待签发 Awaiting issue")
    await expect(page.locator("#report .signatures")).to_contain_text("不同意见 dissent")
    await sign_out(page)

    await sign_in(page, served, "head-1")
    await screenshot(page, "head-inbox")
    await from_inbox(page, served, commission_id)
    await page.click("#step-issue button")
    await expect(stage).to_have_text("已出具 Issued")
    await sign_out(page)

    # The court downloads the sealed report; anyone can check it offline with the bureau's root.
    await sign_in(page, served, "court-1")
    await page.goto(f"{served}/ui/commissions/{commission_id}")
    await screenshot(page, "court-issued-report")
    async with page.expect_download() as download:
        await page.click("#report-pdf")
    pdf = tmp_path / "report.pdf"
    await (await download.value).save_as(pdf)
    keys, root = tmp_path / "keys.json", tmp_path / "bureau-root.pem"
    keys.write_text(
        json.dumps((await api.get("/v1/registry/keys", headers=auth(court_actor))).json()), encoding="utf-8"
    )
    root.write_bytes((await api.get("/v1/registry/seal/root.pem", headers=auth(court_actor))).content)
    capsys.readouterr()
    verify = ["verify", str(pdf), "--trust", str(root), "--keys", str(keys)]
    assert await asyncio.to_thread(appraisal_command, verify) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("2 signatures verified")

    await page.click("#step-closure button")
    await expect(stage).to_have_text("已结案 Closed")
    await page.click("nav a:has-text('委托 Commissions')")
    await expect(page.locator("#commissions")).to_contain_text(REFERENCE)
    await screenshot(page, "court-commissions")
    await page.click("nav a:has-text('通知 Notifications')")
    await expect(page.locator("#notifications")).to_contain_text("出具鉴定意见书 Report issued")
    await screenshot(page, "court-notifications")
    await page.goto(f"{served}/ui/commissions/{commission_id}")
    await expect(page.locator("#steps")).to_have_count(0)
    await expect(page.locator("#verdict")).to_contain_text("✓ 哈希链校验通过")
    trail = (await api.get(f"/v1/commissions/{commission_id}/audit", headers=auth(court_actor))).json()
    await expect(page.locator("#audit-trail tbody tr")).to_have_count(len(trail))
    kinds = [e["kind"] for e in trail]
    for kind in ("clock.paused", "report.submitted", "report.signed", "report.dissented", "report.issued"):
        assert kind in kinds, kinds
    actors = {(e["actor_role"], e["actor_subject"]) for e in trail}
    assert {("appraiser", username_of(FIRST.id)), ("institution_head", "head-1")} <= actors, actors
    assert problems == [], problems
    await context.close()


async def test_a_complaint_from_registration_to_decision_by_clicking(
    served: str,
    browser: Browser,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
) -> None:
    """The bureau's official registers a party's complaint, asks for a longer acceptance
    review than the rule allows (refused inline, nothing changed), accepts it, decides it,
    and tells both sides."""
    now = await temporal_env.get_current_time()
    await seed_demo_accounts(sessions, now=now)
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    stage = page.locator("#stage")

    await sign_in(page, served, "supervisor")
    await page.click("nav a:has-text('登记投诉 Register a complaint')")
    await page.fill("#reference", "渝司投〔2026〕88号")
    await page.fill("#complainant-name", "张三")
    await page.fill("#complainant-interest", "被鉴定人本人")
    await page.select_option("#institution_id", INSTITUTION.id)
    await page.fill("#summary", "鉴定人未告知鉴定进度，超期未出具意见。")
    await page.fill("#knew_on", (now.astimezone(CHINA_TZ).date() - timedelta(days=30)).isoformat())
    await page.click("#complaint-form button")
    await expect(stage).to_have_text("待受理 Awaiting acceptance")
    await expect(page.locator("#clocks")).to_contain_text("CMP-5")
    await screenshot(page, "supervisor-complaint")

    events = await page.locator("#audit-trail tbody tr").count()
    await page.fill("#extend_acceptance-days", "40")
    await page.fill("#extend_acceptance-reason", "案情复杂")
    await page.click("#step-extend_acceptance button")
    await expect(page.locator("#step-error")).to_contain_text("未通过")
    await expect(page.locator("#extend_acceptance-days")).to_have_value("40")
    await expect(stage).to_have_text("待受理 Awaiting acceptance")
    await expect(page.locator("#audit-trail tbody tr")).to_have_count(events)

    await page.click("#step-accept button")
    await expect(stage).to_have_text("处理中 Handling")
    await page.fill("#decide-findings", "经调查，鉴定机构未在时限内出具意见，情况属实。")
    await page.select_option("#decide-outcome", "criticism_or_correction_order")
    await page.click("#step-decide button")
    await expect(stage).to_have_text("已决定 Decided")
    await expect(page.locator("#decision")).to_contain_text("批评教育或责令整改")
    await page.fill("#notify_parties-method", "挂号信 Registered mail")
    await page.click("#step-notify_parties button")
    await expect(stage).to_have_text("已结案 Closed")
    await expect(page.locator("#steps")).to_have_count(0)
    await expect(page.locator("#audit-trail tbody tr")).not_to_have_count(0)
    # The bureau's other pages, for the guide's screenshots.
    for name, path, shown in (
        ("supervisor-registry", "/ui/registry", "#institutions"),
        ("supervisor-inspections", "/ui/inspections", "#draw-form"),
        ("supervisor-calendar", "/ui/calendar", "#calendar-form"),
    ):
        await page.goto(f"{served}{path}")
        await expect(page.locator(shown)).to_be_visible()
        await screenshot(page, name)
    assert problems == [], problems
    await context.close()
