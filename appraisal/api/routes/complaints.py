"""Complaints against institutions and appraisers (RULES.md section 10), handled
by the supervising bureau: register, read, and take each step."""

from fastapi import APIRouter, Response

from appraisal.api.deps import READ_YOUR_WRITES, CalendarDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.api.errors import documented, repeated
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.commission import AuditEventPublic
from appraisal.schemas.complaint import ComplaintCreate, ComplaintDecisionCreate, ComplaintPublic
from appraisal.services import complaint as service

router = APIRouter(
    prefix="/v1/complaints", tags=["complaints"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)

ERRORS = documented(
    {
        401: "no token or a bad one",
        403: "not allowed for this role",
        404: "no such complaint in the caller's scope",
        409: "the step is not allowed in the complaint's current state, or the rule refuses it",
        413: "the request body is larger than MAX_BODY_BYTES",
        422: "invalid input: which field and why",
        503: "Temporal or the database is unavailable; nothing was changed",
    }
)


@router.post(
    "",
    response_model=ComplaintPublic,
    status_code=201,
    responses={**ERRORS, **repeated(ComplaintPublic, "complaint")},
)
async def register_complaint(
    body: ComplaintCreate,
    response: Response,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> ComplaintPublic:
    """Register a party's complaint against an institution and/or an appraiser under the
    caller's bureau (supervisor). A repeated `reference` returns the existing one (200).
    Refused with 409 when time-barred (`time_barred`, CMP-1) or when the institution is
    under another bureau (`not_in_bureau`, CMP-2)."""
    result, created = await service.register(
        session=session,
        client=client,
        task_queue=settings.task_queue,
        principal=principal,
        body=body,
        today=today,
        calendar=calendar,
        paper_history_days=settings.paper_history_days,
    )
    response.status_code = 201 if created else 200
    return service.public_of(result, calendar=calendar, today=today)


@router.get("/{complaint_id}", response_model=ComplaintPublic, responses=ERRORS)
async def get_complaint(
    complaint_id: str,
    principal: AuthorizedDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> ComplaintPublic:
    """The complaint's stage, decisions and every clock (CMP-5, CMP-6, CMP-7)."""
    row = await service.load_in_scope(session=session, principal=principal, complaint_id=complaint_id)
    return service.to_public(row.snapshot, calendar=calendar, today=today)


@router.post("/{complaint_id}/decision", response_model=ComplaintPublic, responses=ERRORS)
async def decide_complaint(
    complaint_id: str,
    body: ComplaintDecisionCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> ComplaintPublic:
    """Take the complaint's next step (supervisor): `accept`, `decline` (CMP-4 ground),
    `extend_acceptance`, `request_supplement`, `supplement_received`, `extend_handling`,
    `decide` (findings and outcome) or `notify_parties`. A step not allowed now is 409
    with the rule's code; nothing is recorded."""
    snapshot = await service.decide(
        session=session, client=client, principal=principal, complaint_id=complaint_id, body=body
    )
    return service.to_public(snapshot, calendar=calendar, today=today)


@router.get("/{complaint_id}/audit", response_model=list[AuditEventPublic], responses=ERRORS)
async def complaint_audit_trail(
    complaint_id: str, principal: AuthorizedDep, session: SessionDep
) -> list[AuditEventPublic]:
    """Every step of the complaint, in order, with who and when, hash-chained."""
    row = await service.load_in_scope(session=session, principal=principal, complaint_id=complaint_id)
    rows = await service.audit_trail(session=session, complaint=row)
    return [AuditEventPublic.model_validate(r, from_attributes=True) for r in rows]
