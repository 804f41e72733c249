"""JSON log lines, the request id in the log context, and tracing that is off
unless an OTLP endpoint is set (and, when set, traces the real worker)."""

import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.testing import WorkflowEnvironment

from appraisal.core.observability import (
    REQUEST_ID_HEADER,
    configure_logging,
    install_request_ids,
    otlp_traces_url,
    request_id_var,
    tracing_interceptors,
    workflow_id_var,
)
from appraisal.core.settings import Settings
from appraisal.worker import build_worker
from appraisal.workflows.calendar import CalendarReloadInput, CalendarReloadResult, CalendarReloadWorkflow

SECRET = "test-secret-" + "x" * 40


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "jwt_secret": SECRET,
        "otel_exporter_otlp_endpoint": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """configure_logging on the real root logger, undone afterwards."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging(settings(log_level="DEBUG"), stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_line_with_the_request_id_and_workflow_id(log_stream: io.StringIO) -> None:
    logger = logging.getLogger("appraisal.test")
    request = request_id_var.set("req-42")
    workflow = workflow_id_var.set("commission-1")
    try:
        logger.info(
            "accepted %s\nby the institution",
            "鉴定",
            extra={"stage": "examining", "color_message": "\x1b[1maccepted"},
        )
    finally:
        workflow_id_var.reset(workflow)
        request_id_var.reset(request)
    logger.warning("no context here")

    assert len(log_stream.getvalue().splitlines()) == 2  # the newline in the message stays inside the JSON
    first, second = lines(log_stream)
    assert first["message"] == "accepted 鉴定\nby the institution"
    assert first["level"] == "INFO" and first["logger"] == "appraisal.test"
    assert first["request_id"] == "req-42" and first["workflow_id"] == "commission-1"
    assert first["stage"] == "examining" and "color_message" not in first
    assert first["time"].endswith("+00:00")
    assert "request_id" not in second and "workflow_id" not in second
    assert second["level"] == "WARNING"


def test_extra_and_temporal_logger_details_name_the_workflow(log_stream: io.StringIO) -> None:
    logger = logging.getLogger("appraisal.test")
    logger.info("explicit", extra={"request_id": "r-1", "workflow_id": "commission-2"})
    # What temporalio's activity logger attaches to each record.
    logger.info("from an activity", extra={"temporal_activity": {"workflow_id": "commission-3"}})
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    explicit, activity, failed = lines(log_stream)
    assert explicit["request_id"] == "r-1" and explicit["workflow_id"] == "commission-2"
    assert activity["workflow_id"] == "commission-3"
    assert failed["level"] == "ERROR" and "ValueError: boom" in failed["exception"]


def test_configuring_twice_does_not_duplicate_lines(log_stream: io.StringIO) -> None:
    root = logging.getLogger()
    second = io.StringIO()
    handler = configure_logging(settings(log_level="INFO"), stream=second)
    try:
        logging.getLogger("appraisal.test").info("once")
        logging.getLogger("appraisal.test").debug("below the level")
        assert [line["message"] for line in lines(second)] == ["once"]
        assert log_stream.getvalue() == ""  # the first handler was replaced
        assert sum(1 for h in root.handlers if h is handler) == 1
    finally:
        root.removeHandler(handler)


async def test_log_lines_written_during_a_request_carry_its_id(log_stream: io.StringIO) -> None:
    app = FastAPI()
    install_request_ids(app)

    @app.get("/work")
    async def work() -> dict[str, str | None]:
        logging.getLogger("appraisal.route").info("working")
        return {"seen": request_id_var.get()}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        given = await client.get("/work", headers={REQUEST_ID_HEADER: "court-desk-7"})
        fresh = await client.get("/work")
    assert given.headers[REQUEST_ID_HEADER] == "court-desk-7" and given.json()["seen"] == "court-desk-7"
    generated = fresh.headers[REQUEST_ID_HEADER]
    assert uuid.UUID(generated).version == 4 and fresh.json()["seen"] == generated
    route_lines = [line for line in lines(log_stream) if line["logger"] == "appraisal.route"]
    assert [line["request_id"] for line in route_lines] == ["court-desk-7", generated]
    assert request_id_var.get() is None  # nothing leaks out of the request


def test_no_tracing_without_an_endpoint() -> None:
    assert tracing_interceptors(settings()) == []
    assert tracing_interceptors(settings(otel_exporter_otlp_endpoint="")) == []


def test_an_endpoint_turns_on_the_temporal_tracing_interceptor() -> None:
    (interceptor,) = tracing_interceptors(settings(otel_exporter_otlp_endpoint="http://collector:4318"))
    assert isinstance(interceptor, TracingInterceptor)
    assert otlp_traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert otlp_traces_url("http://collector:4318/v1/traces") == "http://collector:4318/v1/traces"


async def test_the_worker_with_tracing_exports_workflow_and_activity_spans(
    temporal_env: WorkflowEnvironment, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    exporter = InMemorySpanExporter()
    interceptors = tracing_interceptors(
        settings(otel_exporter_otlp_endpoint="http://collector:4318"), exporter=exporter
    )
    worker = build_worker(
        temporal_env.client, task_queue=task_queue, sessions=sessions, interceptors=interceptors
    )
    async with worker:
        result = await temporal_env.client.execute_workflow(
            CalendarReloadWorkflow.run,
            CalendarReloadInput(year=2027, loaded_by="test"),
            id=f"calendar-trace-{uuid.uuid4()}",
            task_queue=task_queue,
        )
    assert result == CalendarReloadResult(signalled=0)
    spans = exporter.get_finished_spans()
    names = {span.name for span in spans}
    assert {
        "RunWorkflow:CalendarReloadWorkflow",
        "StartActivity:signal_running_commissions",
        "RunActivity:signal_running_commissions",
    } <= names
    assert {span.resource.attributes["service.name"] for span in spans} == {"appraisal"}
    # The context crosses the task queue: the activity's span is a child of the workflow's.
    by_name = {span.name: span for span in spans}
    started, ran = (
        by_name["StartActivity:signal_running_commissions"],
        by_name["RunActivity:signal_running_commissions"],
    )
    assert ran.parent is not None and ran.parent.span_id == started.context.span_id
    assert ran.context.trace_id == started.context.trace_id
