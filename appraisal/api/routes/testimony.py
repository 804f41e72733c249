"""Court testimony: the court summons through the commission, whose workflow
starts a TestimonyWorkflow; the later steps go to that child workflow, which
reports each of them back into the commission's audit trail."""

from typing import Any

from fastapi import APIRouter

from appraisal.api.deps import READ_YOUR_WRITES, SessionDep
from appraisal.api.errors import ERRORS, STEP_RESPONSES, not_found
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.api.steps import CommissionSteps, StepsDep
from appraisal.domain.errors import RuleViolation
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Actor
from appraisal.domain.testimony import (
    RefundRuling,
    TestimonyConfirmation,
    TestimonyOutcome,
    TestimonyRuling,
    TestimonyStage,
    testimony_workflow_id,
)
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
from appraisal.workflows.testimony import TestimonyWorkflow

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


async def _testimony_step(
    steps: CommissionSteps, commission_id: str, testimony_id: str, update: Any, message: Any
) -> TestimonyPublic:
    testimony = await _known_testimony(
        session=steps.session,
        principal=steps.principal,
        commission_id=commission_id,
        testimony_id=testimony_id,
    )
    if testimony["stage"] == TestimonyStage.CONCLUDED:  # its workflow has ended: no Update can reach it
        raise RuleViolation("not_in_stage", "the testimony has concluded; no step remains")
    workflow_id = testimony_workflow_id(commission_id, testimony_id)
    snapshot = await steps.update(workflow_id, update, message, what="testimony")
    return TestimonyPublic.model_validate(jsonable(snapshot))


async def _known_testimony(
    *, session: SessionDep, principal: Actor, commission_id: str, testimony_id: str
) -> dict[str, Any]:
    row = await service.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    found = next((t for t in row.snapshot.get("testimonies", []) if t["testimony_id"] == testimony_id), None)
    if found is None:
        raise not_found("testimony")
    return dict(found)


@router.get(TESTIMONY, response_model=TestimonyPublic, responses=ERRORS)
async def get_testimony(
    commission_id: str, testimony_id: str, principal: AuthorizedDep, session: SessionDep
) -> TestimonyPublic:
    """A testimony's state as last recorded in the commission's read model."""
    return TestimonyPublic.model_validate(
        await _known_testimony(
            session=session, principal=principal, commission_id=commission_id, testimony_id=testimony_id
        )
    )


@router.post(f"{TESTIMONY}/confirmation", response_model=TestimonyPublic, responses=ERRORS)
async def confirm(
    commission_id: str,
    testimony_id: str,
    body: TestimonyConfirmationCreate,
    steps: StepsDep,
) -> TestimonyPublic:
    """A summoned appraiser confirms (TST-7), asks in writing not to appear on a TST-8
    ground, or proposes remote testimony; the court rules on the last two."""
    return await _testimony_step(
        steps,
        commission_id,
        testimony_id,
        TestimonyWorkflow.confirm,
        TestimonyConfirmation(steps.principal, body.response, body.ground, body.reason),
    )


@router.post(f"{TESTIMONY}/ruling", response_model=TestimonyPublic, responses=ERRORS)
async def rule_on_request(
    commission_id: str,
    testimony_id: str,
    body: TestimonyRulingCreate,
    steps: StepsDep,
) -> TestimonyPublic:
    """The court allows or refuses an appraiser's request not to appear or to testify remotely."""
    return await _testimony_step(
        steps,
        commission_id,
        testimony_id,
        TestimonyWorkflow.rule_on_request,
        TestimonyRuling(steps.principal, body.appraiser_id, body.allow, body.note),
    )


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
    return await _testimony_step(
        steps,
        commission_id,
        testimony_id,
        TestimonyWorkflow.record_outcome,
        TestimonyOutcome(steps.principal, dict(body.results), body.note),
    )


@router.post(f"{TESTIMONY}/refund-ruling", response_model=TestimonyPublic, responses=ERRORS)
async def rule_on_refund(
    commission_id: str,
    testimony_id: str,
    body: RefundRulingCreate,
    steps: StepsDep,
) -> TestimonyPublic:
    """The court's refund ruling after a refusal to testify (TST-4, within 3 days)."""
    return await _testimony_step(
        steps,
        commission_id,
        testimony_id,
        TestimonyWorkflow.rule_on_refund,
        RefundRuling(steps.principal, body.ordered, body.note),
    )
