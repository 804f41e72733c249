"""Random inspections (双随机一公开): a supervisor draws; anyone with a token reads
the published draw and whether it re-runs to the same picks."""

from fastapi import APIRouter, Query

from appraisal.api.deps import READ_YOUR_WRITES, NowDep, SessionDep
from appraisal.api.errors import ERRORS
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.common import Page
from appraisal.schemas.penalty import InspectionResultsCreate
from appraisal.schemas.registry import InspectionCreate, InspectionPublic
from appraisal.services import inspection as service

router = APIRouter(
    prefix="/v1/supervision/inspections", tags=["supervision"], dependencies=[READ_YOUR_WRITES]
)


@router.post("", response_model=InspectionPublic, status_code=201, responses=ERRORS)
async def draw_inspection(
    body: InspectionCreate, principal: AuthorizedDep, session: SessionDep, now: NowDep
) -> InspectionPublic:
    """Draw `institutions` active institutions of the caller's bureau, `case_files_per_institution`
    commissions of each (received in `period`, if given) and `inspectors` from the bureau's
    inspector list, with random.Random(seed) over each list sorted by id. Fewer are drawn where
    fewer exist. 409 `no_candidate_institution` or `no_inspector` when a list is empty."""
    return await service.create(session=session, principal=principal, body=body, now=now)


@router.get("", response_model=Page[InspectionPublic], responses=ERRORS)
async def list_inspections(
    _: AuthorizedDep,
    session: SessionDep,
    bureau_id: str | None = Query(default=None, max_length=36),
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> Page[InspectionPublic]:
    """Every published draw, newest first."""
    items, total = await service.list_inspections(
        session=session, bureau_id=bureau_id, limit=limit, offset=offset
    )
    return Page[InspectionPublic](
        items=items, total=total, limit=limit, offset=offset, has_more=offset + len(items) < total
    )


@router.get("/{inspection_id}", response_model=InspectionPublic, responses=ERRORS)
async def get_inspection(inspection_id: str, _: AuthorizedDep, session: SessionDep) -> InspectionPublic:
    """A published draw: its seed, every candidate list, the picks, and `reproduced`."""
    return await service.get(session=session, inspection_id=inspection_id)


@router.post("/{inspection_id}/results", response_model=InspectionPublic, responses=ERRORS)
async def close_inspection(
    inspection_id: str,
    body: InspectionResultsCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    now: NowDep,
) -> InspectionPublic:
    """Record what the inspection found at each institution drawn (`no_issue`, `rectification`,
    `penalty_referral`) and close it (supervisor of the draw's bureau): its results are then
    public at `/v1/public/inspections`; a `penalty_referral` may be filed as a penalty case.
    409 `inspection_closed` when already closed; 422 `results` unless each institution drawn has one."""
    return await service.close(
        session=session, principal=principal, inspection_id=inspection_id, body=body, now=now
    )
