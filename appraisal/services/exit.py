"""Starting the fan-out of a registry exit notice (workflows/exit.py) once the registry
change that wrote it has committed, and what the bureau reads of the notices."""

import logging
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from appraisal.db.models import RegistryExit
from appraisal.db.registry import fan_out_input
from appraisal.domain.exit import exit_workflow_id
from appraisal.workflows.exit import RegistryExitWorkflow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Starter:
    """Where a registry write starts the fan-out of the notice it wrote."""

    client: Client
    task_queue: str


async def start_fan_out(*, session: AsyncSession, starter: Starter | None, exit_id: int | None) -> bool:
    """Starts the notice's fan-out (one workflow per notice: a second start is a no-op).
    False when it could not start now (no starter, or Temporal down): the notice stays
    unstarted, and the daily licence sweep starts it (`pending_exits`). Nothing is lost."""
    row = await session.get(RegistryExit, exit_id) if exit_id is not None else None
    if row is None or starter is None:
        return False
    try:
        await starter.client.start_workflow(
            RegistryExitWorkflow.run,
            fan_out_input(row),
            id=exit_workflow_id(row.id or 0),
            task_queue=starter.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return True
    except (RPCError, RuntimeError) as err:
        log.warning("registry exit %s: fan-out not started now (%s); the daily sweep starts it", exit_id, err)
        return False
    return True


async def notices(
    *, session: AsyncSession, bureau_id: str, entity_id: str | None = None
) -> list[RegistryExit]:
    """The bureau's exit notices, newest first: what reached (or is reaching) running work."""
    query = select(RegistryExit).where(RegistryExit.bureau_id == bureau_id)
    if entity_id:
        query = query.where(RegistryExit.entity_id == entity_id)
    return list((await session.exec(query.order_by(col(RegistryExit.id).desc()).limit(200))).all())
