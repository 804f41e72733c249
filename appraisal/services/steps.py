"""One step on a commission, as the REST API and the workspace both take it: the principal
finds the commission in its scope, the step's message is built from its body (with the
checks that need the registry: an appraiser still active, a signature by a registered key),
the Update goes to the commission's workflow (whose validator decides whether the step is
allowed now, before anything is written), and the snapshot after the step comes back. One
path: a form in the workspace and a POST to the API name the same `Step` of `STEPS`."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from appraisal.db.models import Commission
from appraisal.domain.commission import (
    AcceptanceDecision,
    ClosureRequest,
    ExtensionRequest,
    IssueRequest,
    Material,
    MaterialRequest,
    MaterialSupply,
    ReportSubmission,
    SignatureSubmission,
    TerminationRequest,
    WithdrawalRequest,
)
from appraisal.domain.criminal import (
    ApplicantNotice,
    ApplicationDecision,
    ApplicationReceipt,
    NotifiedPerson,
    OpinionNotice,
)
from appraisal.domain.errors import NotFound, RuleViolation
from appraisal.domain.exit import InterferenceReport, InterferenceReview
from appraisal.domain.fees import FeeAnswer, FeePayment, FeeQuote, RefundRecord, fen_of
from appraisal.domain.objection import ObjectionForward, ObjectionReply, ObjectionResolution
from appraisal.domain.parties import PartyRequest, PartyRequestDecline, ReportRelease
from appraisal.domain.plain import jsonable
from appraisal.domain.recusal import RecusalDecision, RecusalRequest
from appraisal.domain.report_changes import CorrectionSubmission, SupplementaryRequest
from appraisal.domain.report_document import SECTIONS
from appraisal.domain.roles import Actor
from appraisal.domain.stages import TERMINAL_STAGES
from appraisal.domain.testimony import (
    RefundRuling,
    TestimonyConfirmation,
    TestimonyOutcome,
    TestimonyRuling,
    TestimonyStage,
    TestimonySummons,
    testimony_workflow_id,
)
from appraisal.schemas.commission import (
    AcceptanceCreate,
    ClosureCreate,
    ExtensionCreate,
    IssueCreate,
    MaterialIn,
    MaterialRequestCreate,
    MaterialsCreate,
    ReportCreate,
    SignatureCreate,
    TerminationCreate,
    WithdrawalCreate,
)
from appraisal.schemas.criminal import (
    ApplicantNoticeCreate,
    ApplicationCreate,
    ApplicationDecisionCreate,
    OpinionNoticeCreate,
)
from appraisal.schemas.fees import FeeAnswerCreate, FeePaymentCreate, FeeQuoteCreate, RefundCreate
from appraisal.schemas.lifecycle import (
    CorrectionCreate,
    ObjectionCreate,
    ObjectionReplyCreate,
    ObjectionResolutionCreate,
    RecusalCreate,
    RecusalDecisionCreate,
    RefundRulingCreate,
    SupplementaryCreate,
    TestimonyConfirmationCreate,
    TestimonyCreate,
    TestimonyOutcomeCreate,
    TestimonyRulingCreate,
)
from appraisal.schemas.parties import PartyRequestCreate, PartyRequestDeclineCreate, ReportReleaseCreate
from appraisal.schemas.penalty import InterferenceCreate, InterferenceReviewCreate
from appraisal.services import commission, fees, registry
from appraisal.workflows.commission import CommissionWorkflow
from appraisal.workflows.testimony import TestimonyWorkflow


@dataclass(frozen=True)
class Asked:
    """What a step's message is built from besides its body: who asks, on which commission
    (already found in their scope), today, and the objection or recusal the step answers."""

    session: AsyncSession
    principal: Actor
    row: Commission
    today: date
    item_id: str = ""


@dataclass(frozen=True)
class Step:
    """A step on a commission: `path` follows /v1/commissions/{commission_id}/ in the API
    (and /ui/commissions/{commission_id}/ in the workspace), `name` is the workflow's step
    in the lifecycle's transitions."""

    name: str
    path: str
    body: type[BaseModel]
    update: Any
    message: Callable[[Asked, Any], Awaitable[Any]]
    of_testimony: bool = False
    """The Update goes to the testimony's own workflow (the item), not the commission's."""


def _materials(items: list[MaterialIn]) -> list[Material]:
    return [Material(m.name, m.sha256) for m in items]


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


async def _acceptance(asked: Asked, body: AcceptanceCreate) -> AcceptanceDecision:
    # The workflow's list is the registry at entrustment: one suspended, revoked or out of
    # licence since then is refused here (`appraiser_not_active`).
    if body.decision == "accept":
        await registry.require_active_appraisers(
            session=asked.session, appraiser_ids=body.appraiser_ids, today=asked.today
        )
    return AcceptanceDecision(
        actor=asked.principal,
        decision=body.decision,
        appraiser_ids=list(body.appraiser_ids),
        agreement_effective_on=_day(body.agreement_effective_on),
        ground=body.ground or "",
        reason=body.reason or "",
    )


async def _material_request(asked: Asked, body: MaterialRequestCreate) -> MaterialRequest:
    return MaterialRequest(
        actor=asked.principal,
        description=body.description,
        requested_on=_day(body.requested_on),
        kind=body.kind,
    )


async def _supply(asked: Asked, body: MaterialsCreate) -> MaterialSupply:
    return MaterialSupply(
        actor=asked.principal,
        received_on=_day(body.received_on),
        materials=_materials(body.materials),
        party_request_id=body.party_request_id or "",
    )


async def _extension(asked: Asked, body: ExtensionCreate) -> ExtensionRequest:
    return ExtensionRequest(actor=asked.principal, working_days=body.working_days, reason=body.reason)


async def _withdrawal(asked: Asked, body: WithdrawalCreate) -> WithdrawalRequest:
    return WithdrawalRequest(actor=asked.principal, reason=body.reason)


async def _termination(asked: Asked, body: TerminationCreate) -> TerminationRequest:
    return TerminationRequest(actor=asked.principal, ground=body.ground, reason=body.reason)


def _sections(body: ReportCreate) -> dict[str, str]:
    """The statutory sections the body gives (domain/report_document.SECTIONS)."""
    return {name: str(getattr(body, name)) for name in SECTIONS}


async def _report(asked: Asked, body: ReportCreate) -> ReportSubmission:
    return ReportSubmission(
        actor=asked.principal,
        content=body.content,
        opinion=body.opinion,
        attachments=_materials(body.attachments),
        **_sections(body),
    )


async def _signature(asked: Asked, body: SignatureCreate) -> SignatureSubmission:
    fingerprint = await commission.check_signature(
        session=asked.session, principal=asked.principal, commission=asked.row, body=body, today=asked.today
    )
    return SignatureSubmission(
        actor=asked.principal,
        kind=body.kind,
        statement=body.statement,
        signature=body.signature,
        key_fingerprint=fingerprint,
    )


async def _issue(asked: Asked, body: IssueCreate) -> IssueRequest:
    return IssueRequest(actor=asked.principal)


async def _closure(asked: Asked, body: ClosureCreate) -> ClosureRequest:
    return ClosureRequest(actor=asked.principal, reason=body.reason)


async def _recusal(asked: Asked, body: RecusalCreate) -> RecusalRequest:
    return RecusalRequest(asked.principal, body.appraiser_id, body.ground, body.reason)


async def _recusal_decision(asked: Asked, body: RecusalDecisionCreate) -> RecusalDecision:
    if body.granted and body.replacement_id:
        await registry.require_active_appraisers(
            session=asked.session, appraiser_ids=[body.replacement_id], today=asked.today
        )
    return RecusalDecision(
        asked.principal, asked.item_id, body.granted, body.reason, body.replacement_id or ""
    )


async def _objection(asked: Asked, body: ObjectionCreate) -> ObjectionForward:
    return ObjectionForward(
        asked.principal, body.party, body.content, body.reply_by.isoformat(), body.party_request_id or ""
    )


async def _objection_reply(asked: Asked, body: ObjectionReplyCreate) -> ObjectionReply:
    return ObjectionReply(asked.principal, asked.item_id, body.content)


async def _objection_resolution(asked: Asked, body: ObjectionResolutionCreate) -> ObjectionResolution:
    return ObjectionResolution(asked.principal, asked.item_id, body.resolution, body.note)


async def _summons(asked: Asked, body: TestimonyCreate) -> TestimonySummons:
    return TestimonySummons(
        asked.principal, body.hearing_at, body.place, list(body.appraiser_ids), body.requirements, body.reason
    )


async def _supplementary(asked: Asked, body: SupplementaryCreate) -> SupplementaryRequest:
    return SupplementaryRequest(asked.principal, body.ground, body.reason, _materials(body.materials))


async def _correction(asked: Asked, body: CorrectionCreate) -> CorrectionSubmission:
    return CorrectionSubmission(
        asked.principal,
        body.defect_kind,
        body.description,
        body.content,
        body.opinion,
        _materials(body.attachments),
        **_sections(body),
    )


async def _confirmation(asked: Asked, body: TestimonyConfirmationCreate) -> TestimonyConfirmation:
    return TestimonyConfirmation(asked.principal, body.response, body.ground, body.reason)


async def _ruling(asked: Asked, body: TestimonyRulingCreate) -> TestimonyRuling:
    return TestimonyRuling(asked.principal, body.appraiser_id, body.allow, body.note)


async def _outcome(asked: Asked, body: TestimonyOutcomeCreate) -> TestimonyOutcome:
    return TestimonyOutcome(asked.principal, dict(body.results), body.note)


async def _refund_ruling(asked: Asked, body: RefundRulingCreate) -> RefundRuling:
    return RefundRuling(asked.principal, body.ordered, body.note)


async def _interference(asked: Asked, body: InterferenceCreate) -> InterferenceReport:
    # The signature is checked here against the appraiser's registered keys (the workflow
    # sandbox stays free of crypto); the workflow re-checks who reports it.
    statement_hash, fingerprint = await commission.check_interference_signature(
        session=asked.session, principal=asked.principal, commission=asked.row, body=body, today=asked.today
    )
    return InterferenceReport(
        actor=asked.principal,
        who=body.who,
        occurred_at=body.occurred_at.isoformat(),
        what=body.what,
        hidden_from_institution=body.hidden_from_institution,
        signature=body.signature,
        key_fingerprint=fingerprint,
        statement_hash=statement_hash,
    )


async def _interference_review(asked: Asked, body: InterferenceReviewCreate) -> InterferenceReview:
    return InterferenceReview(asked.principal, asked.item_id, body.note)


async def _opinion_notice(asked: Asked, body: OpinionNoticeCreate) -> OpinionNotice:
    return OpinionNotice(
        asked.principal,
        [NotifiedPerson(p.role, p.name) for p in body.persons],
        _day(body.notified_on),
        body.note,
    )


async def _application(asked: Asked, body: ApplicationCreate) -> ApplicationReceipt:
    return ApplicationReceipt(
        asked.principal,
        body.applicant_role,
        body.applicant_name,
        body.kind,
        body.reason,
        _day(body.received_on),
    )


async def _application_decision(asked: Asked, body: ApplicationDecisionCreate) -> ApplicationDecision:
    return ApplicationDecision(
        asked.principal, asked.item_id, body.granted, body.reason, body.ground, body.in_custody
    )


async def _applicant_notice(asked: Asked, body: ApplicantNoticeCreate) -> ApplicantNotice:
    return ApplicantNotice(asked.principal, asked.item_id, _day(body.notified_on), body.note)


async def _party_request(asked: Asked, body: PartyRequestCreate) -> PartyRequest:
    return PartyRequest(asked.principal, body.kind, body.content, _materials(body.materials))


async def _party_request_decline(asked: Asked, body: PartyRequestDeclineCreate) -> PartyRequestDecline:
    return PartyRequestDecline(asked.principal, asked.item_id, body.reason)


async def _report_release(asked: Asked, body: ReportReleaseCreate) -> ReportRelease:
    return ReportRelease(asked.principal, body.note)


async def _fee_quote(asked: Asked, body: FeeQuoteCreate) -> FeeQuote:
    # Each matter beside the charging standard it is checked against (FEE-1): the validator
    # refuses a quote above it, or one no standard covers.
    items = await fees.quote_items(session=asked.session, commission=asked.row, body=body, today=asked.today)
    return FeeQuote(asked.principal, items, body.payer, body.payer_party_id or "", body.note)


async def _fee_answer(asked: Asked, body: FeeAnswerCreate) -> FeeAnswer:
    return FeeAnswer(asked.principal, body.accepted, body.reason)


async def _fee_payment(asked: Asked, body: FeePaymentCreate) -> FeePayment:
    return FeePayment(asked.principal, fen_of(body.amount), body.reference, _day(body.paid_on), body.note)


async def _refund(asked: Asked, body: RefundCreate) -> RefundRecord:
    return RefundRecord(
        asked.principal, fen_of(body.amount), body.reference, _day(body.refunded_on), body.retained_reason
    )


W = CommissionWorkflow
T = TestimonyWorkflow
TESTIMONY = "testimony/{testimony_id}"
ACCEPTANCE = Step("decide_acceptance", "acceptance", AcceptanceCreate, W.decide_acceptance, _acceptance)
MATERIAL_REQUEST = Step(
    "request_materials", "material-requests", MaterialRequestCreate, W.request_materials, _material_request
)
MATERIALS = Step("supply_materials", "materials", MaterialsCreate, W.supply_materials, _supply)
EXTENSION = Step("extend_examination", "extension", ExtensionCreate, W.extend_examination, _extension)
WITHDRAWAL = Step("withdraw", "withdrawal", WithdrawalCreate, W.withdraw, _withdrawal)
TERMINATION = Step("terminate", "termination", TerminationCreate, W.terminate, _termination)
REPORT = Step("submit_report", "report", ReportCreate, W.submit_report, _report)
SIGNATURE = Step("sign_report", "signatures", SignatureCreate, W.sign_report, _signature)
ISSUE = Step("issue_report", "issue", IssueCreate, W.issue_report, _issue)
CLOSURE = Step("close", "closure", ClosureCreate, W.close, _closure)
RECUSAL = Step("request_recusal", "recusals", RecusalCreate, W.request_recusal, _recusal)
RECUSAL_DECISION = Step(
    "decide_recusal",
    "recusals/{recusal_id}/decision",
    RecusalDecisionCreate,
    W.decide_recusal,
    _recusal_decision,
)
OBJECTION = Step("forward_objection", "objections", ObjectionCreate, W.forward_objection, _objection)
OBJECTION_REPLY = Step(
    "answer_objection",
    "objections/{objection_id}/reply",
    ObjectionReplyCreate,
    W.answer_objection,
    _objection_reply,
)
OBJECTION_RESOLUTION = Step(
    "resolve_objection",
    "objections/{objection_id}/resolution",
    ObjectionResolutionCreate,
    W.resolve_objection,
    _objection_resolution,
)
SUMMONS = Step("summon_testimony", "testimony", TestimonyCreate, W.summon_testimony, _summons)
SUPPLEMENTARY = Step(
    "request_supplementary", "supplementary", SupplementaryCreate, W.request_supplementary, _supplementary
)
CORRECTION = Step("submit_correction", "corrections", CorrectionCreate, W.submit_correction, _correction)
INTERFERENCE = Step(
    "report_interference", "interference", InterferenceCreate, W.report_interference, _interference
)
INTERFERENCE_REVIEW = Step(
    "review_interference",
    "interference/{report_id}/review",
    InterferenceReviewCreate,
    W.review_interference,
    _interference_review,
)
OPINION_NOTICE = Step(
    "notify_opinion", "opinion-notices", OpinionNoticeCreate, W.notify_opinion, _opinion_notice
)
APPLICATION = Step(
    "receive_application", "applications", ApplicationCreate, W.receive_application, _application
)
APPLICATION_DECISION = Step(
    "decide_application",
    "applications/{application_id}/decision",
    ApplicationDecisionCreate,
    W.decide_application,
    _application_decision,
)
APPLICANT_NOTICE = Step(
    "notify_applicant",
    "applications/{application_id}/notice",
    ApplicantNoticeCreate,
    W.notify_applicant,
    _applicant_notice,
)

CONFIRMATION = Step(
    "confirm", f"{TESTIMONY}/confirmation", TestimonyConfirmationCreate, T.confirm, _confirmation, True
)
RULING = Step(
    "rule_on_request", f"{TESTIMONY}/ruling", TestimonyRulingCreate, T.rule_on_request, _ruling, True
)
OUTCOME = Step(
    "record_outcome", f"{TESTIMONY}/outcome", TestimonyOutcomeCreate, T.record_outcome, _outcome, True
)
REFUND_RULING = Step(
    "rule_on_refund", f"{TESTIMONY}/refund-ruling", RefundRulingCreate, T.rule_on_refund, _refund_ruling, True
)
PARTY_REQUEST = Step(
    "submit_party_request", "party-requests", PartyRequestCreate, W.submit_party_request, _party_request
)
PARTY_REQUEST_DECLINE = Step(
    "decline_party_request",
    "party-requests/{request_id}/decline",
    PartyRequestDeclineCreate,
    W.decline_party_request,
    _party_request_decline,
)
REPORT_RELEASE = Step(
    "release_report", "report-release", ReportReleaseCreate, W.release_report, _report_release
)
FEE_QUOTE = Step("quote_fee", "fee/quote", FeeQuoteCreate, W.quote_fee, _fee_quote)
FEE_ANSWER = Step("answer_fee_quote", "fee/answer", FeeAnswerCreate, W.answer_fee_quote, _fee_answer)
FEE_PAYMENT = Step("record_payment", "fee/payments", FeePaymentCreate, W.record_payment, _fee_payment)
FEE_REFUND = Step("record_refund", "fee/refund", RefundCreate, W.record_refund, _refund)

STEPS: dict[str, Step] = {
    s.path: s
    for s in (
        ACCEPTANCE,
        MATERIAL_REQUEST,
        MATERIALS,
        EXTENSION,
        WITHDRAWAL,
        TERMINATION,
        REPORT,
        SIGNATURE,
        ISSUE,
        CLOSURE,
        RECUSAL,
        RECUSAL_DECISION,
        OBJECTION,
        OBJECTION_REPLY,
        OBJECTION_RESOLUTION,
        SUMMONS,
        SUPPLEMENTARY,
        CORRECTION,
        INTERFERENCE,
        INTERFERENCE_REVIEW,
        OPINION_NOTICE,
        APPLICATION,
        APPLICATION_DECISION,
        APPLICANT_NOTICE,
        CONFIRMATION,
        RULING,
        OUTCOME,
        REFUND_RULING,
        PARTY_REQUEST,
        PARTY_REQUEST_DECLINE,
        REPORT_RELEASE,
        FEE_QUOTE,
        FEE_ANSWER,
        FEE_PAYMENT,
        FEE_REFUND,
    )
}
"""Every step an Update of the commission's workflow (or of its testimony's) takes, by its path."""


async def take(
    *,
    session: AsyncSession,
    client: Client,
    principal: Actor,
    today: date,
    commission_id: str,
    step: Step,
    body: BaseModel,
    item_id: str = "",
) -> dict[str, Any]:
    """The step on a commission in the principal's scope; the snapshot after it (the
    commission's, or for a testimony's step the testimony's), as plain data."""
    row = await commission.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    message = await step.message(Asked(session, principal, row, today, item_id), body)
    if not step.of_testimony:
        return await _send_to(client=client, row=row, update=step.update, message=message)
    if known_testimony(row, item_id)["stage"] == TestimonyStage.CONCLUDED:  # its workflow has ended
        raise RuleViolation("not_in_stage", "the testimony has concluded; no step remains")
    workflow_id = testimony_workflow_id(commission_id, item_id)
    return dict(
        jsonable(
            await update_workflow(
                client=client, workflow_id=workflow_id, update=step.update, message=message, what="testimony"
            )
        )
    )


def known_testimony(row: Commission, testimony_id: str) -> dict[str, Any]:
    """A testimony of the commission, as its read model last recorded it."""
    found = next((t for t in row.snapshot.get("testimonies", []) if t["testimony_id"] == testimony_id), None)
    if found is None:
        raise NotFound("testimony")
    return dict(found)


def workflow_open(row: Commission) -> bool:
    """Whether the commission's workflow still runs: not ended, or ended owing a refund (FEE-2)."""
    refund = (row.snapshot.get("fee") or {}).get("refund") or {}
    return row.stage not in TERMINAL_STAGES or refund.get("status") == "ordered"


async def _send_to(*, client: Client, row: Commission, update: Any, message: Any) -> dict[str, Any]:
    """The Update to the workflow of a commission already found in the caller's scope."""
    if not workflow_open(row):  # its workflow has ended: no Update can reach it
        raise RuleViolation("not_in_stage", f"the commission is {row.stage}; no step remains")
    return dict(
        jsonable(
            await update_workflow(client=client, workflow_id=row.workflow_id, update=update, message=message)
        )
    )


async def update_workflow(
    *, client: Client, workflow_id: str, update: Any, message: Any, what: str = "commission"
) -> Any:
    """The Update to a workflow (of a commission or its testimony) that its read model
    showed still running."""
    try:
        return await client.get_workflow_handle(workflow_id).execute_update(update, message)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        # The row is there, so its workflow ended after the row was read: a step that
        # ended it (perhaps this caller's own, repeated) went through meanwhile.
        raise RuleViolation("not_in_stage", f"the {what} has ended; no step remains") from err
