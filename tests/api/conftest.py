from collections.abc import AsyncIterator
from datetime import date, datetime

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.api.auth import issue_token
from appraisal.api.deps import get_now, get_today
from appraisal.app import create_app
from appraisal.core.settings import Settings
from appraisal.domain.roles import Actor
from tests.api.client import api_client


@pytest.fixture
def settings(task_queue: str) -> Settings:
    return Settings(environment="test", task_queue=task_queue, jwt_secret="test-secret-" + "x" * 40)


@pytest.fixture
async def api(
    settings: Settings, temporal_env: WorkflowEnvironment, engine: AsyncEngine, worker: Worker, today: date
) -> AsyncIterator[httpx.AsyncClient]:
    """The app against the time-skipping server, real PostgreSQL and the production worker."""
    app = create_app(settings, temporal=temporal_env.client, engine=engine)
    app.dependency_overrides[get_today] = lambda: today

    async def now() -> datetime:
        return await temporal_env.get_current_time()

    app.dependency_overrides[get_now] = now
    async with app.router.lifespan_context(app), api_client(app) as client:
        yield client


@pytest.fixture
def auth(settings: Settings):  # type: ignore[no-untyped-def]
    def headers(actor: Actor) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(settings, actor)}"}

    return headers


@pytest.fixture
def api_app_routes(settings: Settings) -> list[APIRoute]:
    """Every REST route the product serves (FastAPI's own docs routes excluded)."""
    app = create_app(settings)
    return [r for r in app.routes if isinstance(r, APIRoute)]
