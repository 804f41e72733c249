"""Soak drill: the lifecycle at a steady rate for half an hour while every piece is killed
at random moments, again and again; nothing may be lost.

The actors begin N commissions spread over `--ramp` seconds (default 600 over 1500 s, a
steady stream). Once the share `--fault-at` of all steps is answered, chaos runs for
`--outage` seconds (default 1500): after a pause of 20 to 90 s, one of the worker
(SIGKILL), the API (SIGKILL), the Temporal dev server (SIGTERM, as an orchestrator stops
it) and PostgreSQL (SIGINT, its fast shutdown) goes down for 2 to 20 s and is started
again, then the next; the choices come from a fixed seed, so a run can be repeated. Loopback
only, every process the stack's own. Then every commission must be closed, with exactly its
expected audit events (no gap, no repeat), a chain that verifies, listed once, its workflow
completed.

    .venv/bin/python -m bench.drills.soak [--n 600] [--ramp 1500] [--outage 1500]

Exits 1 if anything was lost, 2 if nothing was but some answer was unexpected; the
verdict is the last line printed, and docs/benchmarks.md gets the figures (the recovery
figures of the table are the last fault's).
"""

import random
import sys
import time

from bench.drills.drill import Drill, Timeline, main
from bench.drills.stack import PiecesStack, log

SEED = 20261203
PAUSE_SECONDS = (20.0, 90.0)
OUTAGE_SECONDS = (2.0, 20.0)
faults: list[str] = []
"""What chaos did, for the page: `+<s>: <piece> down <s>`."""


def take_down(stack: PiecesStack, piece: str) -> None:
    if piece in ("worker", "api"):
        stack.pieces[piece].kill()
    else:
        stack.pieces[piece].stop(timeout=60)


def bring_back(stack: PiecesStack, piece: str) -> None:
    {
        "worker": stack.start_worker,
        "api": stack.start_api,
        "temporal": stack.start_temporal,
        "postgresql": stack.start_postgres,
    }[piece]()


def chaos(stack: PiecesStack, timeline: Timeline, duration: float) -> None:
    chance = random.Random(SEED)
    ends = time.monotonic() + duration
    while time.monotonic() + PAUSE_SECONDS[0] < ends:
        time.sleep(chance.uniform(*PAUSE_SECONDS))  # running undisturbed between faults
        piece = chance.choice(["worker", "api", "temporal", "postgresql"])
        outage = chance.uniform(*OUTAGE_SECONDS)
        timeline.mark("fault")
        take_down(stack, piece)
        time.sleep(outage)  # the deliberate outage
        bring_back(stack, piece)
        timeline.mark("back")
        faults.append(f"+{timeline['fault'] - timeline.began:.0f}s: {piece} down {outage:.0f}s")
        log(f"chaos: {faults[-1]}; {len(faults)} faults so far")


DRILL = Drill(
    name="soak",
    title="Soak: half an hour of the lifecycle, every piece killed again and again",
    fault=(
        "A steady stream of commissions; chaos then takes one piece down at a time, at random "
        "(fixed seed): the worker or the API with SIGKILL, the Temporal dev server with SIGTERM, "
        "PostgreSQL with SIGINT, each for 2 to 20 s after 20 to 90 s of quiet, until the chaos time "
        "below is over. The recovery figures below are those of the last fault."
    ),
    inject=chaos,
    outage=1500,
    outage_help="seconds the chaos goes on (default %(default)s)",
    faults=lambda: faults,
)

if __name__ == "__main__":
    if "--n" not in sys.argv:
        sys.argv += ["--n", "600"]
    if "--ramp" not in sys.argv:
        sys.argv += ["--ramp", "1500"]
    if "--timeout" not in sys.argv:
        sys.argv += ["--timeout", "3000"]
    main(DRILL, __doc__ or "")
