"""Migration 0009 over a read model that already holds commissions: it marks the
escalated ones from their inbox, backfills `commission_count` from the rows, and from
then on the triggers keep the counts; downgrading keeps the commissions."""

import asyncio
from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from appraisal.db.migrate import alembic_config, upgrade_async
from appraisal.embedded import EmbeddedPostgres

DATABASE = "migration_counts"
KEY = "institution_id, court_id, category, stage, overdue, escalated"
# (id, institution, court, category, stage, overdue, next due date, open tasks as (role, kind))
ROWS = [
    ("c1", "i1", "k1", "forensic_clinical", "examining", False, date(2026, 12, 9), []),
    ("c2", "i1", "k1", "forensic_clinical", "examining", False, date(2026, 12, 20), []),
    (
        "c3",
        "i1",
        "k2",
        "forensic_clinical",
        "examining",
        True,
        date(2026, 11, 2),
        [
            ("institution_head", "overdue_escalation"),
            ("supervisor", "overdue_escalation"),
            ("court", "overdue_remedy"),
        ],
    ),
    (
        "c4",
        "i1",
        "k2",
        "forensic_clinical",
        "examining",
        True,
        date(2026, 11, 28),
        [
            ("institution_head", "overdue_escalation"),
        ],
    ),
    ("c5", "i2", "k1", "trace_evidence", "closed", False, None, []),
]


async def load(conn: AsyncConnection) -> None:
    now = datetime.now(UTC)
    for cid, institution, court, category, stage, overdue, due, tasks in ROWS:
        await conn.execute(
            text(
                "insert into commission (id, workflow_id, court_id, court_reference, case_number,"
                " institution_id, category, stage, appraiser_ids, overdue, next_due_on, snapshot,"
                " last_event_seq, created_at, updated_at) values (:id, :wf, :court, :id, 'case', :inst,"
                " :cat, :stage, '{}', :overdue, :due, '{}', 1, :now, :now)"
            ),
            {
                "id": cid,
                "wf": f"commission-{cid}",
                "court": court,
                "inst": institution,
                "cat": category,
                "stage": stage,
                "overdue": overdue,
                "due": due,
                "now": now,
            },
        )
        for role, kind in tasks:
            await conn.execute(
                text(
                    "insert into task (commission_id, kind, assignee_role, assignee_id)"
                    " values (:id, :kind, :role, 'someone')"
                ),
                {"id": cid, "kind": kind, "role": role},
            )


async def counts(conn: AsyncConnection, query: str) -> dict[tuple[object, ...], int]:
    return {tuple(r[:-1]): r[-1] for r in (await conn.execute(text(query))).all() if r[-1]}


async def test_0009_backfills_the_counts_and_the_triggers_keep_them(postgres: EmbeddedPostgres) -> None:
    postgres.ensure_database(DATABASE)
    url = postgres.url(DATABASE)
    engine = create_async_engine(url)
    config = alembic_config(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("drop schema public cascade"))
            await conn.execute(text("create schema public"))
        await asyncio.to_thread(command.upgrade, config, "0008")
        async with engine.begin() as conn:
            await load(conn)

        await upgrade_async(url)
        async with engine.begin() as conn:
            escalated = (
                await conn.execute(text("select id from commission where escalated order by id"))
            ).all()
            assert [r[0] for r in escalated] == ["c3"]
            grouped = f"select {KEY}, count(*) from commission group by {KEY}"
            stored = f"select {KEY}, commissions from commission_count"
            assert await counts(conn, stored) == await counts(conn, grouped)
            assert await counts(conn, stored) == {
                ("i1", "k1", "forensic_clinical", "examining", False, False): 2,
                ("i1", "k2", "forensic_clinical", "examining", True, True): 1,
                ("i1", "k2", "forensic_clinical", "examining", True, False): 1,
                ("i2", "k1", "trace_evidence", "closed", False, False): 1,
            }
            await conn.execute(
                text("update commission set stage = 'awaiting_issue', next_due_on = null where id = 'c1'")
            )
            assert await counts(conn, stored) == await counts(conn, grouped)

        await asyncio.to_thread(command.downgrade, config, "0008")
        async with engine.connect() as conn:
            assert (await conn.execute(text("select count(*) from commission"))).scalar_one() == len(ROWS)
            assert (await conn.execute(text("select to_regclass('commission_count')"))).scalar_one() is None
    finally:
        await engine.dispose()
