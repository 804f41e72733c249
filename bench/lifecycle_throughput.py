"""Whole-lifecycle throughput: commissions per minute from entrustment to closure, and worker CPU per commission.

Starts `appraisal dev`, then simulated courts, institutions, heads and
appraisers drive N commissions over HTTP, C commissions in flight, each one
through the REST happy path: entrust (court) → accept with two clinical
appraisers (institution) → report (first appraiser) → two signatures (each
appraiser, signed with `appraisal sign` as bench/commissions.py does) →
issue (head) → closure (court). Commissions alternate between the two demo
courts and the two institutions registered for forensic clinical medicine.

The timed part runs from the first entrustment to the last closure's
answer. CPU is taken per process of the stack (as bench/stack.py accounts
it) from just before the first entrustment until every workflow has
completed and the stack is idle again, so work a closure leaves running
(notification deliveries, the workflow's completion) is counted too.

    .venv/bin/python -m bench.lifecycle_throughput [--n 50] [--concurrency 8]
"""

import argparse
import asyncio
import hashlib
import resource
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from temporalio.client import Client

from bench import report
from bench.commissions import CATEGORY, demo_signature, expect
from bench.stack import DevStack, cpu_used

NAME = "lifecycle_throughput"
STEPS = ("entrust", "accept", "report", "sign 1", "sign 2", "issue", "close")
EVENTS = len(STEPS) + 1
"""A closed commission's trail: one event per step and the seal's (`report.sealed`, recorded
beside the main path once the report is issued)."""
SIGNING = "appraisal sign (subprocesses)"


@dataclass(frozen=True)
class Parties:
    """Who acts on one commission: demo principal keys and ids."""

    court: str
    institution: str
    head: str
    institution_id: str
    appraisers: tuple[tuple[str, str], tuple[str, str]]
    """(id, demo principal key) of the two clinical appraisers it accepts with."""


async def clinical_pair(api: httpx.AsyncClient, stack: DevStack, number: int) -> tuple[tuple[str, str], ...]:
    """Two active appraisers of INSTITUTION_<number> registered for forensic
    clinical medicine, as (id, demo principal key)."""
    tokens = stack.tokens()
    response = await api.get(
        "/v1/registry/appraisers",
        params={"institution_id": tokens[f"INSTITUTION_{number}_ID"], "category": CATEGORY},
        headers=stack.auth("COURT_1"),
    )
    response.raise_for_status()
    keys = {value: key.removesuffix("_ID") for key, value in tokens.items() if key.startswith("APPRAISER_")}
    found = [(a["id"], keys[a["id"]]) for a in response.json() if a.get("status", "active") == "active"]
    if len(found) < 2:
        raise RuntimeError(f"fewer than two clinical appraisers in INSTITUTION_{number}: {response.text}")
    return tuple(found[:2])


async def all_parties(api: httpx.AsyncClient, stack: DevStack) -> list[Parties]:
    """Court 1 with institution 1, court 2 with institution 2 (both clinical)."""
    tokens = stack.tokens()
    parties = []
    for number in (1, 2):
        first, second = await clinical_pair(api, stack, number)
        parties.append(
            Parties(
                court=f"COURT_{number}",
                institution=f"INSTITUTION_{number}",
                head=f"HEAD_{number}",
                institution_id=tokens[f"INSTITUTION_{number}_ID"],
                appraisers=(first, second),
            )
        )
    return parties


def entrustment_for(parties: Parties, reference: str) -> dict[str, Any]:
    """The README's designated entrustment, of the given institution."""
    return {
        "court_reference": reference,
        "case_number": "(2026)渝0103民初1234号",
        "category": CATEGORY,
        "matters": ["伤残等级评定"],
        "selection": {"mode": "designated", "institution_id": parties.institution_id},
        "materials": [{"name": "病历", "sha256": hashlib.sha256("病历".encode()).hexdigest()}],
    }


REPORT = {"content": "检验所见……", "opinion": "被鉴定人之损伤构成十级伤残"}


async def drive(
    api: httpx.AsyncClient,
    stack: DevStack,
    parties: Parties,
    reference: str,
    *,
    on_step: Callable[[str, float, dict[str, Any]], Awaitable[None]] | None = None,
    until: str = "close",
    sign: Callable[[str, str], str] = demo_signature,
) -> dict[str, Any]:
    """One commission through the happy path (up to and including step
    `until`); calls on_step(step, seconds, answer) after each step; `sign(appraiser id,
    report hash)` makes each signature. Returns the last answer."""

    async def timed(label: str, call: Awaitable[httpx.Response], *statuses: int) -> dict[str, Any]:
        began = time.perf_counter()
        answer = expect(await call, *statuses)
        if on_step is not None:
            await on_step(label, time.perf_counter() - began, answer)
        return answer

    created = await timed(
        "entrust",
        api.post(
            "/v1/commissions", json=entrustment_for(parties, reference), headers=stack.auth(parties.court)
        ),
        201,
    )
    cid = created["id"]

    async def step(label: str, who: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """After the previous step has reached the read model (X-Min-Seq), as a client that
        reads its own writes takes them (docs/architecture.md, "Consistency")."""
        url = f"/v1/commissions/{cid}/{path}"
        after = {**stack.auth(who), "X-Min-Seq": str(answer["last_event_seq"])}
        return await timed(label, api.post(url, json=body, headers=after), 200)

    answer = created
    (first_id, first), (second_id, second) = parties.appraisers
    if until == "entrust":
        return answer
    body = {"decision": "accept", "appraiser_ids": [first_id, second_id]}
    answer = await step("accept", parties.institution, "acceptance", body)
    if until == "accept":
        return answer
    answer = await step("report", first, "report", REPORT)
    report_hash = str(answer["report"]["content_hash"])
    for label, appraiser_id, key in (("sign 1", first_id, first), ("sign 2", second_id, second)):
        if until == STEPS[STEPS.index(label) - 1]:
            return answer
        signature = await asyncio.to_thread(sign, appraiser_id, report_hash)
        answer = await step(label, key, "signatures", {"kind": "sign", "signature": signature})
    if until == "sign 2":
        return answer
    answer = await step("issue", parties.head, "issue", {})
    if until == "issue":
        return answer
    return await step("close", parties.court, "closure", {})


@dataclass
class Outcome:
    n: int
    concurrency: int
    seconds: float = 0.0
    done: int = 0
    errors: list[str] = field(default_factory=list)
    step_seconds: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    cpu: dict[str, float] = field(default_factory=dict)
    completion_seconds: float = 0.0

    @property
    def per_minute(self) -> float:
        return self.done / self.seconds * 60 if self.seconds else float("nan")

    def cpu_per_commission(self, process: str) -> float:
        return self.cpu.get(process, 0.0) / self.done if self.done else float("nan")

    @property
    def stack_cpu_per_commission(self) -> float:
        """CPU of the product's own processes (not the benchmark, not the signing)."""
        stack = sum(v for k, v in self.cpu.items() if k not in ("benchmark process", SIGNING))
        return stack / self.done if self.done else float("nan")


def _children_cpu() -> float:
    """CPU seconds of this process's reaped children (the `appraisal sign` runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def measure(stack: DevStack, n: int, concurrency: int) -> Outcome:
    run = uuid.uuid4().hex[:8]
    client = await Client.connect(stack.temporal_address)
    outcome = Outcome(n, concurrency)
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120, limits=limits) as api:
        parties = await all_parties(api, stack)
        print("[bench] warm-up: one commission per institution, not timed", flush=True)
        for i, p in enumerate(parties):
            await drive(api, stack, p, f"LIFE-{run}-warm-{i}")
        await stack.settle()

        async def record(label: str, seconds: float, _: dict[str, Any]) -> None:
            outcome.step_seconds[label].append(seconds)

        workflow_ids: list[str] = []
        indexes = iter(range(n))

        async def lane() -> None:
            for i in indexes:
                try:
                    last = await drive(
                        api, stack, parties[i % len(parties)], f"LIFE-{run}-{i}", on_step=record
                    )
                    if last["stage"] != "closed":
                        raise RuntimeError(f"ended in stage {last['stage']}")
                    workflow_ids.append(str(last["workflow_id"]))
                except Exception as err:
                    outcome.errors.append(f"{type(err).__name__}: {err}"[:300])

        print(f"[bench] driving {n} commissions to closure, {concurrency} in flight", flush=True)
        cpu_before, signing_before = stack.cpu_seconds(), _children_cpu()
        began = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        outcome.seconds = time.perf_counter() - began
        outcome.done = len(workflow_ids)
        # Not timed, but its CPU counts: each workflow finishing after its closure.
        await asyncio.wait_for(
            asyncio.gather(*(client.get_workflow_handle(w).result() for w in workflow_ids)), timeout=300
        )
        outcome.completion_seconds = time.perf_counter() - began
        await stack.settle()
        outcome.cpu = cpu_used(cpu_before, stack.cpu_seconds())
        outcome.cpu[SIGNING] = _children_cpu() - signing_before
    return outcome


def step_table(outcome: Outcome) -> str:
    rows = ["| step | p50 ms | p99 ms | max ms |", "|---|---:|---:|---:|"]
    for label in STEPS:
        values = [s * 1000 for s in outcome.step_seconds[label]]
        if values:
            rows.append(
                f"| {label} | {report.percentile(values, 50):.0f} | {report.percentile(values, 99):.0f} |"
                f" {max(values):.0f} |"
            )
    return "\n".join(rows)


def section(outcome: Outcome, run: report.Run) -> str:
    worker = outcome.cpu_per_commission("worker")
    signing = outcome.cpu.get(SIGNING, 0.0)
    errors = (
        [f"- {len(outcome.errors)} commissions failed, e.g. `{outcome.errors[0]}`"] if outcome.errors else []
    )
    lines = [
        "## Whole lifecycle throughput",
        "",
        f"Against one `appraisal dev` stack: {outcome.n} commissions, {outcome.concurrency} in flight, each",
        "driven over HTTP by simulated parties from entrustment to closure: entrust (court) → accept",
        "with two clinical appraisers (institution) → report (appraiser) → two signatures (each",
        "appraiser, signed with `appraisal sign`) → issue (head) → closure (court). Commissions alternate",
        "between court 1 / institution 1 and court 2 / institution 2. One commission per institution",
        "is driven first as an untimed warm-up. Timed: from the first entrustment to the last",
        "closure's answer. CPU: per process of the stack, from the first entrustment until every",
        "workflow has completed and the stack is idle again.",
        "",
        *run.bullets(),
        "",
        "| commissions | in flight | seconds | commissions per minute | worker CPU s per commission |",
        "|---:|---:|---:|---:|---:|",
        f"| {outcome.done} | {outcome.concurrency} | {outcome.seconds:.1f} | {outcome.per_minute:.1f} |"
        f" {worker:.2f} |",
        "",
        f"**{outcome.per_minute:.1f} commissions per minute end to end; the worker used"
        f" {worker:.2f} CPU s per commission.**",
        *(["", *errors] if errors else []),
        "",
        "Latency of each step as the parties saw it (all commissions of the timed part):",
        "",
        step_table(outcome),
        "",
        f"CPU seconds each process used ({outcome.completion_seconds:.1f} s from the first entrustment until",
        f"every workflow had completed, then until idle; {report.cpus()} shared CPUs). The signatures",
        "are computed the way the product tells demo appraisers to, one `appraisal sign` process",
        f"each ({signing:.1f} CPU s in all, on the benchmark's side: a real appraiser signs on their",
        "own machine), and that competes with the stack for the same cores:",
        "",
        report.cpu_table({"lifecycle": outcome.cpu}, calls={"lifecycle": max(outcome.done, 1)}),
        "",
        "(per call = per commission.) "
        f"Busiest process: {report.busiest(outcome.cpu, outcome.completion_seconds)}.",
        "",
        f"The product's own processes used {outcome.stack_cpu_per_commission:.2f} CPU s per commission, so",
        f"{report.cpus()} cores doing nothing else would close at most"
        f" {60 * report.cpus() / outcome.stack_cpu_per_commission:.0f} commissions per minute; the figure above is",
        "lower because the cores were shared with the signing processes and other work.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, choices=range(1, 1001), metavar="1..1000")
    parser.add_argument("--concurrency", type=int, default=8, choices=range(1, 65), metavar="1..64")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the whole measurement")
    args = parser.parse_args()
    run = report.Run.now(f"bench.{NAME}")
    with DevStack() as stack:
        outcome = asyncio.run(
            asyncio.wait_for(measure(stack, args.n, args.concurrency), timeout=args.timeout)
        )
    print(step_table(outcome))
    print(report.cpu_table({"lifecycle": outcome.cpu}, calls={"lifecycle": max(outcome.done, 1)}))
    for error in outcome.errors[:3]:
        print(f"  error: {error}")
    report.update_section(NAME, section(outcome, run))
    print(
        f"lifecycle throughput: {outcome.per_minute:.1f} commissions/min"
        f" ({outcome.done} of {outcome.n} closed in {outcome.seconds:.1f}s, {outcome.concurrency} in flight);"
        f" worker {outcome.cpu_per_commission('worker'):.2f} CPU s per commission"
    )
    if outcome.errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
