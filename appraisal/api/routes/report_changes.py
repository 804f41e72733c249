from fastapi import APIRouter

from appraisal.api.deps import READ_YOUR_WRITES
from appraisal.api.errors import STEP_RESPONSES
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.steps import StepsDep
from appraisal.domain.commission import Material
from appraisal.domain.report_changes import CorrectionSubmission, SupplementaryRequest
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.lifecycle import CorrectionCreate, SupplementaryCreate
from appraisal.workflows.commission import CommissionWorkflow

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
    message = SupplementaryRequest(
        steps.principal, body.ground, body.reason, [Material(m.name, m.sha256) for m in body.materials]
    )
    return await steps.send(commission_id, CommissionWorkflow.request_supplementary, message)


@router.post("/{commission_id}/corrections", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def submit_correction(
    commission_id: str,
    body: CorrectionCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Correct an issued report (an assigned appraiser, PROC-28): only the listed defect
    kinds, the opinion unchanged; the original is kept and signatures are collected again."""
    message = CorrectionSubmission(
        steps.principal,
        body.defect_kind,
        body.description,
        body.content,
        body.opinion,
        [Material(a.name, a.sha256) for a in body.attachments],
    )
    return await steps.send(commission_id, CommissionWorkflow.submit_correction, message)
