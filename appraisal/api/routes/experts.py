"""The bureau's expert pool (专家库), from which registration panels are drawn (ADM-5)."""

from fastapi import APIRouter

from appraisal.api.deps import READ_YOUR_WRITES, SessionDep
from appraisal.api.errors import ERRORS
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.db.models import Expert, ExpertPublic
from appraisal.schemas.admission import ExpertCreate
from appraisal.services import expert as service

router = APIRouter(
    prefix="/v1/experts", tags=["registration"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)


@router.post("", response_model=ExpertPublic, status_code=201, responses=ERRORS)
async def add_expert(body: ExpertCreate, principal: AuthorizedDep, session: SessionDep) -> Expert:
    """Add an expert to the caller's bureau's pool (supervisor), with the Ed25519 key their
    reviews are signed with; audited in the registry's chain."""
    return await service.create_expert(session=session, principal=principal, body=body)


@router.get("", response_model=list[ExpertPublic], responses=ERRORS)
async def list_experts(principal: AuthorizedDep, session: SessionDep) -> list[Expert]:
    """The caller's bureau's expert pool."""
    return await service.list_experts(session=session, bureau_id=principal.organisation_id)
