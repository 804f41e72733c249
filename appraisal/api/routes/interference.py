"""Independence (IND-1): an appraiser records an attempt to interfere with a commission,
signed with their own key; it reaches the bureau at once, which reviews it."""

from fastapi import APIRouter

from appraisal.api.deps import READ_YOUR_WRITES
from appraisal.api.errors import STEP_RESPONSES
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.steps import StepsDep
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.penalty import InterferenceCreate, InterferenceReviewCreate
from appraisal.services import steps as steps_service

router = APIRouter(
    prefix="/v1/commissions",
    tags=["independence"],
    dependencies=[READ_YOUR_WRITES],
    route_class=Utf8BodyRoute,
)


@router.post("/{commission_id}/interference", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def report_interference(
    commission_id: str, body: InterferenceCreate, steps: StepsDep
) -> CommissionPublic:
    """An assigned appraiser records who tried to interfere, when and what they did or asked,
    signed with their own Ed25519 key over the canonical record (422 `signature` when it does
    not verify). The bureau gets a `review_interference` task at once; with
    `hidden_from_institution` the institution's desk and head never see it. Part of the
    appraiser's reverse trace."""
    return await steps.take(commission_id, steps_service.INTERFERENCE, body)


@router.post(
    "/{commission_id}/interference/{report_id}/review",
    response_model=CommissionPublic,
    responses=STEP_RESPONSES,
)
async def review_interference(
    commission_id: str, report_id: str, body: InterferenceReviewCreate, steps: StepsDep
) -> CommissionPublic:
    """The supervising bureau records what it did about a reported attempt to interfere."""
    return await steps.take(commission_id, steps_service.INTERFERENCE_REVIEW, body, item_id=report_id)
