"""What every benchmark shares besides the stack: the machine it ran on,
percentiles, and its section of docs/benchmarks.md (replaced in place
between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, appended if absent)."""

import math
import os
import platform
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.stack import ROOT

DOC = ROOT / "docs" / "benchmarks.md"

INTRO = """# Benchmarks

Every figure on this page is printed by a script in `bench/` and written
here by that same script (each one replaces its own section). Run one with
`.venv/bin/python -m bench.<name>` from the repository root: it starts the
product's own stack (`appraisal dev`, with a temporary data folder and free
ports on 127.0.0.1), measures, stops every process it started, and prints
its headline figure as the last line.

The figures come from a shared, noisy machine (2 cores, other test runs at
the same time), so absolute numbers move from run to run. What each
benchmark compares is therefore measured side by side in the same run,
against the same Temporal dev server, and stated as a ratio. Nothing here
is a timed assertion in the test suite, and nothing should become one.
"""


def cpus() -> int:
    """What `nproc` prints."""
    return len(os.sched_getaffinity(0))


def machine() -> str:
    """nproc, total memory, Python version, and how busy the machine was."""
    memory = "unknown memory"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM (MemTotal)"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{cpus()} CPUs (nproc), {memory}, Python {platform.python_version()} "
        f"on {platform.system()} {platform.machine()}; load average {load} when it began"
    )


def revision() -> str:
    """The code measured: HEAD, and whether the working tree differed from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return "unknown revision"
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    suffix = " with uncommitted changes in the working tree" if dirty.stdout.strip() else ""
    return f"commit {head.stdout.strip()}{suffix}"


def started_at() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def command(module: str) -> str:
    return " ".join([".venv/bin/python", "-m", module, *map(shlex.quote, sys.argv[1:])])


@dataclass(frozen=True)
class Run:
    """Where and when a benchmark ran, for its section of the page."""

    command: str
    began: str
    machine: str
    revision: str

    @classmethod
    def now(cls, module: str) -> "Run":
        """Call before starting the stack, so the load average is the machine's own."""
        return cls(command(module), started_at(), machine(), revision())

    def bullets(self) -> list[str]:
        return [
            f"- Command: `{self.command}`",
            f"- Run: {self.began}, {self.revision}",
            f"- Machine: {self.machine}; shared with other work, so timings are noisy",
        ]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def cpu_table(phases: dict[str, dict[str, float]], calls: dict[str, int] | None = None) -> str:
    """A markdown table: one row per process, a column of CPU seconds per
    phase, and (given the calls each phase made) a column of CPU ms per call."""
    names = list(next(iter(phases.values())))
    per_call = calls or {}
    header = "| process |"
    for phase in phases:
        header += f" {phase} (CPU s) |" + (f" {phase} (CPU ms per call) |" if phase in per_call else "")

    def cells(phase: str, seconds: float, bold: bool = False) -> str:
        mark = "**" if bold else ""
        text = f" {mark}{seconds:.1f}{mark} |"
        if phase in per_call:
            text += f" {mark}{seconds * 1000 / per_call[phase]:.0f}{mark} |"
        return text

    columns = sum(2 if phase in per_call else 1 for phase in phases)
    rows = [header, "|---|" + "---:|" * columns]
    for name in names:
        rows.append(f"| {name} |" + "".join(cells(p, used.get(name, 0.0)) for p, used in phases.items()))
    rows.append("| **total** |" + "".join(cells(p, sum(used.values()), True) for p, used in phases.items()))
    return "\n".join(rows)


def busiest(used: dict[str, float], wall_seconds: float) -> str:
    """The process that used the most CPU, as a share of one core."""
    name = max(used, key=lambda n: used[n])
    return f"{name}, {used[name]:.1f} CPU s in {wall_seconds:.1f} s = {used[name] / wall_seconds:.0%} of one core"


SUMMARY = "summary"
SECTION = re.compile(r"<!-- bench:(\w+) -->\n(.*?)\n<!-- /bench:\1 -->", re.S)


def _replace(text: str, name: str, section: str) -> str:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{section.strip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        return before + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def summary(text: str) -> str:
    """One row per section on the page: its title, its headline (the first bold line) and when it ran."""
    rows = ["## At a glance", "", "| benchmark or drill | headline | run |", "|---|---|---|"]
    for name, body in SECTION.findall(text):
        if name == SUMMARY:
            continue
        title = next((line[3:] for line in body.splitlines() if line.startswith("## ")), name)
        bold = [
            line for line in body.splitlines() if line.startswith("**") and line.rstrip(".").endswith("**")
        ]
        headline = bold[-1].rstrip(".").strip("*") if bold else ""
        ran = next(
            (
                line[len("- Run: ") :].split(",")[0]
                for line in body.splitlines()
                if line.startswith("- Run: ")
            ),
            "",
        )
        rows.append(f"| {title} | {headline.replace('|', '/')} | {ran} |")
    return "\n".join(rows)


def update_section(name: str, section: str) -> None:
    """Replaces (or appends) this benchmark's section of docs/benchmarks.md, then the summary at the top."""
    text = _replace(DOC.read_text() if DOC.exists() else INTRO, name, section)
    marker = f"<!-- bench:{SUMMARY} -->"
    if marker not in text:
        first = text.index("<!-- bench:")
        text = text[:first] + f"{marker}\n<!-- /bench:{SUMMARY} -->\n\n" + text[first:]
    DOC.write_text(_replace(text, SUMMARY, summary(text)))
    print(f"[bench] updated {DOC.relative_to(ROOT)} (section {name})", flush=True)
