"""Fault drill: stop the Temporal dev server mid-run, start it again; nothing may be lost.

With N commissions in flight (default 200; `--n` to scale), once a share of
all their steps is answered (`--fault-at`), the Temporal dev server gets
SIGTERM and is waited for; after `--outage` seconds it is started again with
the same command: the same port and the same `--db-filename`. Meanwhile the
API answers 503 to steps (the actors count them and retry). Then every
commission must complete, with exactly its expected audit events and a chain
that verifies.

    .venv/bin/python -m bench.drills.temporal_restart [--n 200] [--outage 10]

Exits 1 if anything was lost, 2 if nothing was but some answer was
unexpected (a 500, a 404 for a commission that exists, …); the verdict is the
last line printed, and docs/benchmarks.md gets the figures.
"""

import time

from bench.drills.drill import Drill, Timeline, main
from bench.drills.stack import PiecesStack, log


def restart_temporal(stack: PiecesStack, timeline: Timeline, outage: float) -> None:
    temporal = stack.pieces["temporal"]
    timeline.mark("fault")
    took = temporal.stop(timeout=60)
    log(f"the Temporal dev server stopped {took:.1f}s after SIGTERM; starting it again in {outage:.0f}s")
    time.sleep(outage)  # the deliberate outage
    stack.start_temporal()
    timeline.mark("back")


DRILL = Drill(
    name="temporal_restart",
    title="Temporal dev server restarted",
    fault=(
        "Once the share of steps below is answered, the Temporal dev server gets SIGTERM and is "
        "waited for; after the outage below it is started again with the same command (same port, "
        "same `--db-filename`), and counts as back once it answers `GetSystemInfo`. The worker and "
        "the API keep running and reconnect by themselves."
    ),
    inject=restart_temporal,
    outage=10,
    outage_help="seconds the Temporal dev server stays down (default %(default)s)",
)

if __name__ == "__main__":
    main(DRILL, __doc__ or "")
