from fastapi import APIRouter

from appraisal.api.deps import CalendarDep, SessionDep, TemporalDep, TodayDep
from appraisal.api.lifecycle_schemas import ObjectionCreate, ObjectionReplyCreate, ObjectionResolutionCreate
from appraisal.api.policy import AuthorizedDep
from appraisal.api.routes.commissions import ERRORS, _step
from appraisal.api.schemas import CommissionPublic
from appraisal.domain.objection import ObjectionForward, ObjectionReply, ObjectionResolution
from appraisal.workflows.commission import CommissionWorkflow

router = APIRouter(prefix="/v1/commissions", tags=["objections"])


@router.post("/{commission_id}/objections", response_model=CommissionPublic, responses=ERRORS)
async def forward_objection(
    commission_id: str,
    body: ObjectionCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> CommissionPublic:
    """Forward a party's objection to the issued opinion (court, CRT-7); the appraisers
    must answer in writing by `reply_by`, or the escalation ladder climbs."""
    return await _step(
        session=session,
        client=client,
        calendar=calendar,
        today=today,
        principal=principal,
        commission_id=commission_id,
        update=CommissionWorkflow.forward_objection,
        message=ObjectionForward(principal, body.party, body.content, body.reply_by.isoformat()),
    )


@router.post(
    "/{commission_id}/objections/{objection_id}/reply", response_model=CommissionPublic, responses=ERRORS
)
async def answer_objection(
    commission_id: str,
    objection_id: str,
    body: ObjectionReplyCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> CommissionPublic:
    """The appraisers' written answer (an assigned appraiser, CRT-7)."""
    return await _step(
        session=session,
        client=client,
        calendar=calendar,
        today=today,
        principal=principal,
        commission_id=commission_id,
        update=CommissionWorkflow.answer_objection,
        message=ObjectionReply(principal, objection_id, body.content),
    )


@router.post(
    "/{commission_id}/objections/{objection_id}/resolution", response_model=CommissionPublic, responses=ERRORS
)
async def resolve_objection(
    commission_id: str,
    objection_id: str,
    body: ObjectionResolutionCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> CommissionPublic:
    """After the answer (court, CRT-8): withdrawn; maintained (summon the appraisers next);
    or waived, when the objector did not prepay the appearance fee."""
    return await _step(
        session=session,
        client=client,
        calendar=calendar,
        today=today,
        principal=principal,
        commission_id=commission_id,
        update=CommissionWorkflow.resolve_objection,
        message=ObjectionResolution(principal, objection_id, body.resolution, body.note),
    )
