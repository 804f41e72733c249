"""Workspace accounts through the app: sign-in with a password for every role, the
server-side session and its cookie, lockout after repeated failures, a disabled account
signed out at its next page, CSRF refused, the password rules, every change in the
organisation's hash chain. Against real PostgreSQL (argon2 hashes, the chain's lock)."""

import re
from datetime import datetime, timedelta

import httpx
import pyotp
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.db.models import UserAccount, WebSession
from appraisal.domain.accounts import FAILURES_BEFORE_LOCK, LOCKED_FOR, SESSION_LASTS
from appraisal.domain.audit import chain_hash
from appraisal.domain.errors import InvalidInput, RuleViolation
from appraisal.domain.roles import Role
from appraisal.seed import APPRAISERS, DEMO_PASSWORD, demo_principals, seed_demo_accounts
from appraisal.services import accounts
from appraisal.web.session import SESSION_COOKIE
from tests.factories import COURT, INSTITUTION, OTHER_COURT
from tests.web.test_pages import HTML, post_form

PASSWORD = "correct-horse-42-battery"


async def make(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    username: str,
    role: Role,
    organisation_id: str,
    password: str = PASSWORD,
) -> UserAccount:
    async with sessions() as session:
        return await accounts.create_account(
            session=session,
            by=accounts.OPERATOR,
            username=username,
            password=password,
            display_name=username,
            role=role,
            organisation_id=organisation_id,
            is_admin=False,
            now=now,
            today=now.date(),
        )


async def sign_in(api: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    api.cookies.clear()
    return await post_form(api, "/ui/login", {"username": username, "password": password, "next": ""})


async def test_each_role_signs_in_with_its_password_to_its_own_home(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], temporal_env: WorkflowEnvironment
) -> None:
    now = await temporal_env.get_current_time()
    people = [
        ("clerk-1", Role.COURT, COURT.id, "/ui/overview", "法院 Court"),
        ("desk-1", Role.INSTITUTION, INSTITUTION.id, "/ui/inbox", "鉴定机构 Institution"),
        ("head-1", Role.INSTITUTION_HEAD, INSTITUTION.id, "/ui/inbox", "机构负责人 Institution head"),
        ("appraiser-1", Role.APPRAISER, APPRAISERS[0].id, "/ui/inbox", APPRAISERS[0].name),
    ]
    for username, role, organisation_id, home, shown in people:
        await make(sessions, now, username=username, role=role, organisation_id=organisation_id)
        response = await sign_in(api, username)
        assert response.status_code == 303 and response.headers["location"] == home, response.text
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert all(part in cookie for part in ("HttpOnly", "Path=/ui", "SameSite=lax", "Max-Age=28800"))
        page = await api.get(home, headers=HTML)
        assert page.status_code == 200 and shown in page.text, username
    # The table holds the token's hash only: a copy of the database signs nobody in.
    token = api.cookies[SESSION_COOKIE]
    async with sessions() as session:
        stored = [s.token_hash for s in (await session.exec(select(WebSession))).all()]
    assert len(stored) == len(people) and token not in stored

    signed_out = await post_form(api, "/ui/logout", {})
    assert signed_out.status_code == 200 and "已退出 Signed out" in signed_out.text
    api.cookies.set(SESSION_COOKIE, token, path="/ui")  # the old cookie, replayed
    assert (await api.get("/ui/inbox", headers=HTML)).status_code == 303


async def test_wrong_passwords_lock_the_account_and_the_lock_is_in_the_chain(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], temporal_env: WorkflowEnvironment
) -> None:
    now = await temporal_env.get_current_time()
    await make(sessions, now, username="clerk-2", role=Role.COURT, organisation_id=COURT.id)
    unknown = await sign_in(api, "nobody-here")
    assert "用户名或密码错误" in unknown.text and SESSION_COOKIE not in unknown.cookies
    for _ in range(FAILURES_BEFORE_LOCK):
        wrong = await sign_in(api, "clerk-2", "not-the-password-1")
        assert wrong.status_code == 200 and "用户名或密码错误" in wrong.text
    locked = await sign_in(api, "clerk-2")  # the right password, while locked
    assert locked.status_code == 200 and "账户已锁定" in locked.text and SESSION_COOKIE not in locked.cookies
    async with sessions() as session:
        changes = await accounts.account_changes(session=session, organisation_id=COURT.id)
        assert [c.action for c in changes] == ["created", "locked"]
        previous = ""
        for change in changes:
            assert change.prev_hash == previous
            assert change.hash == chain_hash(previous, accounts.chained_fields(change))
            previous = change.hash
        # Once the lock has run out, the right password signs in again.
        later = await accounts.sign_in(
            session=session,
            username="clerk-2",
            password=PASSWORD,
            now=now + LOCKED_FOR + timedelta(minutes=1),
            today=now.date(),
        )
    assert later.actor.organisation_id == COURT.id


async def test_a_disabled_account_is_signed_out_at_its_next_page_and_a_session_expires(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], temporal_env: WorkflowEnvironment
) -> None:
    now = await temporal_env.get_current_time()
    await make(sessions, now, username="desk-2", role=Role.INSTITUTION, organisation_id=INSTITUTION.id)
    assert (await sign_in(api, "desk-2")).status_code == 303
    token = api.cookies[SESSION_COOKIE]
    assert (await api.get("/ui/inbox", headers=HTML)).status_code == 200
    async with sessions() as session:
        with pytest.raises(accounts.NotSignedIn, match="ended"):
            await accounts.session_actor(
                session=session, token=token, now=now + SESSION_LASTS + timedelta(minutes=1), today=now.date()
            )
        await accounts.disable_account(
            session=session, by=accounts.OPERATOR, username="desk-2", reason="left the institution", now=now
        )
    assert (await api.get("/ui/inbox", headers=HTML)).status_code == 303
    assert "账户已停用" in (await sign_in(api, "desk-2")).text
    async with sessions() as session:
        changes = await accounts.account_changes(session=session, organisation_id=INSTITUTION.id)
    assert [(c.action, c.data.get("reason")) for c in changes][-1] == ("disabled", "left the institution")


async def test_forms_without_their_csrf_token_are_refused_and_change_nothing(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], temporal_env: WorkflowEnvironment
) -> None:
    now = await temporal_env.get_current_time()
    await make(sessions, now, username="clerk-3", role=Role.COURT, organisation_id=COURT.id)
    forged = await api.post("/ui/login", data={"username": "clerk-3", "password": PASSWORD}, headers=HTML)
    assert forged.status_code == 403 and "表单已过期" in forged.text and SESSION_COOKIE not in forged.cookies
    assert (await sign_in(api, "clerk-3")).status_code == 303
    forged_out = await api.post("/ui/logout", headers=HTML)
    assert forged_out.status_code == 403
    assert (await api.get("/ui/inbox", headers=HTML)).status_code == 200, "still signed in"
    # The REST API is not a form: its bearer tokens need no CSRF token.
    assert (await api.post("/v1/commissions", json={}, headers=HTML)).status_code == 401


async def test_accounts_keep_the_rules_and_a_refused_one_is_not_created(
    sessions: async_sessionmaker[AsyncSession], temporal_env: WorkflowEnvironment
) -> None:
    now = await temporal_env.get_current_time()
    refused = [
        ({"password": "short-1"}, "password"),
        ({"password": "only-letters-here"}, "password"),
        ({"password": "clerk-4-and-more-2026"}, "password"),  # holds the user name
        ({"username": "Clerk 4"}, "username"),
        ({"organisation_id": "ghost-court"}, "organisation_id"),
    ]
    for override, field in refused:
        arguments = {"username": "clerk-4", "password": PASSWORD, "organisation_id": COURT.id, **override}
        with pytest.raises(InvalidInput) as error:
            await make(sessions, now, role=Role.COURT, **arguments)
        assert error.value.field == field
    await make(sessions, now, username="clerk-4", role=Role.COURT, organisation_id=COURT.id)
    with pytest.raises(RuleViolation, match="taken"):
        await make(sessions, now, username="clerk-4", role=Role.COURT, organisation_id=COURT.id)
    async with sessions() as session:
        assert [a.username for a in (await session.exec(select(UserAccount))).all()] == ["clerk-4"]


async def test_the_demo_has_one_account_per_principal_and_seeding_again_adds_none(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], temporal_env: WorkflowEnvironment
) -> None:
    now = await temporal_env.get_current_time()
    created = await seed_demo_accounts(sessions, now=now)
    assert len(created) == len(demo_principals()) and "supervisor" in created and "appraiser-1" in created
    assert await seed_demo_accounts(sessions, now=now) == []
    supervisor = await sign_in(api, "supervisor", DEMO_PASSWORD)
    assert supervisor.headers["location"] == "/ui/overview"
    assert re.search(r"司法行政机关 Supervisor", (await api.get("/ui/overview", headers=HTML)).text)


async def test_the_bureau_creates_first_administrators_who_manage_their_own_accounts(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], temporal_env: WorkflowEnvironment
) -> None:
    now = await temporal_env.get_current_time()
    await seed_demo_accounts(sessions, now=now)
    assert (await sign_in(api, "supervisor", DEMO_PASSWORD)).status_code == 303
    first_admin = {
        "username": "jiangbei-admin",
        "display_name": "江北法院管理员",
        "place": f"court|{OTHER_COURT.id}",
        "password": PASSWORD,
        "is_admin": "true",
    }
    weak = await post_form(api, "/ui/accounts", {**first_admin, "password": "short1"})
    assert weak.status_code == 422 and "password" in weak.text and 'value="jiangbei-admin"' in weak.text
    assert (await post_form(api, "/ui/accounts", first_admin)).headers[
        "location"
    ] == "/ui/accounts?created=jiangbei-admin"

    # The court's own administrator creates a clerk, who manages nothing.
    assert (await sign_in(api, "jiangbei-admin")).status_code == 303
    assert ">账户 Accounts</a>" in (await api.get("/ui/inbox", headers=HTML)).text
    clerk = {
        "username": "jiangbei-clerk",
        "display_name": "书记员",
        "place": f"court|{OTHER_COURT.id}",
        "password": PASSWORD,
    }
    assert (await post_form(api, "/ui/accounts", clerk)).status_code == 303
    elsewhere = {**clerk, "username": "yuzhong-clerk", "place": f"court|{COURT.id}"}
    assert (await post_form(api, "/ui/accounts", elsewhere)).status_code == 403, "not its organisation"
    assert (await post_form(api, "/ui/accounts/court-1/disable", {"reason": "x"})).status_code == 403
    assert (await sign_in(api, "jiangbei-clerk")).status_code == 303
    assert ">账户 Accounts</a>" not in (await api.get("/ui/inbox", headers=HTML)).text
    assert (await api.get("/ui/accounts", headers=HTML)).status_code == 403

    assert (await sign_in(api, "jiangbei-admin")).status_code == 303
    disabled = await post_form(api, "/ui/accounts/jiangbei-clerk/disable", {"reason": "调离 transferred"})
    assert disabled.status_code == 303
    assert "账户已停用" in (await sign_in(api, "jiangbei-clerk")).text
    async with sessions() as session:
        changes = await accounts.account_changes(session=session, organisation_id=OTHER_COURT.id)
    assert [(c.action, c.data["username"], c.actor_subject) for c in changes][-3:] == [
        ("created", "jiangbei-admin", "supervisor"),
        ("created", "jiangbei-clerk", "jiangbei-admin"),
        ("disabled", "jiangbei-clerk", "jiangbei-admin"),
    ]


async def test_a_person_changes_their_own_password(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], temporal_env: WorkflowEnvironment
) -> None:
    now = await temporal_env.get_current_time()
    await make(sessions, now, username="desk-9", role=Role.INSTITUTION, organisation_id=INSTITUTION.id)
    assert (await sign_in(api, "desk-9")).status_code == 303
    new = "another-horse-77-staple"
    wrong = await post_form(api, "/ui/password", {"current": "nope", "password": new, "again": new})
    assert wrong.status_code == 422 and "current" in wrong.text
    changed = await post_form(api, "/ui/password", {"current": PASSWORD, "password": new, "again": new})
    assert changed.status_code == 200 and 'id="changed"' in changed.text
    assert (await sign_in(api, "desk-9")).status_code == 200, "the old password no longer signs in"
    assert (await sign_in(api, "desk-9", new)).status_code == 303


async def test_a_second_factor_once_set_up_is_asked_for_at_sign_in(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], temporal_env: WorkflowEnvironment
) -> None:
    now = await temporal_env.get_current_time()
    await make(sessions, now, username="head-9", role=Role.INSTITUTION_HEAD, organisation_id=INSTITUTION.id)
    assert (await sign_in(api, "head-9")).status_code == 303
    page = (await api.get("/ui/password", headers=HTML)).text
    found = re.search(r'name="secret" value="([A-Z2-7]{32})"', page)
    assert found, "the page offers a fresh secret"
    secret = found.group(1)

    def code() -> str:
        return pyotp.TOTP(secret).at(now)

    wrong = await post_form(
        api, "/ui/second-factor", {"secret": secret, "code": "000000" if code() != "000000" else "111111"}
    )
    assert wrong.status_code == 422
    assert (await post_form(api, "/ui/second-factor", {"secret": secret, "code": code()})).status_code == 200
    assert 'id="second-factor-on"' in (await api.get("/ui/password", headers=HTML)).text

    without = await sign_in(api, "head-9")
    assert without.status_code == 200 and "两步验证码错误" in without.text, (
        "the password alone no longer signs in"
    )
    api.cookies.clear()
    signed = await post_form(
        api, "/ui/login", {"username": "head-9", "password": PASSWORD, "code": code(), "next": ""}
    )
    assert signed.status_code == 303
    async with sessions() as session:
        changes = await accounts.account_changes(session=session, organisation_id=INSTITUTION.id)
    assert "second_factor_set" in [c.action for c in changes]
