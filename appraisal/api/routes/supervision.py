from datetime import date

from fastapi import APIRouter, Query

from appraisal.api.deps import READ_YOUR_WRITES, CalendarDep, SessionDep, TemporalDep, TodayDep
from appraisal.api.errors import ERRORS
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.commission import AnchorCheck, AppraiserTrace
from appraisal.schemas.supervision import AlertPublic, SupervisionOverview
from appraisal.services import audit, supervision

router = APIRouter(
    prefix="/v1/supervision", tags=["supervision"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)


@router.get("/anchors/{day}", response_model=AnchorCheck, responses=ERRORS)
async def check_anchor(day: date, principal: AuthorizedDep, session: SessionDep) -> AnchorCheck:
    """A day's stored audit anchor against the one recomputed from the trail now:
    any event edited, deleted or added since that day's end shows as a mismatch; and each
    court's signed copy of its own heads, as delivered to its webhook."""
    return await audit.check_anchor(session=session, principal=principal, day=day)


@router.get("/appraisers/{appraiser_id}/trace", response_model=AppraiserTrace, responses=ERRORS)
async def trace_appraiser(appraiser_id: str, principal: AuthorizedDep, session: SessionDep) -> AppraiserTrace:
    """Reverse trace (倒查) of one appraiser, in time order: every commission, report,
    signature, dissent, pause, extension, missed deadline and escalation, and every
    complaint naming them (registration, decision, outcome), each pointing at its audit
    event and saying whether that commission's or complaint's chain verifies through it."""
    trace = await supervision.appraiser_trace(session=session, principal=principal, appraiser_id=appraiser_id)
    complaints = await audit.complaint_trace_items(session=session, appraiser_id=appraiser_id)
    trace.items = sorted([*trace.items, *complaints], key=lambda item: item.at)  # stable: seq order kept
    return trace


@router.get("/overview", response_model=SupervisionOverview, responses=ERRORS)
async def overview(
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
    due_within: int = Query(
        default=supervision.DUE_WITHIN_DEFAULT,
        ge=1,
        le=supervision.DUE_WITHIN_MAX,
        description="working days ahead that count as due soon",
    ),
) -> SupervisionOverview:
    """The bureau's commissions counted from the read model: by stage, overdue, due
    within `due_within` working days, escalated to the bureau; overall, by
    institution and by category; and those whose workflow Temporal reports stuck."""
    answer = await supervision.overview(
        session=session, principal=principal, calendar=calendar, today=today, due_within=due_within
    )
    answer.stuck = await supervision.stuck_workflows(session=session, client=client, principal=principal)
    return answer


@router.get("/alerts", response_model=list[AlertPublic], responses=ERRORS)
async def rate_alerts(principal: AuthorizedDep, session: SessionDep) -> list[AlertPublic]:
    """The bureau's open alerts: an institution whose refusal, termination, overdue or complaint
    rate is unusual against the province's (SUP-1: at least 10 commissions and 3 events, at
    least twice the province's rate and 5 points above it). Each is a `review_unusual_rate` task
    in the bureau's inbox; the daily sweep closes it once the rate is usual again."""
    return await supervision.alerts(session=session, principal=principal)
