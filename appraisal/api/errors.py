"""One error shape for every 4xx/5xx: {"error": {"code", "message", "details"}}."""

from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route
from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from appraisal.domain.errors import Forbidden, InvalidInput, NotFound, RuleViolation, Unavailable


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = (
            status,
            code,
            message,
            details,
        )


def not_found(what: str = "commission") -> ApiError:
    return ApiError(404, "not_found", f"no such {what}")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def unavailable(dependency: str) -> ApiError:
    return ApiError(
        503,
        "unavailable",
        f"{dependency} is unavailable; nothing was changed, retry later",
        {"dependency": dependency},
    )


def temporal_unreachable() -> ApiError:
    """Temporal failed mid-request: a step it had already accepted still completes
    once it is back, so the caller checks the commission (or repeats the step,
    which then answers 409 if it went through)."""
    return ApiError(
        503,
        "unavailable",
        "temporal is unavailable; the step may still complete: check the commission, then retry if it did not",
        {"dependency": "temporal", "outcome": "unknown"},
    )


def body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def documented(texts: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a router: each status with its meaning and an example body."""
    return {
        code: {"description": text, "content": {"application/json": {"example": body("code", text)}}}
        for code, text in texts.items()
    }


ERRORS = documented(
    {
        401: "no token or a bad one",
        403: "not allowed for this role",
        404: "no such commission in the caller's scope",
        409: "the step is not allowed in the commission's current state",
        413: "the request body is larger than MAX_BODY_BYTES",
        422: "invalid input: which field and why",
        503: "Temporal or the database is unavailable; nothing was changed",
    }
)
"""The error responses every route documents."""


STEP_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {
        "description": "the step is taken: durable in the commission's workflow (the read model follows)",
        "headers": {
            "X-Seq": {
                "description": "the commission's event sequence after the step: send it back as X-Min-Seq "
                "to read your writes",
                "schema": {"type": "integer"},
            }
        },
    },
}
"""A step's responses: those of every route, and the sequence its answer carries."""


def repeated(model: type[Any], what: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a create that found its reference already used: the existing one."""
    return {
        200: {"model": model, "description": f"a repeat: the {what} already created under this reference"}
    }


def _respond(err: ApiError) -> JSONResponse:
    headers = {"Retry-After": "5"} if err.status == 503 else None
    return JSONResponse(body(err.code, err.message, err.details), err.status, headers=headers)


def from_update_failure(err: WorkflowUpdateFailedError) -> ApiError:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        details = cause.details[0] if cause.details else None
        return ApiError(409, cause.type or "rejected", cause.message, details)
    return ApiError(409, "rejected", str(cause))


def from_rpc(err: RPCError) -> ApiError:
    if err.status == RPCStatusCode.NOT_FOUND:
        return not_found()
    return temporal_unreachable()


DATABASE_DOWN: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up (57P0x)
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    OSError,
)


def _caused_by(err: BaseException, *kinds: type[BaseException]) -> bool:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, kinds):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path (Starlette's own 405 names only the
    first route matching the path, though a path's GET and POST are often two routes)."""
    methods: set[str] = set()
    pending: list[Any] = list(request.app.router.routes)
    while pending:
        route = pending.pop()
        if (included := getattr(route, "original_router", None)) is not None:
            pending += included.routes  # FastAPI keeps an included router's routes within it
        elif isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, err: ApiError) -> JSONResponse:
        return _respond(err)

    @app.exception_handler(RuleViolation)
    async def rule_violation(_: Request, err: RuleViolation) -> JSONResponse:
        return _respond(ApiError(409, err.code, err.message, err.details() or None))

    @app.exception_handler(NotFound)
    async def nothing_found(_: Request, err: NotFound) -> JSONResponse:
        return _respond(ApiError(404, "not_found", err.message))

    @app.exception_handler(Forbidden)
    async def not_allowed(_: Request, err: Forbidden) -> JSONResponse:
        return _respond(ApiError(403, "forbidden", err.message))

    @app.exception_handler(Unavailable)
    async def behind(_: Request, err: Unavailable) -> JSONResponse:
        return _respond(ApiError(503, "unavailable", err.message, {"dependency": err.dependency}))

    @app.exception_handler(InvalidInput)
    async def invalid_input(_: Request, err: InvalidInput) -> JSONResponse:
        return _respond(
            ApiError(
                422,
                "invalid_input",
                err.message,
                [{"field": err.field, "message": err.message}],
            )
        )

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, err: RequestValidationError) -> JSONResponse:
        fields = [
            {
                # A JSON syntax error's location is a character offset, not a field.
                "field": "body"
                if e["type"] == "json_invalid"
                else ".".join(str(p) for p in e["loc"] if p != "body") or "body",
                "message": e["msg"],
            }
            for e in err.errors()
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return _respond(ApiError(422, "invalid_input", summary, fields))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        if err.status_code == 400:  # a body that cannot even be parsed (e.g. not UTF-8)
            details = [{"field": "body", "message": str(err.detail)}]
            return _respond(ApiError(422, "invalid_input", f"body: {err.detail}", details))
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
        }
        response = _respond(ApiError(err.status_code, code.get(err.status_code, "error"), str(err.detail)))
        if err.headers:
            response.headers.update(err.headers)
        if err.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(WorkflowUpdateFailedError)
    async def update_failed(_: Request, err: WorkflowUpdateFailedError) -> JSONResponse:
        return _respond(from_update_failure(err))

    @app.exception_handler(RPCError)
    async def rpc_error(_: Request, err: RPCError) -> JSONResponse:
        return _respond(from_rpc(err))

    @app.exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError)
    async def update_timeout(_: Request, err: WorkflowUpdateRPCTimeoutOrCancelledError) -> JSONResponse:
        return _respond(temporal_unreachable())

    @app.exception_handler(RuntimeError)
    async def temporal_never_reached(_: Request, err: RuntimeError) -> JSONResponse:
        # A lazy client that has not yet reached Temporal raises this, not an RPCError.
        if str(err).startswith("Failed client connect"):
            return _respond(unavailable("temporal"))
        raise err

    @app.exception_handler(DBAPIError)
    async def database_refused_input(_: Request, err: DBAPIError) -> JSONResponse:
        # PostgreSQL refuses some text outright (a NUL character): bad input, not an outage.
        if _caused_by(err, asyncpg.exceptions.DataError):
            details = [{"field": "parameters", "message": "contains characters PostgreSQL cannot store"}]
            return _respond(
                ApiError(422, "invalid_input", "a parameter contains a NUL or invalid character", details)
            )
        # Shutting down, starting up, or the connection gone: an outage, not a bug.
        if err.connection_invalidated or _caused_by(err, *DATABASE_DOWN):
            return _respond(unavailable("database"))
        raise err

    for db_error in (OperationalError, InterfaceError, OSError):

        @app.exception_handler(db_error)
        async def database_down(_: Request, err: Exception) -> JSONResponse:
            return _respond(unavailable("database"))
