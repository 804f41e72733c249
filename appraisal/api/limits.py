"""A ceiling on request bodies (`MAX_BODY_BYTES`): 413 `payload_too_large`; and JSON
bodies in UTF-8 only (RFC 8259 §8.1), where the JSON parser would guess UTF-16 or -32.

Pure ASGI middleware: a request whose `Content-Length` is over the limit is
refused before the application sees it; one whose streamed (e.g. chunked)
body grows past the limit is cut off at that chunk, whatever the
application was about to answer to the aborted read is discarded, and the
413 goes out instead. Nothing behind the middleware has acted on the body by
then: a route runs only once its body has been read in full.
"""

import contextlib
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from appraisal.api.errors import body

_DIGITS = re.compile(r"[0-9]+")


class _TooLarge(Exception):
    """Raised from `receive` when the streamed body passes the limit."""


def too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        body(
            "payload_too_large",
            f"the request body is larger than {limit} bytes",
            {"limit_bytes": limit},
        ),
        status_code=413,
    )


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and _DIGITS.fullmatch(declared.strip()) and int(declared) > self.max_bytes:
            await too_large(self.max_bytes)(scope, receive, send)
            return

        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the application's answer to the aborted read; the 413 replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if exceeded and not started:
            await too_large(self.max_bytes)(scope, receive, send)


def install(app: FastAPI, max_bytes: int) -> None:
    app.add_middleware(BodySizeLimit, max_bytes=max_bytes)


class Utf8BodyRoute(APIRoute):
    """Refuses a body that is not UTF-8 with the 422 of any malformed body, naming `body`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            raw = await request.body()  # kept by the request: the handler reads it again for free
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as err:
                message = f"the body is not UTF-8 (RFC 8259 section 8.1): byte {err.start} is not"
                raise RequestValidationError(
                    [{"type": "json_invalid", "loc": ("body", err.start), "msg": message, "input": None}]
                ) from err
            return await handle(request)

        return route
