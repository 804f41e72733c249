"""What the three drills share: drive N commissions, inject one fault when a
given share of all steps is done, let everything finish, check that nothing
was lost, print and record the figures.

A drill's fault is a blocking function run in a thread beside the actors:
it marks `fault` when it strikes, sleeps the deliberate outage, brings the
piece back, and marks `back` once the piece is serving again."""

import argparse
import asyncio
import dataclasses
import itertools
import shlex
import shutil
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from bench import report
from bench.drills.actors import STEPS, Actors, Commission, StepRecord, Tally, run_all, wall
from bench.drills.checks import Findings, check
from bench.drills.evidence import exception_summary, history_story, log_errors
from bench.drills.stack import PiecesStack, log

DEFAULT_N = 200
EVIDENCE_COMMISSIONS = 3


@dataclass
class Timeline:
    """Moments of the fault, in time.monotonic() seconds."""

    marks: dict[str, float] = field(default_factory=dict)
    began: float = field(default_factory=time.monotonic)

    def mark(self, label: str) -> None:
        self.marks[label] = time.monotonic()
        log(f"{label} at +{self.marks[label] - self.began:.1f}s ({wall()} UTC)")

    def __getitem__(self, label: str) -> float:
        return self.marks[label]


Inject = Callable[[PiecesStack, Timeline, float], None]


@dataclass(frozen=True)
class Drill:
    name: str  # module name, e.g. "worker_kill"
    title: str  # section heading
    fault: str  # what the fault does, for the page (markdown)
    inject: Inject
    outage: float  # default deliberate outage, seconds
    outage_help: str
    faults: Callable[[], list[str]] | None = None  # what a drill of many faults did, for the page


@dataclass
class Outcome:
    n: int
    args: argparse.Namespace
    tally: Tally
    timeline: Timeline
    findings: Findings
    at_fault: Counter[str]
    drive_seconds: float
    timed_out: bool
    evidence: dict[str, list[str]] = field(default_factory=dict)
    total_seconds: float = 0.0
    log_errors: dict[str, list[str]] = field(default_factory=dict)  # piece → "n × last line"

    # ---- figures ----

    def _ok(self) -> list[StepRecord]:
        return [r for r in self.tally.records if r.ok]

    def first_ok_after_back(self) -> float | None:
        back = self.timeline["back"]
        ends = [r.ended for r in self._ok() if r.ended >= back]
        return min(ends) - back if ends else None

    def interrupted(self) -> list[StepRecord]:
        """Steps under way at the fault or begun before the piece was back."""
        fault, back = self.timeline["fault"], self.timeline["back"]
        return [r for r in self.tally.records if r.began <= back and (not r.ok or r.ended >= fault)]

    def all_caught_up(self) -> float | None:
        """Fault → the last interrupted step answered (None if one never was)."""
        steps = self.interrupted()
        if not steps or not all(r.ok for r in steps):
            return None
        return max(r.ended for r in steps) - self.timeline["fault"]

    def last_answered(self, count: int = 5) -> str:
        """The interrupted steps answered last: which steps bound the recovery."""
        fault = self.timeline["fault"]
        done = sorted((r for r in self.interrupted() if r.ok), key=lambda r: r.ended, reverse=True)
        return ", ".join(f"{r.step} {r.ended - fault:.1f}" for r in done[:count]) or "none"

    def longest_gap(self) -> float:
        """The longest time, from the fault on, in which no step succeeded."""
        fault = self.timeline["fault"]
        ends = sorted(r.ended for r in self._ok() if r.ended >= fault)
        points = [fault, *ends]
        return max((b - a for a, b in itertools.pairwise(points)), default=0.0)

    def unavailable_during(self) -> int:
        fault, back = self.timeline["fault"], self.timeline["back"]
        return sum(1 for t in self.tally.unavailable_at if fault <= t <= back)

    @property
    def lost(self) -> bool:
        return self.findings.lost or bool(self.tally.failed) or self.timed_out

    def verdict(self, drill: Drill) -> str:
        f = self.findings
        caught_up = self.all_caught_up()
        recovered = f"{caught_up:.1f} s" if caught_up is not None else "never"
        figures = (
            f"{f.closed}/{self.n} commissions closed, {f.events}/{f.expected_events} audit events, "
            f"{f.verified}/{self.n} chains verify; every interrupted step answered {recovered} after the fault"
        )
        if self.lost:
            return f"{drill.name}: LOST — {figures}; {len(f.problems) + len(self.tally.failed)} problems"
        odd = len(self.tally.unexpected)
        suffix = f"; but {odd} unexpected answers (see above)" if odd else ""
        return f"{drill.name}: nothing lost — {figures}{suffix}"


def wrap(text: str) -> str:
    return textwrap.fill(text, width=90, break_long_words=False, break_on_hyphens=False)


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def notes(outcome: Outcome) -> list[str]:
    """What a reader should not miss, beyond the table: answers that broke the API's contract."""
    tally, found = outcome.tally, []
    if tally.after_503_only:
        found.append(
            f"{len(tally.after_503_only)} steps were answered 503 “nothing was changed” although "
            "they had gone through: retried, they got 409 and the commission was already past them "
            "(the drill prints, for the first three, every request with its times and the workflow's "
            "Update events: the step's Update was accepted before the fault and completed after)."
        )
    errors = Counter(u.status for u in tally.unexpected)
    if errors[500]:
        found.append(
            f"{errors[500]} step requests were answered 500 instead of 503; the API's ERROR records "
            "above name the exceptions."
        )
    dropped = {k: v for k, v in tally.transport.items() if k != "ReadTimeout"}
    if dropped:
        found.append(
            "Connections the API closed without a complete answer: "
            + ", ".join(f"{k} {v}" for k, v in sorted(dropped.items()))
            + " (retried like a 503)."
        )
    return [*(wrap(f"**Found:** {text}") + "\n" for text in found)]


def section(drill: Drill, outcome: Outcome, run: report.Run) -> str:
    t, f, tally, args = outcome.timeline, outcome.findings, outcome.tally, outcome.args
    fault, back = t["fault"], t["back"]
    stages = ", ".join(f"{stage} {count}" for stage, count in outcome.at_fault.most_common())
    requests = sum(tally.statuses.values()) + sum(tally.transport.values())
    transport = ", ".join(f"{k} {v}" for k, v in tally.transport.most_common()) or "none"
    by_dependency = ", ".join(f"{k} {v}" for k, v in tally.unavailable.most_common()) or "none"
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items()))
    scale = (
        ""
        if outcome.n == DEFAULT_N
        else f" (the default is {DEFAULT_N}; this recorded run used {outcome.n} to keep the run short)"
    )
    lines = [
        f"## Fault drill: {drill.title}",
        "",
        wrap(drill.fault),
        "",
        wrap(
            "The stack is assembled from the pieces `appraisal dev` runs (embedded PostgreSQL, the "
            "Temporal dev server with its `--db-filename`, `appraisal worker`, `appraisal api`, after "
            "`appraisal migrate` and `seed`; temporary data folder, free ports on 127.0.0.1), because "
            "`appraisal dev` stops everything as soon as one child exits. Simulated actors (court "
            "clerk, intake desk, two appraisers signing at once, head) take every commission through "
            "entrust → acceptance → report → two signatures → issue → closure over HTTP, with at most "
            f"{args.concurrency} requests in flight and a client timeout of {args.client_timeout:.0f} s. "
            "They retry a step on 503 and on a dropped or timed-out request with a jittered backoff "
            "(0.25 s doubling to 5 s); a 409 `not_in_stage`/`already_signed` after such a retry counts "
            "as done only if the commission is already past that step. The fault strikes once "
            f"{args.fault_at:.0%} of all steps have been answered. Afterwards every commission must be "
            "closed, have exactly its eight audit events (the seven steps in order, the seal after the "
            "issue; seq 1..8, no gap, no repeat), verify "
            "(GET /verify), be listed once for its court reference, and its workflow must have "
            "completed in Temporal."
        ),
        "",
        *run.bullets(),
        f"- Commissions: {outcome.n}{scale}",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| commissions closed | {f.closed}/{outcome.n} |",
        f"| audit events (expected {f.expected_events}) | {f.events} |",
        f"| chains that verify (GET /verify ok, 8 events) | {f.verified}/{outcome.n} |",
        f"| signatures checked by /verify | {f.signatures_checked} |",
        f"| workflows completed in Temporal | {f.completed}/{outcome.n} |",
        f"| their history events | {f.history['history events']} |",
        "| activities that needed more than one attempt (from the histories) |"
        f" {f.history['activities that needed more than one attempt']} |",
        "| workflow tasks timed out / failed (from the histories) |"
        f" {f.history['workflow tasks timed out']} / {f.history['workflow tasks failed']} |",
        f"| court references listed exactly once | {f.listed_once}/{outcome.n} |",
        f"| fault → {drill.name.split('_')[0]} back and serving | {back - fault:.1f} s |",
        f"| back → first step answered | {_seconds(outcome.first_ok_after_back())} |",
        f"| longest time without any step answered (from the fault) | {outcome.longest_gap():.1f} s |",
        f"| **time to recover: fault → every interrupted step answered** | **{_seconds(outcome.all_caught_up())}** |",
        f"| steps interrupted (under way at the fault or begun before back) | {len(outcome.interrupted())} |",
        f"| the last interrupted steps answered (s after the fault) | {outcome.last_answered()} |",
        f"| all {outcome.n * len(STEPS)} steps answered in | {outcome.drive_seconds:.1f} s |",
        f"| whole drill (stack up, drive, checks, stack down) | {outcome.total_seconds:.0f} s |",
        f"| step requests sent | {requests} |",
        f"| 503 answers (all / while the piece was down) | {sum(tally.unavailable.values())} / {outcome.unavailable_during()} |",
        f"| 503 answers by dependency | {by_dependency} |",
        f"| requests dropped or timed out (client side) | {transport} |",
        f"| retries | {tally.retries} |",
        f"| 409 after a retried step, commission already past it: done | {len(tally.resolved_409)} |",
        f"| … of which every earlier attempt had answered 503 “nothing was changed” | {len(tally.after_503_only)} |",
        f"| entrustments repeated after an unclear answer, answered 200 | {tally.repeats_200} |",
        f"| unexpected answers | {len(tally.unexpected)} |",
        "",
        wrap(
            f"HTTP statuses of step requests: {statuses}. Stage each commission had reached when "
            f"the fault struck: {stages}."
        ),
        "",
    ]
    if tally.unavailable_messages:
        lines += ["503 messages:", ""]
        lines += [f"- {n} × “{m}”" for m, n in tally.unavailable_messages.most_common()]
        lines.append("")
    for piece, summary in outcome.log_errors.items():
        if summary:
            lines += [f"ERROR records in the {piece}'s log (last line of each traceback):", ""]
            lines += [f"- {x}" for x in summary[:5]]
            lines.append("")
    if tally.unexpected:
        lines += ["Unexpected answers (first five):", ""]
        for u in tally.unexpected[:5]:
            lines.append(
                f"- {u.at - fault:+.1f} s from the fault, #{u.commission + 1} {u.step}, attempt"
                f" {u.attempt}: {u.status} `{u.body[:200]}`"
            )
        lines.append("")
    if drill.faults is not None:
        done = drill.faults()
        lines += [f"Faults ({len(done)}, from the start of the drive):", "", *(f"- {x}" for x in done), ""]
    problems = [*tally.failed, *f.problems]
    if problems:
        lines += [f"Problems ({len(problems)}; first ten):", ""]
        lines += [f"- {p}" for p in problems[:10]]
        lines.append("")
    lines += [*notes(outcome), f"**{outcome.verdict(drill)}.**"]
    return "\n".join(lines)


async def _drive(stack: PiecesStack, drill: Drill, args: argparse.Namespace) -> Outcome:
    n = args.n
    total_steps = n * len(STEPS)
    timeline = Timeline()
    async with Actors(
        stack,
        concurrency=args.concurrency,
        timeout=args.client_timeout,
        step_deadline=args.step_deadline,
        think=args.think,
    ) as actors:
        commissions = [Commission(i, actors.reference(i)) for i in range(n)]
        at_fault: Counter[str] = Counter()
        finished = asyncio.Event()

        async def fault_when_due() -> None:
            threshold = int(total_steps * args.fault_at)
            while actors.tally.steps_done() < threshold:
                if finished.is_set():
                    raise RuntimeError("every commission finished before the fault was due")
                await asyncio.sleep(0.1)
            at_fault.update(c.stage for c in commissions)
            log(f"{actors.tally.steps_done()}/{total_steps} steps answered; stages now {dict(at_fault)}")
            await asyncio.to_thread(drill.inject, stack, timeline, args.outage)

        async def progress() -> None:
            while True:
                await asyncio.sleep(15)
                done = sum(1 for c in commissions if c.done)
                log(
                    f"+{time.monotonic() - timeline.began:.0f}s: {actors.tally.steps_done()}/{total_steps}"
                    f" steps, {done}/{n} closed, 503s {sum(actors.tally.unavailable.values())},"
                    f" retries {actors.tally.retries}"
                )

        faulting = asyncio.create_task(fault_when_due())
        printing = asyncio.create_task(progress())
        timed_out = False
        began = time.monotonic()
        try:
            await asyncio.wait_for(run_all(actors, commissions, ramp=args.ramp), timeout=args.timeout)
        except TimeoutError:
            timed_out = True
            log(f"the commissions were not all through within {args.timeout:.0f}s")
        drive_seconds = time.monotonic() - began
        finished.set()
        printing.cancel()
        await faulting  # re-raises if the fault failed or never struck
        log(f"every step answered in {drive_seconds:.1f}s; {actors.tally.retries} retries")
        findings = await check(stack, actors, commissions, settle=args.settle)
        outcome = Outcome(n, args, actors.tally, timeline, findings, at_fault, drive_seconds, timed_out)
        outcome.evidence = await _evidence(stack, commissions, actors.tally)
        for piece in ("api", "worker"):
            text = stack.log_text(piece)
            outcome.log_errors[piece] = exception_summary(text)
            if outcome.log_errors[piece]:
                outcome.evidence[f"the {piece}'s log"] = log_errors(text)
        return outcome


async def _evidence(stack: PiecesStack, commissions: list[Commission], tally: Tally) -> dict[str, list[str]]:
    """The requests and Temporal history of the first few commissions that got
    an unexpected answer, or a 409 after 503s that said nothing was changed."""
    client = await Client.connect(stack.temporal_address)
    stories: dict[str, list[str]] = {}
    for index in dict.fromkeys([*(u.commission for u in tally.unexpected), *tally.after_503_only]):
        if len(stories) == EVIDENCE_COMMISSIONS:
            break
        workflow_id = commissions[index].workflow_id
        if workflow_id:
            requests = [line for r in tally.records if r.commission == index for line in r.log]
            history = await history_story(client, workflow_id)
            stories[f"#{index + 1} ({workflow_id})"] = [
                "HTTP requests:",
                *requests,
                "Temporal history:",
                *history,
            ]
    return stories


def parser(drill: Drill, doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--n", type=int, default=DEFAULT_N, help="commissions to drive (default %(default)s)")
    p.add_argument("--outage", type=float, default=drill.outage, help=drill.outage_help)
    p.add_argument(
        "--fault-at", type=float, default=0.35, help="share of all steps answered before the fault"
    )
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight at most")
    p.add_argument("--ramp", type=float, default=20, help="seconds over which the commissions begin")
    p.add_argument("--think", type=float, default=1.0, help="an actor's pause before a step: 0..this s")
    p.add_argument("--client-timeout", type=float, default=30, help="seconds a client waits for an answer")
    p.add_argument("--step-deadline", type=float, default=300, help="seconds a step may keep retrying")
    p.add_argument("--settle", type=float, default=180, help="seconds the checks wait for stragglers")
    p.add_argument("--timeout", type=float, default=1200, help="seconds for driving every commission")
    p.add_argument("--keep-logs", type=Path, help="copy the stack's logs into this folder at the end")
    return p


def main(drill: Drill, doc: str) -> None:
    args = parser(drill, doc).parse_args()
    if not 0 < args.fault_at < 1 or args.n < 1:
        raise SystemExit("--fault-at must be between 0 and 1, --n at least 1")
    run = report.Run.now(f"bench.drills.{drill.name}")
    # A folder given to --keep-logs is this machine's business, not the page's.
    argv = sys.argv[1:]
    if "--keep-logs" in argv:
        at = argv.index("--keep-logs")
        argv = argv[:at] + argv[at + 2 :]
    argv = [a for a in argv if not a.startswith("--keep-logs=")]
    run = dataclasses.replace(
        run,
        command=" ".join([".venv/bin/python", "-m", f"bench.drills.{drill.name}", *map(shlex.quote, argv)]),
    )
    began = time.monotonic()
    with PiecesStack() as stack:
        try:
            outcome = asyncio.run(_drive(stack, drill, args))
        finally:
            if args.keep_logs:
                shutil.copytree(stack.logs, args.keep_logs, dirs_exist_ok=True)
    outcome.total_seconds = time.monotonic() - began
    for u in outcome.tally.unexpected[:10]:
        print(
            f"  unexpected: #{u.commission + 1} {u.step} attempt {u.attempt}, sent {u.sent} UTC,"
            f" answered {u.answered} UTC → {u.status} {u.body[:200]}"
        )
    for name, story in outcome.evidence.items():
        print(f"  evidence for {name}:")
        for line in story:
            print(f"    {line}")
    for when, kind, what in outcome.tally.dropped[:20]:
        print(f"  dropped: {what} at {when} UTC: {kind}")
    for problem in [*outcome.tally.failed, *outcome.findings.problems][:20]:
        print(f"  problem: {problem}")
    report.update_section(f"drill_{drill.name}", section(drill, outcome, run))
    print(outcome.verdict(drill), flush=True)
    sys.exit(1 if outcome.lost else 2 if outcome.tally.unexpected else 0)
