"""Where the worker's CPU goes per entrustment: py-spy samples of the worker of
`appraisal dev` while N entrustments go through `POST /v1/commissions`.

Starts the stack, warms it up (untimed), waits until it is idle, then records
the worker process with py-spy (`--nonblocking`, so the worker is never
paused) for the N entrustments, C in flight. Each sample is put in the first
part of the work its stack shows (creating the workflow's sandbox, running its
workflow task, recording the event, loading calendar years, the Temporal bridge,
PostgreSQL I/O …); the table gives each part's share of the worker's samples.

    .venv/bin/python -m bench.profile_worker [--n 200] [--concurrency 16]
"""

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

import psutil

from bench import report
from bench.entrust_throughput import api_rate
from bench.stack import DevStack, cpu_seconds_of

NAME = "profile_worker"
WARM_UP = 20

PARTS = [
    ("creating the workflow's sandbox (re-importing its module, `@workflow.defn`)", "_create_instance"),
    ("recording an event (activity: audit chain, read model, inbox)", "record_commission_event"),
    ("loading the calendar years a workflow plans on (local activity)", "calendar_years"),
    ("planning a clock (an older history's local activity)", "plan_clock"),
    ("running workflow code (activations in the sandbox)", "_Instance.activate"),
    ("other activity plumbing", "_handle_start_activity_task"),
    ("Temporal bridge: polls and completions", "temporalio/bridge"),
    ("SQLAlchemy/asyncpg outside those (sessions, pool)", "sqlalchemy"),
    ("event loop and threads waking each other", "_write_to_self"),
]
"""(label, a frame that marks it); a sample goes to the first part whose frame its stack holds."""


def worker_process(stack: DevStack) -> psutil.Process:
    assert stack.process is not None
    for process in psutil.Process(stack.process.pid).children(recursive=True):
        try:
            command = process.cmdline()
        except psutil.Error:
            continue
        if "appraisal.cli" in command and command[-1] == "worker":
            return process
    raise RuntimeError("no worker process under appraisal dev")


def py_spy() -> str:
    return str(Path(sys.executable).parent / "py-spy")


def parts_of(raw: Path) -> tuple[Counter[str], int]:
    """Samples per part from py-spy's raw output (`frame;frame;… count` per line)."""
    counted: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        label = next((label for label, frame in PARTS if frame in stack), "the rest (idle threads, unknown)")
        counted[label] += samples
    return counted, total


def largest(counted: Counter[str]) -> str:
    return max((label for label, _ in PARTS), key=lambda label: counted[label])


def section(counted: Counter[str], total: int, *, n: int, cpu_ms: float, run: report.Run) -> str:
    rows = ["| part | share of the worker's samples |", "|---|---:|"]
    for label, _ in [*PARTS, ("the rest (idle threads, unknown)", "")]:
        rows.append(f"| {label} | {counted[label] * 100 / max(total, 1):.1f} % |")
    return "\n".join(
        [
            "## Where the worker's CPU goes per entrustment",
            "",
            f"py-spy sampled the worker of one `appraisal dev` stack while {n} entrustments went",
            "through `POST /v1/commissions` (after an untimed warm-up). Each sample is counted in the first",
            "part its stack shows.",
            "",
            *run.bullets(),
            f"- Samples: {total}",
            "",
            f"**The worker used {cpu_ms:.0f} ms of CPU per entrustment; the largest named part:"
            f" {largest(counted)} ({counted[largest(counted)] * 100 / max(total, 1):.0f} % of its samples).**",
            "",
            *rows,
            "",
            "What the profile led to: the commission starts its testimony child by name, so a",
            "commission's sandbox no longer imports the child's module; clocks are planned in the",
            "workflow on the calendar years it holds (no local activity per plan); the workflows'",
            "stateless helper modules (clock, recording, versions, search attributes, validation) are",
            "shared by the sandbox like the domain package, while each workflow's own module is still",
            "executed afresh in its sandbox, which keeps the sandbox's isolation of workflow code.",
            "Recording each event in a local activity inside the step's workflow task (no second task",
            'per step) was tried twice and reverted twice (docs/architecture.md, "One workflow per',
            'commission"): an effect written before its workflow task is durable can outlive the task.',
        ]
    )


async def profile(stack: DevStack, n: int, concurrency: int, raw: Path) -> float:
    run = uuid.uuid4().hex[:8]
    await api_rate(stack, f"{run}w", WARM_UP, 4)
    await stack.settle()
    worker = worker_process(stack)
    before = cpu_seconds_of(worker)
    command = ["record", "--pid", str(worker.pid), "--format", "raw", "--rate", "200", "--nonblocking"]
    spy = await asyncio.create_subprocess_exec(
        py_spy(),
        *command,
        "--output",
        str(raw),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        rate = await api_rate(stack, run, n, concurrency)
    finally:
        spy.send_signal(signal.SIGINT)
        await asyncio.wait_for(spy.wait(), timeout=60)
    return (cpu_seconds_of(worker) - before) * 1000 / max(1, rate.done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, choices=range(20, 2001), metavar="20..2000")
    parser.add_argument("--concurrency", type=int, default=16, choices=range(1, 65), metavar="1..64")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("py-spy needs to trace the worker process: run as root")
    run = report.Run.now(f"bench.{NAME}")
    with tempfile.TemporaryDirectory(prefix="appraisal-bench-profile-") as folder:
        raw = Path(folder) / "worker.txt"
        with DevStack() as stack:
            cpu_ms = asyncio.run(profile(stack, args.n, args.concurrency, raw))
        counted, total = parts_of(raw)
    text = section(counted, total, n=args.n, cpu_ms=cpu_ms, run=run)
    print(text)
    report.update_section(NAME, text)
    part = largest(counted)
    print(
        f"worker: {cpu_ms:.0f} CPU ms per entrustment; largest part: {part} ({counted[part] * 100 / total:.0f} %)"
    )


if __name__ == "__main__":
    main()
