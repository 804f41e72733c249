"""Signing in to the workspace. A person signs in with an account (services/accounts): the
browser keeps a random session token in an HttpOnly, SameSite=Lax cookie limited to /ui,
and every page checks that session (not ended, not expired, account not disabled,
organisation in good standing) and then the policy table (policy.authorize). A bearer
token pasted instead (a script's, a machine's) is kept the same way and checked as the API
checks it (deps.get_principal). The API's own routes never read either cookie. Every form
posted to /ui carries the CSRF token (asgi-csrf, app.py)."""

import json
from collections.abc import Callable, Coroutine, Sequence
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from starlette.responses import JSONResponse, RedirectResponse, Response
from temporalio.client import WorkflowUpdateFailedError

from appraisal.api.deps import NowDep, SessionDep, SettingsDep, TodayDep, bearer, get_principal
from appraisal.api.errors import ApiError, from_update_failure
from appraisal.api.policy import authorize
from appraisal.domain.accounts import SESSION_LASTS
from appraisal.domain.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from appraisal.domain.roles import ENTRUSTING_ROLES, Actor, Role
from appraisal.services import accounts
from appraisal.web.labels import label
from appraisal.web.pages import render

PREFIX = "/ui"
LOGIN_PATH = f"{PREFIX}/login"
HOME_PATH = f"{PREFIX}/overview"
INBOX_PATH = f"{PREFIX}/inbox"
STATIC_PREFIX = f"{PREFIX}/static/"
COOKIE = "appraisal_token"
SESSION_COOKIE = "appraisal_session"

ERROR_TITLES = {
    401: "请登录 Sign in needed",
    403: "无权访问 Forbidden",
    404: "未找到 Not found",
    405: "不支持的操作 Not allowed here",
    409: "不能办理 Not allowed now",
    422: "参数无效 Invalid input",
    503: "暂时不可用 Temporarily unavailable",
}


async def cookie_principal(
    request: Request, settings: SettingsDep, session: SessionDep, now: NowDep, today: TodayDep
) -> Actor:
    """The account's session, else the cookie's token, else an Authorization header
    (scripts), the token checked like the API's."""
    if signed_in := request.cookies.get(SESSION_COOKIE):
        try:
            return await accounts.session_actor(session=session, token=signed_in, now=now, today=today)
        except accounts.NotSignedIn as err:
            raise ApiError(401, "unauthorized", err.message) from err
    token = request.cookies.get(COOKIE)
    credentials = (
        HTTPAuthorizationCredentials(scheme="Bearer", credentials=token) if token else await bearer(request)
    )
    return await get_principal(settings, credentials, session, today)


async def authorize_page(request: Request, principal: Annotated[Actor, Depends(cookie_principal)]) -> Actor:
    return await authorize(request, principal)


PagePrincipalDep = Annotated[Actor, Depends(authorize_page)]


def safe_next(value: str) -> str:
    """Where to go after signing in: a dashboard path on this site, never elsewhere."""
    parts = urlsplit(value)
    on_this_site = not (parts.scheme or parts.netloc or value.startswith("//") or "\\" in value)
    wanted = parts.path.startswith(f"{PREFIX}/") and parts.path != LOGIN_PATH
    return value if on_this_site and wanted else HOME_PATH


def same_origin(request: Request) -> bool:
    """A browser names the page a form was posted from; it must be this site."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


def remember(request: Request, response: Response, token: str) -> None:
    # No max-age: the cookie ends with the browser session; the token's own expiry still applies.
    response.set_cookie(
        COOKIE,
        token,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def remember_session(request: Request, response: Response, signed_in: accounts.SignedIn) -> None:
    # Lax, not Strict: a link to a commission from a court's own system opens signed in.
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        path=PREFIX,
        max_age=int(SESSION_LASTS.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="lax")


PARTY_HOME = f"{PREFIX}/party"


def home_of(principal: Actor) -> str:
    """Where a role starts: courts and supervisors on the overview, a party on its own
    commission, everyone else on what waits on them."""
    if principal.role == Role.PARTY:
        return PARTY_HOME
    return HOME_PATH if principal.role in (*ENTRUSTING_ROLES, Role.SUPERVISOR) else INBOX_PATH


async def sign_in_account(
    request: Request, session: SessionDep, now: datetime, today: date, *, form: dict[str, str]
) -> Response:
    """The right password of an active account: a session cookie and the browser to `next`
    (or the role's home); anything else shows the form again with the reason."""
    next_path = form.get("next", "")
    try:
        signed_in = await accounts.sign_in(
            session=session,
            username=form.get("username", ""),
            password=form.get("password", ""),
            now=now,
            today=today,
            code=form.get("code", ""),
        )
    except accounts.NotSignedIn as err:
        return login_page(request, next_path=next_path, error=err.message, username=form.get("username", ""))
    wanted = safe_next(next_path) if next_path else home_of(signed_in.actor)
    response = RedirectResponse(wanted, status_code=303)
    remember_session(request, response, signed_in)
    return response


async def read_form_lists(request: Request) -> dict[str, list[str]]:
    """An urlencoded form body, every value of each field (checkboxes repeat a name);
    nothing else is posted here."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    return parse_qs((await request.body()).decode("utf-8", errors="replace"))


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body's first value of each field."""
    return {name: values[0] for name, values in (await read_form_lists(request)).items()}


REFUSALS = (ValidationError, RuleViolation, InvalidInput, WorkflowUpdateFailedError)
"""What a form's step can be refused with: its page comes back with the rule, nothing changed."""


def refusal_status(err: Exception) -> int:
    """422 for what was typed, 409 for what the rules refuse now."""
    return 422 if isinstance(err, ValidationError | InvalidInput) else 409


def refusal_of(err: Exception) -> str:
    """A refused step, for the form: which field and which rule, in Chinese first (from the
    catalogue), the rule's own words after it; nothing was changed."""
    if isinstance(err, ValidationError):
        return "；".join(
            f"{field_label(e['loc'])}: {label(e['type'], 'validation')}（{e['msg']}）" for e in err.errors()
        )
    if isinstance(err, RuleViolation):
        return _refused(err.code, err.rule, err.message)
    if isinstance(err, InvalidInput):
        return f"{field_label(err.field.split('.'))}: {err.message}"
    if isinstance(err, WorkflowUpdateFailedError):  # the workflow's validator refused the step
        refused = from_update_failure(err)
        named = refused.details.get("rule") if isinstance(refused.details, dict) else None
        return _refused(refused.code, named, refused.message)
    return str(err)


def field_label(location: Sequence[object]) -> str:
    """Which field, in words: the innermost named part of its location ("materials.0.sha256":
    the SHA-256), with the row of a list when there is one."""
    names = [str(p) for p in location if not isinstance(p, int) and not str(p).isdigit()]
    rows = [int(str(p)) + 1 for p in location if isinstance(p, int) or str(p).isdigit()]
    if not names:
        return "表单 form"
    row = f"（第 {rows[-1]} 行 row {rows[-1]}）" if rows else ""
    return label(names[-1], "field") + row


def _refused(code: str, rule: str | None, message: str) -> str:
    return f"{label(code, 'error')}{f'（{rule}）' if rule else ''}: {message}"


async def sign_in(
    request: Request, settings: SettingsDep, session: SessionDep, today: date, *, token: str, next_path: str
) -> Response:
    """A valid token goes into the cookie and the browser to `next_path` (or the role's
    home); anything else shows the form again with the reason."""
    token = token.strip().removeprefix("Bearer ").strip()
    error = "请粘贴令牌 Paste a token"
    if token:
        try:
            principal = await get_principal(
                settings, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token), session, today
            )
        except ApiError as err:
            error = f"令牌无效 Invalid token: {err.message}"
        else:
            response = RedirectResponse(
                safe_next(next_path) if next_path else home_of(principal), status_code=303
            )
            remember(request, response, token)
            return response
    return login_page(request, next_path=next_path, error=error)


def login_page(
    request: Request, *, next_path: str, error: str = "", notice: str = "", username: str = ""
) -> Response:
    return render(
        request,
        "login.html",
        {
            "viewer": None,
            "active": "login",
            "next": safe_next(next_path) if next_path else "",
            "error": error,
            "notice": notice,
            "username": username,
        },
    )


def error_page(request: Request, status: int, message: str) -> Response:
    """No valid token: a browser goes to the login page (htmx is told to take it
    there), any other client gets 401. Other errors render with their status."""
    if status == 401:
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        current = request.headers.get("hx-current-url")
        login = f"{LOGIN_PATH}?{urlencode({'next': urlsplit(current).path if current else wanted})}"
        response: Response
        if request.headers.get("hx-request"):
            response = Response(status_code=401, headers={"HX-Redirect": login})
        elif "text/html" in request.headers.get("accept", ""):
            response = RedirectResponse(login, status_code=303)
        else:
            response = _error(request, status, message, login=login)
        if COOKIE in request.cookies:
            forget(response)
        return response
    return _error(request, status, message, login=LOGIN_PATH)


def _error(request: Request, status: int, message: str, *, login: str) -> Response:
    context = {
        "viewer": None,
        "active": "",
        "status": status,
        "title": ERROR_TITLES.get(status, f"错误 Error {status}"),
        "message": message,
        "login": login,
    }
    return render(request, "error.html", context, status_code=status)


def pages_for_browsers(app: FastAPI) -> None:
    """Errors raised outside a page's own handling (an unknown /ui path, a method not allowed,
    Temporal or the database down) answer a browser under /ui with a page, not the API's JSON:
    the same status and message, with the way back."""
    for kind, handler in list(app.exception_handlers.items()):

        def for_browsers(handle: Any) -> Any:
            async def answer(request: Request, err: Exception) -> Response:
                response: Response = await handle(request, err)
                if not request.url.path.startswith(f"{PREFIX}/") or request.url.path.startswith(
                    STATIC_PREFIX
                ):
                    return response
                if not isinstance(response, JSONResponse):
                    return response
                error = json.loads(bytes(response.body)).get("error", {})
                return error_page(request, response.status_code, str(error.get("message", "")))

            return answer

        app.exception_handlers[kind] = for_browsers(handler)


class PageRoute(APIRoute):
    """A dashboard route: the API's errors (no token, wrong role, out of scope,
    bad parameter) answer as pages, with the API's status codes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handle(request)
            except ApiError as err:
                return error_page(request, err.status, err.message)
            except NotFound as err:
                return error_page(request, 404, err.message)
            except Forbidden as err:
                return error_page(request, 403, err.message)
            except InvalidInput as err:
                return error_page(request, 422, f"{err.field}: {err.message}")
            except RequestValidationError as err:
                message = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}" for e in err.errors()
                )
                return error_page(request, 422, message)

        return page
