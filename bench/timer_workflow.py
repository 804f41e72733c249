"""A benchmark-only workflow that holds one durable timer, and a worker for it.

`TimerWorkflow` sleeps until a given instant the way the commission workflow
sleeps until its next statutory-clock rung (`CommissionWorkflow.
_sleep_until_next_rung`): `workflow.wait_condition` on a flag with a timeout,
i.e. one Temporal timer, then reports how late it woke. The product's rule
table is not involved: its limits are whole working days, far too long to
wait for in a benchmark.

Run as a module it is a worker process for it (bench/open_timers.py starts
it, so that the worker's memory can be read apart from the benchmark's):

    .venv/bin/python -m bench.timer_workflow --address 127.0.0.1:7233 --task-queue bench-timers
"""

import argparse
import asyncio
import contextlib
import signal
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow

READY_LINE = "timer worker polling"


@dataclass
class TimerInput:
    due: str
    """The instant the timer should fire, ISO 8601 with its offset (a string:
    inside the sandbox a `datetime` field would not convert)."""


@dataclass
class TimerResult:
    due: str
    """The input's instant, echoed."""
    armed_seconds: float
    """How far ahead of `due` the workflow was when it set its timer (≤ 0: it
    started too late and did not wait; such a run says nothing about timers)."""
    lateness_seconds: float
    """workflow.now() when it woke (the start of the workflow task that saw
    the timer fire) minus `due`."""


@workflow.defn
class TimerWorkflow:
    def __init__(self) -> None:
        self.changed = False  # like clocks_changed: a step would set it; nothing does here

    @workflow.run
    async def run(self, inp: TimerInput) -> TimerResult:
        due = datetime.fromisoformat(inp.due)
        ahead = due - workflow.now()
        if ahead > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.changed, timeout=ahead, timeout_summary="benchmark timer"
                )
        return TimerResult(inp.due, ahead.total_seconds(), (workflow.now() - due).total_seconds())


async def serve(address: str, task_queue: str) -> None:
    """A worker tuned as the product's worker is (the WORKER_* settings of this
    environment, the sandboxed runner), until SIGINT or SIGTERM."""
    from temporalio.client import Client
    from temporalio.worker import Worker

    from appraisal.core.settings import Settings
    from appraisal.worker import worker_tuning

    # Run as `python -m`, this file is `__main__`; the sandbox re-imports a
    # workflow by its module, so register the class of the importable module.
    from bench.timer_workflow import TimerWorkflow as Importable

    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Worker(client, task_queue=task_queue, workflows=[Importable], **worker_tuning(Settings())):
        print(READY_LINE, flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="host:port of the Temporal frontend")
    parser.add_argument("--task-queue", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.address, args.task_queue))


if __name__ == "__main__":
    main()
