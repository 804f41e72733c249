"""REG-8 on the time-skipping server with the production worker: the daily
LicenceExpiryWorkflow opens one task per licence expiring within 60 days (or
expired), never twice, and closes it once the licence is renewed or revoked."""

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.activities.registry import LicenceSweepResult
from appraisal.domain.calendar import local_today
from appraisal.seed import APPRAISERS, BUREAU, INSTITUTIONS
from appraisal.services.registry import licence_tasks
from appraisal.workflows.licence import LicenceExpiryInput, LicenceExpiryWorkflow

pytestmark = pytest.mark.dated

SOON, LATER = INSTITUTIONS[0], INSTITUTIONS[1]
EXPIRED, REVOKED = APPRAISERS[0], APPRAISERS[1]


async def sweep(env: WorkflowEnvironment, task_queue: str, day: str = "") -> LicenceSweepResult:
    return await env.client.execute_workflow(
        LicenceExpiryWorkflow.run,
        LicenceExpiryInput(day=day),
        id=f"licence-sweep-{uuid.uuid4()}",
        task_queue=task_queue,
    )


async def set_licence(
    sessions: async_sessionmaker[AsyncSession],
    table: str,
    entity_id: str,
    until: date,
    status: str = "active",
) -> None:
    async with sessions() as session:
        connection = await session.connection()
        await connection.execute(
            text(f"update {table} set licence_valid_until = :until, status = :status where id = :id"),
            {"until": until, "status": status, "id": entity_id},
        )
        await session.commit()


async def open_tasks(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, date]]:
    async with sessions() as session:
        return [(t.entity_id, t.due_on) for t in await licence_tasks(session=session, bureau_id=BUREAU.id)]


async def test_the_daily_sweep_opens_each_task_once_and_closes_it_on_renewal(
    temporal_env: WorkflowEnvironment,
    worker: Worker,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    today = local_today(await temporal_env.get_current_time())
    await set_licence(sessions, "institution", SOON.id, today + timedelta(days=60))
    await set_licence(sessions, "institution", LATER.id, today + timedelta(days=61))
    await set_licence(sessions, "appraiser", EXPIRED.id, today - timedelta(days=5))
    await set_licence(sessions, "appraiser", REVOKED.id, today + timedelta(days=10), status="revoked")

    # The schedule's run counts from the workflow's own today; the lapsed licence is written as
    # an exit notice and its fan-out started (once: the reruns below start none).
    assert await sweep(temporal_env, task_queue) == LicenceSweepResult(opened=2, closed=0, exits_started=1)
    assert await open_tasks(sessions) == [
        (EXPIRED.id, today - timedelta(days=5)),
        (SOON.id, today + timedelta(days=60)),
    ]
    assert await sweep(temporal_env, task_queue, today.isoformat()) == LicenceSweepResult(opened=0, closed=0)

    # A day later the 61-day licence enters the window.
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert await sweep(temporal_env, task_queue, tomorrow) == LicenceSweepResult(opened=1, closed=0)

    await set_licence(sessions, "institution", SOON.id, today + timedelta(days=5 * 365))
    await set_licence(sessions, "appraiser", EXPIRED.id, today - timedelta(days=5), status="revoked")
    assert await sweep(temporal_env, task_queue, tomorrow) == LicenceSweepResult(opened=0, closed=2)
    assert await open_tasks(sessions) == [(LATER.id, today + timedelta(days=61))]
    async with sessions() as session:
        connection = await session.connection()
        closed = (
            await connection.execute(
                text(
                    "select entity_id, closed_reason from licence_task where closed_at is not null order by 1"
                )
            )
        ).all()
    assert sorted(closed) == sorted(
        [
            (SOON.id, f"licence renewed until {today + timedelta(days=5 * 365)}"),
            (EXPIRED.id, "registration revoked"),
        ]
    )
