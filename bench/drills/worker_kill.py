"""Fault drill: kill -9 the worker mid-run, start it again; nothing may be lost.

With N commissions in flight (default 200; `--n` to scale), once a share of
all their steps is answered (`--fault-at`), the worker process — found by its
command line, `appraisal.cli worker` — gets SIGKILL. After `--outage`
seconds a new worker is started and waits until Temporal lists it as a
poller of the task queue. Then every commission must complete, with exactly
its expected audit events and a chain that verifies.

    .venv/bin/python -m bench.drills.worker_kill [--n 200] [--outage 5]

Exits 1 if anything was lost, 2 if nothing was but some answer was
unexpected (a 500, a 404 for a commission that exists, …); the verdict is the
last line printed, and docs/benchmarks.md gets the figures.
"""

import time

import psutil

from bench.drills.drill import Drill, Timeline, main
from bench.drills.stack import PiecesStack, log


def kill_worker(stack: PiecesStack, timeline: Timeline, outage: float) -> None:
    worker = stack.pieces["worker"]
    command = psutil.Process(worker.pid).cmdline()
    if command[-2:] != ["appraisal.cli", "worker"]:
        raise RuntimeError(f"pid {worker.pid} is not the worker: {command}")
    timeline.mark("fault")
    worker.kill()
    log(f"killed the worker (pid {worker.history[-1].pid}) with SIGKILL; restarting it in {outage:.0f}s")
    time.sleep(outage)  # the deliberate outage
    stack.start_worker()
    log(f"new worker (pid {worker.pid}) is polling")
    timeline.mark("back")


DRILL = Drill(
    name="worker_kill",
    title="worker killed with SIGKILL",
    fault=(
        "Once the share of steps below is answered, the worker process (`appraisal worker`, "
        "found by its command line) is killed with SIGKILL (`kill -9`): its workflow tasks, "
        "activities and local activities in progress die with it. After the outage below a new "
        "worker is started; it counts as back once Temporal lists it among the task queue's pollers."
    ),
    inject=kill_worker,
    outage=5,
    outage_help="seconds between the kill and starting a new worker (default %(default)s)",
)

if __name__ == "__main__":
    main(DRILL, __doc__ or "")
