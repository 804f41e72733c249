"""Fault drill: PostgreSQL down for 30 seconds mid-run; nothing may be lost.

With N commissions in flight (default 200; `--n` to scale), once a share of
all their steps is answered (`--fault-at`), PostgreSQL is stopped (SIGINT,
its fast shutdown, which ends open sessions too), stays down `--outage`
seconds (default 30), and is started again on the same port and data. The
API answers 503 meanwhile (the actors count them and retry); the activities
that record audit events and the read model fail and are retried by
Temporal. Then every commission must catch up and complete, with exactly its
expected audit events and a chain that verifies.

    .venv/bin/python -m bench.drills.postgres_outage [--n 200] [--outage 30]

Exits 1 if anything was lost, 2 if nothing was but some answer was
unexpected (a 500, a 404 for a commission that exists, …); the verdict is the
last line printed, and docs/benchmarks.md gets the figures.
"""

import time

from bench.drills.drill import Drill, Timeline, main
from bench.drills.stack import PiecesStack, log


def postgres_outage(stack: PiecesStack, timeline: Timeline, outage: float) -> None:
    postgres = stack.pieces["postgresql"]
    timeline.mark("fault")
    took = postgres.stop(timeout=60)
    log(f"PostgreSQL stopped {took:.1f}s after SIGINT; starting it again in {outage:.0f}s")
    time.sleep(outage)  # the deliberate outage
    stack.start_postgres()
    timeline.mark("back")


DRILL = Drill(
    name="postgres_outage",
    title="PostgreSQL down for 30 seconds",
    fault=(
        "Once the share of steps below is answered, PostgreSQL is stopped with SIGINT (its fast "
        "shutdown: open sessions end too, so every pooled connection of the API and the worker "
        "dies), stays down for the outage below, and is started again on the same port and data "
        "folder; it counts as back once it accepts connections."
    ),
    inject=postgres_outage,
    outage=30,
    outage_help="seconds PostgreSQL stays down (default %(default)s)",
)

if __name__ == "__main__":
    main(DRILL, __doc__ or "")
