"""The worker's Temporal SDK metrics: served to Prometheus at
WORKER_METRICS_ADDRESS through the SDK runtime the worker's client uses; off
when the address is empty; a taken port turns metrics off (logged) and the
worker connects with the default runtime."""

import logging
import socket

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.core.settings import Settings
from appraisal.core.temporal import connect, metrics_runtime
from appraisal.worker import build_worker
from tests.conftest import free_port
from tests.workflows.test_commission_workflow import eventually


def worker_settings(metrics_address: str, temporal_address: str = "127.0.0.1:7233") -> Settings:
    return Settings(
        environment="test",
        jwt_secret="test-secret-" + "x" * 40,
        temporal_address=temporal_address,
        worker_metrics_address=metrics_address,
    )


async def test_the_worker_serves_temporal_metrics(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], task_queue: str
) -> None:
    address = f"127.0.0.1:{free_port()}"
    settings = worker_settings(address, temporal_env.client.service_client.config.target_host)
    runtime = metrics_runtime(settings)
    assert runtime is not None
    client = await connect(settings, runtime=runtime)
    worker = build_worker(client, task_queue=task_queue, sessions=sessions)
    async with worker, httpx.AsyncClient() as http:

        async def temporal_metrics() -> str | None:
            text = (await http.get(f"http://{address}/metrics")).text
            return text if "temporal_num_pollers" in text else None

        text = await eventually(temporal_metrics)
    assert f'task_queue="{task_queue}"' in text
    assert all(
        line.startswith("temporal_") for line in text.splitlines() if line and not line.startswith("#")
    )


def test_empty_address_turns_worker_metrics_off() -> None:
    assert metrics_runtime(worker_settings("")) is None


def test_a_taken_port_turns_metrics_off_instead_of_failing_the_worker(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        with caplog.at_level(logging.ERROR, logger="appraisal.core.temporal"):
            assert metrics_runtime(worker_settings(address)) is None
    assert any("worker metrics off" in r.getMessage() and address in r.getMessage() for r in caplog.records)
