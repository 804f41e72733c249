"""Court testimony: the court summons through the commission, whose workflow
starts a TestimonyWorkflow; the later steps go to that child workflow, which
reports each of them back into the commission's audit trail."""

from fastapi import APIRouter

from appraisal.api.deps import READ_YOUR_WRITES, SessionDep
from appraisal.api.errors import ERRORS, STEP_RESPONSES
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.api.steps import StepsDep
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.lifecycle import (
    RefundRulingCreate,
    TestimonyConfirmationCreate,
    TestimonyCreate,
    TestimonyOutcomeCreate,
    TestimonyPublic,
    TestimonyRulingCreate,
)
from appraisal.services import commission as service
from appraisal.services import steps as steps_service

router = APIRouter(
    prefix="/v1/commissions", tags=["testimony"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)
TESTIMONY = "/{commission_id}/testimony/{testimony_id}"


@router.post("/{commission_id}/testimony", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def summon(
    commission_id: str,
    body: TestimonyCreate,
    steps: StepsDep,
) -> CommissionPublic:
    """Summon appraisers of the issued opinion to a hearing (court, TST-2, TST-3). Shorter
    notice than 3 days is accepted and recorded: it makes late notice a valid ground to decline."""
    return await steps.take(commission_id, steps_service.SUMMONS, body)


@router.get(TESTIMONY, response_model=TestimonyPublic, responses=ERRORS)
async def get_testimony(
    commission_id: str, testimony_id: str, principal: AuthorizedDep, session: SessionDep
) -> TestimonyPublic:
    """A testimony's state as last recorded in the commission's read model."""
    row = await service.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    return TestimonyPublic.model_validate(steps_service.known_testimony(row, testimony_id))


@router.post(f"{TESTIMONY}/confirmation", response_model=TestimonyPublic, responses=ERRORS)
async def confirm(
    commission_id: str,
    testimony_id: str,
    body: TestimonyConfirmationCreate,
    steps: StepsDep,
) -> TestimonyPublic:
    """A summoned appraiser confirms (TST-7), asks in writing not to appear on a TST-8
    ground, or proposes remote testimony; the court rules on the last two."""
    return await steps.take_on_testimony(commission_id, steps_service.CONFIRMATION, body, testimony_id)


@router.post(f"{TESTIMONY}/ruling", response_model=TestimonyPublic, responses=ERRORS)
async def rule_on_request(
    commission_id: str,
    testimony_id: str,
    body: TestimonyRulingCreate,
    steps: StepsDep,
) -> TestimonyPublic:
    """The court allows or refuses an appraiser's request not to appear or to testify remotely."""
    return await steps.take_on_testimony(commission_id, steps_service.RULING, body, testimony_id)


@router.post(f"{TESTIMONY}/outcome", response_model=TestimonyPublic, responses=ERRORS)
async def record_outcome(
    commission_id: str,
    testimony_id: str,
    body: TestimonyOutcomeCreate,
    steps: StepsDep,
) -> TestimonyPublic:
    """After the hearing (court): each appraiser's result. Absent without a valid reason: the
    opinion is excluded from fact-finding, a 3-day refund ruling clock starts (TST-4), the
    bureau gets a penalty referral and the appraiser's integrity record an entry (TST-9). In a
    criminal case (`刑` in the case number) the opinion is no basis for conviction and there is
    no refund ruling (TST-6)."""
    return await steps.take_on_testimony(commission_id, steps_service.OUTCOME, body, testimony_id)


@router.post(f"{TESTIMONY}/refund-ruling", response_model=TestimonyPublic, responses=ERRORS)
async def rule_on_refund(
    commission_id: str,
    testimony_id: str,
    body: RefundRulingCreate,
    steps: StepsDep,
) -> TestimonyPublic:
    """The court's refund ruling after a refusal to testify (TST-4, within 3 days)."""
    return await steps.take_on_testimony(commission_id, steps_service.REFUND_RULING, body, testimony_id)
