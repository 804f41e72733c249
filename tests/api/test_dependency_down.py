"""PostgreSQL or Temporal down: the API answers 503 `unavailable` with
Retry-After, changes nothing, and works again once the dependency is back."""

import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.api.deps import get_today
from appraisal.app import create_app
from appraisal.core.settings import Settings
from appraisal.db.models import Commission
from appraisal.domain.calendar import local_today
from appraisal.domain.roles import Actor
from appraisal.embedded import EmbeddedPostgres
from tests.api.test_commissions_api import entrustment
from tests.conftest import free_port
from tests.factories import court_actor

Auth = Callable[[Actor], dict[str, str]]
RECOVERY_SECONDS = 30


@asynccontextmanager
async def serving(app: FastAPI, today: date) -> AsyncIterator[httpx.AsyncClient]:
    app.dependency_overrides[get_today] = lambda: today
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


def assert_unavailable(response: httpx.Response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"].isdigit()
    assert response.json() == {
        "error": {
            "code": "unavailable",
            "message": f"{dependency} is unavailable; nothing was changed, retry later",
            "details": {"dependency": dependency},
        }
    }


async def commissions_by_reference(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.exec(
            select(Commission.court_reference, func.count()).group_by(col(Commission.court_reference))
        )
        return {reference: count for reference, count in rows}


def stop(postgres: EmbeddedPostgres) -> None:
    """Fast shutdown (SIGINT): ends open sessions too, so the pools' connections die."""
    assert postgres.process is not None
    postgres.process.send_signal(signal.SIGINT)
    postgres.process.wait(timeout=60)


def stop_at_exit(process: subprocess.Popen[bytes]) -> None:
    """conftest's teardown stops the server process it started, not the one
    restarted here; this one stops after every fixture has been torn down."""
    process.terminate()
    process.wait(timeout=60)


async def test_postgres_down_answers_503_and_loses_nothing(
    postgres: EmbeddedPostgres,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
    auth: Auth,
    request: pytest.FixtureRequest,
) -> None:
    # The production engine (pool_pre_ping), as `appraisal api` builds it.
    app = create_app(
        settings.model_copy(update={"database_url": postgres.url("appraisal")}), temporal=temporal_env.client
    )
    today = local_today(await temporal_env.get_current_time())
    headers = auth(court_actor)
    async with serving(app, today) as api:
        before = await api.post("/v1/commissions", json=entrustment("REF-BEFORE-OUTAGE"), headers=headers)
        assert before.status_code == 201, before.text
        assert (await api.get("/v1/commissions", headers=headers)).status_code == 200  # pool warm

        try:
            stop(postgres)
            ready = await api.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unavailable")
            listed = await api.get("/v1/commissions", headers=headers)
            assert_unavailable(listed, "database")
            during = await api.post("/v1/commissions", json=entrustment("REF-DURING-OUTAGE"), headers=headers)
            assert_unavailable(during, "database")
        finally:
            process = postgres.start()
            # The session-scoped engine's pooled connections died with the server.
            await engine.dispose()
            request.config.add_cleanup(lambda: stop_at_exit(process))

        # The client retries the same request until the API is back (it is idempotent);
        # 201, not 200: the request refused during the outage created nothing.
        deadline = time.monotonic() + RECOVERY_SECONDS
        while True:
            after = await api.post("/v1/commissions", json=entrustment("REF-DURING-OUTAGE"), headers=headers)
            if after.status_code != 503 or time.monotonic() > deadline:
                break
        assert after.status_code == 201, after.text
        again = await api.post("/v1/commissions", json=entrustment("REF-DURING-OUTAGE"), headers=headers)
        assert again.status_code == 200 and again.json()["id"] == after.json()["id"]
        kept = await api.get(f"/v1/commissions/{before.json()['id']}", headers=headers)
        assert kept.status_code == 200 and kept.json()["court_reference"] == "REF-BEFORE-OUTAGE"

    assert await commissions_by_reference(sessions) == {"REF-BEFORE-OUTAGE": 1, "REF-DURING-OUTAGE": 1}


async def test_temporal_down_answers_503_and_writes_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], settings: Settings, auth: Auth
) -> None:
    unreachable = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    app = create_app(settings, temporal=unreachable, engine=engine)
    async with serving(app, local_today(datetime.now(UTC))) as api:
        response = await api.post(
            "/v1/commissions", json=entrustment("REF-TEMPORAL-DOWN"), headers=auth(court_actor)
        )
        assert_unavailable(response, "temporal")
        # Reads come from PostgreSQL and still answer.
        listed = await api.get("/v1/commissions", headers=auth(court_actor))
        assert listed.status_code == 200 and listed.json()["total"] == 0
    async with sessions() as session:
        for table in ("commission", "task", "audit_event", "notification"):
            count = (await session.exec(text(f"select count(*) from {table}"))).one()  # type: ignore[call-overload]
            assert count == (0,), table
