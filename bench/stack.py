"""The product's own stack for benchmarks, started as a user starts it:
`python -m appraisal.cli dev` as a subprocess, with its data folder in a
temporary directory and free ports on 127.0.0.1 (as tests/e2e does).

`DevStack` is a context manager: leaving it stops `appraisal dev` with
Ctrl-C (SIGINT), waits for it, then makes sure every process it had started
(PostgreSQL, the Temporal dev server, the worker, the API) is gone, killing
any survivor by its pid."""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
READY_LINE = "Ctrl-C stops everything"
PORT_NAMES = ("API_PORT", "POSTGRES_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT")
# Settings `appraisal dev` would otherwise take from this shell's environment.
_CLEARED_ENV = (
    "DATABASE_URL",
    "TEMPORAL_ADDRESS",
    "API_HOST",
    "TEMPORAL_NAMESPACE",
    "TASK_QUEUE",
    "OTEL_EXPORTER_OTLP_ENDPOINT",  # talk to nothing but 127.0.0.1
)


def installed_python_env(cache: Path) -> dict[str, str]:
    """This environment for a Python child process that keeps bytecode caches (in
    `cache`, not the working tree), as an installed product does: pip compiles the
    modules it installs. With PYTHONDONTWRITEBYTECODE set and no caches, the worker's
    workflow sandbox compiles the workflow modules again for every workflow it creates."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


def _log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def _label(process: psutil.Process) -> str:
    try:
        command = process.cmdline()
    except psutil.Error:
        return str(process.pid)
    if "appraisal.cli" in command:
        return command[-1]  # worker, api
    name = Path(command[0]).name if command else process.name()
    return {"postgres": "postgresql", "temporal": "temporal dev server"}.get(name, name)


def cpu_seconds_of(process: psutil.Process, *, with_children: bool = False) -> float:
    """User + system seconds of a process; with its children, live or reaped."""
    try:
        times = process.cpu_times()
        total = times.user + times.system
        if with_children:
            total += times.children_user + times.children_system
            for child in process.children(recursive=True):
                try:
                    child_times = child.cpu_times()
                    total += child_times.user + child_times.system
                except psutil.Error:
                    pass
    except psutil.Error:
        return 0.0
    return total


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


class DevStack:
    """`appraisal dev` in a subprocess; tokens and ids from its demo-tokens.env."""

    def __init__(self, *, start_timeout: float = 180, stop_timeout: float = 60) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="appraisal-bench-"))
        self.data_dir = self.tmp / "data"
        self.ports = {name: free_port() for name in PORT_NAMES}
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self._started: list[psutil.Process] = []
        self._pieces: dict[str, psutil.Process] = {}
        self._tokens: dict[str, str] | None = None

    # ---- addresses ----

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.ports['API_PORT']}"

    @property
    def temporal_address(self) -> str:
        return f"{HOST}:{self.ports['TEMPORAL_PORT']}"

    def tokens(self) -> dict[str, str]:
        """The demo principals' tokens and ids (`COURT_1_TOKEN`, `INSTITUTION_1_ID`, …)."""
        if self._tokens is None:
            values: dict[str, str] = {}
            for line in (self.data_dir / "demo-tokens.env").read_text().splitlines():
                if line.startswith("export "):
                    key, value = line.removeprefix("export ").split("=", 1)
                    values[key] = value
            self._tokens = values
        return self._tokens

    def auth(self, key: str) -> dict[str, str]:
        """Headers for a demo principal, e.g. `auth("COURT_1")`."""
        return {"Authorization": f"Bearer {self.tokens()[key + '_TOKEN']}"}

    # ---- life ----

    def _read_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if READY_LINE in line:
                self._ready.set()

    def start(self) -> None:
        env = {k: v for k, v in installed_python_env(self.tmp / "pycache").items() if k not in _CLEARED_ENV}
        env.update({k: str(v) for k, v in self.ports.items()})
        env.update(DATA_DIR=str(self.data_dir), API_HOST=HOST, ENVIRONMENT="dev")
        _log(f"starting appraisal dev (data in {self.data_dir}, ports {self.ports})")
        began = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "appraisal.cli", "dev"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        deadline = began + self.start_timeout
        while not self._ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("appraisal dev did not come up:\n" + "".join(self.output))
        # Everything it started, so that stop() can make sure each one is gone.
        dev = psutil.Process(self.process.pid)
        self._started = dev.children(recursive=True)
        self._pieces = {"appraisal dev": dev, **{_label(p): p for p in dev.children()}}
        self._wait_ready(deadline)
        _log(f"appraisal dev is up in {time.monotonic() - began:.1f}s")

    def _wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api_url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the API never answered /readyz with 200")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by each piece of the stack,
        its child processes included, and by this benchmark process."""
        used = {
            name: cpu_seconds_of(proc, with_children=name != "appraisal dev")
            for name, proc in self._pieces.items()
        }
        used["benchmark process"] = cpu_seconds_of(psutil.Process())
        return used

    async def settle(self, *, within: float = 30, interval: float = 0.5, busy: float = 0.2) -> None:
        """Waits (at most `within` seconds) until the stack is idle: less than
        `busy` of one core used by all its processes over `interval` seconds,
        so that work left over from one part does not run during the next."""
        deadline = time.monotonic() + within
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            await asyncio.sleep(interval)
            now = self.cpu_seconds()
            used = sum(v for k, v in cpu_used(last, now).items() if k != "benchmark process")
            if used < busy * interval:
                return
            last = now
        _log(f"the stack was still busy after {within:.0f}s; measuring anyway")

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                _log("appraisal dev did not stop in time; killing it")
                process.kill()
                process.wait(timeout=10)
        for child in self._started:
            try:
                if child.is_running():  # same pid and creation time as when it was started
                    _log(f"killing leftover {child.name()} (pid {child.pid})")
                    child.kill()
                    child.wait(timeout=10)
            except psutil.Error:
                pass
        if self._reader is not None:
            self._reader.join(timeout=5)
        busy = [name for name, port in self.ports.items() if not port_is_free(port)]
        if busy:
            _log(f"warning: still listening after stop: {busy}")
        shutil.rmtree(self.tmp, ignore_errors=True)
        _log("appraisal dev stopped")

    def __enter__(self) -> "DevStack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self._show_logs()
        self.stop()

    def _show_logs(self, lines: int = 30) -> None:
        """The end of each log of the stack, before its data folder goes."""
        for log in sorted((self.data_dir / "logs").glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            _log(f"last {len(tail)} lines of {log.name}:\n" + "\n".join(tail))
