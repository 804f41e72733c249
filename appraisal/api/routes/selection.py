from fastapi import APIRouter

from appraisal.api.deps import READ_YOUR_WRITES, SessionDep
from appraisal.api.errors import ERRORS
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.registry import SelectionPublic
from appraisal.services import commission
from appraisal.services import selection as service

router = APIRouter(
    prefix="/v1/commissions", tags=["commissions"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)


@router.get("/{commission_id}/selection", response_model=SelectionPublic, responses=ERRORS)
async def get_selection(commission_id: str, principal: AuthorizedDep, session: SessionDep) -> SelectionPublic:
    """How the institution was chosen: the mode, and for a random draw (SEL-3) the recorded
    seed and candidates, the pick re-computed now from them and whether it matches the record."""
    row = await commission.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    return await service.selection(session=session, commission=row)
