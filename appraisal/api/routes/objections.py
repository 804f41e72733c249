from fastapi import APIRouter

from appraisal.api.deps import READ_YOUR_WRITES
from appraisal.api.errors import STEP_RESPONSES
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.steps import StepsDep
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.lifecycle import ObjectionCreate, ObjectionReplyCreate, ObjectionResolutionCreate
from appraisal.services import steps as steps_service

router = APIRouter(
    prefix="/v1/commissions", tags=["objections"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)


@router.post("/{commission_id}/objections", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def forward_objection(
    commission_id: str,
    body: ObjectionCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Forward a party's objection to the issued opinion (court, CRT-7); the appraisers
    must answer in writing by `reply_by`, or the escalation ladder climbs."""
    return await steps.take(commission_id, steps_service.OBJECTION, body)


@router.post(
    "/{commission_id}/objections/{objection_id}/reply",
    response_model=CommissionPublic,
    responses=STEP_RESPONSES,
)
async def answer_objection(
    commission_id: str,
    objection_id: str,
    body: ObjectionReplyCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """The appraisers' written answer (an assigned appraiser, CRT-7)."""
    return await steps.take(commission_id, steps_service.OBJECTION_REPLY, body, item_id=objection_id)


@router.post(
    "/{commission_id}/objections/{objection_id}/resolution",
    response_model=CommissionPublic,
    responses=STEP_RESPONSES,
)
async def resolve_objection(
    commission_id: str,
    objection_id: str,
    body: ObjectionResolutionCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """After the answer (court, CRT-8): withdrawn; maintained (summon the appraisers next);
    or waived, when the objector did not prepay the appearance fee."""
    return await steps.take(commission_id, steps_service.OBJECTION_RESOLUTION, body, item_id=objection_id)
