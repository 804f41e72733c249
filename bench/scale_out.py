"""Scaling out: the whole lifecycle on one worker and one API, then on two of each.

Starts the stack piece by piece (bench/drills/stack.py: PostgreSQL, the Temporal dev
server, `appraisal worker`, `appraisal api`), drives N commissions through the REST
happy path (bench/lifecycle_throughput.py's `drive`, C in flight), then starts a second
`appraisal worker` on the same task queue and a second `appraisal api` on a port of its
own and drives N more, the lanes alternating between the two APIs as a round-robin load
balancer would. Signatures are made in this process with the demo keys (the lifecycle
benchmark spawns `appraisal sign` per signature, whose CPU would bound both rounds).
Afterwards every commission of both rounds must verify (`GET /v1/commissions/{id}/verify`,
eight events, two signatures).

    .venv/bin/python -m bench.scale_out [--n 100] [--concurrency 12]
"""

import argparse
import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field

import httpx

from appraisal.core.signing import demo_private_key, sign, signed_message
from bench import report
from bench.drills.stack import PiecesStack
from bench.lifecycle_throughput import EVENTS, all_parties, drive
from bench.stack import cpu_used

NAME = "scale_out"


def demo_sign(appraiser_id: str, report_hash: str) -> str:
    return sign(demo_private_key(appraiser_id), signed_message("sign", report_hash))


@dataclass
class Round:
    label: str
    workers: int
    apis: int
    seconds: float = 0.0
    closed: list[tuple[str, str]] = field(default_factory=list)
    """(commission id, the court's demo key) of each commission closed."""
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def per_minute(self) -> float:
        return len(self.closed) / self.seconds * 60 if self.seconds else float("nan")

    def cpu_of(self, prefix: str) -> float:
        """CPU s per commission of every piece whose name starts with `prefix`."""
        used = sum(v for k, v in self.cpu.items() if k.startswith(prefix))
        return used / len(self.closed) if self.closed else float("nan")


async def drive_round(stack: PiecesStack, urls: list[str], n: int, concurrency: int, result: Round) -> None:
    run = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2)
    apis = [httpx.AsyncClient(base_url=url, timeout=120, limits=limits) for url in urls]
    try:
        parties = await all_parties(apis[0], stack)
        for i, (api, p) in enumerate(itertools.product(apis, parties)):  # warm-up, not timed
            await drive(api, stack, p, f"SCALE-{run}-warm-{i}", sign=demo_sign)
        await stack.settle()
        indexes = iter(range(n))

        async def lane(api: httpx.AsyncClient) -> None:
            for i in indexes:
                p = parties[i % len(parties)]
                try:
                    last = await drive(api, stack, p, f"SCALE-{run}-{i}", sign=demo_sign)
                    if last["stage"] != "closed":
                        raise RuntimeError(f"ended in stage {last['stage']}")
                    result.closed.append((str(last["id"]), p.court))
                except Exception as err:
                    result.errors.append(f"{type(err).__name__}: {err}"[:300])

        before = stack.cpu_seconds()
        began = time.perf_counter()
        await asyncio.gather(*(lane(apis[k % len(apis)]) for k in range(concurrency)))
        result.seconds = time.perf_counter() - began
        await stack.settle()
        result.cpu = cpu_used(before, stack.cpu_seconds())
    finally:
        for api in apis:
            await api.aclose()


async def unverified(stack: PiecesStack, closed: list[tuple[str, str]]) -> list[str]:
    """The commissions whose chain does not verify with its eight events and two signatures."""
    failures = []
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as api:
        for commission_id, court in closed:
            answer = await api.get(f"/v1/commissions/{commission_id}/verify", headers=stack.auth(court))
            verdict = answer.json() if answer.status_code == 200 else {}
            if not (
                verdict.get("ok")
                and verdict.get("events") == EVENTS
                and verdict.get("signatures_checked") == 2
            ):
                failures.append(f"{commission_id}: {answer.status_code} {answer.text[:200]}")
    return failures


def section(rounds: list[Round], failures: list[str], args: argparse.Namespace, run: report.Run) -> str:
    one, two = rounds
    ratio = two.per_minute / one.per_minute
    verified = sum(len(r.closed) for r in rounds) - len(failures)
    rows = [
        f"| {r.workers} | {r.apis} | {len(r.closed)}/{args.n} | {r.seconds:.1f} | {r.per_minute:.1f} |"
        f" {r.cpu_of('worker'):.3f} | {r.cpu_of('api'):.3f} | {r.cpu_of('temporal'):.3f} |"
        for r in rounds
    ]
    lines = [
        "## Scaling out: two workers and two APIs",
        "",
        f"The stack piece by piece; {args.n} commissions through the REST happy path ({args.concurrency}",
        "in flight) on one `appraisal worker` and one `appraisal api`, then a second worker on the same",
        "task queue and a second API on a port of its own, and as many commissions again, the lanes",
        "alternating between the two APIs as a round-robin load balancer would. Signatures are made",
        "in the benchmark process with the demo keys. Timed: from the first entrustment of a round",
        "to the last closure's answer; CPU per commission over the same span, until idle.",
        "",
        *run.bullets(),
        "",
        "| workers | APIs | closed | seconds | per minute | worker CPU s | API CPU s | Temporal CPU s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"**Two workers and two APIs: {two.per_minute:.1f} commissions per minute against"
        f" {one.per_minute:.1f} on one of each ({ratio:.2f}×); {verified}/{verified + len(failures)}"
        " chains verify.**",
        "",
        f"On {report.cpus()} shared cores the second pair of processes adds no CPU: the Temporal dev",
        "server, PostgreSQL and the benchmark itself run on the same cores, so what the ratio shows is",
        "that the product runs correctly spread over several workers and API processes (every chain",
        "whole, nothing lost) and what it costs in coordination, not what more machines would give.",
    ]
    if failures:
        lines += ["", "Chains that did not verify:", "", *(f"- {f}" for f in failures[:10])]
    for r in rounds:
        if r.errors:
            lines += ["", f"{r.label}: {len(r.errors)} commissions failed, e.g. `{r.errors[0]}`"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, choices=range(1, 1001), metavar="1..1000")
    parser.add_argument("--concurrency", type=int, default=12, choices=range(2, 65), metavar="2..64")
    args = parser.parse_args()
    run = report.Run.now(f"bench.{NAME}")
    rounds = [Round("one of each", 1, 1), Round("two of each", 2, 2)]
    with PiecesStack() as stack:
        asyncio.run(drive_round(stack, [stack.api_url], args.n, args.concurrency, rounds[0]))
        stack.add_worker("worker 2")
        second_api = stack.add_api("api 2")
        asyncio.run(drive_round(stack, [stack.api_url, second_api], args.n, args.concurrency, rounds[1]))
        failures = asyncio.run(unverified(stack, rounds[0].closed + rounds[1].closed))
    report.update_section(NAME, section(rounds, failures, args, run))
    one, two = rounds
    print(
        f"scale out: {two.per_minute:.1f} commissions/min on two workers and two APIs,"
        f" {one.per_minute:.1f} on one of each ({two.per_minute / one.per_minute:.2f}x);"
        f" {len(failures)} chains that do not verify"
    )
    if failures or one.errors or two.errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
