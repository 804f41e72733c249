"""The fee (鉴定费): the charging standard each bureau keeps (FEE-1); the institution's quote per
matter against it, the payer's answer, the payments received (each with its external reference:
there is no payment gateway here; CRT-1: prepaid before the examination where a party pays in a
court's civil case) and the refund each ending computes, recorded when paid back (FEE-2). Every
money movement is an event of the commission's audit chain."""

from typing import Annotated

from fastapi import APIRouter, Query

from appraisal.api.deps import READ_YOUR_WRITES, NowDep, SessionDep, TodayDep
from appraisal.api.errors import ERRORS, STEP_RESPONSES
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.api.steps import StepsDep
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.fees import (
    FeeAnswerCreate,
    FeePaymentCreate,
    FeeQuoteCreate,
    FeeStandardCreate,
    FeeStandardPublic,
    RefundCreate,
)
from appraisal.services import fees
from appraisal.services import steps as steps_service

router = APIRouter(tags=["fees"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute)
COMMISSION = "/v1/commissions/{commission_id}"


@router.get("/v1/fee-standards", response_model=list[FeeStandardPublic], responses=ERRORS)
async def list_standards(
    principal: AuthorizedDep,
    session: SessionDep,
    bureau_id: Annotated[str | None, Query(max_length=36)] = None,
    category: Annotated[str | None, Query(max_length=60)] = None,
    history: bool = False,
) -> list[FeeStandardPublic]:
    """The charging standards in force (every version with `history`), with their sources."""
    found = await fees.standards(session=session, bureau_id=bureau_id, category=category, history=history)
    return [FeeStandardPublic.model_validate(s) for s in found]


@router.post("/v1/fee-standards", response_model=FeeStandardPublic, status_code=201, responses=ERRORS)
async def set_standard(
    body: FeeStandardCreate, principal: AuthorizedDep, session: SessionDep, now: NowDep, today: TodayDep
) -> FeeStandardPublic:
    """The bureau sets the charging standard of a category (or of one of its matters), with its
    source; it replaces the one in force, both in the bureau's registry chain."""
    standard = await fees.set_standard(session=session, principal=principal, body=body, now=now, today=today)
    return FeeStandardPublic.model_validate(standard)


@router.post(f"{COMMISSION}/fee/quote", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def quote_fee(commission_id: str, body: FeeQuoteCreate, steps: StepsDep) -> CommissionPublic:
    """The institution quotes the fee per matter; each is checked against the charging standard of
    its bureau (409 `fee_above_standard`, `no_fee_standard`, FEE-1). A party of a court's civil or
    administrative case who pays prepays it before the examination begins (CRT-1)."""
    return await steps.take(commission_id, steps_service.FEE_QUOTE, body)


@router.post(f"{COMMISSION}/fee/answer", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def answer_fee_quote(commission_id: str, body: FeeAnswerCreate, steps: StepsDep) -> CommissionPublic:
    """The payer (the entrusting organ, or the party named) accepts the quote, or declines it with
    reasons (the institution may quote again)."""
    return await steps.take(commission_id, steps_service.FEE_ANSWER, body)


@router.post(f"{COMMISSION}/fee/payments", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def record_payment(commission_id: str, body: FeePaymentCreate, steps: StepsDep) -> CommissionPublic:
    """A payment received (by the institution, or recorded by the entrusting organ through which
    a party paid), with its external reference; never more than the accepted quote."""
    return await steps.take(commission_id, steps_service.FEE_PAYMENT, body)


@router.post(f"{COMMISSION}/fee/refund", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def record_refund(commission_id: str, body: RefundCreate, steps: StepsDep) -> CommissionPublic:
    """The refund a rule ordered (CRT-5, TST-4, PROC-35, PROC-21, PROC-07, FEE-3), paid back and
    recorded with its reference — by the institution, or confirmed by the entrusting organ that
    received it (an institution barred from acting may not sign in): at least
    `fee.refund.minimum`, the rest kept only with reasons. Taken after the commission ended too:
    its workflow waits for it (FEE-2)."""
    return await steps.take(commission_id, steps_service.FEE_REFUND, body)
