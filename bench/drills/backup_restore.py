"""Backup and restore drill: back up a running stack, restore it into a fresh data folder,
and every commission resumes where its backup left it.

A stack (bench/drills/stack.py) takes N commissions each to a different point of its life
(from just entrusted to closed). Then, while more commissions keep going through their whole
lives, it is backed up the way docs/operations.md says for separate stores: PostgreSQL first
(`pg_dump -Fc` of the product's database), the Temporal dev server's SQLite store second
(SQLite's online backup), so Temporal's copy is the newer one. The stack is stopped. A
second stack, in a fresh temporary folder on other ports, starts from the two copies
(`pg_restore`, the SQLite file in place), `appraisal rebuild` records in PostgreSQL the
events Temporal's copy has beyond it, and then every commission is taken on from the stage
the restored stack shows to closure. Every one must close with its eight events (seven steps and the seal) and a chain
that verifies against its Temporal history.

    .venv/bin/python -m bench.drills.backup_restore [--n 28] [--traffic 8]
"""

import argparse
import asyncio
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from appraisal.embedded import postgres_bin_dir
from bench import report
from bench.drills.stack import PiecesStack, log
from bench.lifecycle_throughput import EVENTS, STEPS, Parties, all_parties, drive
from bench.scale_out import demo_sign
from bench.stack import ROOT

NAME = "backup_restore"


@dataclass
class Copies:
    folder: Path
    pg_dump_seconds: float = 0.0
    sqlite_seconds: float = 0.0

    @property
    def database(self) -> Path:
        return self.folder / "appraisal.dump"

    @property
    def temporal(self) -> Path:
        return self.folder / "temporal.db"


class RestoredStack(PiecesStack):
    """The same pieces, started from the copies instead of from nothing."""

    def __init__(self, copies: Copies) -> None:
        super().__init__()
        self.copies = copies

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.copies.temporal, self.data_dir / "temporal.db")
        self.start_postgres()
        self.postgres.ensure_database("appraisal")
        restore = [
            str(postgres_bin_dir() / "pg_restore"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.ports["POSTGRES_PORT"]),
        ]
        subprocess.run(
            [*restore, "-U", "postgres", "-d", "appraisal", "--no-owner", str(self.copies.database)],
            check=True,
            capture_output=True,
        )
        self.start_temporal()
        self._cli("migrate", timeout=120)
        self.start_worker()
        self.start_api()
        self._write_tokens()
        log("the restored stack is up")


@dataclass
class Outcome:
    n: int
    traffic: int
    copies: Copies
    stages_at_backup: dict[str, int] = field(default_factory=dict)
    rebuild_output: str = ""
    resumed_steps: int = 0
    closed: int = 0
    verified: int = 0
    history_checked: int = 0
    problems: list[str] = field(default_factory=list)


def back_up(stack: PiecesStack, copies: Copies) -> None:
    copies.folder.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    dump = [str(postgres_bin_dir() / "pg_dump"), "-h", "127.0.0.1", "-p", str(stack.ports["POSTGRES_PORT"])]
    subprocess.run([*dump, "-U", "postgres", "-Fc", "-f", str(copies.database), "appraisal"], check=True)
    copies.pg_dump_seconds = time.monotonic() - began
    began = time.monotonic()
    with sqlite3.connect(stack.data_dir / "temporal.db") as source, sqlite3.connect(copies.temporal) as copy:
        source.backup(copy)
    copies.sqlite_seconds = time.monotonic() - began


async def take_to_points(stack: PiecesStack, n: int) -> dict[str, Parties]:
    """Commission i goes as far as step i mod 7 (entrust … close); returns each one's parties."""
    run = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120) as api:
        parties = await all_parties(api, stack)
        owners: dict[str, Parties] = {}
        for i in range(n):
            p = parties[i % len(parties)]
            last = await drive(
                api, stack, p, f"BACKUP-{run}-{i}", until=STEPS[i % len(STEPS)], sign=demo_sign
            )
            owners[str(last["id"])] = p
        return owners


async def traffic_during(stack: PiecesStack, count: int, copies: Copies) -> None:
    """Whole lives going on while the backup is taken."""
    run = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120) as api:
        parties = await all_parties(api, stack)
        lives = [
            drive(api, stack, parties[i % 2], f"TRAFFIC-{run}-{i}", sign=demo_sign) for i in range(count)
        ]
        await asyncio.gather(*lives, asyncio.to_thread(back_up, stack, copies))


async def finish(api: httpx.AsyncClient, stack: PiecesStack, cid: str, p: Parties) -> int:
    """Takes the commission from the stage the restored stack shows to closure; the steps taken."""
    (first_id, first), (second_id, second) = p.appraisers
    keys = {first_id: first, second_id: second}
    seen: dict[str, str] = {}
    for taken in range(len(STEPS) + 2):
        # Each read waits for the step before it (the answer's X-Seq): read-your-writes.
        got = await api.get(f"/v1/commissions/{cid}", headers={**stack.auth(p.court), **seen})
        got.raise_for_status()
        c: dict[str, Any] = got.json()
        after = {"X-Min-Seq": str(c["last_event_seq"])}
        url = f"/v1/commissions/{cid}"
        if c["stage"] == "closed":
            return taken
        if c["stage"] == "awaiting_acceptance":
            body = {"decision": "accept", "appraiser_ids": [first_id, second_id]}
            answer = await api.post(
                f"{url}/acceptance", json=body, headers={**stack.auth(p.institution), **after}
            )
        elif c["stage"] == "examining":
            body = {"content": "检验所见……", "opinion": "被鉴定人之损伤构成十级伤残"}
            answer = await api.post(f"{url}/report", json=body, headers={**stack.auth(first), **after})
        elif c["stage"] == "signing":
            signed = {s["appraiser_id"] for s in c["report"]["signatures"]}
            who = next(a for a in (first_id, second_id) if a not in signed)
            body = {"kind": "sign", "signature": demo_sign(who, c["report"]["content_hash"])}
            answer = await api.post(
                f"{url}/signatures", json=body, headers={**stack.auth(keys[who]), **after}
            )
        elif c["stage"] == "awaiting_issue":
            answer = await api.post(f"{url}/issue", json={}, headers={**stack.auth(p.head), **after})
        elif c["stage"] == "issued":
            answer = await api.post(f"{url}/closure", json={}, headers={**stack.auth(p.court), **after})
        else:
            raise RuntimeError(f"{cid}: unexpected stage {c['stage']}")
        if answer.status_code != 200:
            raise RuntimeError(
                f"{c['stage']}: {answer.request.url.path} answered {answer.status_code} {answer.text}"
            )
        seen = {"X-Min-Seq": answer.headers["X-Seq"]}
    raise RuntimeError(f"{cid} did not close")


async def resume_and_check(stack: PiecesStack, owners: dict[str, Parties], outcome: Outcome) -> None:
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120) as api:
        for cid, p in owners.items():
            try:
                outcome.resumed_steps += await finish(api, stack, cid, p)
                outcome.closed += 1
            except (RuntimeError, httpx.HTTPError) as err:
                outcome.problems.append(f"{cid}: {err}"[:300])
                continue
            verdict = (await api.get(f"/v1/commissions/{cid}/verify", headers=stack.auth(p.court))).json()
            if verdict.get("ok") and verdict.get("events") == EVENTS:
                outcome.verified += 1
            else:
                outcome.problems.append(f"{cid}: verify says {verdict}"[:300])
            if verdict.get("history_checked") == verdict.get("events"):
                outcome.history_checked += 1


async def stages(stack: PiecesStack, owners: dict[str, Parties]) -> dict[str, int]:
    counted: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as api:
        for cid, p in owners.items():
            stage = (await api.get(f"/v1/commissions/{cid}", headers=stack.auth(p.court))).json()["stage"]
            counted[stage] = counted.get(stage, 0) + 1
    return counted


def section(outcome: Outcome, run: report.Run) -> str:
    ok = outcome.closed == outcome.verified == outcome.n and not outcome.problems
    verdict = (
        f"backup_restore: {'nothing lost' if ok else 'LOST'} — {outcome.closed}/{outcome.n} commissions resumed"
        f" and closed, {outcome.verified}/{outcome.n} chains verify, {outcome.history_checked}/{outcome.n}"
        " matched against their Temporal history"
    )
    stages_text = ", ".join(f"{s} {n}" for s, n in sorted(outcome.stages_at_backup.items()))
    lines = [
        "## Backup and restore: a running stack copied, restored elsewhere, resumed",
        "",
        f"{outcome.n} commissions taken each to another point of its life, then backed up while"
        f" {outcome.traffic} more go through whole lives: PostgreSQL first (`pg_dump -Fc`),",
        "the Temporal dev server's SQLite store second (SQLite's online backup). The stack is",
        "stopped; a second one, in a fresh folder on other ports, starts from the two copies,",
        "`appraisal rebuild` records in PostgreSQL what Temporal's newer copy has beyond it, and",
        "every commission is taken from the stage the restored stack shows to closure.",
        "",
        *run.bullets(),
        "",
        "| figure | value |",
        "|---|---:|",
        f"| `pg_dump -Fc` while running | {outcome.copies.pg_dump_seconds:.1f} s |",
        f"| SQLite online backup of Temporal's store | {outcome.copies.sqlite_seconds:.1f} s |",
        f"| steps taken after the restore to close them all | {outcome.resumed_steps} |",
        f"| commissions closed | {outcome.closed}/{outcome.n} |",
        f"| chains that verify (eight events each) | {outcome.verified}/{outcome.n} |",
        f"| … matched event by event against their Temporal history | {outcome.history_checked}/{outcome.n} |",
        "",
        f"Stages the restored stack showed, before the rebuild: {stages_text}.",
        "",
        f"`appraisal rebuild`: {outcome.rebuild_output}",
    ]
    if outcome.problems:
        lines += ["", "Problems (first ten):", "", *(f"- {p}" for p in outcome.problems[:10])]
    lines += ["", f"**{verdict}.**"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else NAME)
    parser.add_argument(
        "--n", type=int, default=28, help="commissions taken to every point (default %(default)s)"
    )
    parser.add_argument(
        "--traffic", type=int, default=8, help="whole lives during the backup (default %(default)s)"
    )
    args = parser.parse_args()
    run = report.Run.now(f"bench.drills.{NAME}")
    with PiecesStack() as original:
        copies = Copies(original.tmp / "copies")
        owners = asyncio.run(take_to_points(original, args.n))
        asyncio.run(traffic_during(original, args.traffic, copies))
        kept = Copies(
            Path(shutil.copytree(copies.folder, Path(original.tmp).parent / f"{NAME}-{uuid.uuid4().hex[:8]}"))
        )
        kept.pg_dump_seconds, kept.sqlite_seconds = copies.pg_dump_seconds, copies.sqlite_seconds
    outcome = Outcome(args.n, args.traffic, kept)
    try:
        with RestoredStack(kept) as restored:
            outcome.stages_at_backup = asyncio.run(stages(restored, owners))
            rebuilt = subprocess.run(
                [sys.executable, "-m", "appraisal.cli", "rebuild"],
                cwd=ROOT,
                env=restored.child_env(),
                capture_output=True,
                text=True,
                timeout=600,
            )
            outcome.rebuild_output = (rebuilt.stdout.strip().splitlines() or [rebuilt.stderr.strip()])[0]
            asyncio.run(resume_and_check(restored, owners, outcome))
    finally:
        shutil.rmtree(kept.folder, ignore_errors=True)
    report.update_section(NAME, section(outcome, run))
    print(section(outcome, run).splitlines()[-1].strip("*"))
    if outcome.problems or outcome.closed != args.n:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
