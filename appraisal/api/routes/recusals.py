from fastapi import APIRouter

from appraisal.api.deps import READ_YOUR_WRITES
from appraisal.api.errors import STEP_RESPONSES
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.steps import StepsDep
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.lifecycle import RecusalCreate, RecusalDecisionCreate
from appraisal.services import steps as steps_service

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
    return await steps.take(commission_id, steps_service.RECUSAL, body)


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
    return await steps.take(commission_id, steps_service.RECUSAL_DECISION, body, item_id=recusal_id)
