"""The projection of `record_commission_event` into the read model, and the counts the
supervision overview sums (`commission_count`, kept by triggers on `commission`): after
every step of a sequence of projections (stage changes, overdue flips, escalations,
re-projections of the same event, a late older event, concurrent moves, deletes and a
truncate) the overview equals a brute-force count over the commission rows and their
inbox tasks, for a supervisor, a court and an institution."""

import asyncio
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.activities.commission import CommissionActivities
from appraisal.db.models import Commission, Task
from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar
from appraisal.domain.commission import ClockSnapshot, CommissionSnapshot, TaskSnapshot
from appraisal.domain.events import AuditEvent, RecordEventInput
from appraisal.domain.roles import Actor, Role
from appraisal.domain.stages import TERMINAL_STAGES
from appraisal.seed import BUREAU, COURTS, INSTITUTIONS
from appraisal.services import supervision
from appraisal.services.commission import scope_filter

TODAY = date(2026, 12, 1)
CALENDAR = WorkingCalendar()
KEY = "institution_id, court_id, category, stage, overdue, escalated"
PRINCIPALS = [
    Actor(Role.SUPERVISOR, BUREAU.id, "inspector"),
    Actor(Role.COURT, COURTS[0].id, "clerk"),
    Actor(Role.COURT, COURTS[1].id, "clerk"),
    Actor(Role.INSTITUTION, INSTITUTIONS[0].id, "desk"),
    Actor(Role.INSTITUTION_HEAD, INSTITUTIONS[1].id, "head"),
]


def step(
    commission_id: str,
    seq: int,
    *,
    stage: str = "awaiting_acceptance",
    institution: int = 0,
    court: int = 0,
    category: str = "forensic_clinical",
    due_in: int | None = 10,
    overdue: bool = False,
    escalated: bool = False,
) -> RecordEventInput:
    """The event `seq` of a commission and the snapshot after it: a running clock due
    `due_in` days from TODAY (None: no clock runs), overdue or not, escalated to the
    bureau or not (the open tasks the workflow has for that)."""
    institution_id, court_id = INSTITUTIONS[institution].id, COURTS[court].id
    clocks, tasks = [], []
    if due_in is not None:
        due_on = TODAY + timedelta(days=due_in)
        clocks.append(
            ClockSnapshot(
                rule="PROC-17",
                name="examination",
                unit="working_days",
                started_on=(TODAY - timedelta(days=30)).isoformat(),
                budget_days=30,
                due_on=due_on.isoformat(),
                due_at=datetime.combine(due_on + timedelta(days=1), time(), CHINA_TZ),
                overdue=overdue,
            )
        )
        if overdue:
            tasks.append(
                TaskSnapshot("overdue_escalation", Role.INSTITUTION_HEAD, institution_id, due_on.isoformat())
            )
        if escalated:
            tasks += [
                TaskSnapshot("overdue_escalation", Role.SUPERVISOR, BUREAU.id, due_on.isoformat(), "PROC-17"),
                TaskSnapshot("overdue_remedy", Role.COURT, court_id, due_on.isoformat(), "CRT-5"),
            ]
    snapshot = CommissionSnapshot(
        id=commission_id,
        workflow_id=f"commission-{commission_id}",
        stage=stage,
        court_id=court_id,
        court_reference=f"REF-{commission_id[:8]}",
        case_number="CASE",
        institution_id=institution_id,
        category=category,
        received_on=(TODAY - timedelta(days=40)).isoformat(),
        clocks=clocks,
        open_tasks=tasks,
        last_event_seq=seq,
    )
    event = AuditEvent(
        workflow_id=snapshot.workflow_id,
        commission_id=commission_id,
        seq=seq,
        kind=f"test.step{seq}",
        actor_role=Role.COURT,
        actor_organisation_id=court_id,
        actor_subject="clerk",
        occurred_at=datetime.now(UTC),
    )
    return RecordEventInput(event=event, snapshot=snapshot)


def zero_stages(counts: dict[str, Any]) -> dict[str, Any]:
    return {**counts, "by_stage": {s: n for s, n in counts["by_stage"].items() if n}}


async def fast(sessions: async_sessionmaker[AsyncSession], principal: Actor) -> dict[str, Any]:
    """The overview's answer, groups with nothing counted left out."""
    async with sessions() as session:
        answer = await supervision.overview(
            session=session, principal=principal, calendar=CALENDAR, today=TODAY, due_within=5
        )
    body = answer.model_dump(mode="json")
    return {
        "due_by": body["due_by"],
        "counts": zero_stages(body["counts"]),
        "by_institution": {
            i["institution_id"]: zero_stages(
                {k: v for k, v in i.items() if k not in ("institution_id", "name")}
            )
            for i in body["by_institution"]
            if i["total"]
        },
        "by_category": {
            c["category"]: zero_stages({k: v for k, v in c.items() if k != "category"})
            for c in body["by_category"]
            if c["total"]
        },
    }


def tally(rows: list[Commission], escalated: set[str], due_by: date) -> dict[str, Any]:
    return {
        "total": len(rows),
        "open": sum(r.stage not in TERMINAL_STAGES for r in rows),
        "by_stage": dict(Counter(r.stage for r in rows)),
        "overdue": sum(r.overdue for r in rows),
        "due_soon": sum(
            not r.overdue and r.next_due_on is not None and r.next_due_on <= due_by for r in rows
        ),
        "escalations_open": sum(r.id in escalated for r in rows),
    }


async def brute_force(
    sessions: async_sessionmaker[AsyncSession], principal: Actor, due_by: date
) -> dict[str, Any]:
    """Every commission in scope read and counted one by one; escalated: an open overdue
    escalation task for the bureau in the inbox."""
    async with sessions() as session:
        rows = list((await session.exec(select(Commission).where(scope_filter(principal)))).all())
        escalated = set(
            (
                await session.exec(
                    select(Task.commission_id).where(
                        Task.assignee_role == Role.SUPERVISOR, Task.kind == "overdue_escalation"
                    )
                )
            ).all()
        )
    escalated_ids = {e for e in escalated if e is not None}
    return {
        "due_by": due_by.isoformat(),
        "counts": tally(rows, escalated_ids, due_by),
        "by_institution": {
            i: tally([r for r in rows if r.institution_id == i], escalated_ids, due_by)
            for i in {r.institution_id for r in rows}
        },
        "by_category": {
            c: tally([r for r in rows if r.category == c], escalated_ids, due_by)
            for c in {r.category for r in rows}
        },
    }


async def grouped(engine: AsyncEngine, query: str) -> dict[tuple[Any, ...], int]:
    """(key…, n) rows as {key: n}, groups of none left out."""
    async with engine.connect() as conn:
        rows = (await conn.execute(text(query))).all()
    return {tuple(r[:-1]): r[-1] for r in rows if r[-1]}


async def stored_counts(engine: AsyncEngine) -> dict[tuple[Any, ...], int]:
    return await grouped(engine, f"select {KEY}, commissions from commission_count")


async def assert_exact(sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> None:
    """The counts table equals a GROUP BY over the rows, and the overview a brute-force count."""
    assert await stored_counts(engine) == await grouped(
        engine, f"select {KEY}, count(*) from commission group by {KEY}"
    )
    for principal in PRINCIPALS:
        answer = await fast(sessions, principal)
        expected = await brute_force(sessions, principal, date.fromisoformat(answer["due_by"]))
        assert answer == expected, principal


def new_id() -> str:
    return str(uuid.uuid4())


async def test_counts_stay_exact_through_every_kind_of_projection(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    record = CommissionActivities(sessions).record_commission_event
    a, b, c, d = new_id(), new_id(), new_id(), new_id()
    await record(step(a, 1, due_in=3))
    await record(step(b, 1, court=1, category="forensic_pathology", due_in=20))
    await record(step(c, 1, institution=1, category="trace_evidence", due_in=4))
    await record(step(d, 1, due_in=2))
    await assert_exact(sessions, engine)
    assert sum((await stored_counts(engine)).values()) == 4

    await record(step(a, 2, stage="examining", due_in=30))  # accepted: another stage, another clock
    await assert_exact(sessions, engine)

    await record(step(b, 2, court=1, category="forensic_pathology", due_in=-2, overdue=True))
    await assert_exact(sessions, engine)
    await record(step(b, 3, court=1, category="forensic_pathology", due_in=-2, overdue=True, escalated=True))
    await assert_exact(sessions, engine)
    assert (await fast(sessions, PRINCIPALS[0]))["counts"]["escalations_open"] == 1

    before = await stored_counts(engine)
    # The same event again (a retried activity) and an older one arriving late change nothing.
    await record(step(b, 3, court=1, category="forensic_pathology", due_in=-2, overdue=True, escalated=True))
    await record(step(a, 1, due_in=3))
    assert await stored_counts(engine) == before
    await assert_exact(sessions, engine)

    # Extended: no longer overdue nor escalated, due in a week.
    await record(step(b, 4, court=1, category="forensic_pathology", due_in=7))
    await assert_exact(sessions, engine)
    await record(step(d, 2, stage="closed", due_in=None))
    await record(
        step(c, 2, institution=1, category="trace_evidence", stage="awaiting_materials", due_in=None)
    )
    await assert_exact(sessions, engine)
    counts = (await fast(sessions, PRINCIPALS[0]))["counts"]
    assert counts["by_stage"] == {
        "examining": 1,
        "awaiting_acceptance": 1,
        "closed": 1,
        "awaiting_materials": 1,
    }
    assert (counts["overdue"], counts["escalations_open"], counts["open"]) == (0, 0, 3)

    async with sessions() as session, session.begin():
        await session.exec(delete(Commission).where(col(Commission.id) == d))
    await assert_exact(sessions, engine)
    async with engine.begin() as conn:
        await conn.execute(text("truncate commission cascade"))
    assert await stored_counts(engine) == {}
    await assert_exact(sessions, engine)


async def test_concurrent_moves_between_the_same_groups_neither_deadlock_nor_miscount(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    """Commissions moving from group X to Y while others move from Y to X, all at once:
    each transaction locks the counts of X and Y in the same order."""
    record = CommissionActivities(sessions).record_commission_event
    ids = [new_id() for _ in range(24)]
    first = [
        step(cid, 1, stage="awaiting_acceptance" if n % 2 else "examining", institution=n % 3, due_in=n)
        for n, cid in enumerate(ids)
    ]
    await asyncio.gather(*(record(s) for s in first))
    await assert_exact(sessions, engine)
    moved = [
        step(
            cid,
            2,
            stage="examining" if n % 2 else "awaiting_acceptance",
            institution=n % 3,
            due_in=-n,
            overdue=n > 0,
        )
        for n, cid in enumerate(ids)
    ]
    await asyncio.gather(*(record(s) for s in moved), *(record(s) for s in moved))  # and each one twice
    await assert_exact(sessions, engine)
    assert sum((await stored_counts(engine)).values()) == len(ids)
