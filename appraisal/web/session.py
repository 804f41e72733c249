"""Signing in to the dashboard. The bearer token a court or supervisor pastes is
kept in an HttpOnly, SameSite=Strict cookie limited to /ui, and every page checks
it exactly as the API checks a bearer token (deps.get_principal) and then the
policy table (policy.authorize). The API's own routes never read the cookie."""

from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from starlette.responses import RedirectResponse, Response

from appraisal.api.deps import SessionDep, SettingsDep, TodayDep, bearer, get_principal
from appraisal.api.errors import ApiError
from appraisal.api.policy import DASHBOARD, authorize
from appraisal.domain.errors import Forbidden, InvalidInput, NotFound
from appraisal.domain.roles import Actor
from appraisal.web.pages import render

PREFIX = "/ui"
LOGIN_PATH = f"{PREFIX}/login"
HOME_PATH = f"{PREFIX}/overview"
COOKIE = "appraisal_token"

ERROR_TITLES = {
    401: "请登录 Sign in needed",
    403: "无权访问 Forbidden",
    404: "未找到 Not found",
    422: "参数无效 Invalid input",
}


async def cookie_principal(
    request: Request, settings: SettingsDep, session: SessionDep, today: TodayDep
) -> Actor:
    """The cookie's token, else an Authorization header (scripts), checked like the API's."""
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


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body's first value of each field (nothing else is posted here)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    fields = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    return {name: values[0] for name, values in fields.items()}


async def sign_in(
    request: Request, settings: SettingsDep, session: SessionDep, today: date, *, token: str, next_path: str
) -> Response:
    """A valid court or supervisor token goes into the cookie and the browser to
    `next_path`; anything else shows the form again with the reason."""
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
            if principal.role in DASHBOARD:
                response = RedirectResponse(safe_next(next_path), status_code=303)
                remember(request, response, token)
                return response
            error = (
                f"本看板供法院和司法行政机关使用 The dashboard is for courts and supervisors;"
                f" this token's role is {principal.role}: use the REST API"
            )
    return login_page(request, next_path=next_path, error=error)


def login_page(request: Request, *, next_path: str, error: str = "", notice: str = "") -> Response:
    return render(
        request,
        "login.html",
        {"viewer": None, "active": "login", "next": safe_next(next_path), "error": error, "notice": notice},
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
