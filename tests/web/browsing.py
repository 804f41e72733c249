"""What the browser tests share: Debian's Chromium, headless, driven by Playwright, against
the app served by uvicorn on a free localhost port (on the test's event loop, with the
time-skipping Temporal server, the production worker and embedded PostgreSQL), and the
screenshots they take (docs/screenshots/ with UPDATE_SCREENSHOTS=1, otherwise a temporary
folder, so a test run leaves the tree clean)."""

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.api.deps import get_today
from appraisal.app import create_app
from appraisal.core.settings import Settings
from appraisal.domain.calendar import local_today
from tests.conftest import ROOT, free_port
from tests.workflows.test_commission_workflow import eventually

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "appraisal-screenshots"
)


def require_chromium() -> None:
    """Only a machine where nobody could install it skips; scripts/bootstrap.sh
    installs Chromium when run as root, so in CI a missing browser fails."""
    if CHROMIUM.exists():
        return
    if os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing and, not being root, scripts/bootstrap.sh cannot install it")
    pytest.fail(f"{CHROMIUM} is missing: scripts/bootstrap.sh installs it (apt-get install chromium) as root")


class InProcessServer(uvicorn.Server):
    """uvicorn on the test's own event loop (the engine and the Temporal client
    live there); Ctrl-C stays pytest's."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@pytest.fixture
async def served(
    settings: Settings, temporal_env: WorkflowEnvironment, engine: AsyncEngine, worker: Worker
) -> AsyncIterator[str]:
    app = create_app(settings, temporal=temporal_env.client, engine=engine)
    env_today = local_today(await temporal_env.get_current_time())
    app.dependency_overrides[get_today] = lambda: env_today
    port = free_port()
    server = InProcessServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())

    async def started() -> bool | None:
        if serving.done():
            serving.result()  # raises what stopped it
        return True if server.started else None

    await eventually(started)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        # `launch` gives every run a fresh temporary profile (user-data-dir) of its own.
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
