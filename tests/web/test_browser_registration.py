"""The bureau's half of lifelong responsibility by clicking, in headless Chromium: a new
institution's application from the bureau's window to its licence and registry entry, the
expert panel drawn at random and each expert signing their review in the browser with their
own key file (WebCrypto); an appraiser's application filed by their institution and refused
with its remedies; a course and its attendance; and last year's integrity evaluation run,
self-assessed, reviewed, published for objection, objected to, decided, confirmed and
published."""

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.core.signing import demo_private_key, public_key_b64
from appraisal.domain.calendar import local_today
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU, EXPERTS, INSTITUTIONS, seed_demo_accounts
from tests.web.browsing import screenshot
from tests.web.test_browser_commission import key_file, sign_in, sign_out

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")


def expert_username(expert_id: str) -> str:
    return f"expert-{[e.id for e in EXPERTS].index(expert_id) + 1}"


async def new_page(browser: Browser) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


async def test_an_institution_from_application_to_licence_by_clicking(
    served: str,
    browser: Browser,
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    await seed_demo_accounts(sessions, now=await temporal_env.get_current_time())
    page, problems = await new_page(browser)
    stage = page.locator("#stage")

    await sign_in(page, served, "supervisor")
    await page.click("nav a:has-text('登记申请 Applications')")
    form = page.locator("#new-institution")
    await form.locator("input[name=reference]").fill("渝司登〔2026〕9号")
    await page.fill("#institution-name", "朝天门司法鉴定所")
    await page.fill("#institution-representative", "周正")
    await form.locator("input[name=categories][value=forensic_clinical]").check()
    await form.locator("input[name='appraisers.forensic_clinical']").fill("3")
    await form.locator("input[name=laboratory_accredited]").check()
    await page.fill("#institution-equipment", "法医临床检查设备一套")
    await form.locator("button").click()
    await expect(stage).to_have_text("待受理 Awaiting acceptance")
    await expect(page.locator("#clocks")).to_contain_text("ADM-1")
    await expect(page.locator("#gaps")).to_contain_text("符合")
    admission_id = page.url.rsplit("/", 1)[1]
    await page.click("#step-accept button")
    await expect(stage).to_have_text("审核中 Deciding")
    # Approving before the expert review is refused inline; nothing changes.
    await page.click("#step-approve button")
    await expect(page.locator("#step-error")).to_contain_text("ADM-5")
    await expect(stage).to_have_text("审核中 Deciding")
    await page.fill("#draw_panel-size", "3")
    await page.fill("#draw_panel-review_days", "10")
    await page.click("#step-draw_panel button")
    await expect(stage).to_have_text("专家评审中 Expert review")
    await expect(page.locator("#panel tbody tr")).to_have_count(3)
    await screenshot(page, "supervisor-admission")
    await sign_out(page)

    panel = (await api.get(f"/v1/admissions/{admission_id}", headers=auth(supervisor))).json()["panel"]
    for n, member in enumerate(panel):
        await sign_in(page, served, expert_username(member["expert_id"]))
        await page.click(f"#inbox a[href='/ui/admissions/{admission_id}']")
        await page.fill("#review-score", str(85 + n))
        await page.select_option("#review-recommendation", "approve")
        await page.fill(
            "#review-opinion",
            "人员、设备与实验室符合条件。\nStaff, equipment and laboratory meet the conditions.",
        )
        await page.set_input_files("#review-key", key_file(tmp_path, member["expert_id"]))
        if n == 0:
            await screenshot(page, "expert-review")
        await page.click("#review-form button")
        await expect(page.locator("#reviews tbody tr")).to_have_count(n + 1)
        await sign_out(page)

    await sign_in(page, served, "supervisor")
    await page.goto(f"{served}/ui/admissions/{admission_id}")
    await expect(stage).to_have_text("审核中 Deciding")
    await page.click("#step-approve button")
    await expect(stage).to_have_text("准予登记 Approved")
    await expect(page.locator("#licence-number")).to_contain_text("SJXK")
    kinds = [
        e["kind"]
        for e in (await api.get(f"/v1/admissions/{admission_id}/audit", headers=auth(supervisor))).json()
    ]
    assert kinds.count("admission.review_submitted") == 3 and kinds[-1] == "admission.approved"
    await page.goto(f"{served}/ui/registry")
    await expect(page.locator("#institutions")).to_contain_text("朝天门司法鉴定所")
    await sign_out(page)

    # An institution files an appraiser who does not qualify: the bureau refuses, with remedies.
    await sign_in(page, served, "institution-1")
    await page.click("nav a:has-text('登记申请 Applications')")
    form = page.locator("#new-appraiser")
    await form.locator("input[name=reference]").fill("西南-2026-3")
    await page.fill("#appraiser-name", "郑新 Zheng Xin")
    await page.fill("#appraiser-identity", "500103199202021234")
    await form.locator("input[name=categories][value=forensic_clinical]").check()
    await page.select_option("#appraiser-qualification", "experience")
    await page.fill("#appraiser-years", "6")
    await page.fill("#appraiser-key", public_key_b64(demo_private_key("zheng-xin")))
    await form.locator("button").click()
    await expect(page.locator("#gaps")).to_contain_text("10 needed")
    appraiser_application = page.url.rsplit("/", 1)[1]
    await sign_out(page)
    await sign_in(page, served, "supervisor")
    await page.goto(f"{served}/ui/admissions/{appraiser_application}")
    await page.fill("#request_correction-description", "缺十年工作经历证明")
    await page.click("#step-request_correction button")
    await expect(stage).to_have_text("待补正 Awaiting correction")
    await page.fill("#decline-reason", "逾期未补正")
    await page.select_option("#decline-ground", "ADM-2-3")
    await page.click("#step-decline button")
    await expect(stage).to_have_text("不予受理 Not accepted")
    assert problems == [], problems


async def test_training_and_an_annual_evaluation_by_clicking(
    served: str,
    browser: Browser,
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
) -> None:
    now = await temporal_env.get_current_time()
    today = local_today(now)
    await seed_demo_accounts(sessions, now=now)
    page, problems = await new_page(browser)
    stage = page.locator("#stage")

    await sign_in(page, served, "supervisor")
    await page.click("nav a:has-text('培训 Training')")
    await page.select_option("#course-kind", "in_service")
    await page.fill("#course-title", "法医临床鉴定新标准")
    await page.fill("#course-organiser", "重庆市司法鉴定协会")
    await page.fill("#course-starts", today.isoformat())
    await page.fill("#course-ends", today.isoformat())
    await page.fill("#course-hours", "16")
    await page.click("#new-course button")
    await expect(page.locator("#courses")).to_contain_text("法医临床鉴定新标准")
    attendance = page.locator("#courses form").first
    await attendance.locator("input[name=appraiser_ids]").first.check()
    await attendance.locator("button").click()
    await expect(page.locator("#courses tbody tr").first).to_contain_text("1")
    await expect(page.locator("#hours")).to_contain_text("16")
    await screenshot(page, "supervisor-training")

    await page.click("nav a:has-text('诚信评价 Integrity')")
    await page.fill("#evaluation-year", str(today.year - 1))
    await page.click("#start button")
    await expect(stage).to_have_text("机构自评 Self-assessment")
    evaluation_id = page.url.rsplit("/", 1)[1]
    await sign_out(page)

    for n in range(1, len(INSTITUTIONS) + 1):
        await sign_in(page, served, f"institution-{n}")
        await page.click(f"#inbox a[href='/ui/evaluations/{evaluation_id}']")
        await page.fill("#self-score", "92")
        await page.fill("#self-summary", "全年依法执业，按时出具意见。")
        await page.click("#step-self-assessment button")
        await expect(page.locator("#self-assessments")).to_contain_text("全年依法执业")
        await sign_out(page)

    await sign_in(page, served, "supervisor")
    await page.goto(f"{served}/ui/evaluations/{evaluation_id}")
    await expect(stage).to_have_text("审核拟定等级 Reviewing")
    await expect(page.locator("#grades tbody tr")).to_have_count(len(INSTITUTIONS) + 11)
    await page.select_option("#adjust-subject", f"institution:{INSTITUTIONS[0].id}")
    await page.select_option("#adjust-grade", "B")
    await page.fill("#adjust-reason", "抽查发现档案管理不规范")
    await page.click("#step-adjust_grade button")
    await page.click("#step-publish_proposed button")
    await expect(stage).to_have_text("公示异议期 Open to objection")
    await screenshot(page, "supervisor-evaluation")
    await sign_out(page)

    await sign_in(page, served, "institution-1")
    await page.goto(f"{served}/ui/evaluations/{evaluation_id}")
    await page.select_option("#objection-subject", f"institution:{INSTITUTIONS[0].id}")
    await page.fill("#objection-reason", "档案已于年底前补齐。")
    await page.click("#step-objections button")
    await expect(page.locator("#objections")).to_contain_text("档案已于年底前补齐")
    await sign_out(page)

    period = next(
        c
        for c in (await api.get(f"/v1/evaluations/{evaluation_id}", headers=auth(supervisor))).json()[
            "clocks"
        ]
        if c["rule"] == "EVL-4"
    )
    await temporal_env.sleep(
        datetime.fromisoformat(period["due_at"])
        - await temporal_env.get_current_time()
        + timedelta(seconds=5)
    )
    await sign_in(page, served, "supervisor")
    await page.goto(f"{served}/ui/evaluations/{evaluation_id}")
    await expect(stage).to_have_text("处理异议 Deciding objections")
    await page.select_option("#upheld-1", "true")
    await page.select_option("#grade-1", "A")
    await page.fill("#reason-1", "补齐属实")
    await page.click("#step-decide_objection-1 button")
    await expect(stage).to_have_text("待确认公布 Awaiting confirmation")
    await page.click("#step-confirm button")
    await expect(stage).to_have_text("已公布 Published")
    await expect(page.locator("#grades")).to_contain_text("已公布 Published")
    # The published grades show where institutions and appraisers are listed and chosen.
    await page.goto(f"{served}/ui/registry")
    await expect(page.locator("#institutions")).to_contain_text(f"A（{today.year - 1}）")
    await sign_out(page)
    await sign_in(page, served, "court-1")
    await page.click("nav a:has-text('委托鉴定 Entrust')")
    await expect(page.locator("#institution_id")).to_contain_text(f"诚信 A（{today.year - 1}）")
    assert problems == [], problems
