"""How a commission or a complaint comes into being once: update-with-start on an id
derived from the caller's own reference, or the read model's row of one closed long ago."""

from typing import Any, TypeVar

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

Row = TypeVar("Row", bound=SQLModel)


async def start_once(
    *,
    client: Client,
    session: AsyncSession,
    run: Any,
    inp: Any,
    workflow_id: str,
    task_queue: str,
    register: Any,
    request: Any,
    stored: type[Row],
    row_id: str,
) -> tuple[Any, bool]:
    """(the workflow's snapshot, whether this call created it), or (the stored row, False)
    when the workflow closed long ago and its id may not be reused. `run` and `register`
    are the workflow's run method and its registering Update."""
    start = WithStartWorkflowOperation(
        run,
        inp,
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    try:
        snapshot = await client.execute_update_with_start_workflow(
            register, request, start_workflow_operation=start
        )
    except WorkflowAlreadyStartedError:
        row = await session.get(stored, row_id)
        if row is None:
            raise
        return row, False
    return snapshot, snapshot.created
