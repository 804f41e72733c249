"""One institution step: POST /v1/commissions/{id}/acceptance vs a raw Temporal Update (p50, p99, ratio).

Starts `appraisal dev`, entrusts S commissions (not timed), starts S
trivial workflows (bench/empty_workflow.py `UpdateTargetWorkflow`, its
worker on its own task queue in this process) on the same Temporal dev
server and waits until each has run its first workflow task (not timed);
then, one request at a time and alternating so that both sides see the same
machine, times S acceptances through the API (each on its own commission)
and S raw `execute_update` calls (each on its own trivial workflow).

    .venv/bin/python -m bench.update_latency [--samples 100]
"""

import argparse
import asyncio
import time
import uuid
from dataclasses import dataclass

import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from bench import report
from bench.commissions import acceptance, clinical_appraisers, entrust, expect
from bench.empty_workflow import UpdateTargetWorkflow
from bench.stack import DevStack, cpu_used

NAME = "update_latency"
PREPARE_CONCURRENCY = 8


@dataclass
class Latencies:
    api_ms: list[float]
    raw_ms: list[float]
    seconds: float
    cpu: dict[str, float]

    def p(self, side: str, q: float) -> float:
        return report.percentile(self.api_ms if side == "api" else self.raw_ms, q)

    def ratio(self, q: float) -> float:
        return self.p("api", q) / self.p("raw", q)


async def prepare_commissions(api: httpx.AsyncClient, stack: DevStack, run: str, samples: int) -> list[str]:
    """Entrusts `samples` commissions (awaiting acceptance), a few at a time."""
    gate = asyncio.Semaphore(PREPARE_CONCURRENCY)

    async def one(i: int) -> str:
        async with gate:
            return str((await entrust(api, stack, f"BENCH-{run}-{i}"))["id"])

    return list(await asyncio.gather(*(one(i) for i in range(samples))))


async def prepare_workflows(
    client: Client, task_queue: str, run: str, samples: int
) -> list[WorkflowHandle[UpdateTargetWorkflow, None]]:
    """Starts `samples` trivial workflows and waits until each has run its
    first workflow task (a query answers only then)."""
    gate = asyncio.Semaphore(PREPARE_CONCURRENCY)

    async def one(i: int) -> WorkflowHandle[UpdateTargetWorkflow, None]:
        async with gate:
            handle = await client.start_workflow(
                UpdateTargetWorkflow.run, id=f"bench-update-{run}-{i}", task_queue=task_queue
            )
            await handle.query(UpdateTargetWorkflow.ready)
            return handle

    return list(await asyncio.gather(*(one(i) for i in range(samples))))


async def measure(stack: DevStack, samples: int) -> Latencies:
    run = uuid.uuid4().hex[:8]
    task_queue = f"bench-update-{run}"
    client = await Client.connect(stack.temporal_address)
    async with (
        httpx.AsyncClient(base_url=stack.api_url, timeout=60) as api,
        Worker(client, task_queue=task_queue, workflows=[UpdateTargetWorkflow]),
    ):
        ids = [appraiser_id for appraiser_id, _ in await clinical_appraisers(api, stack)]
        print(f"[bench] preparing {samples} commissions and {samples} trivial workflows", flush=True)
        commissions = await prepare_commissions(api, stack, run, samples)
        workflows = await prepare_workflows(client, task_queue, run, samples)
        await stack.settle()
        headers, body = stack.auth("INSTITUTION_1"), acceptance(ids)
        api_ms: list[float] = []
        raw_ms: list[float] = []
        print(f"[bench] timing {samples} acceptances and {samples} raw Updates, alternating", flush=True)
        cpu_before, began = stack.cpu_seconds(), time.perf_counter()
        for cid, handle in zip(commissions, workflows, strict=True):
            t0 = time.perf_counter()
            response = await api.post(f"/v1/commissions/{cid}/acceptance", json=body, headers=headers)
            t1 = time.perf_counter()
            expect(response, 200)
            answer = await handle.execute_update(UpdateTargetWorkflow.step, cid)
            t2 = time.perf_counter()
            if answer != cid:
                raise RuntimeError(f"the trivial workflow answered {answer!r}")
            api_ms.append((t1 - t0) * 1000)
            raw_ms.append((t2 - t1) * 1000)
        seconds = time.perf_counter() - began
        cpu = cpu_used(cpu_before, stack.cpu_seconds())
        # Not timed: each trivial workflow completes once it has answered its Update.
        await asyncio.wait_for(asyncio.gather(*(h.result() for h in workflows)), timeout=120)
    return Latencies(api_ms, raw_ms, seconds, cpu)


def section(result: Latencies, *, samples: int, run: report.Run) -> str:
    rows = [
        ("API `POST /v1/commissions/{id}/acceptance`", "api"),
        ("raw `execute_update` on a trivial workflow", "raw"),
    ]
    lines = [
        "## One institution step: API vs raw Update latency",
        "",
        f"{samples} acceptances (`POST /v1/commissions/{{id}}/acceptance`, two clinical appraisers,",
        "each on its own freshly entrusted commission) through the API of one `appraisal dev`",
        f"stack, and {samples} raw Temporal Updates (`execute_update`) on as many trivial workflows",
        "(`bench/empty_workflow.py`, whose handler answers at once; its worker runs in the",
        "benchmark process) on the same Temporal dev server. One request at a time, alternating",
        "API and raw, so both sides see the same moments of a noisy machine. An acceptance is",
        "an Update too, but its handler also plans the examination clock (in the workflow, on the",
        "calendar years it holds) and appends its event, which an activity records in PostgreSQL",
        "after the answer; and the API first reads the commission from PostgreSQL to check scope",
        "(and its token's organisation in the registry). Preparing both sides is not timed;",
        "after it the script waits (at most 30 s) until the stack's processes are idle.",
        "",
        *run.bullets(),
        "",
        f"**One acceptance through the API: p50 {result.p('api', 50):.0f} ms, p99 {result.p('api', 99):.0f} ms;"
        f" API/raw {result.ratio(50):.1f} at p50, {result.ratio(99):.1f} at p99.**",
        "",
        "| path | p50 ms | p99 ms | min ms | max ms |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {label} | {result.p(side, 50):.1f} | {result.p(side, 99):.1f} |"
            f" {result.p(side, 0):.1f} | {result.p(side, 100):.1f} |"
            for label, side in rows
        ),
        f"| **ratio API/raw** | **{result.ratio(50):.1f}** | **{result.ratio(99):.1f}** | | |",
        "",
        f"CPU seconds each process used while the {2 * samples} timed requests ran",
        f"({result.seconds:.1f} s of wall time on {report.cpus()} shared CPUs):",
        "",
        report.cpu_table({"timed part": result.cpu}),
        "",
        f"Busiest process: {report.busiest(result.cpu, result.seconds)}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100, choices=range(1, 1001), metavar="1..1000")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the whole measurement")
    args = parser.parse_args()
    run = report.Run.now(f"bench.{NAME}")
    with DevStack() as stack:
        result = asyncio.run(asyncio.wait_for(measure(stack, args.samples), timeout=args.timeout))
    for side in ("api", "raw"):
        print(f"  {side:<4} p50 {result.p(side, 50):7.1f} ms   p99 {result.p(side, 99):7.1f} ms")
    print(report.cpu_table({"timed part": result.cpu}))
    report.update_section(NAME, section(result, samples=args.samples, run=run))
    print(
        f"acceptance step API/raw Update latency: p50 {result.ratio(50):.1f}x"
        f" ({result.p('api', 50):.1f} vs {result.p('raw', 50):.1f} ms),"
        f" p99 {result.ratio(99):.1f}x ({result.p('api', 99):.1f} vs {result.p('raw', 99):.1f} ms)"
    )


if __name__ == "__main__":
    main()
