"""Geometry of the dashboard's charts, drawn as inline SVG by the templates
(charts.html): computed here so the server sends finished pictures and the
browser runs no chart code."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from appraisal.schemas.commission import ClockPublic
from appraisal.web.labels import LOCALES, catalogue

BAR_ROW = 26
BAR_THICKNESS = 16
LABEL_WIDTH = 190
VALUE_WIDTH = 44


@dataclass(frozen=True)
class Segment:
    css: str
    value: int
    x: float
    width: float


@dataclass(frozen=True)
class Bar:
    label: str
    total: int
    y: float
    segments: list[Segment]

    @property
    def end(self) -> float:
        return self.segments[-1].x + self.segments[-1].width if self.segments else LABEL_WIDTH


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one row each, each bar split into coloured segments."""

    title: str
    width: int
    height: int
    label_width: int
    thickness: int
    bars: list[Bar]
    legend: list[tuple[str, str]] = field(default_factory=list)
    """(css class, label) of each segment kind."""


def bar_chart(
    title: str,
    rows: list[tuple[str, list[tuple[str, int]]]],
    *,
    legend: list[tuple[str, str]] | None = None,
    width: int = 480,
) -> BarChart:
    """`rows` are (label, [(css class, value), …]); the longest total fills the plot width."""
    plot = width - LABEL_WIDTH - VALUE_WIDTH
    longest = max((sum(v for _, v in parts) for _, parts in rows), default=0)
    scale = plot / longest if longest else 0.0
    bars = []
    for n, (label, parts) in enumerate(rows):
        x, segments = float(LABEL_WIDTH), []
        for css, value in parts:
            if value:
                segments.append(Segment(css, value, x, value * scale))
                x += value * scale
        bars.append(Bar(label, sum(v for _, v in parts), n * BAR_ROW + 4, segments))
    return BarChart(title, width, len(rows) * BAR_ROW + 8, LABEL_WIDTH, BAR_THICKNESS, bars, legend or [])


@dataclass(frozen=True)
class Span:
    x: float
    width: float
    title: str


@dataclass(frozen=True)
class Marker:
    x: float
    label: str
    anchor: str = "start"
    """Which side of its line the label goes ("end": to the left), so it stays inside the picture."""


@dataclass(frozen=True)
class ClockRow:
    label: str
    y: float
    css: str
    """running, overdue, paused or stopped."""
    budget: Span
    """From the start to the end of the last day (or to the stop)."""
    pauses: list[Span]
    due: Marker | None
    """The end of the last day; none while paused (the budget left decides it then)."""
    stop: Marker | None


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    left: int
    right: int
    rows: list[ClockRow]
    ticks: list[Marker]
    today: Marker
    today_anchor: str
    """Which side of the today line its label goes, so it stays inside the picture."""


TIMELINE_LEFT = 170
TIMELINE_ROW = 44
LABEL_CLEARANCE = 110
"""Pixels two date labels on one row need to stay apart."""


def _state(clock: ClockPublic) -> str:
    if clock.overdue:
        return "overdue"
    if clock.stopped:
        return "stopped"
    return "paused" if clock.paused else "running"


def timeline(clocks: list[ClockPublic], *, received_on: date, today: date, width: int = 900) -> Timeline:
    """Each clock on one row over a shared day axis: its span from the start to
    its deadline, its pauses, its stop, and a line at today."""
    days: list[date] = [received_on, today + timedelta(days=1)]
    for clock in clocks:
        days += [clock.started_on, clock.due_on + timedelta(days=1)]
        days += [d for p in clock.pauses for d in (p.paused_on, p.resumed_on) if d]
        if clock.stopped_on:
            days.append(clock.stopped_on + timedelta(days=1))
    first, last = min(days) - timedelta(days=2), max(days) + timedelta(days=2)
    right = width - 20
    per_day = (right - TIMELINE_LEFT) / max((last - first).days, 1)

    def x(day: date) -> float:
        return TIMELINE_LEFT + (day - first).days * per_day

    rows = []
    for n, clock in enumerate(clocks):
        end = clock.stopped_on + timedelta(days=1) if clock.stopped_on else clock.due_on + timedelta(days=1)
        pauses = [
            Span(
                x(p.paused_on),
                max(x(p.resumed_on or today + timedelta(days=1)) - x(p.paused_on), 2.0),
                f"暂停 paused {p.paused_on} → {p.resumed_on or '…'}: {p.reason}",
            )
            for p in clock.pauses
        ]
        due = None if clock.paused else Marker(x(clock.due_on + timedelta(days=1)), f"期限 {clock.due_on}")
        stop = (
            Marker(x(clock.stopped_on + timedelta(days=1)), f"停止 {clock.stopped_on}")
            if clock.stopped_on
            else None
        )
        if due and stop and abs(due.x - stop.x) < LABEL_CLEARANCE:  # one label for both, or they overlap
            due, stop = Marker(due.x, f"{due.label} · {stop.label}"), Marker(stop.x, "")
        if due and due.x > right - LABEL_CLEARANCE:  # near the right edge: the label goes to the left
            due = Marker(due.x, due.label, "end")
        budget = Span(
            x(clock.started_on),
            max(x(end) - x(clock.started_on), 2.0),
            f"{clock.started_on} → {clock.stopped_on or clock.due_on}",
        )
        name = catalogue(LOCALES[0]).get(("clock", clock.name), clock.name)  # the narrow column: Chinese
        rows.append(
            ClockRow(f"{clock.rule} {name}", 28 + n * TIMELINE_ROW, _state(clock), budget, pauses, due, stop)
        )
    span = (last - first).days
    step = max(span // 6, 1)
    ticks = [
        Marker(x(first + timedelta(days=d)), (first + timedelta(days=d)).isoformat())
        for d in range(0, span + 1, step)
    ]
    return Timeline(
        width=width,
        height=40 + max(len(clocks), 1) * TIMELINE_ROW,
        left=TIMELINE_LEFT,
        right=right,
        rows=rows,
        ticks=ticks,
        today=Marker(x(today) + per_day / 2, f"今天 today {today}"),
        today_anchor="end" if x(today) > (TIMELINE_LEFT + right) / 2 else "start",
    )
