"""Administrative penalty cases (行政处罚, RULES.md CMP-9, REG-3…REG-7) of the supervising
bureau: file one (from a referral or the bureau's own finding), read it, take each step."""

from fastapi import APIRouter, Query, Response

from appraisal.api.deps import READ_YOUR_WRITES, CalendarDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.api.errors import documented, repeated
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.commission import AuditEventPublic
from appraisal.schemas.penalty import PenaltyCaseCreate, PenaltyCasePublic, PenaltyStepCreate
from appraisal.services import penalty as service

router = APIRouter(
    prefix="/v1/penalties", tags=["penalties"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)

ERRORS = documented(
    {
        401: "no token or a bad one",
        403: "not allowed for this role",
        404: "no such penalty case in the caller's bureau",
        409: "the step is not allowed in the case's current state, or the rule refuses it",
        413: "the request body is larger than MAX_BODY_BYTES",
        422: "invalid input: which field and why",
        503: "Temporal or the database is unavailable; nothing was changed",
    }
)


@router.post(
    "",
    response_model=PenaltyCasePublic,
    status_code=201,
    responses={**ERRORS, **repeated(PenaltyCasePublic, "case")},
)
async def file_penalty_case(
    body: PenaltyCaseCreate,
    response: Response,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> PenaltyCasePublic:
    """File (立案) a penalty case against an institution or an appraiser under the caller's bureau
    (supervisor), from a referral (`complaint`, `testimony_refusal`, `inspection`: `source_id`
    names it, 409 `not_referred` when it did not refer this party) or the bureau's own finding.
    409 `time_barred` past 行政处罚法 Art 36's 2 (5) years. A repeated `reference` returns the case (200)."""
    result, created = await service.file(
        session=session,
        client=client,
        task_queue=settings.task_queue,
        principal=principal,
        body=body,
        today=today,
        paper_history_days=settings.paper_history_days,
    )
    response.status_code = 201 if created else 200
    return service.public_of(result, calendar=calendar, today=today)


@router.get("", response_model=list[PenaltyCasePublic], responses=ERRORS)
async def list_penalty_cases(
    principal: AuthorizedDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
    stage: str | None = Query(default=None, max_length=30),
) -> list[PenaltyCasePublic]:
    """The bureau's penalty cases, newest first."""
    rows = await service.list_cases(session=session, principal=principal, stage=stage)
    return [service.to_public(r.snapshot, calendar=calendar, today=today) for r in rows]


@router.get("/{case_id}", response_model=PenaltyCasePublic, responses=ERRORS)
async def get_penalty_case(
    case_id: str, principal: AuthorizedDep, session: SessionDep, calendar: CalendarDep, today: TodayDep
) -> PenaltyCasePublic:
    """The case's stage, each step's record and every clock (CMP-9, PEN-2, PEN-4)."""
    row = await service.load_in_scope(session=session, principal=principal, case_id=case_id)
    return service.to_public(row.snapshot, calendar=calendar, today=today)


@router.post("/{case_id}/steps", response_model=PenaltyCasePublic, responses=ERRORS)
async def take_penalty_step(
    case_id: str,
    body: PenaltyStepCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> PenaltyCasePublic:
    """The case's next step (supervisor): `investigate`, `propose` (the notice with the party's
    rights), `statement` (陈述、申辩, a hearing asked for or waived), `schedule_hearing` (≥7 days'
    notice), `hearing_held`, `extend` (once, approved by the head), `decide` (REG-3…REG-7) or
    `serve` (the outcome recorded, published, a suspension or revocation reaching the registry
    and every running commission). A step not allowed now is 409 with the rule's code."""
    snapshot = await service.take_step(
        session=session, client=client, principal=principal, case_id=case_id, body=body
    )
    return service.to_public(snapshot, calendar=calendar, today=today)


@router.get("/{case_id}/audit", response_model=list[AuditEventPublic], responses=ERRORS)
async def penalty_audit_trail(
    case_id: str, principal: AuthorizedDep, session: SessionDep
) -> list[AuditEventPublic]:
    """Every step of the case, in order, with who and when, hash-chained."""
    row = await service.load_in_scope(session=session, principal=principal, case_id=case_id)
    rows = await service.audit_trail(session=session, case=row)
    return [AuditEventPublic.model_validate(r, from_attributes=True) for r in rows]
