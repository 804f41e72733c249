from fastapi import APIRouter

from appraisal.api.deps import READ_YOUR_WRITES
from appraisal.api.errors import STEP_RESPONSES
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.steps import StepsDep
from appraisal.domain.recusal import RecusalDecision, RecusalRequest
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.lifecycle import RecusalCreate, RecusalDecisionCreate
from appraisal.services import commission as service
from appraisal.services import registry
from appraisal.workflows.commission import CommissionWorkflow

router = APIRouter(
    prefix="/v1/commissions", tags=["recusal"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)


@router.post("/{commission_id}/recusals", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def request_recusal(
    commission_id: str,
    body: RecusalCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """An appraiser declares their own conflict, or the court asks for an appraiser's
    recusal (PROC-10); the institution must decide within the PROC-11 limit."""
    return await steps.send(
        commission_id,
        CommissionWorkflow.request_recusal,
        RecusalRequest(steps.principal, body.appraiser_id, body.ground, body.reason),
    )


@router.post(
    "/{commission_id}/recusals/{recusal_id}/decision",
    response_model=CommissionPublic,
    responses=STEP_RESPONSES,
)
async def decide_recusal(
    commission_id: str,
    recusal_id: str,
    body: RecusalDecisionCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Grant with a qualified replacement, or refuse with reasons (institution, PROC-11).
    A court that disagrees with a refusal may withdraw the commission. A replacement
    suspended, revoked or out of licence since entrustment is refused (409 `appraiser_not_active`)."""
    if body.granted and body.replacement_id:
        await service.load_in_scope(
            session=steps.session, principal=steps.principal, commission_id=commission_id
        )
        await registry.require_active_appraisers(
            session=steps.session, appraiser_ids=[body.replacement_id], today=steps.today
        )
    return await steps.send(
        commission_id,
        CommissionWorkflow.decide_recusal,
        RecusalDecision(steps.principal, recusal_id, body.granted, body.reason, body.replacement_id or ""),
    )
