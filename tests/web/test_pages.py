"""The dashboard's pages through httpx → the FastAPI app → time-skipping Temporal →
the production worker → PostgreSQL: HTML content, sign-in and its cookie,
redirects, and the same scope answers as the API (403 wrong role, 404 out of scope)."""

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.api.auth import issue_token, read_token
from appraisal.core.settings import Settings
from appraisal.db.models import AuditEventRow, RevokedToken
from appraisal.domain.roles import Actor, Role
from appraisal.seed import APPRAISERS, INSTITUTIONS, OTHER_BUREAU
from appraisal.web import routes as web_routes
from appraisal.web.labels import label
from appraisal.web.session import COOKIE
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.factories import CLINICAL_APPRAISERS, INSTITUTION, court_actor, institution_actor
from tests.web.scenario import drive, other_court, supervisor

Auth = Callable[[Actor], dict[str, str]]
HTML = {"Accept": "text/html,application/xhtml+xml"}
other_supervisor = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspector")


async def post_form(
    api: httpx.AsyncClient, path: str, data: Mapping[str, str | list[str]], headers: dict[str, str] = HTML
) -> httpx.Response:
    """A form as the browser posts it: with the CSRF token its page carried."""
    login = await api.get("/ui/login", headers=HTML)
    found = re.search(r'name="csrftoken" value="([^"]+)"', login.text)
    assert found, "the sign-in page carries a CSRF token"
    return await api.post(path, data={**data, "csrftoken": found.group(1)}, headers=headers)


async def sign_in(api: httpx.AsyncClient, settings: Settings, actor: Actor) -> httpx.Response:
    api.cookies.clear()
    response = await post_form(
        api, "/ui/login", {"token": issue_token(settings, actor), "next": "/ui/overview"}
    )
    assert response.status_code == 303, response.text
    return response


async def page(api: httpx.AsyncClient, path: str, status: int = 200) -> str:
    response = await api.get(path, headers=HTML)
    assert response.status_code == status, f"{path}: {response.status_code} {response.text[:500]}"
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def number(html: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}">(\d+)<', html)
    assert found, f"no #{element_id}"
    return int(found.group(1))


def rows(html: str, table_id: str) -> list[str]:
    table = re.search(rf'<table id="{table_id}"[^>]*>(.*?)</table>', html, re.S)
    assert table, f"no table #{table_id}"
    return re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1).split("<tbody>", 1)[1], re.S)


async def test_every_page_renders_with_an_empty_database(
    api: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    login = await page(api, "/ui/login")
    assert 'name="token"' in login and "登录 Sign in" in login
    await sign_in(api, settings, supervisor)
    overview = await page(api, "/ui/overview")
    assert number(overview, "count-total") == 0 and number(overview, "count-overdue") == 0
    assert "没有逾期的委托 Nothing overdue" in overview and "近期没有到期的委托 Nothing due soon" in overview
    assert all(i.name.split(" ")[0] in overview for i in INSTITUTIONS), "every institution, at zero"
    assert "重庆市司法局" in overview, "the signed-in bureau's name"
    counts = await page(api, "/ui/overview/counts")
    assert counts.startswith('<section id="counts"') and "<html" not in counts
    assert "没有待办 Nothing waiting on you" in await page(api, "/ui/inbox")
    trace = await page(api, f"/ui/appraisers/{APPRAISERS[0].id}")
    assert APPRAISERS[0].name in trace and "没有记录" in trace
    await sign_in(api, settings, court_actor)
    assert number(await page(api, "/ui/overview"), "count-total") == 0
    assert "没有待办" in await page(api, "/ui/inbox")


async def test_browsers_without_a_valid_cookie_go_to_the_login_page(
    api: httpx.AsyncClient, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await api.get("/ui/overview?due_within=10", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=%2Fui%2Foverview%3Fdue_within%3D10"
    htmx = await api.get(
        "/ui/overview/counts",
        headers={"HX-Request": "true", "HX-Current-URL": "http://api/ui/overview"},
    )
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"] == "/ui/login?next=%2Fui%2Foverview"
    script = await api.get("/ui/inbox")
    assert script.status_code == 401 and "请登录 Sign in needed" in script.text
    api.cookies.set(COOKIE, "not-a-token")
    stale = await api.get("/ui/overview", headers=HTML)
    assert stale.status_code == 303 and f'{COOKIE}=""' in stale.headers["set-cookie"]

    token = issue_token(settings, supervisor)
    async with sessions() as session, session.begin():
        session.add(RevokedToken(jti=read_token(settings, token).token_id, revoked_at=datetime.now(UTC)))
    revoked = await post_form(api, "/ui/login", {"token": token})
    assert revoked.status_code == 200 and "this token has been revoked" in revoked.text
    assert COOKIE not in revoked.cookies


async def test_sign_in_keeps_the_token_in_an_httponly_strict_cookie_for_the_dashboard_only(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    token = issue_token(settings, supervisor)
    response = await post_form(api, "/ui/login", {"token": f"Bearer {token}\n", "next": "/ui/inbox"})
    assert response.status_code == 303 and response.headers["location"] == "/ui/inbox"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={token};")
    assert all(part in cookie for part in ("HttpOnly", "Path=/ui", "SameSite=strict"))
    assert "Max-Age" not in cookie and "expires" not in cookie.lower(), "ends with the browser session"
    assert "司法行政机关 Supervisor" in await page(api, "/ui/inbox")
    # The API itself never takes the cookie as a token.
    assert (await api.get("/v1/tasks", headers={"Cookie": f"{COOKIE}={token}"})).status_code == 401

    elsewhere = await post_form(api, "/ui/login", {"token": token, "next": "https://evil.example/ui/x"})
    assert elsewhere.headers["location"] == "/ui/overview"
    assert (await post_form(api, "/ui/login", {"token": token, "next": "//evil.example/ui/x"})).headers[
        "location"
    ] == "/ui/overview"
    cross_site = await post_form(
        api, "/ui/login", {"token": token}, headers={**HTML, "Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 200 and "跨站登录被拒绝" in cross_site.text

    api.cookies.clear()
    for form, message in (
        ({}, "请粘贴令牌 Paste a token"),
        ({"token": "garbage"}, "令牌无效 Invalid token"),
    ):
        refused = await post_form(api, "/ui/login", form)
        assert refused.status_code == 200 and message in refused.text, refused.text
        assert COOKIE not in refused.cookies
    desk = await post_form(api, "/ui/login", {"token": issue_token(settings, institution_actor)})
    assert desk.headers["location"] == "/ui/inbox", "every role has the workspace; a desk starts on its inbox"

    await sign_in(api, settings, court_actor)
    signed_out = await post_form(api, "/ui/logout", {})
    assert signed_out.status_code == 200 and "已退出 Signed out" in signed_out.text
    assert f'{COOKIE}=""' in signed_out.headers["set-cookie"]
    assert (await api.get("/ui/overview", headers=HTML)).status_code == 303


@pytest.mark.dated
async def test_overview_counts_and_lists_follow_the_callers_scope(
    api: httpx.AsyncClient, auth: Auth, settings: Settings, temporal_env: WorkflowEnvironment
) -> None:
    scenario = await drive(api, auth, temporal_env)
    counts = (await api.get("/v1/supervision/overview", headers=auth(supervisor))).json()["counts"]
    await sign_in(api, settings, supervisor)
    html = await page(api, "/ui/overview")
    assert number(html, "count-total") == counts["total"] == 5
    assert number(html, "count-overdue") == counts["overdue"] == 2
    assert number(html, "count-escalations") == counts["escalations_open"] == 2
    assert number(html, "count-due-soon") == counts["due_soon"]
    overdue = rows(html, "overdue-list")
    assert len(overdue) == 2
    assert f'href="/ui/commissions/{scenario.late_intake["id"]}"' in "".join(overdue)
    assert f'href="/ui/commissions/{scenario.paused_late["id"]}"' in "".join(overdue)
    stage_chart = re.search(r'<figure class="chart" id="chart-stage">(.*?)</figure>', html, re.S)
    assert stage_chart and 'data-label="待受理 Awaiting acceptance" data-total="3"' in stage_chart.group(1)
    assert 'data-label="鉴定中 Examining" data-total="1"' in stage_chart.group(1)
    assert re.search(r'<g class="bar" data-label="西南司法鉴定中心" data-total="5">', html)
    wider = await page(api, "/ui/overview?due_within=7")
    assert number(wider, "count-due-soon") >= 1 and 'hx-get="/ui/overview/counts?due_within=7"' in wider
    assert "参数无效 Invalid input" in await page(api, "/ui/overview?due_within=0", status=422)

    await sign_in(api, settings, court_actor)
    theirs = await page(api, "/ui/overview")
    assert number(theirs, "count-total") == 4, "the court's own four, not the other court's"
    await sign_in(api, settings, other_court)
    assert number(await page(api, "/ui/overview"), "count-total") == 1


@pytest.mark.dated
async def test_commission_page_shows_parties_clocks_tasks_and_the_verified_trail(
    api: httpx.AsyncClient,
    auth: Auth,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
) -> None:
    scenario = await drive(api, auth, temporal_env)
    cid = scenario.paused_late["id"]
    trail = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
    await sign_in(api, settings, court_actor)
    html = await page(api, f"/ui/commissions/{cid}")
    assert "(2026)渝0103民初102号-鉴1" in html and "鉴定中 Examining" in html
    assert INSTITUTION.name in html and "重庆市渝中区人民法院" in html
    assert all(a.name in html for a in APPRAISERS if a.id in APPRAISER_IDS)
    assert "/ui/appraisers/" not in html, "only a supervisor gets the trace links"
    timeline = re.search(r'<svg class="timeline".*?</svg>', html, re.S)
    assert timeline and 'class="clock overdue"' in timeline.group(0)
    assert timeline.group(0).count('class="pause"') == 1 and "今天 today" in timeline.group(0)
    assert "逾期督办 Overdue escalation" in "".join(rows(html, "open-tasks"))
    audit_rows = rows(html, "audit-trail")
    assert len(audit_rows) == len(trail) >= 5
    assert all(event["hash"][:12] in row for event, row in zip(trail, audit_rows, strict=True))
    assert "✓ 哈希链校验通过" in html

    async with engine.begin() as conn:
        await conn.execute(
            update(AuditEventRow)
            .where(col(AuditEventRow.commission_id) == cid, col(AuditEventRow.seq) == 3)
            .values(actor_subject="someone else")
        )
    assert "✗ 哈希链在第 3 条断开" in await page(api, f"/ui/commissions/{cid}")

    await sign_in(api, settings, supervisor)
    assert f'href="/ui/appraisers/{APPRAISER_IDS[0]}"' in await page(api, f"/ui/commissions/{cid}")


@pytest.mark.dated
async def test_commission_and_trace_pages_keep_the_apis_scope(
    api: httpx.AsyncClient, auth: Auth, settings: Settings, temporal_env: WorkflowEnvironment
) -> None:
    scenario = await drive(api, auth, temporal_env)
    mine, theirs = scenario.fresh["id"], scenario.other_courts["id"]
    await sign_in(api, settings, court_actor)
    not_found = await page(api, f"/ui/commissions/{theirs}", status=404)
    assert "未找到 Not found" in not_found and "(2026)渝0105民初201号" not in not_found
    assert "无权访问 Forbidden" in await page(api, f"/ui/appraisers/{APPRAISER_IDS[0]}", status=403)
    await sign_in(api, settings, other_court)
    await page(api, f"/ui/commissions/{theirs}")
    await page(api, f"/ui/commissions/{mine}", status=404)
    await sign_in(api, settings, other_supervisor)
    await page(api, f"/ui/commissions/{mine}", status=404)
    await page(api, f"/ui/appraisers/{APPRAISER_IDS[0]}", status=404)
    api.cookies.clear()
    desk = {**HTML, **auth(institution_actor)}
    assert (await api.get(f"/ui/commissions/{mine}", headers=desk)).status_code == 200  # its own
    forbidden = await api.get(f"/ui/appraisers/{APPRAISER_IDS[0]}", headers=desk)
    assert forbidden.status_code == 403 and "无权访问" in forbidden.text  # the supervisor's trace


@pytest.mark.dated
async def test_appraiser_trace_and_inbox_pages(
    api: httpx.AsyncClient, auth: Auth, settings: Settings, temporal_env: WorkflowEnvironment
) -> None:
    scenario = await drive(api, auth, temporal_env)
    trace = (
        await api.get(f"/v1/supervision/appraisers/{APPRAISER_IDS[0]}/trace", headers=auth(supervisor))
    ).json()
    await sign_in(api, settings, supervisor)
    html = await page(api, f"/ui/appraisers/{APPRAISER_IDS[0]}")
    items = rows(html, "trace")
    assert len(items) == len(trace["items"]) >= 4
    for row, item in zip(items, trace["items"], strict=True):  # each kind in words, not its code
        assert f"<td>{label(item['kind'], 'event')}</td>" in row and f"<td>{item['kind']}</td>" not in row
    assert {"commission.accepted", "clock.paused", "clock.resumed"} <= {
        item["kind"] for item in trace["items"]
    }
    assert all('class="verified"' in row for row in items)

    inbox = rows(await page(api, "/ui/inbox"), "inbox")
    assert len(inbox) == 2 and all("逾期督办 Overdue escalation" in row for row in inbox)
    assert any(scenario.late_intake["court_reference"] in row for row in inbox)
    await sign_in(api, settings, court_actor)
    court_inbox = "".join(rows(await page(api, "/ui/inbox"), "inbox"))
    assert "逾期处置 Overdue remedy" in court_inbox
    assert scenario.other_courts["court_reference"] not in court_inbox


async def test_pages_carry_strict_headers_and_the_assets_are_served_locally(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    response = await api.get("/ui/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-store"
    assert re.findall(r'(?:src|href)="([^"]+)"', response.text) == [
        "data:,",  # no favicon request
        "/ui/static/app.css",
        "/ui/static/htmx.min.js",
        "/ui/static/steps.js",
        # Signed out, the header offers the public pages (公开) and the sign-in.
        "/ui/public",
        "/ui/public/registry",
        "/ui/public/inspections",
        "/ui/public/penalties",
        "/ui/public/grades",
        "/ui/login",
    ], "no CDN, no web font"
    htmx = await api.get("/ui/static/htmx.min.js")
    assert htmx.status_code == 200 and htmx.text.startswith("var htmx=function()")
    assert (await api.get("/ui/static/app.css")).status_code == 200
    assert "crypto.subtle.sign" in (await api.get("/ui/static/steps.js")).text
    assert all(not path.startswith("/ui") for path in (await api.get("/openapi.json")).json()["paths"])


async def test_the_commission_list_searches_filters_and_pages_through_everything(
    api: httpx.AsyncClient, auth: Auth, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_routes, "LIST_PAGE", 2)
    ids = [(await entrust(api, auth, court_reference=f"(2026)渝0103民初55{n}号-鉴1"))["id"] for n in range(5)]
    accepted = {"decision": "accept", "appraiser_ids": APPRAISER_IDS}
    response = await api.post(
        f"/v1/commissions/{ids[0]}/acceptance", json=accepted, headers=auth(institution_actor)
    )
    assert response.status_code == 200, response.text
    caught_up = await api.get(
        f"/v1/commissions/{ids[0]}", headers={**auth(court_actor), "X-Min-Seq": response.headers["X-Seq"]}
    )
    assert caught_up.status_code == 200, "the read model holds the acceptance before the lists are read"
    await sign_in(api, settings, court_actor)

    seen: list[str] = []
    path: str | None = "/ui/commissions"
    while path:  # every page, by the next-page link alone
        html = await page(api, path)
        seen += re.findall(r'<td><a href="/ui/commissions/([0-9a-f-]{36})">', html)
        found = re.search(r'<a href="([^"]+)" id="next-page">', html)
        path = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(ids), "every commission once, across pages of two"

    searched = await page(api, "/ui/commissions?q=" + quote("民初552号"))
    assert re.findall(r'<td><a href="/ui/commissions/([0-9a-f-]{36})">', searched) == [ids[2]]
    by_appraiser = await page(api, "/ui/commissions?q=" + quote(CLINICAL_APPRAISERS[0].name.split(" ")[0]))
    assert re.findall(r'<td><a href="/ui/commissions/([0-9a-f-]{36})">', by_appraiser) == [ids[0]]
    examining = await page(api, "/ui/commissions?stage=examining")
    assert re.findall(r'<td><a href="/ui/commissions/([0-9a-f-]{36})">', examining) == [ids[0]]
    assert "没有符合条件的委托" in await page(api, "/ui/commissions?q=" + quote("%_不存在"))
    assert "没有符合条件的委托" in await page(api, "/ui/commissions?escalated=true")
    by_api = await api.get(
        "/v1/commissions", params={"q": "民初552号", "escalated": "false"}, headers=auth(court_actor)
    )
    assert [c["id"] for c in by_api.json()["items"]] == [ids[2]], "the API searches the same way"


async def test_unknown_pages_and_errors_answer_a_browser_with_a_page(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    await sign_in(api, settings, court_actor)
    unknown = await api.get("/ui/no-such-page", headers=HTML)
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    assert 'href="/ui/inbox"' in unknown.text and "404" in unknown.text
    wrong_method = await post_form(api, "/ui/inbox", {})
    assert wrong_method.status_code == 405 and "不支持的操作" in wrong_method.text
    api_unknown = await api.get("/v1/no-such-thing")
    assert api_unknown.status_code == 404 and api_unknown.json()["error"]["code"] == "not_found"
