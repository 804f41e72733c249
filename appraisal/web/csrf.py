"""CSRF protection of every form posted to the workspace, by asgi-csrf (a signed token in a
cookie that each form sends back in a hidden `csrftoken` field, asgi-csrf's own name). The REST API is left to its
bearer tokens, which a browser never sends by itself."""

import hashlib
import hmac
from typing import Any

from asgi_csrf import asgi_csrf
from starlette.types import ASGIApp, Receive, Scope, Send

from appraisal.web.session import PREFIX

ALWAYS_PROTECTED = {f"{PREFIX}/login", f"{PREFIX}/logout"}
"""Checked even from a browser that holds no cookie yet (a forged sign-in is an attack too)."""
REFUSED_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>表单已过期 Form expired</title>'
    "<h1>表单已过期或来自其他网站 The form expired or came from another site</h1>"
    '<p>未做任何更改。请<a href="/ui/login">重新打开页面</a>后再提交。'
    'Nothing was changed. <a href="/ui/login">Open the page again</a> and resend it.</p></html>'
).encode()


def signing_secret(jwt_secret: str) -> str:
    """The CSRF tokens' key, derived from the deployment's secret (one secret to set)."""
    return hmac.new(jwt_secret.encode(), b"workspace csrf", hashlib.sha256).hexdigest()


async def _refused(scope: Scope, send: Send, message_id: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": REFUSED_PAGE})


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, *, secret: str, secure: bool) -> None:
        self.protected = asgi_csrf(
            app,
            signing_secret=secret,
            cookie_path=PREFIX,
            cookie_secure=secure,
            always_protect=ALWAYS_PROTECTED,
            skip_if_scope=lambda scope: not scope["path"].startswith(f"{PREFIX}/"),
            send_csrf_failed=_refused,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.protected(scope, receive, send)
