"""Structured JSON logs, request ids and optional OpenTelemetry tracing.

- `configure_logging(settings)` makes the root logger write one JSON object
  per line (time, level, logger, message, and `request_id` / `workflow_id`
  when known) to standard error. The API and the worker call it first.
- `install_request_ids(app)` gives every HTTP request an id (the caller's
  `X-Request-ID` if it is a sane token, else a new UUID4), puts it in the log
  context of everything the request logs and echoes it in the response.
- `tracing_interceptors(settings)` is empty unless `OTEL_EXPORTER_OTLP_ENDPOINT`
  is set; then it is Temporal's OpenTelemetry `TracingInterceptor` exporting
  spans over OTLP/HTTP. The OpenTelemetry modules are imported only then.
"""

import json
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.worker import Interceptor

from appraisal.core.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

REQUEST_ID_HEADER = "X-Request-ID"

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the HTTP request being served, if any."""
workflow_id_var: ContextVar[str | None] = ContextVar("workflow_id", default=None)
"""The workflow a piece of code is acting on, if any."""

# Attributes every LogRecord has: anything else on a record came from `extra`
# (but uvicorn's `color_message` is the message again, with terminal colours).
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", logging.INFO, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_CONTEXT_KEYS = ("request_id", "workflow_id")
_OWN_HANDLER = "_appraisal_json_handler"


def _workflow_id_of(record: logging.LogRecord) -> str | None:
    """`workflow_id` from `extra`, else from the details Temporal's workflow and
    activity loggers attach (`temporal_workflow`, `temporal_activity`)."""
    explicit = getattr(record, "workflow_id", None)
    if explicit:
        return str(explicit)
    for key in ("temporal_workflow", "temporal_activity"):
        details = getattr(record, key, None)
        if isinstance(details, Mapping) and details.get("workflow_id"):
            return str(details["workflow_id"])
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        workflow_id = _workflow_id_of(record) or workflow_id_var.get()
        if request_id:
            entry["request_id"] = str(request_id)
        if workflow_id:
            entry["workflow_id"] = workflow_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and key not in _CONTEXT_KEYS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> logging.Handler:
    """Installs the JSON handler on the root logger (replacing one installed
    before by this function) at `LOG_LEVEL`; returns it."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OWN_HANDLER, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _OWN_HANDLER, True)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    return handler


# ---- request ids ----

_ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")


class RequestIdMiddleware:
    """Pure ASGI middleware (no extra task, so the context variable reaches
    the route, its dependencies and uvicorn's access log)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = offered if offered and _ACCEPTABLE_REQUEST_ID.fullmatch(offered) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def install_request_ids(app: FastAPI) -> None:
    app.add_middleware(RequestIdMiddleware)


# ---- tracing ----


def otlp_traces_url(endpoint: str) -> str:
    """OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL; traces go to /v1/traces."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def tracing_interceptors(settings: Settings, *, exporter: "SpanExporter | None" = None) -> list[Interceptor]:
    """Temporal's OpenTelemetry interceptor when an OTLP endpoint is set, else [].

    Spans go to `exporter` if one is given (tests), else over OTLP/HTTP to the
    endpoint in batches. The tracer provider is this worker's own, not the
    process-global one, so calling this twice does not stack exporters."""
    if not settings.otel_exporter_otlp_endpoint:
        return []
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from temporalio.contrib.opentelemetry import TracingInterceptor

    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        otlp = OTLPSpanExporter(endpoint=otlp_traces_url(settings.otel_exporter_otlp_endpoint))
        provider.add_span_processor(BatchSpanProcessor(otlp))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    # The API's client is not traced, so a workflow has no parent span from it:
    # create workflow spans regardless.
    return [TracingInterceptor(provider.get_tracer("appraisal"), always_create_workflow_spans=True)]
