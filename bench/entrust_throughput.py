"""Entrustment throughput: POST /v1/commissions vs raw start_workflow (target API/raw ≥ 0.5).

Starts `appraisal dev`, then in the same run and against the same Temporal
dev server:

1. API: N entrustments (distinct court references) through POST
   /v1/commissions with C requests in flight (asyncio + httpx.AsyncClient);
   each answers 201 once its workflow has recorded the entrustment.
2. raw: N `client.start_workflow` calls of an empty workflow
   (bench/empty_workflow.py, with a worker on its own task queue in this
   process), C in flight.
3. floor: N update-with-start calls of a workflow whose Update answers at
   once (the least a call answered "once the workflow has run" can cost on
   this server), C in flight.

Prints the rates and the ratios API/raw (the issue's target) and API/floor.

    .venv/bin/python -m bench.entrust_throughput [--n 200] [--concurrency 16]
"""

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from bench import report
from bench.commissions import entrustment
from bench.empty_workflow import EmptyWorkflow, UpdateTargetWorkflow
from bench.stack import DevStack, cpu_used

NAME = "entrust_throughput"
TARGET = 0.5
WARM_UP = 4


@dataclass
class Rate:
    done: int
    errors: list[str]
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.done / self.seconds


def per_call(rate: Rate, process: str) -> float:
    """CPU ms one process used per call."""
    return rate.cpu.get(process, 0.0) * 1000 / max(1, rate.done)


def cpu_ms(rate: Rate) -> float:
    """CPU ms every process (the benchmark's too: the raw side's worker runs in it) used per call."""
    return sum(per_call(rate, name) for name in rate.cpu)


def ratio(api: Rate, raw: Rate) -> float:
    return api.per_second / raw.per_second if raw.per_second else float("nan")


async def run_concurrently(
    n: int, concurrency: int, one: Callable[[int], Awaitable[None]], cpu: Callable[[], dict[str, float]]
) -> Rate:
    """Calls one(0..n-1) with `concurrency` calls in flight; times the whole
    batch and takes the CPU each process used meanwhile."""
    indexes = iter(range(n))
    errors: list[str] = []

    async def lane() -> None:
        for i in indexes:
            try:
                await one(i)
            except Exception as err:
                errors.append(f"{type(err).__name__}: {err}"[:300])

    cpu_before, began = cpu(), time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    seconds = time.perf_counter() - began
    return Rate(n - len(errors), errors, seconds, cpu_used(cpu_before, cpu()))


async def api_rate(stack: DevStack, run: str, n: int, concurrency: int) -> Rate:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60, limits=limits) as api:
        headers = stack.auth("COURT_1")

        async def entrust(reference: str) -> None:
            response = await api.post("/v1/commissions", json=entrustment(stack, reference), headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code} {response.text}")

        for i in range(WARM_UP):
            await entrust(f"BENCH-{run}-warm-{i}")
        return await run_concurrently(
            n, concurrency, lambda i: entrust(f"BENCH-{run}-{i}"), stack.cpu_seconds
        )


async def raw_rate(stack: DevStack, client: Client, run: str, n: int, concurrency: int) -> Rate:
    task_queue = f"bench-empty-{run}"
    handles: list[WorkflowHandle[EmptyWorkflow, None]] = []

    async def start(workflow_id: str) -> None:
        handles.append(await client.start_workflow(EmptyWorkflow.run, id=workflow_id, task_queue=task_queue))

    async with Worker(client, task_queue=task_queue, workflows=[EmptyWorkflow]):
        for i in range(WARM_UP):
            await start(f"bench-empty-{run}-warm-{i}")
        rate = await run_concurrently(
            n, concurrency, lambda i: start(f"bench-empty-{run}-{i}"), stack.cpu_seconds
        )
        # Not timed: let the worker finish them, so that the dev server is left idle.
        await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), timeout=120)
    return rate


async def floor_rate(stack: DevStack, client: Client, run: str, n: int, concurrency: int) -> Rate:
    task_queue = f"bench-floor-{run}"

    async def update_with_start(workflow_id: str) -> None:
        start = WithStartWorkflowOperation(
            UpdateTargetWorkflow.run,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await client.execute_update_with_start_workflow(
            UpdateTargetWorkflow.step, workflow_id, start_workflow_operation=start
        )

    async with Worker(client, task_queue=task_queue, workflows=[UpdateTargetWorkflow]):
        for i in range(WARM_UP):
            await update_with_start(f"bench-floor-{run}-warm-{i}")
        return await run_concurrently(
            n, concurrency, lambda i: update_with_start(f"bench-floor-{run}-{i}"), stack.cpu_seconds
        )


async def measure(stack: DevStack, n: int, concurrency: int) -> tuple[Rate, Rate, Rate]:
    run = uuid.uuid4().hex[:8]
    client = await Client.connect(stack.temporal_address)
    await stack.settle()
    print(f"[bench] API: {n} entrustments, {concurrency} in flight", flush=True)
    api = await api_rate(stack, run, n, concurrency)
    await stack.settle()
    print(f"[bench] raw: {n} start_workflow of an empty workflow, {concurrency} in flight", flush=True)
    raw = await raw_rate(stack, client, run, n, concurrency)
    await stack.settle()
    print(f"[bench] floor: {n} update-with-start of a trivial workflow, {concurrency} in flight", flush=True)
    floor = await floor_rate(stack, client, run, n, concurrency)
    return api, raw, floor


def section(api: Rate, raw: Rate, floor: Rate, *, n: int, concurrency: int, run: report.Run) -> str:
    api_over_raw = ratio(api, raw)
    verdict = "meets" if api_over_raw >= TARGET else "misses"
    sides = {"API": api, "raw": raw, "floor": floor}
    errors = [
        f"- {len(r.errors)} {name} errors, e.g. `{r.errors[0]}`" for name, r in sides.items() if r.errors
    ]
    lines = [
        "## Entrustment throughput",
        "",
        f"Against one `appraisal dev` stack, in the same run: {n} entrustments (distinct court",
        f"references) through `POST /v1/commissions` with {concurrency} requests in flight, each",
        "answered once its workflow has recorded the entrustment (update-with-start, the calendar years",
        "its clock plans on loaded in a local activity, the audit/read-model write in an activity); then,",
        "on the same Temporal",
        "dev server, as many raw `client.start_workflow` calls of an empty workflow",
        "(`bench/empty_workflow.py`, its worker in the benchmark process), and as many update-with-start",
        "calls of a workflow whose Update answers at once (the floor for any call answered once its",
        "workflow has run), as many in flight. Each side has a short sequential",
        f"warm-up ({WARM_UP} calls) that is not timed, and before each side the script waits",
        f"(untimed, at most 30 s) until the stack's processes are idle. Target: API/raw ≥ {TARGET}.",
        "",
        *run.bullets(),
        "",
        "| path | done | seconds | per second |",
        "|---|---:|---:|---:|",
        f"| API `POST /v1/commissions` | {api.done} | {api.seconds:.2f} | {api.per_second:.1f} |",
        f"| raw `start_workflow` (empty workflow) | {raw.done} | {raw.seconds:.2f} | {raw.per_second:.1f} |",
        f"| floor: update-with-start (trivial Update) | {floor.done} | {floor.seconds:.2f} |"
        f" {floor.per_second:.1f} |",
        "",
        f"**API/raw = {api_over_raw:.2f} — {verdict} the target of ≥ {TARGET}; API/floor ="
        f" {ratio(api, floor):.2f}.**",
        *(["", *errors] if errors else []),
        "",
        "CPU seconds each process used during each timed part (wall seconds above; the machine",
        f"had {report.cpus()} CPUs, shared with whatever else was running):",
        "",
        report.cpu_table(
            {name: r.cpu for name, r in sides.items()}, calls={name: r.done for name, r in sides.items()}
        ),
        "",
        f"Busiest process while the API part ran: {report.busiest(api.cpu, api.seconds)}.",
        "",
        f"An entrustment cost {cpu_ms(api):.0f} ms of CPU in all, a raw start {cpu_ms(raw):.0f} ms and"
        f" a trivial update-with-start {cpu_ms(floor):.0f} ms.",
        f"The API itself used {per_call(api, 'api'):.0f} ms of it; the rest is the Temporal work an"
        " entrustment is (update-with-start, its workflow tasks in the worker's sandbox, the calendar",
        "years its clock plans on in a local activity, the hash-chained audit event with the read model and the",
        "inbox in one transaction in an activity) in the dev server, the worker and PostgreSQL.",
        "A raw start answers once the dev server has stored the start: no worker has run the",
        "workflow yet. An entrustment answers with the commission as recorded (the contract's 201 body,",
        "its deadline computed, the audit trail written), so it costs at least the floor, and the",
        "product's own work comes on top; `bench.profile_worker` shows where the worker's share goes.",
        "The stack keeps Python's bytecode caches (in its temporary folder), as an",
        "installed product does: without them the worker's workflow sandbox compiles the workflow modules",
        "again for every workflow it creates.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, choices=range(1, 2001), metavar="1..2000")
    parser.add_argument("--concurrency", type=int, default=16, choices=range(1, 65), metavar="1..64")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the whole measurement")
    args = parser.parse_args()
    run = report.Run.now(f"bench.{NAME}")
    with DevStack() as stack:
        api, raw, floor = asyncio.run(
            asyncio.wait_for(measure(stack, args.n, args.concurrency), timeout=args.timeout)
        )
    sides = {"API": api, "raw": raw, "floor": floor}
    for name, rate in sides.items():
        print(
            f"  {name:<5} {rate.done} in {rate.seconds:.2f}s = {rate.per_second:.1f}/s, {len(rate.errors)} errors"
        )
        for error in rate.errors[:3]:
            print(f"       {error}")
    print(report.cpu_table({k: r.cpu for k, r in sides.items()}, calls={k: r.done for k, r in sides.items()}))
    report.update_section(NAME, section(api, raw, floor, n=args.n, concurrency=args.concurrency, run=run))
    print(
        f"entrustment throughput API/raw: {ratio(api, raw):.2f} (API {api.per_second:.1f}/s,"
        f" raw {raw.per_second:.1f}/s; target ≥ {TARGET}); API/floor {ratio(api, floor):.2f}"
        f" (floor {floor.per_second:.1f}/s)"
    )


if __name__ == "__main__":
    main()
