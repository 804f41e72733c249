"""`appraisal dev`: the whole product on one machine, with embedded defaults.

PostgreSQL and the Temporal dev server run from their wheels with state
under the data folder (unless DATABASE_URL / TEMPORAL_ADDRESS point at
external servers); then migrations, the demo registry, the worker and the
API. Ctrl-C stops every child, API first, PostgreSQL last."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appraisal.api.auth import issue_token
from appraisal.core.seal import SealLoader
from appraisal.core.settings import Settings
from appraisal.core.temporal import connect, register_search_attributes
from appraisal.db.engine import create_engine, session_factory
from appraisal.db.migrate import upgrade_async
from appraisal.embedded import (
    EmbeddedPostgres,
    ended_with_parent,
    temporal_dev_server_command,
    wait_for_port,
)
from appraisal.seed import (
    DEMO_PASSWORD,
    demo_principals,
    demo_username,
    seed_demo,
    seed_demo_accounts,
    seed_demo_fee_standards,
)
from appraisal.services import seal


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    stop_signal: signal.Signals = signal.SIGTERM


def _log(message: str) -> None:
    print(f"[appraisal dev] {message}", flush=True)


async def _wait_for_temporal(settings: Settings, *, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            client = await connect(settings)
            await register_search_attributes(client, settings.temporal_namespace)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.25)


async def _prepare_database(settings: Settings) -> None:
    await upgrade_async(settings.resolved_database_url())
    engine = create_engine(settings)
    try:
        sessions = session_factory(engine)
        await seed_demo(sessions)
        await seed_demo_accounts(sessions, now=datetime.now(UTC))
        # The bureau's seal authority (made in DATA_DIR/seal the first time) and a seal
        # certificate for every demo institution.
        async with sessions() as session:
            await seal.ensure_certificates(session=session, seal=SealLoader.of(settings)())
        await seed_demo_fee_standards(sessions, now=datetime.now(UTC))
    finally:
        await engine.dispose()


def _spawn(name: str, command: list[str], env: dict[str, str], log: Path) -> Child:
    output = open(log, "ab")  # noqa: SIM115 - lives as long as the child
    process = subprocess.Popen(
        [*ended_with_parent("TERM"), *command],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Child(name, process)


def _stop(children: list[Child]) -> None:
    for child in reversed(children):
        if child.process.poll() is None:
            child.process.send_signal(child.stop_signal)
            try:
                child.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        _log(f"stopped {child.name}")


def _banner(settings: Settings, data_dir: Path) -> str:
    api = f"http://{settings.api_host}:{settings.api_port}"
    lines = [
        "",
        "Judicial appraisal commissions are running.",
        f"  Workspace    {api}/ui/login (sign in with a demo account below)",
        f"  API docs     {api}/docs",
        f"  Temporal UI  http://127.0.0.1:{settings.temporal_ui_port}"
        if not settings.temporal_address
        else f"  Temporal     {settings.temporal_address}",
        f"  API metrics  {api}/metrics",
        f"  Worker       http://{settings.worker_metrics_address}/metrics (Temporal SDK metrics)"
        if settings.worker_metrics_address
        else "  Worker       metrics off (WORKER_METRICS_ADDRESS is empty)",
        f"  Data folder  {data_dir}",
        f"  Logs         {data_dir / 'logs'}",
        f"  SMS, e-mail  {settings.notification_file or data_dir / 'notifications.jsonl'} (what would be sent)"
        if settings.notification_channel == "file"
        else f"  SMS, e-mail  the {settings.notification_channel} channel",
        "",
        f"Demo accounts (user name, password {DEMO_PASSWORD}) and bearer tokens for the API"
        f" (also in {data_dir / 'demo-tokens.env'}):",
    ]
    exports = []
    for principal in demo_principals():
        token = issue_token(settings, principal.actor, ttl=timedelta(days=365))
        lines.append(f"  {demo_username(principal):<22} {principal.actor.role:<19} {principal.label}")
        lines.append(f"    {token}")
        exports.append(f"export {principal.key}_TOKEN={token}")
        exports.append(f"export {principal.key}_ID={principal.actor.organisation_id}")
    (data_dir / "demo-tokens.env").write_text("\n".join(exports) + "\n")
    lines += [
        "",
        "Ctrl-C stops everything; run again to resume where you left off.",
        "",
    ]
    return "\n".join(lines)


def run_dev(settings: Settings) -> int:
    data_dir = settings.data_dir.resolve()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    children: list[Child] = []
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    env = dict(os.environ)
    try:
        if not settings.database_url:
            postgres = EmbeddedPostgres(data_dir, settings.postgres_port)
            _log(f"starting PostgreSQL on 127.0.0.1:{settings.postgres_port}")
            # Killed without a chance to stop its children, this command takes them with it.
            process = postgres.start(log=logs / "postgres.log", end_with_parent=True)
            # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients.
            children.append(Child("postgresql", process, signal.SIGINT))
            postgres.ensure_database("appraisal")
            env["DATABASE_URL"] = postgres.url("appraisal")
        if not settings.temporal_address:
            _log(f"starting the Temporal dev server on 127.0.0.1:{settings.temporal_port}")
            command = temporal_dev_server_command(
                data_dir=data_dir, port=settings.temporal_port, ui_port=settings.temporal_ui_port
            )
            children.append(_spawn("temporal", command, env, logs / "temporal.log"))
            wait_for_port("127.0.0.1", settings.temporal_port, timeout=60, process=children[-1].process)
        env["DATABASE_URL"] = env.get("DATABASE_URL") or settings.resolved_database_url()
        env["TEMPORAL_ADDRESS"] = settings.resolved_temporal_address()
        resolved = settings.model_copy(
            update={"database_url": env["DATABASE_URL"], "temporal_address": env["TEMPORAL_ADDRESS"]}
        )
        _log("migrating the database and seeding the demo registry")
        asyncio.run(_prepare_database(resolved))
        asyncio.run(_wait_for_temporal(resolved, within=60))
        cli = [sys.executable, "-m", "appraisal.cli"]
        children.append(_spawn("worker", [*cli, "worker"], env, logs / "worker.log"))
        children.append(_spawn("api", [*cli, "api"], env, logs / "api.log"))
        wait_for_port(
            settings.api_host,
            settings.api_port,
            timeout=60,
            process=children[-1].process,
        )
        print(_banner(settings, data_dir), flush=True)
        while not stopping:
            for child in children:
                if child.process.poll() is not None:
                    _log(f"{child.name} exited with {child.process.returncode}; see {logs}")
                    return 1
            time.sleep(0.2)
        return 0
    finally:
        _stop(children)
