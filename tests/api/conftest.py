import gc
import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.api.auth import issue_token
from appraisal.api.deps import get_now, get_today
from appraisal.app import create_app
from appraisal.core.settings import Settings
from appraisal.domain.roles import Actor
from tests.api.client import api_client


@pytest.fixture
def settings(task_queue: str, seal_dir: Path) -> Settings:
    return Settings(
        environment="test", task_queue=task_queue, jwt_secret="test-secret-" + "x" * 40, seal_dir=seal_dir
    )


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
    async with collected_now_and_then(), app.router.lifespan_context(app), api_client(app) as client:
        yield client


FULL_COLLECTION_EVERY = 10
"""How many app startups in a test process make one full garbage collection."""
_startups = itertools.count()


@asynccontextmanager
async def collected_now_and_then() -> AsyncIterator[None]:
    """The app's startup collects garbage and freezes what is left (app.py, `lifespan`): in
    a test process that is a full collection of every object the suite imported, a tenth of
    a second or more, each test. Around all but one startup in FULL_COLLECTION_EVERY this
    freezes the heap first, so that startup's collection finds only what is new; the app
    still collects, freezes and unfreezes as it does in production. Garbage left by earlier
    tests, unreachable and so seen by no test, waits for the next full collection instead.
    The freeze ends with the app, even one whose startup failed (test_app_lifespan.py starts
    from nothing frozen)."""
    if next(_startups) % FULL_COLLECTION_EVERY:
        gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.fixture
def auth(settings: Settings):  # type: ignore[no-untyped-def]
    def headers(actor: Actor) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(settings, actor)}"}

    return headers


def routes_within(routes: Sequence[BaseRoute]) -> list[APIRoute]:
    """The API routes among these and inside every router included with them (FastAPI keeps
    an included router as one entry of the app's routes, its own routes within)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (included := getattr(route, "original_router", None)) is not None:
            found += routes_within(included.routes)
    return found


@pytest.fixture
def api_app_routes(settings: Settings) -> list[APIRoute]:
    """Every REST route the product serves (FastAPI's own docs routes excluded)."""
    routes = routes_within(create_app(settings).routes)
    assert len(routes) > 50  # the routers' own routes, not only the app's top level
    return routes
