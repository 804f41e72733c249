"""Account administration in the workspace: the bureau's officials create the first
administrators of the courts and institutions under it; each organisation's administrator
creates and disables its own accounts (an institution's, its appraisers' too). Every change
goes into the organisation's hash-chained account changes, which the page lists."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from appraisal.api.deps import NowDep, SessionDep, TodayDep
from appraisal.domain.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from appraisal.domain.roles import Actor, Role
from appraisal.services import accounts
from appraisal.web.pages import render
from appraisal.web.routes import viewer_of
from appraisal.web.session import PREFIX, PagePrincipalDep, PageRoute, read_form, refusal_of

router = APIRouter(
    prefix=PREFIX, route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


async def _accounts_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    refused: str = "",
    notice: str = "",
    kept: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    manager = await accounts.manager_of(session=session, principal=principal)
    managed = await accounts.managed_accounts(session=session, manager=manager)
    changes = await accounts.account_changes(session=session, organisation_id=principal.organisation_id)
    return render(
        request,
        "accounts.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "accounts",
            "managed": managed,
            "places": await accounts.account_places(session=session, manager=manager),
            "changes": changes[-50:][::-1],
            "refused": refused,
            "notice": notice,
            "kept": kept or {},
        },
        status_code=status_code,
    )


@router.get("/accounts")
async def accounts_page(request: Request, principal: PagePrincipalDep, session: SessionDep) -> Response:
    return await _accounts_page(request, principal=principal, session=session)


@router.post("/accounts")
async def create(
    request: Request, principal: PagePrincipalDep, session: SessionDep, now: NowDep, today: TodayDep
) -> Response:
    """A new account: the user name, a first password (the person then sets their own on the
    password page), the role and organisation among those the manager may create, and
    whether it administers its organisation."""
    form = await read_form(request)
    role, _, organisation_id = form.get("place", "").partition("|")
    try:
        manager = await accounts.manager_of(session=session, principal=principal)
        if role not in set(Role):
            raise InvalidInput("place", "choose where the account works")
        account = await accounts.add_account(
            session=session,
            manager=manager,
            username=form.get("username", ""),
            password=form.get("password", ""),
            display_name=form.get("display_name", ""),
            role=Role(role),
            organisation_id=organisation_id,
            is_admin=form.get("is_admin") == "true",
            now=now,
            today=today,
        )
    except (InvalidInput, RuleViolation) as err:
        await session.rollback()
        kept = {k: v for k, v in form.items() if k not in ("password", "csrftoken")}
        return await _accounts_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            kept=kept,
            status_code=422 if isinstance(err, InvalidInput) else 409,
        )
    return RedirectResponse(f"{PREFIX}/accounts?created={account.username}", status_code=303)


@router.post("/accounts/{username}/disable")
async def disable(
    request: Request, username: str, principal: PagePrincipalDep, session: SessionDep, now: NowDep
) -> Response:
    """The account signs in no more; every browser it is signed in on is signed out."""
    form = await read_form(request)
    try:
        manager = await accounts.manager_of(session=session, principal=principal)
        await accounts.disable_managed(
            session=session,
            manager=manager,
            username=username,
            reason=form.get("reason", "").strip() or "—",
            now=now,
        )
    except (RuleViolation, Forbidden, NotFound) as err:
        await session.rollback()
        if not isinstance(err, RuleViolation):
            raise
        return await _accounts_page(
            request, principal=principal, session=session, refused=refusal_of(err), status_code=409
        )
    return RedirectResponse(f"{PREFIX}/accounts", status_code=303)


async def _security_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    refused: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    """Changing one's password, and setting up or removing the authenticator code."""
    secret = accounts.new_totp_secret()
    return render(
        request,
        "password.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "password",
            "refused": refused,
            "notice": notice,
            "second_factor": await accounts.has_second_factor(session=session, principal=principal),
            "secret": secret,
            "uri": accounts.totp_uri(secret=secret, username=principal.subject),
        },
        status_code=status_code,
    )


@router.get("/password")
async def password_page(request: Request, principal: PagePrincipalDep, session: SessionDep) -> Response:
    return await _security_page(request, principal=principal, session=session)


@router.post("/password")
async def change_password(
    request: Request, principal: PagePrincipalDep, session: SessionDep, now: NowDep
) -> Response:
    form = await read_form(request)
    try:
        if form.get("password", "") != form.get("again", ""):
            raise InvalidInput("again", "两次输入的新密码不一致 the new password differs from its repetition")
        await accounts.change_password(
            session=session,
            principal=principal,
            current=form.get("current", ""),
            new=form.get("password", ""),
            now=now,
        )
    except InvalidInput as err:
        await session.rollback()
        return await _security_page(
            request, principal=principal, session=session, refused=refusal_of(err), status_code=422
        )
    return await _security_page(
        request, principal=principal, session=session, notice="密码已修改 Your password is changed"
    )


@router.post("/second-factor")
async def set_second_factor(
    request: Request, principal: PagePrincipalDep, session: SessionDep, now: NowDep
) -> Response:
    """The authenticator app's secret, confirmed by its current code: from then on signing in
    asks for a code too."""
    form = await read_form(request)
    try:
        if form.get("remove") == "true":
            await accounts.remove_second_factor(
                session=session, principal=principal, code=form.get("code", ""), now=now
            )
            notice = "已取消两步验证 Sign-in asks for the password alone again"
        else:
            await accounts.set_second_factor(
                session=session,
                principal=principal,
                secret=form.get("secret", ""),
                code=form.get("code", ""),
                now=now,
            )
            notice = "已设置两步验证 Sign-in now asks for your authenticator's code"
    except InvalidInput as err:
        await session.rollback()
        return await _security_page(
            request, principal=principal, session=session, refused=refusal_of(err), status_code=422
        )
    return await _security_page(request, principal=principal, session=session, notice=notice)
