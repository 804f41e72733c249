from datetime import date
from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from appraisal.api.deps import (
    READ_YOUR_WRITES,
    CalendarDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    TodayDep,
)
from appraisal.api.errors import ERRORS, STEP_RESPONSES, repeated
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.paging import PAGE_HEADERS, decode_list_cursor, encode_list_cursor, link_next_page
from appraisal.api.policy import AuthorizedDep
from appraisal.api.steps import StepsDep, answered_at
from appraisal.domain.errors import InvalidInput
from appraisal.domain.stages import Stage
from appraisal.schemas.commission import (
    AcceptanceCreate,
    AuditEventPublic,
    ChainVerdictPublic,
    ClosureCreate,
    CommissionPublic,
    EntrustmentCreate,
    ExtensionCreate,
    IssueCreate,
    MaterialRequestCreate,
    MaterialsCreate,
    ReentrustmentCreate,
    ReportCreate,
    SignatureCreate,
    TerminationCreate,
    WithdrawalCreate,
)
from appraisal.schemas.common import Page
from appraisal.services import audit
from appraisal.services import commission as service
from appraisal.services import steps as steps_service

router = APIRouter(
    prefix="/v1/commissions", tags=["commissions"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)


@router.post(
    "",
    response_model=CommissionPublic,
    status_code=201,
    responses={**ERRORS, **repeated(CommissionPublic, "commission")},
)
async def entrust_commission(
    body: EntrustmentCreate,
    response: Response,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> CommissionPublic:
    """Entrust a commission: a court, or another entrusting organ (a procuratorate, a public
    security organ, another investigative organ: ENT-1), each with its own case numbers (ENT-2);
    an institution an investigative organ set up takes only its own system's (ENT-3). A repeated
    `court_reference` (or `entrusting_reference`) returns the existing one (200)."""
    result, created = await service.entrust(
        session=session,
        client=client,
        task_queue=settings.task_queue,
        principal=principal,
        body=body,
        today=today,
        paper_history_days=settings.paper_history_days,
    )
    response.status_code = 201 if created else 200
    public = service.public_of(result, calendar=calendar, today=today)
    answered_at(response, public)
    return public


@router.get("", response_model=Page[CommissionPublic], responses={**ERRORS, 200: {"headers": PAGE_HEADERS}})
async def list_commissions(
    request: Request,
    response: Response,
    principal: AuthorizedDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
    stage: Stage | None = None,
    institution_id: str | None = Query(default=None, max_length=36),
    court_id: str | None = Query(
        default=None, max_length=36, description="the entrusting organ (the name older clients use)"
    ),
    entrusting_organ_id: str | None = Query(
        default=None, max_length=36, description="the entrusting organ: the general name of `court_id`"
    ),
    category: str | None = Query(default=None, max_length=60),
    overdue: bool | None = None,
    escalated: bool | None = Query(default=None, description="an overdue escalation to the bureau is open"),
    due_before: date | None = None,
    q: str | None = Query(
        default=None,
        max_length=100,
        description="search: in the court reference or the case number, or an assigned appraiser's name",
    ),
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(
        default=0,
        ge=0,
        le=1_000_000,
        description="rows to skip (costs as much as reading them: prefer `cursor`)",
    ),
    cursor: str | None = Query(
        default=None,
        max_length=200,
        description="where to continue: a previous page's X-Next-Cursor (same filters; not with `offset`)",
    ),
    count: Literal["capped", "exact"] = Query(
        default="capped",
        description=f"`capped`: `total` counts at most {service.COUNT_AHEAD:,} past the page's start (cheap);"
        " `exact`: every match",
    ),
) -> Page[CommissionPublic]:
    """What the caller may see, soonest deadline first (none last, then by id), one page at a
    time. Every page but the last gives the next one's cursor in the `X-Next-Cursor` and `Link`
    headers: following it costs the same at any depth, while `offset` reads every row it skips."""
    if cursor is not None and offset:
        raise InvalidInput("offset", "give either offset or cursor: the cursor knows where it is")
    if court_id and entrusting_organ_id and court_id != entrusting_organ_id:
        raise InvalidInput("entrusting_organ_id", "the general name of court_id: give one (or the same)")
    court_id = court_id or entrusting_organ_id
    listing = await service.list_commissions(
        session=session,
        principal=principal,
        stage=stage,
        institution_id=institution_id,
        court_id=court_id,
        category=category,
        overdue=overdue,
        escalated=escalated,
        due_before=due_before,
        text=q,
        limit=limit,
        offset=offset,
        after=decode_list_cursor(cursor) if cursor is not None else None,
        exact_total=count == "exact",
    )
    if listing.following is not None:
        same_filters = [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "cursor")
        ]
        link_next_page(response, request.url.path, same_filters, encode_list_cursor(listing.following))
    items = [
        service.to_public(r.snapshot, calendar=calendar, today=today, viewer=principal) for r in listing.rows
    ]
    return Page[CommissionPublic](
        items=items,
        total=listing.total,
        limit=limit,
        offset=listing.offset,
        total_exact=listing.total_exact,
        has_more=listing.has_more,
    )


@router.get("/{commission_id}", response_model=CommissionPublic, responses=ERRORS)
async def get_commission(
    commission_id: str,
    principal: AuthorizedDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> CommissionPublic:
    row = await service.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    return service.to_public(row.snapshot, calendar=calendar, today=today, viewer=principal)


@router.post("/{commission_id}/acceptance", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def decide_acceptance(
    commission_id: str,
    body: AcceptanceCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Accept with at least two qualified appraisers, or refuse with a PROC-05 ground (institution).
    An appraiser suspended, revoked or out of licence since entrustment is refused (409
    `appraiser_not_active`)."""
    return await steps.take(commission_id, steps_service.ACCEPTANCE, body)


@router.post("/{commission_id}/material-requests", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def request_materials(
    commission_id: str,
    body: MaterialRequestCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Ask the court for materials (or wait for an absent witness): pauses the
    running clock (PROC-04 during intake, PROC-17 during examination, PROC-15)."""
    return await steps.take(commission_id, steps_service.MATERIAL_REQUEST, body)


@router.post("/{commission_id}/materials", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def supply_materials(
    commission_id: str,
    body: MaterialsCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Supply the requested materials (or confirm the witness attends): the clock resumes
    from the day after `received_on` with the budget it had left (court)."""
    return await steps.take(commission_id, steps_service.MATERIALS, body)


@router.post("/{commission_id}/extension", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def extend_examination(
    commission_id: str,
    body: ExtensionCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Extend the examination limit once, by at most 30 working days, before it ends;
    the court is notified (institution head, PROC-17)."""
    return await steps.take(commission_id, steps_service.EXTENSION, body)


@router.post(
    "/{commission_id}/reentrustment",
    response_model=CommissionPublic,
    status_code=201,
    responses={**ERRORS, **repeated(CommissionPublic, "commission")},
)
async def reentrust_overdue_commission(
    commission_id: str,
    body: ReentrustmentCreate,
    response: Response,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> CommissionPublic:
    """Re-entrust an overdue commission to another institution (court, CRT-5): the old
    one ends as `reassigned` with a fee-refund record; the new one, linked to it, is returned."""
    row = await service.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    result, created = await service.reentrust(
        session=session,
        client=client,
        task_queue=settings.task_queue,
        principal=principal,
        old=row,
        body=body,
        today=today,
    )
    response.status_code = 201 if created else 200
    public = service.public_of(result, calendar=calendar, today=today)
    answered_at(response, public)
    return public


@router.post("/{commission_id}/withdrawal", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def withdraw_commission(
    commission_id: str,
    body: WithdrawalCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Withdraw the commission at any stage before the report is issued (court); the
    materials are returned."""
    return await steps.take(commission_id, steps_service.WITHDRAWAL, body)


@router.post("/{commission_id}/termination", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def terminate_commission(
    commission_id: str,
    body: TerminationCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Terminate an accepted commission on a PROC-20 ground with written reasons (institution):
    materials returned, fees refunded (PROC-21)."""
    return await steps.take(commission_id, steps_service.TERMINATION, body)


@router.post("/{commission_id}/report", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def submit_report(
    commission_id: str,
    body: ReportCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Submit the draft report (an assigned appraiser); its content is hashed."""
    return await steps.take(commission_id, steps_service.REPORT, body)


@router.post("/{commission_id}/signatures", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def sign_report(
    commission_id: str,
    body: SignatureCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Sign the report, or sign a dissent with its reasons (each assigned appraiser, once),
    with the appraiser's own Ed25519 key (`appraisal sign` computes it for demo appraisers)."""
    return await steps.take(commission_id, steps_service.SIGNATURE, body)


@router.post("/{commission_id}/issue", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def issue_report(
    commission_id: str,
    body: IssueCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Issue the signed report to the court (institution head)."""
    return await steps.take(commission_id, steps_service.ISSUE, body)


@router.post("/{commission_id}/closure", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def close_commission(
    commission_id: str,
    body: ClosureCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Close the commission once the report is issued (court)."""
    return await steps.take(commission_id, steps_service.CLOSURE, body)


@router.get("/{commission_id}/audit", response_model=list[AuditEventPublic], responses=ERRORS)
async def audit_trail(
    commission_id: str, principal: AuthorizedDep, session: SessionDep
) -> list[AuditEventPublic]:
    """Every step, in order, with who and when."""
    await service.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    return await service.audit_trail(session=session, commission_id=commission_id, viewer=principal)


@router.get("/{commission_id}/verify", response_model=ChainVerdictPublic, responses=ERRORS)
async def verify_commission(
    commission_id: str, principal: AuthorizedDep, session: SessionDep, client: TemporalDep
) -> ChainVerdictPublic:
    """Recompute the audit trail's hash chain, every signature and report hash from the stored
    content, and match every event against the workflow's own Temporal history: ok, or the
    first sequence number that does not verify and why."""
    row = await service.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    verdict = await audit.verify_commission(session=session, commission=row, client=client)
    return ChainVerdictPublic.model_validate(verdict, from_attributes=True)
