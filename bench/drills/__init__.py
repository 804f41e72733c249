"""Fault drills: break one piece of the stack in the middle of a run and check
that nothing was lost.

    .venv/bin/python -m bench.drills.worker_kill       # kill -9 the worker, start a new one
    .venv/bin/python -m bench.drills.temporal_restart  # SIGTERM the Temporal dev server, start it again
    .venv/bin/python -m bench.drills.postgres_outage   # PostgreSQL down for 30 s (--outage)

Each one assembles the stack from the pieces `appraisal dev` runs (stack.py:
`appraisal dev` gives up as soon as a child exits), drives N commissions
(default 200, `--n` to scale) through the REST happy path with simulated
actors that retry as a careful client would (actors.py), injects its fault
once a share of the steps is answered (drill.py), checks every commission's
read model, audit trail, /verify, listing and workflow (checks.py), prints
evidence for anything odd (evidence.py: the requests, the Temporal history,
the API's and worker's ERROR records), writes its section of
docs/benchmarks.md (`<!-- bench:drill_<name> -->`), and prints its verdict
as the last line. Every wait is bounded; only 127.0.0.1 is spoken to; every
process started is stopped.

Exit status: 0 nothing lost and every answer as expected; 1 something was
lost (a commission not closed, an audit event missing or repeated, a chain
that does not verify, a workflow not completed, a step that never got
through); 2 nothing lost, but some answer was unexpected (a 500, a 409 to a
first attempt, …).
"""
