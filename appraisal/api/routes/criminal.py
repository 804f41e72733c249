"""A criminal case before trial (PROC-36): the investigating organ tells the suspect and the
victim of the opinion it uses as evidence and decides their applications for a supplementary
or re-appraisal; and the case's hand-over to the next organ with its record (ENT-4)."""

from fastapi import APIRouter, Response

from appraisal.api.deps import READ_YOUR_WRITES, NowDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.api.errors import ERRORS, STEP_RESPONSES
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.api.steps import StepsDep
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.criminal import (
    ApplicantNoticeCreate,
    ApplicationCreate,
    ApplicationDecisionCreate,
    CaseHistory,
    CaseTransferCreate,
    CaseTransferPublic,
    CaseTransferResult,
    OpinionNoticeCreate,
)
from appraisal.services import case_transfer
from appraisal.services import commission as commissions
from appraisal.services import steps as steps_service

router = APIRouter(tags=["criminal cases"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute)
COMMISSION = "/v1/commissions/{commission_id}"


@router.post(f"{COMMISSION}/opinion-notices", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def notify_opinion(commission_id: str, body: OpinionNoticeCreate, steps: StepsDep) -> CommissionPublic:
    """Record that the suspect and the victim (or their legal representative) were told of the
    issued opinion the organ uses as evidence (the organ that entrusted it in a criminal case,
    PROC-36, CPL Art 148)."""
    return await steps.take(commission_id, steps_service.OPINION_NOTICE, body)


@router.post(f"{COMMISSION}/applications", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def receive_application(
    commission_id: str, body: ApplicationCreate, steps: StepsDep
) -> CommissionPublic:
    """A person told of the opinion applies for a supplementary appraisal or a re-appraisal
    (PROC-36): recorded, to be decided."""
    return await steps.take(commission_id, steps_service.APPLICATION, body)


@router.post(
    f"{COMMISSION}/applications/{{application_id}}/decision",
    response_model=CommissionPublic,
    responses=STEP_RESPONSES,
)
async def decide_application(
    commission_id: str, application_id: str, body: ApplicationDecisionCreate, steps: StepsDep
) -> CommissionPublic:
    """Decide an application, with reasons (PROC-36). A supplementary appraisal granted starts
    at once (the same appraisers, the PROC-30 clock); a re-appraisal granted is ordered next
    (POST …/reappraisal: a new, linked commission elsewhere); a refusal starts the 3-day clock
    of the applicant's written notice (PROC-36; while the suspect is in custody a holiday does
    not extend it: CAL-4)."""
    return await steps.take(commission_id, steps_service.APPLICATION_DECISION, body, item_id=application_id)


@router.post(
    f"{COMMISSION}/applications/{{application_id}}/notice",
    response_model=CommissionPublic,
    responses=STEP_RESPONSES,
)
async def notify_applicant(
    commission_id: str, application_id: str, body: ApplicantNoticeCreate, steps: StepsDep
) -> CommissionPublic:
    """Record the written notice to an applicant refused (PROC-36): the clock stops, late or not."""
    return await steps.take(commission_id, steps_service.APPLICANT_NOTICE, body, item_id=application_id)


@router.get(f"{COMMISSION}/case", response_model=CaseHistory, responses=ERRORS)
async def case_history(commission_id: str, principal: AuthorizedDep, session: SessionDep) -> CaseHistory:
    """The commission's case as it moved from organ to organ (ENT-4): each organ's number of it,
    every hand-over, and every commission of the case the caller may see, linked."""
    row = await commissions.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    return await case_transfer.case_history(session=session, principal=principal, commission=row)


@router.post(
    "/v1/case-transfers",
    response_model=CaseTransferResult,
    status_code=201,
    responses={
        **ERRORS,
        200: {"description": "a repeat: the hand-over, with any commission entrusted since"},
    },
)
async def transfer_case(
    body: CaseTransferCreate,
    response: Response,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    today: TodayDep,
    now: NowDep,
) -> CaseTransferResult:
    """Hand the caller's case over to the next organ (ENT-4): from investigation to the
    procuratorate (移送审查起诉), from the procuratorate to the court (提起公诉). The receiving
    organ then sees every commission of the case the caller held, without entrusting them
    again; each running one records the hand-over in its own audit chain. A repeat adds the
    commissions entrusted since (200)."""
    result, created = await case_transfer.transfer_case(
        session=session,
        client=client,
        principal=principal,
        body=body,
        today=today,
        now=now,
        within_seconds=settings.read_your_writes_seconds,
    )
    response.status_code = 201 if created else 200
    return result


@router.get("/v1/case-transfers", response_model=list[CaseTransferPublic], responses=ERRORS)
async def list_transfers(principal: AuthorizedDep, session: SessionDep) -> list[CaseTransferPublic]:
    """The hand-overs the caller made or received, newest first."""
    return await case_transfer.transfers_of(session=session, principal=principal)
