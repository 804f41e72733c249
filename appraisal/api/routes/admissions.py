"""Registration applications (登记申请): an institution's or an appraiser's admission, a
licence's renewal and a registration's change, one path for all (ADM-1 … ADM-7)."""

from typing import Any

from fastapi import APIRouter, Response

from appraisal.api.deps import READ_YOUR_WRITES, CalendarDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.api.errors import documented, repeated
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.admission import (
    AdmissionCreate,
    AdmissionDecisionCreate,
    AdmissionListItem,
    AdmissionPublic,
    AdmissionWithdrawalCreate,
    CorrectionCreate,
    ExpertRecusalCreate,
    PanelDrawPublic,
    ReviewCreate,
)
from appraisal.schemas.commission import AuditEventPublic
from appraisal.services import admission as service

router = APIRouter(
    prefix="/v1/admissions", tags=["registration"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)

ERRORS = documented(
    {
        401: "no token or a bad one",
        403: "not allowed for this role",
        404: "no such application in the caller's scope",
        409: "the step is not allowed in the application's current state, or the rule refuses it",
        413: "the request body is larger than MAX_BODY_BYTES",
        422: "invalid input: which field and why",
        503: "Temporal or the database is unavailable; nothing was changed",
    }
)


@router.post(
    "",
    response_model=AdmissionPublic,
    status_code=201,
    responses={**ERRORS, **repeated(AdmissionPublic, "application")},
)
async def file_application(
    body: AdmissionCreate,
    response: Response,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> AdmissionPublic:
    """File an application: an institution for its appraiser's admission, or for its own or
    its appraiser's renewal or change; the bureau for a new institution (received at its
    window) or on any applicant's behalf. A repeated `reference` returns the existing one
    (200). Refused with 409 when the person already practises elsewhere (`already_practising`,
    REG-2) or a renewal comes less than 30 days before the licence ends (`renewal_too_late`,
    ADM-7)."""
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


@router.get("", response_model=list[AdmissionListItem], responses=ERRORS)
async def list_applications(principal: AuthorizedDep, session: SessionDep) -> list[AdmissionListItem]:
    """The applications in the caller's scope: the bureau's; those an institution filed or
    that concern it; an appraiser's own; those an expert reviews."""
    return await service.list_admissions(session=session, principal=principal)


@router.get("/{admission_id}", response_model=AdmissionPublic, responses=ERRORS)
async def get_application(
    admission_id: str, principal: AuthorizedDep, session: SessionDep, calendar: CalendarDep, today: TodayDep
) -> AdmissionPublic:
    """The application's stage, its clocks (ADM-1, ADM-3, ADM-4), panel, reviews and decision."""
    row = await service.load_in_scope(session=session, principal=principal, admission_id=admission_id)
    return service.to_public(row.snapshot, calendar=calendar, today=today)


async def _answer(snapshot: dict[str, Any], calendar: CalendarDep, today: TodayDep) -> AdmissionPublic:
    return service.to_public(snapshot, calendar=calendar, today=today)


@router.post("/{admission_id}/decision", response_model=AdmissionPublic, responses=ERRORS)
async def decide_application(
    admission_id: str,
    body: AdmissionDecisionCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> AdmissionPublic:
    """The bureau's next step (supervisor): `accept`, `decline`, `request_correction`,
    `correction_received`, `draw_panel`, `recuse_expert`, `extend`, `approve`, `refuse` or
    `withdraw`. A step not allowed now is 409 with the rule's code; nothing is recorded."""
    snapshot = await service.decide(
        session=session, client=client, principal=principal, admission_id=admission_id, body=body
    )
    return await _answer(snapshot, calendar, today)


@router.post("/{admission_id}/correction", response_model=AdmissionPublic, responses=ERRORS)
async def supply_correction(
    admission_id: str,
    body: CorrectionCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> AdmissionPublic:
    """The applicant institution hands in the correction asked for (补正): ADM-1 resumes."""
    snapshot = await service.supply_correction(
        session=session, client=client, principal=principal, admission_id=admission_id, body=body
    )
    return await _answer(snapshot, calendar, today)


@router.post("/{admission_id}/withdrawal", response_model=AdmissionPublic, responses=ERRORS)
async def withdraw_application(
    admission_id: str,
    body: AdmissionWithdrawalCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> AdmissionPublic:
    """The applicant institution withdraws its application."""
    snapshot = await service.withdraw(
        session=session, client=client, principal=principal, admission_id=admission_id, body=body
    )
    return await _answer(snapshot, calendar, today)


@router.post("/{admission_id}/review", response_model=AdmissionPublic, responses=ERRORS)
async def submit_review(
    admission_id: str,
    body: ReviewCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> AdmissionPublic:
    """An expert of the panel submits their score, recommendation and opinion, signed with
    their registered Ed25519 key over the review hash (409 `bad_signature` otherwise)."""
    snapshot = await service.review(
        session=session, client=client, principal=principal, admission_id=admission_id, body=body
    )
    return await _answer(snapshot, calendar, today)


@router.post("/{admission_id}/recusal", response_model=AdmissionPublic, responses=ERRORS)
async def recuse(
    admission_id: str,
    body: ExpertRecusalCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> AdmissionPublic:
    """An expert of the panel declares a conflict: they leave it and a replacement is drawn."""
    snapshot = await service.recuse_self(
        session=session, client=client, principal=principal, admission_id=admission_id, body=body
    )
    return await _answer(snapshot, calendar, today)


@router.get("/{admission_id}/panel", response_model=list[PanelDrawPublic], responses=ERRORS)
async def panel_draws(
    admission_id: str, principal: AuthorizedDep, session: SessionDep
) -> list[PanelDrawPublic]:
    """Every draw of the expert panel (and of each replacement), re-run from its seed."""
    row = await service.load_in_scope(session=session, principal=principal, admission_id=admission_id)
    return service.panel_draws(row)


@router.get("/{admission_id}/audit", response_model=list[AuditEventPublic], responses=ERRORS)
async def application_audit_trail(
    admission_id: str, principal: AuthorizedDep, session: SessionDep
) -> list[AuditEventPublic]:
    """Every step of the application, in order, with who and when, hash-chained."""
    row = await service.load_in_scope(session=session, principal=principal, admission_id=admission_id)
    rows = await service.audit_trail(session=session, admission=row)
    return [AuditEventPublic.model_validate(r, from_attributes=True) for r in rows]
