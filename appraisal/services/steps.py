"""One step on a commission, as the REST API and the workspace both take it: the principal
finds the commission in its scope, the Update goes to its workflow (whose validator decides
whether the step is allowed now, before anything is written), and the snapshot after the
step comes back. One path: a form in the workspace and a POST to the API send the same
Update with the same message."""

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from appraisal.db.models import Commission
from appraisal.domain.commission import AcceptanceDecision
from appraisal.domain.errors import RuleViolation
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Actor
from appraisal.domain.stages import TERMINAL_STAGES
from appraisal.schemas.commission import AcceptanceCreate
from appraisal.services import commission, registry
from appraisal.workflows.commission import CommissionWorkflow


async def send(
    *, session: AsyncSession, client: Client, principal: Actor, commission_id: str, update: Any, message: Any
) -> dict[str, Any]:
    """The Update to the commission's workflow; the snapshot after it, as plain data."""
    row = await commission.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    return await _send_to(client=client, row=row, update=update, message=message)


async def _send_to(*, client: Client, row: Commission, update: Any, message: Any) -> dict[str, Any]:
    """The Update to the workflow of a commission already found in the caller's scope."""
    if row.stage in TERMINAL_STAGES:  # its workflow has ended: no Update can reach it
        raise RuleViolation("not_in_stage", f"the commission is {row.stage}; no step remains")
    return dict(
        jsonable(
            await update_workflow(client=client, workflow_id=row.workflow_id, update=update, message=message)
        )
    )


async def update_workflow(
    *, client: Client, workflow_id: str, update: Any, message: Any, what: str = "commission"
) -> Any:
    """The Update to a workflow (of a commission or its testimony) that its read model
    showed still running."""
    try:
        return await client.get_workflow_handle(workflow_id).execute_update(update, message)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        # The row is there, so its workflow ended after the row was read: a step that
        # ended it (perhaps this caller's own, repeated) went through meanwhile.
        raise RuleViolation("not_in_stage", f"the {what} has ended; no step remains") from err


async def decide_acceptance(
    *,
    session: AsyncSession,
    client: Client,
    principal: Actor,
    today: date,
    commission_id: str,
    body: AcceptanceCreate,
) -> dict[str, Any]:
    """Accept with qualified appraisers, or refuse on a PROC-05 ground (institution). An
    appraiser suspended, revoked or out of licence since entrustment is refused
    (`appraiser_not_active`): the workflow's list is the registry at entrustment."""
    row = await commission.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    if body.decision == "accept":
        await registry.require_active_appraisers(
            session=session, appraiser_ids=body.appraiser_ids, today=today
        )
    message = AcceptanceDecision(
        actor=principal,
        decision=body.decision,
        appraiser_ids=list(body.appraiser_ids),
        agreement_effective_on=body.agreement_effective_on.isoformat() if body.agreement_effective_on else "",
        ground=body.ground or "",
        reason=body.reason or "",
    )
    return await _send_to(
        client=client, row=row, update=CommissionWorkflow.decide_acceptance, message=message
    )
