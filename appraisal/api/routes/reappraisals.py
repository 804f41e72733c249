from fastapi import APIRouter, Response

from appraisal.api.deps import READ_YOUR_WRITES, CalendarDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.api.errors import ERRORS, repeated
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.lifecycle import LineageItem, ReappraisalCreate
from appraisal.services import commission as service
from appraisal.services import reappraisal

router = APIRouter(
    prefix="/v1/commissions",
    tags=["re-appraisal"],
    dependencies=[READ_YOUR_WRITES],
    route_class=Utf8BodyRoute,
)


@router.post(
    "/{commission_id}/reappraisal",
    response_model=CommissionPublic,
    status_code=201,
    responses={**ERRORS, **repeated(CommissionPublic, "commission")},
)
async def order_reappraisal(
    commission_id: str,
    body: ReappraisalCreate,
    response: Response,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> CommissionPublic:
    """Order a re-appraisal (court, PROC-31): a new commission linked to this one, at another
    institution (the same only with `same_institution_reason` and other appraisers), with a
    senior-titled appraiser and none of the earlier ones (PROC-32). The new one is returned;
    this one's opinion is marked superseded, with a refund on grounds 1–3 (PROC-35)."""
    row = await service.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    result, created = await reappraisal.reappraise(
        session=session,
        client=client,
        task_queue=settings.task_queue,
        principal=principal,
        old=row,
        body=body,
        today=today,
    )
    response.status_code = 201 if created else 200
    return service.public_of(result, calendar=calendar, today=today)


@router.get("/{commission_id}/lineage", response_model=list[LineageItem], responses=ERRORS)
async def lineage(commission_id: str, principal: AuthorizedDep, session: SessionDep) -> list[LineageItem]:
    """Every commission on the same matter the caller may see: earlier ones (re-entrusted or
    re-appraised from), this one, and later ones, linked both ways."""
    row = await service.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    return await reappraisal.lineage_of(session=session, principal=principal, commission=row)
