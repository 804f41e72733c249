from fastapi import APIRouter

from appraisal.api.deps import CalendarDep, SessionDep, TemporalDep, TodayDep
from appraisal.api.lifecycle_schemas import CorrectionCreate, SupplementaryCreate
from appraisal.api.policy import AuthorizedDep
from appraisal.api.routes.commissions import ERRORS, _step
from appraisal.api.schemas import CommissionPublic
from appraisal.domain.commission import Material
from appraisal.domain.report_changes import CorrectionSubmission, SupplementaryRequest
from appraisal.workflows.commission import CommissionWorkflow

router = APIRouter(prefix="/v1/commissions", tags=["report changes"])


@router.post("/{commission_id}/supplementary", response_model=CommissionPublic, responses=ERRORS)
async def request_supplementary(
    commission_id: str,
    body: SupplementaryCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> CommissionPublic:
    """Ask the same institution and appraisers for a supplementary appraisal (court, PROC-30):
    a new examination clock; the next report version is linked to the issued one."""
    message = SupplementaryRequest(
        principal, body.ground, body.reason, [Material(m.name, m.sha256) for m in body.materials]
    )
    return await _step(
        session=session,
        client=client,
        calendar=calendar,
        today=today,
        principal=principal,
        commission_id=commission_id,
        update=CommissionWorkflow.request_supplementary,
        message=message,
    )


@router.post("/{commission_id}/corrections", response_model=CommissionPublic, responses=ERRORS)
async def submit_correction(
    commission_id: str,
    body: CorrectionCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> CommissionPublic:
    """Correct an issued report (an assigned appraiser, PROC-28): only the listed defect
    kinds, the opinion unchanged; the original is kept and signatures are collected again."""
    message = CorrectionSubmission(
        principal,
        body.defect_kind,
        body.description,
        body.content,
        body.opinion,
        [Material(a.name, a.sha256) for a in body.attachments],
    )
    return await _step(
        session=session,
        client=client,
        calendar=calendar,
        today=today,
        principal=principal,
        commission_id=commission_id,
        update=CommissionWorkflow.submit_correction,
        message=message,
    )
