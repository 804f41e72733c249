from fastapi import APIRouter

from appraisal.api.deps import READ_YOUR_WRITES
from appraisal.api.errors import STEP_RESPONSES
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.steps import StepsDep
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.lifecycle import CorrectionCreate, SupplementaryCreate
from appraisal.services import steps as steps_service

router = APIRouter(
    prefix="/v1/commissions",
    tags=["report changes"],
    dependencies=[READ_YOUR_WRITES],
    route_class=Utf8BodyRoute,
)


@router.post("/{commission_id}/supplementary", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def request_supplementary(
    commission_id: str,
    body: SupplementaryCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Ask the same institution and appraisers for a supplementary appraisal (court, PROC-30):
    a new examination clock; the next report version is linked to the issued one."""
    return await steps.take(commission_id, steps_service.SUPPLEMENTARY, body)


@router.post("/{commission_id}/corrections", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def submit_correction(
    commission_id: str,
    body: CorrectionCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Correct an issued report (an assigned appraiser, PROC-28): only the listed defect
    kinds, the opinion unchanged; the original is kept and signatures are collected again."""
    return await steps.take(commission_id, steps_service.CORRECTION, body)
