"""Open timers: how late durable timers fire when thousands come due at once, and worker memory per open workflow.

Starts `appraisal dev`, then, against its Temporal dev server:

1. Timers. A worker for the benchmark-only `TimerWorkflow`
   (bench/timer_workflow.py: one `workflow.wait_condition` with a timeout,
   the mechanism the commission workflow sleeps on until its next clock
   rung) runs as its own process, tuned as the product's worker is (the
   WORKER_* settings of this environment). The start rate is probed first (empty
   workflows, not counted); then N TimerWorkflows are started, C in flight,
   each due at an instant of the same W-second window placed after the last
   start is expected. While they wait, the worker's RSS is sampled. Each
   workflow returns how late it woke (workflow.now() minus its due
   instant); the histories of a sample of them split that lateness into its
   parts.
2. Product worker. R real commissions are entrusted through the API (each
   an open workflow holding its acceptance clock's timer) and the product
   worker's RSS is read before and after, for a memory figure per open
   commission.

    .venv/bin/python -m bench.open_timers [--n 10000] [--real 1000] [--window 10]
"""

import argparse
import asyncio
import bisect
import contextlib
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from appraisal.core.settings import Settings
from bench import report
from bench.commissions import entrustment
from bench.stack import ROOT, DevStack, cpu_seconds_of, cpu_used, installed_python_env, stop_process
from bench.timer_workflow import READY_LINE, TimerInput, TimerResult, TimerWorkflow

NAME = "open_timers"
PROBE = 200
HISTORY_SAMPLE = 200
ENTRUST_CONCURRENCY = 16
ENTRUST_WARM_UP = 20
MIB = 1024 * 1024
TUNING = Settings()
"""This environment's WORKER_* settings, which tune the product's worker and the timer worker alike."""
CACHE = TUNING.worker_max_cached_workflows


def _log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def stack_process(stack: DevStack, label: str) -> psutil.Process:
    """The `appraisal dev` child that is the worker ("worker") or the
    Temporal dev server ("temporal")."""
    assert stack.process is not None
    for child in psutil.Process(stack.process.pid).children():
        command = child.cmdline()
        if label == "worker" and "appraisal.cli" in command and command[-1] == "worker":
            return child
        if label == "temporal" and command and Path(command[0]).name == "temporal":
            return child
    raise RuntimeError(f"no {label} process under appraisal dev")


def rss(process: psutil.Process) -> int:
    """Resident memory of a process and its children, in bytes."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


async def steady_rss(process: psutil.Process, *, samples: int = 5, interval: float = 0.5) -> int:
    values = []
    for _ in range(samples):
        values.append(rss(process))
        await asyncio.sleep(interval)
    return int(statistics.median(values))


async def run_concurrently(n: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Calls one(0..n-1), `concurrency` in flight; returns the seconds it took."""
    indexes = iter(range(n))

    async def lane() -> None:
        for i in indexes:
            await one(i)

    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return time.perf_counter() - began


# ---- timers ----


@dataclass
class Sample:
    seconds: float
    """Since the first timed start."""
    at: datetime
    started: int
    worker_rss: int
    temporal_rss: int


@dataclass
class Timers:
    n: int
    window: float
    concurrency: int
    probe_rate: float = 0.0
    start_seconds: float = 0.0
    slack_seconds: float = 0.0
    """From the last start to the first due instant."""
    worker_rss_idle: int = 0
    temporal_rss_idle: int = 0
    samples: list[Sample] = field(default_factory=list)
    results: list[TimerResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    dues: list[datetime] = field(default_factory=list)
    set_at: list[datetime] = field(default_factory=list)
    """When each workflow set its timer, in order."""
    parts: dict[str, list[float]] = field(default_factory=dict)
    firing_cpu: dict[str, float] = field(default_factory=dict)
    firing_seconds: float = 0.0

    @property
    def armed(self) -> list[TimerResult]:
        return [r for r in self.results if r.armed_seconds > 0]

    @property
    def last_woke(self) -> float:
        """Seconds from the first due instant until the last timer woke."""
        if not self.armed or not self.dues:
            return float("nan")
        wakes = [datetime.fromisoformat(r.due) + timedelta(seconds=r.lateness_seconds) for r in self.armed]
        return (max(wakes) - self.dues[0]).total_seconds()

    @property
    def armed_range(self) -> tuple[float, float]:
        """How long before its instant each workflow set its timer (min, max seconds)."""
        ahead = [r.armed_seconds for r in self.armed] or [float("nan")]
        return min(ahead), max(ahead)

    def busy(self, process: str) -> float:
        """Share of one core a process used while the timers fired."""
        return self.firing_cpu.get(process, 0.0) / self.firing_seconds if self.firing_seconds else 0.0

    def cpu_ms_per_timer(self, process: str) -> float:
        return self.firing_cpu.get(process, 0.0) * 1000 / max(1, len(self.armed))

    def lateness(self, q: float) -> float:
        return report.percentile([r.lateness_seconds for r in self.armed], q)

    def set_by(self, at: datetime) -> int:
        """How many workflows had set their timer by `at` (from their results:
        each says how long before its instant it set it)."""
        return bisect.bisect_right(self.set_at, at)

    def open_samples(self) -> list[Sample]:
        """The samples taken once every timer was set and before the first was due."""
        if not self.dues:
            return []
        return [s for s in self.samples if s.at < self.dues[0] and self.set_by(s.at) == len(self.armed)]

    def open_rss(self, which: str) -> int:
        """Median RSS while every timer was set and none due yet."""
        values = [s.worker_rss if which == "worker" else s.temporal_rss for s in self.open_samples()]
        return int(statistics.median(values)) if values else 0


def _time(event_time: Timestamp) -> datetime:
    return event_time.ToDatetime(tzinfo=UTC)


async def _parts(handle: WorkflowHandle[TimerWorkflow, TimerResult], due: datetime) -> dict[str, float]:
    """Where a timer's lateness came from, from its workflow's history (seconds)."""
    history = await handle.fetch_history()
    started = fired = picked = completed = None
    scheduled = None
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            started = _time(e.event_time)
            scheduled = started + e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        elif e.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            fired = _time(e.event_time)
        elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED and fired and not picked:
            picked = _time(e.event_time)
        elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            completed = _time(e.event_time)
    if not (started and scheduled and fired and picked and completed):
        return {}
    return {
        "timer scheduled for − due": (scheduled - due).total_seconds(),
        "timer fired − scheduled for": (fired - scheduled).total_seconds(),
        "workflow task started − timer fired": (picked - fired).total_seconds(),
        "workflow completed − workflow task started": (completed - picked).total_seconds(),
        "workflow completed − due": (completed - due).total_seconds(),
    }


Handles = list[WorkflowHandle[TimerWorkflow, TimerResult]]


def start_timer_worker(
    address: str, task_queue: str, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`python -m bench.timer_workflow` as its own process, its output in `log`;
    `env` overrides variables of this environment (WORKER_* settings)."""
    with open(log, "w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.timer_workflow", "--address", address, "--task-queue", task_queue],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**installed_python_env(log.parent / "pycache"), **(env or {})},
        )


def tuning_line(settings: Settings) -> str:
    return (
        f"at most {settings.worker_max_cached_workflows:,} cached workflows,"
        f" {settings.worker_max_concurrent_workflow_tasks} workflow tasks at once,"
        f" {settings.worker_workflow_task_pollers} workflow-task pollers,"
        f" sticky timeout {settings.worker_sticky_timeout_seconds:g} s"
    )


async def start_all(
    client: Client,
    task_queue: str,
    ids: list[str],
    dues: list[datetime],
    *,
    concurrency: int,
    run_timeout: timedelta,
    handles: Handles,
) -> float:
    """Starts one TimerWorkflow per id, `concurrency` in flight, adding each
    handle to `handles` as it starts; returns the seconds it took."""
    step = max(1, len(ids) // 10)

    async def start(i: int) -> None:
        handles.append(
            await client.start_workflow(
                TimerWorkflow.run,
                TimerInput(dues[i].isoformat()),
                id=ids[i],
                task_queue=task_queue,
                run_timeout=run_timeout,  # one that cannot run fails instead of waiting forever
            )
        )
        if len(handles) % step == 0 and len(ids) >= 1000:
            _log(f"{len(handles)} started")

    return await run_concurrently(len(ids), concurrency, start)


async def collect(
    handles: list[WorkflowHandle[TimerWorkflow, TimerResult]], concurrency: int
) -> tuple[list[TimerResult], list[str]]:
    """The result of each (finished) workflow."""
    gate = asyncio.Semaphore(concurrency)
    results: list[TimerResult] = []
    failures: list[str] = []

    async def one(handle: WorkflowHandle[TimerWorkflow, TimerResult]) -> None:
        async with gate:
            try:
                results.append(await handle.result())
            except Exception as err:
                failures.append(f"{handle.id}: {type(err).__name__}: {err}"[:300])

    await asyncio.gather(*(one(h) for h in handles))
    return results, failures


async def running(client: Client, task_queue: str) -> int:
    """Workflows of the task queue still running, from visibility."""
    count = await client.count_workflows(f'TaskQueue = "{task_queue}" AND ExecutionStatus = "Running"')
    return int(count.count)


async def timers(stack: DevStack, n: int, window: float, concurrency: int, logs: Path) -> Timers:
    run = uuid.uuid4().hex[:8]
    task_queue = f"bench-timers-{run}"
    client = await Client.connect(stack.temporal_address)
    temporal = stack_process(stack, "temporal")
    out = Timers(n, window, concurrency)
    log = logs / "timer-worker.log"
    worker = start_timer_worker(stack.temporal_address, task_queue, log)
    try:
        deadline = time.monotonic() + 60
        while READY_LINE not in log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the timer worker did not start:\n" + log.read_text()[-3000:])
            await asyncio.sleep(0.2)
        worker_process = psutil.Process(worker.pid)

        # Probe: the same workflow, due 1 s after its start, so it runs through
        # (not counted). How fast it goes through, starts and the worker's
        # workflow tasks together, places the window after the expected time
        # for the worker to have set every timer.
        k = min(PROBE, max(20, n // 20))
        soon = [datetime.now(UTC) + timedelta(seconds=1)] * k
        probe: Handles = []
        probe_ids = [f"bench-probe-{run}-{i}" for i in range(k)]
        probe_began = time.perf_counter()
        await start_all(
            client,
            task_queue,
            probe_ids,
            soon,
            concurrency=concurrency,
            run_timeout=timedelta(minutes=5),
            handles=probe,
        )
        await collect(probe, concurrency)
        out.probe_rate = k / (time.perf_counter() - probe_began)
        await stack.settle()
        out.worker_rss_idle, out.temporal_rss_idle = rss(worker_process), rss(temporal)
        # Twice the probe's time: with thousands open, the dev server sets timers more
        # slowly than the probe went through (10,000 needed about 1.4 times as long).
        first_due = datetime.now(UTC) + timedelta(seconds=2 * n / out.probe_rate + 30)
        out.dues = [first_due + timedelta(seconds=window * i / n) for i in range(n)]
        _log(
            f"probe: {out.probe_rate:.0f} workflows/s through; starting {n} timer workflows, {concurrency} in flight,"
            f" due {first_due:%H:%M:%S}–{out.dues[-1]:%H:%M:%S} UTC"
        )
        handles: Handles = []
        began = time.perf_counter()
        sampling = True

        async def sample() -> None:
            while sampling:
                try:
                    out.samples.append(
                        Sample(
                            time.perf_counter() - began,
                            datetime.now(UTC),
                            len(handles),
                            rss(worker_process),
                            rss(temporal),
                        )
                    )
                except psutil.Error:
                    return
                await asyncio.sleep(1.0)

        sampler = asyncio.create_task(sample())
        ids = [f"bench-timer-{run}-{i}" for i in range(n)]
        out.start_seconds = await start_all(
            client,
            task_queue,
            ids,
            out.dues,
            concurrency=concurrency,
            run_timeout=out.dues[-1] - datetime.now(UTC) + timedelta(minutes=10),
            handles=handles,
        )
        out.slack_seconds = (first_due - datetime.now(UTC)).total_seconds()
        _log(f"all started in {out.start_seconds:.0f}s; {out.slack_seconds:.0f}s until the first is due")
        await asyncio.sleep(max(0.0, out.slack_seconds - 2))
        cpu_before, firing_began = stack.cpu_seconds(), time.perf_counter()
        worker_cpu_before = cpu_seconds_of(worker_process)
        await asyncio.sleep(2 + window)
        # Wait (polling visibility, not holding thousands of long polls) until every one has woken.
        waited_until = time.monotonic() + 600
        while (left := await running(client, task_queue)) and time.monotonic() < waited_until:
            _log(f"{left} timer workflows still running")
            await asyncio.sleep(2.0)
        out.firing_seconds = time.perf_counter() - firing_began
        out.firing_cpu = cpu_used(cpu_before, stack.cpu_seconds())
        out.firing_cpu["timer worker"] = cpu_seconds_of(worker_process) - worker_cpu_before
        sampling = False
        await sampler
        out.results, out.failures = await collect(handles, concurrency)
        out.set_at = sorted(
            datetime.fromisoformat(r.due) - timedelta(seconds=r.armed_seconds) for r in out.armed
        )
        due_of = dict(zip(ids, out.dues, strict=True))
        chosen = random.Random(0).sample(handles, min(HISTORY_SAMPLE, len(handles)))
        parts = [await _parts(h, due_of[h.id]) for h in chosen]
        out.parts = {key: [p[key] for p in parts if p] for key in (parts[0] if parts else {})}
    finally:
        stop_process(worker)
    return out


# ---- the product's worker ----


@dataclass
class Product:
    r: int
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    worker_before: int = 0
    worker_after: int = 0
    temporal_before: int = 0
    temporal_after: int = 0

    @property
    def done(self) -> int:
        return self.r - len(self.errors)

    def per_commission(self, which: str) -> float:
        before, after = (
            (self.worker_before, self.worker_after)
            if which == "worker"
            else (self.temporal_before, self.temporal_after)
        )
        return (after - before) / self.done if self.done else float("nan")


async def product(stack: DevStack, r: int) -> Product:
    run = uuid.uuid4().hex[:8]
    worker, temporal = stack_process(stack, "worker"), stack_process(stack, "temporal")
    out = Product(r)
    limits = httpx.Limits(max_connections=ENTRUST_CONCURRENCY, max_keepalive_connections=ENTRUST_CONCURRENCY)
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120, limits=limits) as api:
        headers = stack.auth("COURT_1")

        async def entrust(reference: str) -> None:
            response = await api.post("/v1/commissions", json=entrustment(stack, reference), headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code} {response.text[:300]}")

        # The first workflows load the worker's code and sandbox: not counted.
        for i in range(ENTRUST_WARM_UP):
            await entrust(f"TIMERS-{run}-warm-{i}")
        await stack.settle()
        out.worker_before, out.temporal_before = await steady_rss(worker), await steady_rss(temporal)
        _log(f"entrusting {r} commissions, {ENTRUST_CONCURRENCY} in flight")

        async def one(i: int) -> None:
            try:
                await entrust(f"TIMERS-{run}-{i}")
            except Exception as err:
                out.errors.append(f"{type(err).__name__}: {err}"[:300])

        out.seconds = await run_concurrently(r, ENTRUST_CONCURRENCY, one)
        await stack.settle()
        out.worker_after, out.temporal_after = await steady_rss(worker), await steady_rss(temporal)
    return out


# ---- the page ----


def _mib(value: float) -> str:
    return f"{value / MIB:.0f} MiB"


def rss_table(t: Timers) -> str:
    """RSS as the workflows were started and set their timers (a row each
    time another fifth had set theirs), while all waited, and at its peak."""
    rows = [
        "| seconds after the first start | started | timers set | timer worker RSS | Temporal dev server RSS |",
        "|---:|---:|---:|---:|---:|",
        f"| idle | 0 | 0 | {_mib(t.worker_rss_idle)} | {_mib(t.temporal_rss_idle)} |",
    ]
    step, shown = max(1, t.n // 5), 0
    for s in t.samples:
        set_now = t.set_by(s.at)
        if set_now // step > shown and set_now < len(t.armed):
            shown = set_now // step
            rows.append(
                f"| {s.seconds:.0f} | {s.started} | {set_now} | {_mib(s.worker_rss)} | {_mib(s.temporal_rss)} |"
            )
    waiting = t.open_samples()
    if waiting:
        rows.append(
            f"| {waiting[0].seconds:.0f}–{waiting[-1].seconds:.0f} (all set, none due; median) | {t.n} |"
            f" {len(t.armed)} | {_mib(t.open_rss('worker'))} | {_mib(t.open_rss('temporal'))} |"
        )
    if t.samples:
        peak = max(t.samples, key=lambda s: s.worker_rss)
        rows.append(
            f"| peak, at {peak.seconds:.0f} | | | {_mib(peak.worker_rss)} |"
            f" {_mib(max(s.temporal_rss for s in t.samples))} |"
        )
    return "\n".join(rows)


def parts_table(t: Timers) -> str:
    rows = ["| part (seconds) | p50 | p99 | max |", "|---|---:|---:|---:|"]
    for key, values in t.parts.items():
        rows.append(
            f"| {key} | {report.percentile(values, 50):.3f} | {report.percentile(values, 99):.3f} | {max(values):.3f} |"
        )
    return "\n".join(rows)


def headline(t: Timers, p: Product) -> str:
    return (
        f"{len(t.armed)} timers due within {t.window:.0f} s fired late by p50 {t.lateness(50):.2f} s,"
        f" p99 {t.lateness(99):.2f} s, max {t.lateness(100):.2f} s; timer worker RSS"
        f" {_mib(t.open_rss('worker'))} with {t.n} open; product worker"
        f" {p.per_commission('worker') / 1024:.0f} KiB per open commission ({p.done} entrusted)"
    )


def section(t: Timers, p: Product, run: report.Run) -> str:
    not_armed = len(t.results) - len(t.armed)
    growth = t.open_rss("worker") - t.worker_rss_idle
    lines = [
        "## Open timers: lateness when thousands come due at once, memory per open workflow",
        "",
        "Against the Temporal dev server of one `appraisal dev` stack. **Timers:** a benchmark-only",
        "workflow (`bench/timer_workflow.py`) sleeps until a given instant with `workflow.wait_condition`",
        "and a timeout — one durable timer, the mechanism the commission workflow sleeps on until its",
        "next clock rung — and returns how late it woke (`workflow.now()` when it woke minus the instant).",
        "The product's rule table is untouched: its limits are whole working days. The workflow's worker",
        "is its own process tuned as the product's worker is (WORKER_* settings, below; workflows beyond",
        "its cache are replayed from their history when their timer fires). First a",
        "probe of the same workflow, due 1 s after its start (not counted), measures how fast one goes",
        "through (start, set its timer, wake, complete), to place the window late enough;",
        f"then {t.n} of them are started, {t.concurrency} in flight, all due within one {t.window:.0f}-second",
        "window placed after the last expected start. While they wait the worker's RSS is sampled every",
        "second; once visibility shows none running, each result is fetched. **Product worker:**",
        f"{p.r} commissions entrusted through the API (each an open workflow waiting on its acceptance",
        f"clock's timer), after {ENTRUST_WARM_UP} untimed ones, and the product worker's RSS read (median",
        "of 5 samples, the stack idle) before and after.",
        "",
        *run.bullets(),
        f"- Scale: {t.n} timer workflows, {p.r} real commissions",
        f"- Both workers' tuning: {tuning_line(TUNING)}",
        "",
        f"**{headline(t, p)}.**",
        "",
        "| timers | started in | start rate | slack before the first was due | lateness p50 | p99 | max"
        " | last woke after the first was due |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {len(t.armed)} | {t.start_seconds:.0f} s | {t.n / t.start_seconds:.0f}/s | {t.slack_seconds:.0f} s |"
        f" {t.lateness(50):.3f} s | {t.lateness(99):.3f} s | {t.lateness(100):.3f} s | {t.last_woke:.1f} s |",
        "",
        f"Each workflow set its timer between {t.armed_range[0]:.0f} s and {t.armed_range[1]:.0f} s before"
        f" its instant. All were awake {t.last_woke:.1f} s after the first was due:"
        f" {len(t.armed) / max(t.last_woke, t.window):.0f} timers per second end to end (server, worker",
        f"and replays, on this machine). Per timer, while they fired, the dev server used"
        f" {t.cpu_ms_per_timer('temporal dev server'):.0f} ms of CPU and the timer worker"
        f" {t.cpu_ms_per_timer('timer worker'):.0f} ms.",
        *(
            [
                "",
                f"{not_armed} workflows started after their due instant and are left out of the figures.",
            ]
            if not_armed
            else []
        ),
        *(["", f"{len(t.failures)} workflows failed, e.g. `{t.failures[0]}`."] if t.failures else []),
        "",
        f"Where the lateness comes from, in the histories of {sum(1 for _ in next(iter(t.parts.values()), []))}"
        " of them picked at random (the server's event times): a timer's duration is computed",
        "from `workflow.now()` (the start of the workflow task) but the server counts it from when that",
        "task completed, so it is scheduled a little after the due instant; then the server fires it,",
        "the worker picks up the workflow task, replays the workflow if it was not cached, and",
        "completes it.",
        "",
        parts_table(t),
        "",
        f"While they fired ({t.firing_seconds:.0f} s), the timer worker used"
        f" {t.busy('timer worker'):.0%} of one core and the dev server {t.busy('temporal dev server'):.0%}:",
        (
            "the workflow tasks waited at the server, not for a worker that had little to do"
            if t.busy("timer worker") < 0.5
            else "the worker was busy"
        )
        + " (the section on timers due at one instant compares the worker's sticky timeout",
        "and pollers with the dev server's SQLite settings).",
        "",
        "Memory of the timer worker and of the Temporal dev server, sampled every second while the",
        "workflows were started and set their timers (when each set it comes from its result), while",
        "all waited, and at the worker's peak (the first due instant was at"
        f" {t.start_seconds + t.slack_seconds:.0f} s):",
        "",
        rss_table(t),
        "",
        f"With {t.n} open workflows the timer worker held {_mib(growth)} more than idle. It caches at most",
        f"{CACHE:,} workflows, so that is {growth / max(1, min(t.n, CACHE)) / 1024:.0f} KiB per cached"
        " workflow; open workflows beyond the cache cost the worker no memory while they wait, and a",
        "replay from their history when they wake.",
        "",
        f"CPU seconds while the timers fired ({t.firing_seconds:.1f} s from 2 s before the first was due",
        f"until visibility showed none running; {report.cpus()} shared CPUs):",
        "",
        report.cpu_table({"firing": t.firing_cpu}),
        "",
        "| product worker | RSS before | RSS after | per open commission | entrusted in |",
        "|---|---:|---:|---:|---:|",
        f"| `appraisal worker` | {_mib(p.worker_before)} | {_mib(p.worker_after)} |"
        f" {p.per_commission('worker') / 1024:.0f} KiB | {p.seconds:.0f} s ({p.done / p.seconds:.1f}/s) |",
        f"| Temporal dev server | {_mib(p.temporal_before)} | {_mib(p.temporal_after)} |"
        f" {p.per_commission('temporal') / 1024:.0f} KiB | |",
        "",
        (
            f"All {p.done + ENTRUST_WARM_UP} commissions fit the worker's cache of {CACHE:,}. At"
            if p.done + ENTRUST_WARM_UP <= CACHE
            else f"Only {CACHE:,} of the {p.done + ENTRUST_WARM_UP} commissions fit the worker's cache, so the"
            " figure is low. At"
        )
        + f" {p.per_commission('worker') / 1024:.0f} KiB each, a full cache is about"
        f" {_mib(p.worker_before + CACHE * p.per_commission('worker'))} of worker RSS, whatever the number of open",
        "commissions: the others wait in Temporal alone and are replayed from their history (about 20",
        "events by then) when a clock rung wakes them.",
        *(["", f"{len(p.errors)} entrustments failed, e.g. `{p.errors[0]}`."] if p.errors else []),
    ]
    return "\n".join(lines)


async def measure(
    stack: DevStack, n: int, real: int, window: float, concurrency: int
) -> tuple[Timers, Product]:
    with tempfile.TemporaryDirectory(prefix="appraisal-bench-timers-") as logs:
        t = await timers(stack, n, window, concurrency, Path(logs))
    _log(f"timers: p50 {t.lateness(50):.3f}s, p99 {t.lateness(99):.3f}s, max {t.lateness(100):.3f}s late")
    await stack.settle()
    p = await product(stack, real)
    return t, p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, choices=range(100, 50_001), metavar="100..50000")
    parser.add_argument("--real", type=int, default=1000, choices=range(10, 5001), metavar="10..5000")
    parser.add_argument("--window", type=float, default=10.0, help="seconds over which the timers come due")
    parser.add_argument("--concurrency", type=int, default=64, choices=range(1, 257), metavar="1..256")
    parser.add_argument("--timeout", type=float, default=1500, help="seconds for the whole measurement")
    args = parser.parse_args()
    run = report.Run.now(f"bench.{NAME}")
    with DevStack() as stack:
        t, p = asyncio.run(
            asyncio.wait_for(
                measure(stack, args.n, args.real, args.window, args.concurrency), timeout=args.timeout
            )
        )
    print(parts_table(t))
    print(rss_table(t))
    print(report.cpu_table({"firing": t.firing_cpu}))
    report.update_section(NAME, section(t, p, run))
    print(f"open timers: {headline(t, p)}")
    if p.errors or t.failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
