"""After a drill: was anything lost?

For every commission the actors drove:

- its read model says `closed` (GET /v1/commissions/{id}, waited for within
  a bound);
- its audit trail (GET /v1/commissions/{id}/audit) is exactly the happy
  path's seven events in order and the seal's once after the issue, seq 1..8
  with no gap and no repeat, each signature by a different assigned appraiser;
- GET /v1/commissions/{id}/verify answers `ok` over those eight events and
  two signatures;
- its workflow has completed in Temporal (waited for within a bound: it ends
  once its notification deliveries have);

and the court's list holds each court reference of the run exactly once."""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus

from bench.drills.actors import EXPECTED_EVENTS, SEALED_EVENT, Actors, Commission, StepFailed
from bench.drills.stack import PiecesStack, log

EVENTS = len(EXPECTED_EVENTS) + 1
"""A closed commission's: the happy path's and the seal's."""
PARALLEL_READS = 8


@dataclass
class Findings:
    commissions: int
    entrusted: int = 0
    closed: int = 0
    events: int = 0
    verified: int = 0
    signatures_checked: int = 0
    completed: int = 0
    listed_once: int = 0
    problems: list[str] = field(default_factory=list)
    # From the completed workflows' histories: retried activities, workflow tasks that
    # timed out or failed, and how many history events there were.
    history: Counter[str] = field(default_factory=Counter)

    @property
    def expected_events(self) -> int:
        return self.commissions * EVENTS

    @property
    def lost(self) -> bool:
        return bool(self.problems)


def _trail_problems(c: Commission, trail: list[dict[str, Any]], appraiser_ids: set[str]) -> list[str]:
    name = f"#{c.index + 1} ({c.id})"
    problems = []
    seqs = [int(e["seq"]) for e in trail]
    repeated = sorted(s for s, n in Counter(seqs).items() if n > 1)
    if repeated:
        problems.append(f"{name}: seq repeated in its audit trail: {repeated}")
    missing = sorted(set(range(1, EVENTS + 1)) - set(seqs))
    if missing:
        problems.append(f"{name}: audit events missing: seq {missing}")
    kinds = [str(e["kind"]) for e in sorted(trail, key=lambda e: int(e["seq"]))]
    main_path = [k for k in kinds if k != SEALED_EVENT]
    sealed_after_issue = kinds.count(SEALED_EVENT) == 1 and kinds[: kinds.index(SEALED_EVENT)].count(
        "report.issued"
    )
    if main_path != EXPECTED_EVENTS or not sealed_after_issue:
        problems.append(
            f"{name}: audit events {kinds}, expected {EXPECTED_EVENTS} and {SEALED_EVENT} after the issue"
        )
    signers = [str(e["actor_organisation_id"]) for e in trail if e["kind"] == "report.signed"]
    if sorted(signers) != sorted(appraiser_ids) and len(signers) == 2:
        problems.append(f"{name}: signed by {signers}, expected each of {sorted(appraiser_ids)} once")
    return problems


async def _check_one(
    actors: Actors, c: Commission, findings: Findings, *, within: float, deadline: float
) -> None:
    name = f"#{c.index + 1} ({c.id or c.reference})"
    if not c.id:
        findings.problems.append(f"{name}: never entrusted")
        return
    findings.entrusted += 1
    court = actors.actors["COURT_1"]
    base = f"/v1/commissions/{c.id}"
    try:
        snapshot = await actors.read(court, base, within=within)
        while snapshot["stage"] != "closed" and time.monotonic() < deadline:
            await asyncio.sleep(1)
            snapshot = await actors.read(court, base, within=within)
        if snapshot["stage"] == "closed":
            findings.closed += 1
        else:
            findings.problems.append(f"{name}: stage {snapshot['stage']}, not closed")
        trail = list(await actors.read(court, f"{base}/audit", within=within))
        while len(trail) < EVENTS and time.monotonic() < deadline:  # the seal, retried beside the path
            await asyncio.sleep(1)
            trail = list(await actors.read(court, f"{base}/audit", within=within))
        findings.events += len(trail)
        findings.problems += _trail_problems(c, trail, {a for a, _ in actors.appraisers})
        verdict = dict(await actors.read(court, f"{base}/verify", within=within))
        findings.signatures_checked += int(verdict.get("signatures_checked", 0))
        if verdict.get("ok") and verdict.get("events") == EVENTS:
            findings.verified += 1
        else:
            findings.problems.append(f"{name}: GET /verify answered {verdict}")
    except StepFailed as err:
        findings.problems.append(f"{name}: could not be read: {err}")


async def _check_list(
    actors: Actors, commissions: list[Commission], findings: Findings, within: float
) -> None:
    court = actors.actors["COURT_1"]
    court_id = actors.stack.tokens()["COURT_1_ID"]
    seen: Counter[str] = Counter()
    offset = 0
    while True:
        page = await actors.read(
            court, f"/v1/commissions?court_id={court_id}&limit=200&offset={offset}", within=within
        )
        seen.update(str(item["court_reference"]) for item in page["items"])
        offset += len(page["items"])
        if not page["items"] or offset >= int(page["total"]):
            break
    for c in commissions:
        if seen[c.reference] == 1:
            findings.listed_once += 1
        else:
            findings.problems.append(
                f"#{c.index + 1}: listed {seen[c.reference]} times for its court_reference"
            )


async def _check_workflows(
    stack: PiecesStack, commissions: list[Commission], findings: Findings, deadline: float
) -> None:
    client = await Client.connect(stack.temporal_address)
    pending = [c for c in commissions if c.workflow_id]
    last: dict[str, str] = {}
    gate = asyncio.Semaphore(PARALLEL_READS)

    async def status(c: Commission) -> WorkflowExecutionStatus | None:
        async with gate:
            try:
                return (await client.get_workflow_handle(c.workflow_id).describe()).status
            except Exception as err:
                last[c.workflow_id] = f"{type(err).__name__}: {err}"
                return None

    while pending:
        statuses = await asyncio.gather(*(status(c) for c in pending))
        for c, found in zip(pending, statuses, strict=True):
            if found is not None:
                last[c.workflow_id] = found.name
        pending = [
            c for c, s in zip(pending, statuses, strict=True) if s != WorkflowExecutionStatus.COMPLETED
        ]
        if not pending or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    findings.completed = sum(1 for c in commissions if c.workflow_id) - len(pending)
    for c in pending:
        findings.problems.append(f"#{c.index + 1}: workflow {c.workflow_id} is {last.get(c.workflow_id)}")

    async def count(c: Commission) -> None:
        async with gate:
            history = await client.get_workflow_handle(c.workflow_id).fetch_history()
        findings.history["history events"] += len(history.events)
        for event in history.events:
            if event.HasField("activity_task_started_event_attributes"):
                if event.activity_task_started_event_attributes.attempt > 1:
                    findings.history["activities that needed more than one attempt"] += 1
            elif event.HasField("workflow_task_timed_out_event_attributes"):
                findings.history["workflow tasks timed out"] += 1
            elif event.HasField("workflow_task_failed_event_attributes"):
                findings.history["workflow tasks failed"] += 1

    await asyncio.gather(*(count(c) for c in commissions if c.workflow_id))


async def check(
    stack: PiecesStack, actors: Actors, commissions: list[Commission], *, settle: float
) -> Findings:
    """Every check above; waits at most `settle` seconds for stragglers."""
    findings = Findings(len(commissions))
    deadline = time.monotonic() + settle
    log(f"checking {len(commissions)} commissions: read model, audit trail, /verify, list, Temporal")
    gate = asyncio.Semaphore(PARALLEL_READS)

    async def one(c: Commission) -> None:
        async with gate:
            await _check_one(actors, c, findings, within=settle, deadline=deadline)

    await asyncio.gather(*(one(c) for c in commissions))
    await _check_list(actors, commissions, findings, settle)
    await _check_workflows(stack, commissions, findings, deadline)
    return findings
