from fastapi import APIRouter

from appraisal.api.deps import SessionDep
from appraisal.api.policy import AuthorizedDep
from appraisal.api.routes.commissions import ERRORS
from appraisal.api.schemas import InboxTask
from appraisal.services import commission as service

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


@router.get("", response_model=list[InboxTask], responses=ERRORS)
async def my_tasks(principal: AuthorizedDep, session: SessionDep) -> list[InboxTask]:
    """The caller's inbox: every step waiting on them, soonest deadline first."""
    return await service.inbox(session=session, principal=principal)
