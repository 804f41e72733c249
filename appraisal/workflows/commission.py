"""One workflow per commission: entrustment → acceptance → examination →
signing → issue → closure, with materials pauses, an extension, the
escalation ladder and the court's re-entrustment of an overdue commission.
Every step is an Update whose validator rejects what the rules do not allow
now, before anything reaches history."""

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from appraisal.domain.audit import report_hash
from appraisal.domain.calendar import local_today
from appraisal.domain.commission import (
    REFUSAL_GROUNDS,
    TERMINATION_GROUNDS,
    AcceptanceDecision,
    CalendarChanged,
    ClosureRequest,
    CommissionInput,
    CommissionSnapshot,
    ExtensionRequest,
    IssueRequest,
    MaterialRequest,
    MaterialSupply,
    ReassignmentRequest,
    RegistrationRequest,
    ReportSnapshot,
    ReportSubmission,
    SignatureSnapshot,
    SignatureSubmission,
    TaskSnapshot,
    TerminationRequest,
    WithdrawalRequest,
)
from appraisal.domain.commission_checks import (
    check_acceptance,
    check_applicant_notice,
    check_application_decision,
    check_application_receipt,
    check_closure,
    check_correction,
    check_extension,
    check_fee_answer,
    check_fee_quote,
    check_issue,
    check_material_request,
    check_objection,
    check_objection_reply,
    check_objection_resolution,
    check_opinion_notice,
    check_party_registration,
    check_party_request,
    check_party_request_decline,
    check_payment,
    check_reappraisal,
    check_reassignment,
    check_recusal_decision,
    check_recusal_request,
    check_refund_record,
    check_registration,
    check_report,
    check_report_release,
    check_signature,
    check_summons,
    check_supplementary,
    check_supply,
    check_termination,
    check_transfer_record,
    check_withdrawal,
    objection_of,
    party_request_of,
    pending_recusal,
    unsigned_appraisers,
)
from appraisal.domain.criminal import (
    APPLICATION_GROUNDS,
    ApplicantNotice,
    ApplicationDecision,
    ApplicationReceipt,
    ApplicationSnapshot,
    CaseTransferRecord,
    OpinionNotice,
    OpinionNoticeSnapshot,
    TransferSnapshot,
)
from appraisal.domain.errors import RuleViolation
from appraisal.domain.events import Receiver, RecordEventInput
from appraisal.domain.exit import (
    BARRING_STATUSES,
    REGISTRY_RECUSAL_GROUND,
    RESTORED,
    InterferenceReport,
    InterferenceReview,
    InterferenceSnapshot,
    RegistryBar,
    RegistryExit,
    barred_institution,
    check_interference,
    check_interference_review,
    check_standing,
    notice_data,
    rule_of,
)
from appraisal.domain.fees import (
    FeeAnswer,
    FeePayment,
    FeeQuote,
    FeeSnapshot,
    PaymentSnapshot,
    RefundRecord,
    RefundSnapshot,
    prepayment_required,
    refund_due,
    yuan,
)
from appraisal.domain.lifecycle import COMMISSION_TRANSITIONS, stages_for
from appraisal.domain.objection import (
    RESOLUTIONS,
    ObjectionForward,
    ObjectionReply,
    ObjectionResolution,
    ObjectionSnapshot,
)
from appraisal.domain.parties import (
    STAGE_WORDS,
    PartyRegistration,
    PartyRequest,
    PartyRequestDecline,
    PartyRequestSnapshot,
    PartySnapshot,
    ReportRelease,
)
from appraisal.domain.reappraisal import (
    REAPPRAISAL_GROUNDS,
    REFUNDED_GROUNDS,
    ReappraisalOrder,
)
from appraisal.domain.recusal import RECUSAL_GROUNDS, RecusalDecision, RecusalRequest, RecusalSnapshot
from appraisal.domain.report_changes import (
    CORRECTION_KINDS,
    SUPPLEMENTARY_GROUNDS,
    CorrectionSubmission,
    SupplementaryRequest,
)
from appraisal.domain.report_document import DocumentNumberRequest, SealRequest, sections_of
from appraisal.domain.roles import ENTRUSTING_ROLES, INVESTIGATING_ROLES, Actor, Role
from appraisal.domain.rules import (
    ACCEPTANCE,
    APPLICANT_NOTICE,
    APPLICANT_NOTICE_IN_CUSTODY,
    CLOCK_RULES,
    EXAMINATION,
    FEE_REFUND,
    OBJECTION_REPLY,
    RECUSAL_DECISION,
    REGISTRY_EXIT_REMEDY,
    SUPPLEMENTARY_EXAMINATION,
    Audience,
    RungKind,
)
from appraisal.domain.stages import TERMINAL_STAGES, Stage
from appraisal.domain.testimony import (
    TESTIMONY_WORKFLOW,
    TestimonyEvent,
    TestimonyInput,
    TestimonySnapshot,
    TestimonyStage,
    TestimonySummons,
    case_kind_of,
    testimony_workflow_id,
)
from appraisal.workflows import search_attributes as sa
from appraisal.workflows.clock import (
    FiredRung,
    Planner,
    StatutoryClock,
    due_rungs,
    highest_rung,
    replan_for_calendar,
    sleep_until_due,
)
from appraisal.workflows.recording import RECORDING_RETRY, RECORDING_TIMEOUT, chained_event, start_delivery
from appraisal.workflows.validation import enforce
from appraisal.workflows.versions import Versions

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.commission import CommissionActivities
    from appraisal.activities.report import ReportActivities

SYSTEM = Actor(role="system", organisation_id="", subject="statutory-clock")
DELIVER_ONLY_TO_ENDPOINTS = "deliver-only-to-endpoints"
"""Patch: start a delivery activity only when a receiver has a webhook."""
REGISTRY_EXIT = "registry-exit"
"""Patch: a commission learns of its institution's or an appraiser's exit from the registry
(suspended, revoked, deregistered, licence lapsed) and of its end, and records it."""
ENTRUSTING_ORGANS = "entrusting-organs"
"""Patch: every entrusting organ, not only courts (ENT-1): the entrustment's event names the
organ, its role and kind and the kind of case. Histories from before record a court's event
as they always did (the new steps, PROC-36 and ENT-4, are Updates they never received)."""
SEAL_ISSUED_REPORT = "seal-issued-report"
"""Patch: issuing numbers the report in the institution's yearly series (recorded in the
issue event), then seals its PDF beside the main path and records `report.sealed`."""
NUMBERING_TIMEOUT = RECORDING_TIMEOUT
NUMBERING_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
"""A number is one short database transaction, inside the issue step: retried until the
database answers, and on another worker as soon as a recording would be when its worker dies."""
SEALING_TIMEOUT = timedelta(seconds=30)
"""A seal takes well under a second (bench.report_seal); one whose worker died is tried
again after this, and the commission's workflow ends only once its seal is recorded."""
SEALING_GIVES_UP_AFTER = timedelta(days=30)
SEALING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=30),
    non_retryable_error_types=["report_not_sealable"],
)
"""Sealing renders, signs and timestamps the PDF: retried (the database or the key folder
may be away) for thirty days, after which `report.seal_failed` says so in the trail."""
ANSWER_BEFORE_PROJECTION = "answer-before-projection"
"""Patch: a step answers once its event is appended to the workflow's queue of events to
project; the projector records them in order (read-your-writes by sequence)."""


def _court_set_due(clock: StatutoryClock) -> str:
    """The deadline, with the court's own date beside it when CAL-3 rolled it past a rest day."""
    state = clock.state
    if state.court_set_on:
        return f"{state.due_on} (the court set {state.court_set_on}, a rest day: CAL-3)"
    return state.due_on


def workflow_id_for(commission_id: str) -> str:
    return f"commission-{commission_id}"


@workflow.defn
class CommissionWorkflow:
    @workflow.init
    def __init__(self, inp: CommissionInput) -> None:
        self.inp = inp
        self.stage = Stage.AWAITING_ACCEPTANCE
        self.versions = Versions()
        self.planner = Planner(self.versions)
        self.upserts = sa.Upserts(self.versions)
        self.resume_stage = Stage.AWAITING_ACCEPTANCE
        self.appraiser_ids: list[str] = []
        self.agreement_effective_on: str | None = None
        self.clocks: dict[str, StatutoryClock] = {}
        self.report: ReportSnapshot | None = None
        self.refusal: dict[str, str] | None = None
        self.pending_request: dict[str, str] | None = None
        self.refund: dict[str, str] | None = None
        self.reassigned_to = ""
        self.seq = 0
        self.last_hash = ""
        self.registered = False
        self.registration_answered = False
        self.clocks_changed = False
        self.lock = asyncio.Lock()
        self.deliveries: list[Any] = []
        self.unprojected: list[RecordEventInput] = []
        self.recusals: list[RecusalSnapshot] = []
        self.objections: list[ObjectionSnapshot] = []
        self.earlier_reports: list[ReportSnapshot] = []
        self.supplementary: dict[str, str] | None = None
        self.reappraisals: list[str] = []
        self.opinion_status = "valid"
        self.testimonies: dict[str, TestimonySnapshot] = {}
        self.testimony_seqs: dict[str, int] = {}
        self.testimonies_recorded: set[str] = set()
        self.registry_bars: list[RegistryBar] = []
        self.exit_notices: set[str] = set()
        self.interference: list[InterferenceSnapshot] = []
        self.opinion_notices: list[OpinionNoticeSnapshot] = []
        self.applications: list[ApplicationSnapshot] = []
        self.transfers: list[TransferSnapshot] = []
        self.projected_seq = 0
        self.sealings: list[asyncio.Task[None]] = []
        self.parties: list[PartySnapshot] = []
        self.party_requests: list[PartyRequestSnapshot] = []
        self.report_released = 0
        self.fee: FeeSnapshot | None = None
        self.told_stage = ""
        """The stage the parties were last told of (they hear when their commission moves)."""

    # ---- life ----

    @workflow.run
    async def run(self, inp: CommissionInput) -> CommissionSnapshot:
        projector = asyncio.create_task(self._projector())
        async with self.lock:
            clock = await StatutoryClock.start(
                ACCEPTANCE.rule_id, inp.received_on, ACCEPTANCE.limit, planner=self.planner
            )
            self.clocks[clock.rule.rule_id] = clock
            entrusted = {
                "court_reference": inp.court_reference,
                "case_number": inp.case_number,
                "category": inp.category,
                "institution_id": inp.institution_id,
                "selection_mode": inp.selection_mode,
                "selection_seed": inp.selection_seed,
                "selection_candidates": inp.selection_candidates,
                "received_on": inp.received_on,
                "materials": [asdict(m) for m in inp.materials],
                "previous_commission_id": inp.previous_commission_id,
            }
            if workflow.patched(ENTRUSTING_ORGANS):
                entrusted |= {
                    "entrusting_organ_id": inp.court_id,
                    "entrusting_role": self._entrusting_role(),
                    "entrusting_kind": inp.entrusting_kind or "court",
                    "case_kind": self._case_kind(),
                }
            await self._record(
                "commission.entrusted",
                inp.entrusted_by,
                entrusted,
                notify=[Receiver(Role.INSTITUTION, inp.institution_id)],
                message=f"New commission {inp.court_reference}: decide acceptance by {clock.state.due_on}",
                projected_first=True,
            )
            self.registered = True
        while not self._ended():
            await self._sleep_until_next_rung()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.sealings:  # each records its seal: before the projector stops
            await asyncio.gather(*self.sealings)
        await workflow.wait_condition(lambda: not self.unprojected)
        projector.cancel()
        # A delivery that gave up leaves its outbox row pending: visible, not lost.
        await asyncio.gather(*self.deliveries, return_exceptions=True)
        return self._snapshot()

    def _ended(self) -> bool:
        """Over once in a final stage and owing no refund (FEE-2): a refund ordered keeps the
        workflow until the institution records it paid back."""
        return self.stage in TERMINAL_STAGES and not self._refund_owed()

    def _refund_owed(self) -> bool:
        return self.fee is not None and self.fee.refund is not None and self.fee.refund.status == "ordered"

    async def _sleep_until_next_rung(self) -> None:
        self.clocks_changed = False
        if await sleep_until_due(
            self.clocks.values(),
            woken=lambda: self.clocks_changed or self._ended(),
            summary="next statutory-clock rung",
        ):
            async with self.lock:
                await self._fire_due_rungs()

    async def _fire_due_rungs(self) -> None:
        await self._record_rungs(due_rungs(self.clocks.values(), workflow.now()))

    async def _record_rungs(self, rungs: Iterable[FiredRung]) -> None:
        for fired in rungs:
            rule_id = fired.clock.rule.rule_id
            await self._record(
                f"clock.{fired.rung.kind}",
                SYSTEM,
                fired.data,
                notify=[r for audience in fired.rung.notify for r in self._audience(audience, rule_id)],
                message=self._rung_message(fired.rung.kind, fired.clock),
            )

    def _rung_message(self, kind: str, clock: StatutoryClock) -> str:
        name, due = clock.rule.name, clock.state.due_on
        reference = self.inp.court_reference
        if kind == RungKind.WARNING:
            return f"{reference}: most of the {name} time limit is used; it ends on {due}"
        if kind == RungKind.OVERDUE:
            return f"{reference}: the {name} time limit ended on {due} ({clock.rule.rule_id})"
        return f"{reference}: still overdue; the {name} time limit ended on {due} ({clock.rule.rule_id})"

    def _entrusting_role(self) -> str:
        """The role of the organ that entrusted the commission: a court's, or another
        entrusting organ's (ENT-1); a court for every commission from before."""
        return self.inp.entrusted_by.role

    def _entruster(self) -> Receiver:
        return Receiver(self._entrusting_role(), self.inp.court_id)

    def _case_kind(self) -> str:
        return self.inp.case_kind or case_kind_of(self.inp.case_number)

    def _audience(self, audience: Audience, rule_id: str) -> list[Receiver]:
        if audience == Audience.ASSIGNEES:
            if CLOCK_RULES[rule_id].assignee_role == Role.APPRAISER:
                return [Receiver(Role.APPRAISER, a) for a in self.appraiser_ids]
            if CLOCK_RULES[rule_id].assignee_role in ENTRUSTING_ROLES:
                return [self._entruster()]
            return [Receiver(Role.INSTITUTION, self.inp.institution_id)]
        if audience == Audience.INSTITUTION_HEAD:
            return [Receiver(Role.INSTITUTION_HEAD, self.inp.institution_id)]
        if audience == Audience.SUPERVISOR:
            return [Receiver(Role.SUPERVISOR, self.inp.bureau_id)] if self.inp.bureau_id else []
        refund = self.fee.refund if self.fee else None
        if rule_id == FEE_REFUND.rule_id and refund is not None and refund.payee_kind == "party":
            return [
                self._entruster(),
                self._party_receiver(
                    refund.payee_id,
                    f"退费逾期未付 The refund ({yuan(refund.paid)} yuan) was due on {self.clocks[rule_id].state.due_on}",
                ),
            ]
        return [self._entruster()]

    # ---- entrustment and acceptance ----

    @workflow.update
    async def register(self, request: RegistrationRequest) -> CommissionSnapshot:
        """Answers the entrustment request once the commission is recorded."""
        await workflow.wait_condition(lambda: self.registered)
        snapshot = self._snapshot()
        snapshot.created = not self.registration_answered
        self.registration_answered = True
        return snapshot

    @register.validator
    def _validate_register(self, request: RegistrationRequest) -> None:
        self._enforce(request.actor, lambda: check_registration(self._snapshot(), request))

    @workflow.update
    async def decide_acceptance(self, decision: AcceptanceDecision) -> CommissionSnapshot:
        async with self.lock:
            self._validate_acceptance(decision)
            today = self._today()
            acceptance = self.clocks[ACCEPTANCE.rule_id]
            if decision.decision == "refuse":
                await self._record_rungs(acceptance.stop(today))
                self.stage = Stage.REFUSED
                self.refusal = {"ground": decision.ground, "reason": decision.reason}
                await self._record(
                    "commission.refused",
                    decision.actor,
                    dict(self.refusal),
                    notify=[self._entruster()],
                    message=f"{self.inp.court_reference} refused: {REFUSAL_GROUNDS[decision.ground]}",
                )
                await self._record(
                    "materials.returned",
                    decision.actor,
                    {"materials": [asdict(m) for m in self.inp.materials]},
                )
                await self._order_refund("PROC-07", decision.actor)
                return self._snapshot()
            effective_on = decision.agreement_effective_on or today
            await self._record_rungs(acceptance.stop(effective_on))
            self.stage = Stage.EXAMINING
            self.appraiser_ids = list(decision.appraiser_ids)
            self.agreement_effective_on = effective_on
            budget = EXAMINATION.limit
            if self.inp.court_deadline_working_days:
                # PROC-18: the earlier of the court's limit and the institution's governs.
                budget = min(budget, self.inp.court_deadline_working_days)
            self.clocks[EXAMINATION.rule_id] = await StatutoryClock.start(
                EXAMINATION.rule_id,
                effective_on,
                budget,
                planner=self.planner,
            )
            self.clocks_changed = True
            await self._record(
                "commission.accepted",
                decision.actor,
                {"appraiser_ids": self.appraiser_ids, "agreement_effective_on": effective_on},
                notify=[self._entruster()] + [Receiver(Role.APPRAISER, a) for a in self.appraiser_ids],
                message=f"{self.inp.court_reference} accepted; examination due "
                f"{self.clocks[EXAMINATION.rule_id].state.due_on}",
            )
            return self._snapshot()

    @decide_acceptance.validator
    def _validate_acceptance(self, decision: AcceptanceDecision) -> None:
        self._enforce(
            decision.actor,
            lambda: check_acceptance(self._snapshot(), decision, self._day(), entrusted=self.inp),
        )

    # ---- pauses: materials (PROC-04, PROC-17) and witnesses (PROC-15) ----

    def _running_clock(self) -> StatutoryClock:
        if self.stage == Stage.AWAITING_ACCEPTANCE:
            return self.clocks[ACCEPTANCE.rule_id]
        return self._exam_clock()

    def _exam_clock(self) -> StatutoryClock:
        """The examination clock that runs now: PROC-17, or PROC-30 during a supplementary appraisal."""
        if self.supplementary is not None:
            return self.clocks[SUPPLEMENTARY_EXAMINATION.rule_id]
        return self.clocks[EXAMINATION.rule_id]

    @workflow.update
    async def request_materials(self, request: MaterialRequest) -> CommissionSnapshot:
        async with self.lock:
            self._validate_material_request(request)
            clock = self._running_clock()
            on = request.requested_on or self._today()
            reason = f"{request.kind}: {request.description}"
            await self._record_rungs(await clock.pause(on=on, reason=reason, by=request.actor.subject))
            self.resume_stage = Stage(self.stage)
            self.stage = Stage.AWAITING_MATERIALS
            self.pending_request = {
                "kind": request.kind,
                "description": request.description,
                "requested_on": on,
            }
            self.clocks_changed = True
            await self._record(
                "clock.paused",
                request.actor,
                {
                    "rule": clock.rule.rule_id,
                    "kind": request.kind,
                    "description": request.description,
                    "paused_on": on,
                    "used_days": clock.state.used_days,
                    "remaining_days": clock.state.total_budget - clock.state.used_days,
                },
                notify=[self._entruster()],
                message=f"{self.inp.court_reference}: the institution asks for {request.kind}: "
                f"{request.description}; the {clock.rule.name} clock ({clock.rule.rule_id}) waits meanwhile",
            )
            return self._snapshot()

    @request_materials.validator
    def _validate_material_request(self, request: MaterialRequest) -> None:
        self._enforce(request.actor, lambda: check_material_request(self._snapshot(), request, self._day()))

    @workflow.update
    async def supply_materials(self, supply: MaterialSupply) -> CommissionSnapshot:
        async with self.lock:
            self._validate_supply(supply)
            clock = self._running_clock_while_paused()
            on = supply.received_on or self._today()
            await clock.resume(on=on)
            self.stage = self.resume_stage
            request = self.pending_request or {}
            self.pending_request = None
            self.clocks_changed = True
            materials, offered = supply.materials, None
            data: dict[str, Any] = {}
            notify = self._assignees(clock.rule.rule_id)
            if supply.party_request_id:  # a party's offer, taken in by the organ (PTY-1)
                offered = party_request_of(self._snapshot(), supply.party_request_id, kind="materials")
                materials = materials or offered.materials
                offered.status, offered.decided_on, offered.handled_as = "accepted", on, "materials"
                data = {"party_request_id": offered.id, "party_id": offered.party_id}
                notify = [
                    *notify,
                    self._party_receiver(
                        offered.party_id,
                        f"您提交的材料已由委托机关转交鉴定机构 The materials you offered were supplied to the "
                        f"institution ({self.inp.court_reference})",
                    ),
                ]
            await self._record(
                "clock.resumed",
                supply.actor,
                {
                    "rule": clock.rule.rule_id,
                    "kind": request.get("kind", ""),
                    "received_on": on,
                    "materials": [asdict(m) for m in materials],
                    "due_on": clock.state.due_on,
                    **data,
                },
                notify=notify,
                message=f"{self.inp.court_reference}: materials received on {on}; due {clock.state.due_on}",
            )
            return self._snapshot()

    def _running_clock_while_paused(self) -> StatutoryClock:
        if self.resume_stage == Stage.AWAITING_ACCEPTANCE:
            return self.clocks[ACCEPTANCE.rule_id]
        return self._exam_clock()

    @supply_materials.validator
    def _validate_supply(self, supply: MaterialSupply) -> None:
        self._enforce(supply.actor, lambda: check_supply(self._snapshot(), supply, self._day()))

    # ---- extension (PROC-17) ----

    @workflow.update
    async def extend_examination(self, request: ExtensionRequest) -> CommissionSnapshot:
        async with self.lock:
            self._validate_extension(request)
            clock = self._exam_clock()
            old_due = clock.state.due_on
            await clock.extend(
                working_days=request.working_days, by=request.actor.subject, reason=request.reason
            )
            self.clocks_changed = True
            await self._record(
                "clock.extended",
                request.actor,
                {
                    "rule": clock.rule.rule_id,
                    "working_days": request.working_days,
                    "reason": request.reason,
                    "old_due_on": old_due,
                    "new_due_on": clock.state.due_on,
                },
                notify=[self._entruster(), *self._assignees(clock.rule.rule_id)],
                message=f"{self.inp.court_reference}: examination extended by {request.working_days} working "
                f"days to {clock.state.due_on}: {request.reason}",
            )
            return self._snapshot()

    @extend_examination.validator
    def _validate_extension(self, request: ExtensionRequest) -> None:
        self._enforce(request.actor, lambda: check_extension(self._snapshot(), request, self._day()))

    # ---- the court's remedy for an overdue commission (CRT-5) ----

    @workflow.update
    async def reassign(self, request: ReassignmentRequest) -> CommissionSnapshot:
        async with self.lock:
            if self.reassigned_to == request.new_commission_id:
                return self._snapshot()  # a repeated request: already done
            self._validate_reassignment(request)
            for clock in self.clocks.values():
                if not clock.state.stopped:
                    await self._record_rungs(clock.stop(self._today()))
            self.stage = Stage.REASSIGNED
            self.reassigned_to = request.new_commission_id
            self.refund = {
                "rule": "CRT-5",
                "payer": self.inp.institution_id,
                "payee": self.inp.court_id,
                "reason": "late without justified reason; fees received are refunded"
                if not self.registry_bars
                else "the institution or an appraiser may no longer act (EXIT-1); fees received are refunded",
            }
            await self._record(
                "commission.reassigned",
                request.actor,
                {
                    "new_commission_id": request.new_commission_id,
                    "new_institution_id": request.new_institution_id,
                    "reason": request.reason,
                },
                notify=[
                    Receiver(Role.INSTITUTION, self.inp.institution_id),
                    Receiver(Role.INSTITUTION_HEAD, self.inp.institution_id),
                ],
                message=f"{self.inp.court_reference}: re-entrusted elsewhere as overdue (CRT-5); refund fees",
            )
            await self._order_refund("CRT-5", request.actor, legacy=dict(self.refund))
            return self._snapshot()

    @reassign.validator
    def _validate_reassignment(self, request: ReassignmentRequest) -> None:
        if self.reassigned_to and self.reassigned_to == request.new_commission_id:
            return
        self._enforce(request.actor, lambda: check_reassignment(self._snapshot(), request))

    # ---- withdrawal (court) and termination (PROC-20, PROC-21) ----

    async def _end(self, stage: Stage) -> None:
        today = self._today()
        for clock in self.clocks.values():
            if not clock.state.stopped:
                await self._record_rungs(clock.stop(today))
        self.stage = stage
        self.pending_request = None

    @workflow.update
    async def withdraw(self, request: WithdrawalRequest) -> CommissionSnapshot:
        async with self.lock:
            self._validate_withdrawal(request)
            await self._end(Stage.WITHDRAWN)
            receivers = [Receiver(Role.INSTITUTION, self.inp.institution_id)]
            receivers += [Receiver(Role.APPRAISER, a) for a in self.appraiser_ids]
            await self._record(
                "commission.withdrawn",
                request.actor,
                {"reason": request.reason},
                notify=receivers,
                message=f"{self.inp.court_reference}: withdrawn by the court: {request.reason}",
            )
            await self._record(
                "materials.returned", request.actor, {"materials": [asdict(m) for m in self.inp.materials]}
            )
            await self._order_refund("FEE-3", request.actor)
            return self._snapshot()

    @withdraw.validator
    def _validate_withdrawal(self, request: WithdrawalRequest) -> None:
        self._enforce(request.actor, lambda: check_withdrawal(self._snapshot(), request))

    @workflow.update
    async def terminate(self, request: TerminationRequest) -> CommissionSnapshot:
        async with self.lock:
            self._validate_termination(request)
            await self._end(Stage.TERMINATED)
            self.refund = {
                "rule": "PROC-21",
                "payer": self.inp.institution_id,
                "payee": self.inp.court_id,
                "reason": "terminated; fees refunded per the commission agreement and provincial fee rules",
            }
            await self._record(
                "commission.terminated",
                request.actor,
                {
                    "ground": request.ground,
                    "ground_text": TERMINATION_GROUNDS[request.ground],
                    "reason": request.reason,
                },
                notify=[self._entruster()],
                message=f"{self.inp.court_reference}: terminated ({request.ground}): {request.reason}",
            )
            await self._record(
                "materials.returned", request.actor, {"materials": [asdict(m) for m in self.inp.materials]}
            )
            await self._order_refund(
                "PROC-21", request.actor, ground=request.ground, legacy=dict(self.refund)
            )
            return self._snapshot()

    @terminate.validator
    def _validate_termination(self, request: TerminationRequest) -> None:
        self._enforce(request.actor, lambda: check_termination(self._snapshot(), request))

    # ---- recusal (PROC-10, PROC-11) ----

    @workflow.update
    async def request_recusal(self, request: RecusalRequest) -> CommissionSnapshot:
        async with self.lock:
            self._validate_recusal_request(request)
            today = self._today()
            recusal = RecusalSnapshot(
                id=str(len(self.recusals) + 1),
                appraiser_id=request.appraiser_id,
                ground=request.ground,
                reason=request.reason,
                requested_by_role=request.actor.role,
                requested_on=today,
            )
            self.recusals.append(recusal)
            self.clocks[RECUSAL_DECISION.rule_id] = await StatutoryClock.start(
                RECUSAL_DECISION.rule_id,
                today,
                RECUSAL_DECISION.limit,
                planner=self.planner,
            )
            self.clocks_changed = True
            await self._record(
                "recusal.requested",
                request.actor,
                {
                    "recusal_id": recusal.id,
                    "appraiser_id": request.appraiser_id,
                    "ground": request.ground,
                    "ground_text": RECUSAL_GROUNDS[request.ground],
                    "reason": request.reason,
                },
                notify=[
                    Receiver(Role.INSTITUTION, self.inp.institution_id),
                    self._entruster(),
                ],
                message=f"{self.inp.court_reference}: recusal of appraiser {request.appraiser_id} asked "
                f"({request.ground}); decide by {self.clocks[RECUSAL_DECISION.rule_id].state.due_on}",
            )
            return self._snapshot()

    @request_recusal.validator
    def _validate_recusal_request(self, request: RecusalRequest) -> None:
        self._enforce(request.actor, lambda: check_recusal_request(self._snapshot(), request))

    @workflow.update
    async def decide_recusal(self, decision: RecusalDecision) -> CommissionSnapshot:
        async with self.lock:
            self._validate_recusal_decision(decision)
            recusal = pending_recusal(self.recusals)
            assert recusal is not None
            today = self._today()
            await self._record_rungs(self.clocks[RECUSAL_DECISION.rule_id].stop(today))
            recusal.status = "granted" if decision.granted else "denied"
            recusal.decided_on = today
            recusal.decision_reason = decision.reason
            receivers = [
                self._entruster(),
                Receiver(Role.APPRAISER, recusal.appraiser_id),
            ]
            if decision.granted:
                recusal.replacement_id = decision.replacement_id
                self.appraiser_ids = [
                    decision.replacement_id if a == recusal.appraiser_id else a for a in self.appraiser_ids
                ]
                receivers.append(Receiver(Role.APPRAISER, decision.replacement_id))
                message = (
                    f"{self.inp.court_reference}: appraiser {recusal.appraiser_id} recused; "
                    f"{decision.replacement_id} replaces them"
                )
            else:
                message = (
                    f"{self.inp.court_reference}: recusal of {recusal.appraiser_id} refused: {decision.reason}. "
                    "A court that disagrees may withdraw the commission (PROC-11)."
                )
            self.clocks_changed = True
            await self._record(
                "recusal.decided",
                decision.actor,
                {
                    "recusal_id": recusal.id,
                    "appraiser_id": recusal.appraiser_id,
                    "granted": decision.granted,
                    "reason": decision.reason,
                    "replacement_id": decision.replacement_id,
                    "late": self.clocks[RECUSAL_DECISION.rule_id].state.overdue,
                },
                notify=receivers,
                message=message,
            )
            return self._snapshot()

    @decide_recusal.validator
    def _validate_recusal_decision(self, decision: RecusalDecision) -> None:
        self._enforce(
            decision.actor, lambda: check_recusal_decision(self._snapshot(), decision, entrusted=self.inp)
        )

    # ---- objections to the issued opinion (CRT-7, CRT-8) ----

    @workflow.update
    async def forward_objection(self, objection: ObjectionForward) -> CommissionSnapshot:
        async with self.lock:
            self._validate_objection(objection)
            today = self._today()
            days = (date.fromisoformat(objection.reply_by) - date.fromisoformat(today)).days
            snapshot = ObjectionSnapshot(
                id=str(len(self.objections) + 1),
                party=objection.party,
                content=objection.content,
                forwarded_on=today,
                reply_by=objection.reply_by,
            )
            self.objections.append(snapshot)
            data: dict[str, Any] = {}
            told: list[Receiver] = []
            if objection.party_request_id:  # a party filed it in the workspace; the court forwards it
                filed = party_request_of(self._snapshot(), objection.party_request_id, kind="objection")
                filed.status, filed.decided_on, filed.handled_as = "accepted", today, snapshot.id
                snapshot.party_id = filed.party_id
                data = {"party_request_id": filed.id, "party_id": filed.party_id}
                told = [
                    self._party_receiver(
                        filed.party_id,
                        f"法院已将您的异议转交鉴定人，书面答复期限 {objection.reply_by} The court forwarded your "
                        f"objection; the appraisers answer in writing by {objection.reply_by}",
                    )
                ]
            clock = await StatutoryClock.start(
                OBJECTION_REPLY.rule_id,
                today,
                days,
                court_set_on=objection.reply_by,
                planner=self.planner,
            )
            self.clocks[OBJECTION_REPLY.rule_id] = clock
            self.clocks_changed = True
            await self._record(
                "objection.forwarded",
                objection.actor,
                {
                    "objection_id": snapshot.id,
                    "party": objection.party,
                    "content": objection.content,
                    "reply_by": objection.reply_by,
                    **data,
                },
                notify=[
                    *(Receiver(Role.APPRAISER, a) for a in self.appraiser_ids),
                    Receiver(Role.INSTITUTION, self.inp.institution_id),
                    *told,
                ],
                message=f"{self.inp.court_reference}: {objection.party} objects to the opinion; "
                f"answer in writing by {_court_set_due(clock)} (CRT-7)",
            )
            return self._snapshot()

    @forward_objection.validator
    def _validate_objection(self, objection: ObjectionForward) -> None:
        self._enforce(objection.actor, lambda: check_objection(self._snapshot(), objection, self._day()))

    @workflow.update
    async def answer_objection(self, reply: ObjectionReply) -> CommissionSnapshot:
        async with self.lock:
            self._validate_objection_reply(reply)
            objection = objection_of(self.objections, reply.objection_id)
            today = self._today()
            clock = self.clocks[OBJECTION_REPLY.rule_id]
            await self._record_rungs(clock.stop(today))
            objection.status = "answered"
            objection.reply = reply.content
            objection.replied_by = reply.actor.organisation_id
            objection.replied_on = today
            objection.late = clock.state.overdue
            self.clocks_changed = True
            await self._record(
                "objection.answered",
                reply.actor,
                {"objection_id": objection.id, "content": reply.content, "late": objection.late},
                notify=[self._entruster()],
                message=f"{self.inp.court_reference}: the appraisers answered objection {objection.id} in writing",
            )
            return self._snapshot()

    @answer_objection.validator
    def _validate_objection_reply(self, reply: ObjectionReply) -> None:
        self._enforce(reply.actor, lambda: check_objection_reply(self._snapshot(), reply))

    @workflow.update
    async def resolve_objection(self, resolution: ObjectionResolution) -> CommissionSnapshot:
        async with self.lock:
            self._validate_objection_resolution(resolution)
            objection = objection_of(self.objections, resolution.objection_id)
            objection.status = resolution.resolution
            objection.resolution_note = resolution.note
            await self._record(
                "objection.resolved",
                resolution.actor,
                {
                    "objection_id": objection.id,
                    "resolution": resolution.resolution,
                    "meaning": RESOLUTIONS[resolution.resolution],
                    "note": resolution.note,
                },
                notify=[Receiver(Role.APPRAISER, a) for a in self.appraiser_ids],
                message=f"{self.inp.court_reference}: objection {objection.id}: "
                f"{RESOLUTIONS[resolution.resolution]}",
            )
            return self._snapshot()

    @resolve_objection.validator
    def _validate_objection_resolution(self, resolution: ObjectionResolution) -> None:
        self._enforce(resolution.actor, lambda: check_objection_resolution(self._snapshot(), resolution))

    # ---- court testimony (TST-2…TST-9): a child workflow per summons ----

    @workflow.update
    async def summon_testimony(self, summons: TestimonySummons) -> CommissionSnapshot:
        async with self.lock:
            self._validate_summons(summons)
            testimony_id = str(workflow.uuid4())
            self.stage = Stage.IN_TESTIMONY
            # By name: importing the child's module would make every commission's sandbox load it too.
            await workflow.start_child_workflow(
                TESTIMONY_WORKFLOW,
                TestimonyInput(
                    commission_id=self.inp.commission_id,
                    parent_workflow_id=workflow.info().workflow_id,
                    testimony_id=testimony_id,
                    court_id=self.inp.court_id,
                    institution_id=self.inp.institution_id,
                    bureau_id=self.inp.bureau_id,
                    court_reference=self.inp.court_reference,
                    appraiser_ids=list(summons.appraiser_ids),
                    hearing_at=summons.hearing_at,
                    place=summons.place,
                    summoned_at=workflow.now(),
                    requirements=summons.requirements,
                    reason=summons.reason,
                    summoned_by=summons.actor,
                    case_kind=self._case_kind(),
                ),
                id=testimony_workflow_id(self.inp.commission_id, testimony_id),
            )
        # The child reports its summons back as its first event: answer once it is recorded,
        # so the read model already shows the testimony when the court gets the reply.
        await workflow.wait_condition(lambda: testimony_id in self.testimonies_recorded)
        return self._snapshot()

    @summon_testimony.validator
    def _validate_summons(self, summons: TestimonySummons) -> None:
        self._enforce(summons.actor, lambda: check_summons(self._snapshot(), summons, workflow.now()))

    @workflow.signal
    async def testimony_event(self, event: TestimonyEvent) -> None:
        """A step of a running testimony: appended to this commission's hash chain."""
        async with self.lock:
            if event.seq and event.seq <= self.testimony_seqs.get(event.testimony_id, 0):
                return  # delivered twice: already recorded
            self.testimony_seqs[event.testimony_id] = event.seq
            snapshot = event.snapshot
            if snapshot.excluded_from_fact_finding:
                self.opinion_status = "excluded"
            if snapshot.stage == TestimonyStage.CONCLUDED and self.stage == Stage.IN_TESTIMONY:
                self.stage = Stage.ISSUED
            self.testimonies[event.testimony_id] = snapshot
            self.clocks_changed = True
            await self._record(
                event.kind,
                event.actor,
                {"testimony_id": event.testimony_id, **event.data},
                notify=event.notify,
                message=event.message,
            )
            self.testimonies_recorded.add(event.testimony_id)
            if event.kind == "testimony.refund_ruled" and event.data.get("ordered"):
                await self._order_refund("TST-4", event.actor)

    # ---- supplementary appraisal (PROC-30) and correction (PROC-28) ----

    @workflow.update
    async def request_supplementary(self, request: SupplementaryRequest) -> CommissionSnapshot:
        async with self.lock:
            self._validate_supplementary(request)
            await self._start_supplementary(request, SUPPLEMENTARY_GROUNDS[request.ground])
            return self._snapshot()

    async def _start_supplementary(self, request: SupplementaryRequest, ground_text: str) -> None:
        """PROC-30: the same appraisers examine again under a new clock (asked by the entrusting
        organ, or granted on a suspect's or victim's application, PROC-36)."""
        today = self._today()
        self.supplementary = {
            "ground": request.ground,
            "reason": request.reason,
            "requested_on": today,
            "of_version": str(self.report.version if self.report else 0),
        }
        budget = SUPPLEMENTARY_EXAMINATION.limit
        if self.inp.court_deadline_working_days:
            budget = min(budget, self.inp.court_deadline_working_days)
        self.clocks[SUPPLEMENTARY_EXAMINATION.rule_id] = await StatutoryClock.start(
            SUPPLEMENTARY_EXAMINATION.rule_id,
            today,
            budget,
            planner=self.planner,
        )
        self.stage = Stage.EXAMINING
        self.clocks_changed = True
        await self._record(
            "supplementary.requested",
            request.actor,
            {
                "ground": request.ground,
                "ground_text": ground_text,
                "reason": request.reason,
                "materials": [asdict(m) for m in request.materials],
                "due_on": self.clocks[SUPPLEMENTARY_EXAMINATION.rule_id].state.due_on,
            },
            notify=[
                *(Receiver(Role.APPRAISER, a) for a in self.appraiser_ids),
                Receiver(Role.INSTITUTION, self.inp.institution_id),
            ],
            message=f"{self.inp.court_reference}: supplementary appraisal asked ({request.ground}); "
            f"due {self.clocks[SUPPLEMENTARY_EXAMINATION.rule_id].state.due_on}",
        )

    @request_supplementary.validator
    def _validate_supplementary(self, request: SupplementaryRequest) -> None:
        self._enforce(request.actor, lambda: check_supplementary(self._snapshot(), request))

    @workflow.update
    async def submit_correction(self, correction: CorrectionSubmission) -> CommissionSnapshot:
        async with self.lock:
            self._validate_correction(correction)
            previous = self.report
            assert previous is not None
            attachments = [asdict(a) for a in correction.attachments]
            sections = sections_of(correction)
            content_hash = report_hash(correction.content, correction.opinion, attachments, sections)
            self.earlier_reports.append(previous)
            self.report = ReportSnapshot(
                version=previous.version + 1,
                content_hash=content_hash,
                opinion=correction.opinion,
                submitted_by=correction.actor.organisation_id,
                submitted_at=workflow.now(),
                attachments=list(correction.attachments),
                kind="correction",
                previous_version=previous.version,
                correction={"defect_kind": correction.defect_kind, "description": correction.description},
            )
            self.stage = Stage.SIGNING
            await self._record(
                "report.corrected",
                correction.actor,
                {
                    "version": self.report.version,
                    "previous_version": previous.version,
                    "content_hash": content_hash,
                    "content": correction.content,
                    "opinion": correction.opinion,
                    "attachments": attachments,
                    "defect_kind": correction.defect_kind,
                    "description": correction.description,
                    **({"sections": sections} if sections else {}),
                },
                notify=[Receiver(Role.APPRAISER, a) for a in self.appraiser_ids],
                message=f"{self.inp.court_reference}: correction v{self.report.version} "
                f"({CORRECTION_KINDS[correction.defect_kind]}); sign again",
            )
            return self._snapshot()

    @submit_correction.validator
    def _validate_correction(self, correction: CorrectionSubmission) -> None:
        self._enforce(correction.actor, lambda: check_correction(self._snapshot(), correction))

    # ---- re-appraisal (PROC-31, PROC-32, PROC-35): the new commission is linked here ----

    @workflow.update
    async def order_reappraisal(self, order: ReappraisalOrder) -> CommissionSnapshot:
        async with self.lock:
            if order.new_commission_id in self.reappraisals:
                return self._snapshot()  # a repeated request: already done
            self._validate_reappraisal(order)
            self.reappraisals.append(order.new_commission_id)
            self.opinion_status = "superseded"
            await self._record(
                "commission.reappraisal_ordered",
                order.actor,
                {
                    "new_commission_id": order.new_commission_id,
                    "new_institution_id": order.new_institution_id,
                    "ground": order.ground,
                    "ground_text": REAPPRAISAL_GROUNDS[order.ground],
                    "reason": order.reason,
                },
                notify=[
                    Receiver(Role.INSTITUTION, self.inp.institution_id),
                    *(Receiver(Role.APPRAISER, a) for a in self.appraiser_ids),
                ],
                message=f"{self.inp.court_reference}: the court ordered a re-appraisal ({order.ground}); "
                "the opinion is no longer a basis for the judgment (PROC-35)",
            )
            if order.ground in REFUNDED_GROUNDS:
                self.refund = {
                    "rule": "PROC-35",
                    "payer": self.inp.institution_id,
                    "payee": self.inp.court_id,
                    "reason": f"re-appraisal on ground {order.ground}: fees received are refunded",
                }
                await self._order_refund("PROC-35", order.actor, legacy=dict(self.refund))
            return self._snapshot()

    @order_reappraisal.validator
    def _validate_reappraisal(self, order: ReappraisalOrder) -> None:
        if order.new_commission_id in self.reappraisals:
            return
        self._enforce(order.actor, lambda: check_reappraisal(self._snapshot(), order))

    # ---- a criminal case before trial (PROC-36): the opinion told, applications decided ----

    @workflow.update
    async def notify_opinion(self, notice: OpinionNotice) -> CommissionSnapshot:
        async with self.lock:
            self._validate_opinion_notice(notice)
            assert self.report is not None
            on = notice.notified_on or self._today()
            self.opinion_notices.append(
                OpinionNoticeSnapshot(
                    version=self.report.version,
                    persons=list(notice.persons),
                    notified_on=on,
                    notified_by=notice.actor.subject,
                    note=notice.note,
                )
            )
            await self._record(
                "opinion.notified",
                notice.actor,
                {
                    "version": self.report.version,
                    "content_hash": self.report.content_hash,
                    "persons": [asdict(p) for p in notice.persons],
                    "notified_on": on,
                    "note": notice.note,
                },
            )
            return self._snapshot()

    @notify_opinion.validator
    def _validate_opinion_notice(self, notice: OpinionNotice) -> None:
        enforce(lambda: check_opinion_notice(self._snapshot(), notice, self._day()))

    @workflow.update
    async def receive_application(self, receipt: ApplicationReceipt) -> CommissionSnapshot:
        async with self.lock:
            self._validate_application_receipt(receipt)
            application = ApplicationSnapshot(
                id=str(len(self.applications) + 1),
                applicant_role=receipt.applicant_role,
                applicant_name=receipt.applicant_name,
                kind=receipt.kind,
                reason=receipt.reason,
                received_on=receipt.received_on or self._today(),
                of_version=self.report.version if self.report else 0,
            )
            self.applications.append(application)
            await self._record(
                "application.received",
                receipt.actor,
                {
                    "application_id": application.id,
                    "applicant_role": application.applicant_role,
                    "applicant_name": application.applicant_name,
                    "kind": application.kind,
                    "reason": application.reason,
                    "received_on": application.received_on,
                    "of_version": application.of_version,
                },
            )
            return self._snapshot()

    @receive_application.validator
    def _validate_application_receipt(self, receipt: ApplicationReceipt) -> None:
        enforce(lambda: check_application_receipt(self._snapshot(), receipt, self._day()))

    @workflow.update
    async def decide_application(self, decision: ApplicationDecision) -> CommissionSnapshot:
        async with self.lock:
            self._validate_application_decision(decision)
            application = next(a for a in self.applications if a.id == decision.application_id)
            today = self._today()
            application.decided_on = today
            application.decision_reason = decision.reason
            application.ground = decision.ground
            application.in_custody = decision.in_custody
            data: dict[str, Any] = {
                "application_id": application.id,
                "kind": application.kind,
                "granted": decision.granted,
                "ground": decision.ground,
                "reason": decision.reason,
            }
            if not decision.granted:
                application.status = "refused"
                rule = APPLICANT_NOTICE_IN_CUSTODY if decision.in_custody else APPLICANT_NOTICE
                clock = await StatutoryClock.start(rule.rule_id, today, rule.limit, planner=self.planner)
                self.clocks[rule.rule_id] = clock
                self.clocks_changed = True
                data |= {"in_custody": decision.in_custody, "notice_rule": rule.rule_id}
                data["notice_due_on"] = clock.state.due_on
                await self._record("application.decided", decision.actor, data)
                return self._snapshot()
            application.status = "granted"
            await self._record(
                "application.decided",
                decision.actor,
                data | {"ground_text": APPLICATION_GROUNDS[decision.ground]},
                notify=[Receiver(Role.INSTITUTION, self.inp.institution_id)],
                message=f"{self.inp.court_reference}: a {application.kind} was granted on the application "
                f"of {application.applicant_name} ({decision.ground}, PROC-36)",
            )
            if application.kind == "supplementary":
                request = SupplementaryRequest(decision.actor, decision.ground, decision.reason)
                await self._start_supplementary(request, APPLICATION_GROUNDS[decision.ground])
            return self._snapshot()

    @decide_application.validator
    def _validate_application_decision(self, decision: ApplicationDecision) -> None:
        enforce(lambda: check_application_decision(self._snapshot(), decision))

    @workflow.update
    async def notify_applicant(self, notice: ApplicantNotice) -> CommissionSnapshot:
        async with self.lock:
            self._validate_applicant_notice(notice)
            application = next(a for a in self.applications if a.id == notice.application_id)
            rule = APPLICANT_NOTICE_IN_CUSTODY if application.in_custody else APPLICANT_NOTICE
            clock = self.clocks[rule.rule_id]
            on = notice.notified_on or self._today()
            await self._record_rungs(clock.stop(on))
            application.status = "notified"
            application.notified_on = on
            application.late = clock.state.overdue or on > clock.state.due_on
            self.clocks_changed = True
            await self._record(
                "applicant.notified",
                notice.actor,
                {
                    "application_id": application.id,
                    "notified_on": on,
                    "due_on": clock.state.due_on,
                    "late": application.late,
                    "note": notice.note,
                },
            )
            return self._snapshot()

    @notify_applicant.validator
    def _validate_applicant_notice(self, notice: ApplicantNotice) -> None:
        enforce(lambda: check_applicant_notice(self._snapshot(), notice, self._day()))

    def _criminal_tasks(self) -> list[TaskSnapshot]:
        """What PROC-36 leaves to the investigating organ that entrusted the commission."""
        if self._entrusting_role() not in INVESTIGATING_ROLES:
            return []
        role, organ = self._entrusting_role(), self.inp.court_id
        tasks: list[TaskSnapshot] = []
        version = self.report.version if self.report else 0
        told = any(n.version == version for n in self.opinion_notices)
        if self.stage == Stage.ISSUED and not told:
            tasks.append(TaskSnapshot("notify_opinion", role, organ, None, "PROC-36"))
        for application in self.applications:
            if application.status == "pending":
                tasks.append(TaskSnapshot("decide_application", role, organ, None, "PROC-36"))
            elif application.status == "refused":
                rule = APPLICANT_NOTICE_IN_CUSTODY if application.in_custody else APPLICANT_NOTICE
                due = self.clocks[rule.rule_id].state.due_on
                tasks.append(TaskSnapshot("notify_applicant", role, organ, due, rule.rule_id))
            elif (
                application.status == "granted"
                and application.kind == "reappraisal"
                and not self.reappraisals
            ):
                tasks.append(TaskSnapshot("order_reappraisal", role, organ, None, "PROC-36"))
        return tasks

    # ---- the case moves on with its record (ENT-4) ----

    @workflow.update
    async def record_transfer(self, record: CaseTransferRecord) -> CommissionSnapshot:
        async with self.lock:
            if any(t.transfer_id == record.transfer_id for t in self.transfers):
                return self._snapshot()  # a repeated hand-over: already recorded
            self._validate_transfer(record)
            transfer = TransferSnapshot(
                transfer_id=record.transfer_id,
                from_organ_id=record.from_organ_id,
                from_case_number=record.from_case_number,
                to_organ_id=record.to_organ_id,
                to_role=record.to_role,
                to_kind=record.to_kind,
                to_case_number=record.to_case_number,
                transferred_on=record.transferred_on,
            )
            self.transfers.append(transfer)
            await self._record(
                "case.transferred",
                record.actor,
                {**asdict(transfer), "note": record.note},
                notify=[Receiver(record.to_role, record.to_organ_id)],
                message=f"{self.inp.court_reference}: the case {record.from_case_number} was handed over as "
                f"{record.to_case_number}; this commission's record comes with it (ENT-4)",
            )
            return self._snapshot()

    @record_transfer.validator
    def _validate_transfer(self, record: CaseTransferRecord) -> None:
        if any(t.transfer_id == record.transfer_id for t in self.transfers):
            return
        enforce(lambda: check_transfer_record(self._snapshot(), record))

    # ---- the parties (PTY-1): registered by the entrusting organ, acting through it ----

    def _party_receiver(self, party_id: str, message: str) -> Receiver:
        return Receiver(Role.PARTY, party_id, message=message)

    def _stage_told(self, notify: list[Receiver]) -> list[Receiver]:
        """The parties hear when their commission moves to another stage (a line of their own,
        nothing of the event's internals)."""
        if not self.parties or self.stage == self.told_stage:
            return []
        self.told_stage = self.stage
        named = {(r.role, r.organisation_id) for r in notify}
        line = (
            f"您的鉴定委托（{self.inp.case_number}）现为：{STAGE_WORDS.get(self.stage, self.stage)} "
            f"Your commission is now {self.stage}"
        )
        return [
            self._party_receiver(p.party_id, line)
            for p in self.parties
            if (Role.PARTY, p.party_id) not in named
        ]

    @workflow.update
    async def register_parties(self, registration: PartyRegistration) -> CommissionSnapshot:
        async with self.lock:
            if self._already_registered(registration):
                return self._snapshot()  # a repeated registration: already recorded
            self._validate_party_registration(registration)
            today = self._today()
            added = [PartySnapshot(p.party_id, p.name, p.side, today) for p in registration.parties]
            self.parties += added
            self.told_stage = self.stage
            line = (
                f"您已登记为鉴定委托（{self.inp.case_number}）的当事人，现为："
                f"{STAGE_WORDS.get(self.stage, self.stage)} You are registered as a party of this commission"
            )
            await self._record(
                "party.registered",
                registration.actor,
                {"parties": [asdict(p) for p in added]},
                notify=[self._party_receiver(p.party_id, line) for p in added],
                message=line,
            )
            return self._snapshot()

    def _already_registered(self, registration: PartyRegistration) -> bool:
        known = {p.party_id for p in self.parties}
        return bool(registration.parties) and all(p.party_id in known for p in registration.parties)

    @register_parties.validator
    def _validate_party_registration(self, registration: PartyRegistration) -> None:
        if self._already_registered(registration):
            return
        self._enforce(registration.actor, lambda: check_party_registration(self._snapshot(), registration))

    @workflow.update
    async def submit_party_request(self, request: PartyRequest) -> CommissionSnapshot:
        async with self.lock:
            self._validate_party_request(request)
            item = PartyRequestSnapshot(
                id=str(len(self.party_requests) + 1),
                party_id=request.actor.organisation_id,
                kind=request.kind,
                submitted_on=self._today(),
                content=request.content,
                materials=list(request.materials),
            )
            self.party_requests.append(item)
            await self._record(
                "party.request_submitted",
                request.actor,
                {
                    "request_id": item.id,
                    "party_id": item.party_id,
                    "kind": item.kind,
                    "content": item.content,
                    "materials": [asdict(m) for m in item.materials],
                },
                notify=[self._entruster()],
                message=f"{self.inp.court_reference}: a party offers "
                + ("materials" if item.kind == "materials" else "an objection")
                + " through you: supply or forward it, or decline it with reasons",
            )
            return self._snapshot()

    @submit_party_request.validator
    def _validate_party_request(self, request: PartyRequest) -> None:
        self._enforce(request.actor, lambda: check_party_request(self._snapshot(), request))

    @workflow.update
    async def decline_party_request(self, decline: PartyRequestDecline) -> CommissionSnapshot:
        async with self.lock:
            self._validate_party_request_decline(decline)
            item = party_request_of(self._snapshot(), decline.request_id)
            item.status, item.decided_on, item.decision_reason = "declined", self._today(), decline.reason
            await self._record(
                "party.request_declined",
                decline.actor,
                {"request_id": item.id, "party_id": item.party_id, "reason": decline.reason},
                notify=[
                    self._party_receiver(
                        item.party_id,
                        f"委托机关未转交您的请求：{decline.reason} The entrusting organ declined your request",
                    )
                ],
                message=f"{self.inp.court_reference}: party request {item.id} declined",
            )
            return self._snapshot()

    @decline_party_request.validator
    def _validate_party_request_decline(self, decline: PartyRequestDecline) -> None:
        self._enforce(decline.actor, lambda: check_party_request_decline(self._snapshot(), decline))

    @workflow.update
    async def release_report(self, release: ReportRelease) -> CommissionSnapshot:
        async with self.lock:
            self._validate_report_release(release)
            assert self.report is not None
            self.report_released = self.report.version
            line = (
                f"鉴定意见书（第 {self.report.version} 版）已向当事人公开 The appraisal report is released to "
                "the parties"
            )
            await self._record(
                "report.released",
                release.actor,
                {
                    "version": self.report.version,
                    "content_hash": self.report.content_hash,
                    "note": release.note,
                },
                notify=[self._party_receiver(p.party_id, line) for p in self.parties],
                message=line,
            )
            return self._snapshot()

    @release_report.validator
    def _validate_report_release(self, release: ReportRelease) -> None:
        self._enforce(release.actor, lambda: check_report_release(self._snapshot(), release))

    # ---- the fee (鉴定费): quoted, answered, paid, refunded (FEE-1, CRT-1, FEE-2) ----

    def _payer(self, fee: FeeSnapshot, message: str) -> Receiver:
        if fee.payer_kind == "party":
            return self._party_receiver(fee.payer_party_id, message)
        return self._entruster()

    @workflow.update
    async def quote_fee(self, quote: FeeQuote) -> CommissionSnapshot:
        async with self.lock:
            self._validate_fee_quote(quote)
            fee = FeeSnapshot(
                version=self.fee.version + 1 if self.fee else 1,
                items=list(quote.items),
                total=sum(i.amount for i in quote.items),
                payer_kind=quote.payer_kind,
                payer_party_id=quote.payer_party_id if quote.payer_kind == "party" else "",
                quoted_on=self._today(),
                quoted_by=quote.actor.subject,
                prepayment_required=prepayment_required(
                    entrusting_role=self._entrusting_role(),
                    case_kind=self._case_kind(),
                    payer_kind=quote.payer_kind,
                ),
                note=quote.note,
            )
            self.fee = fee
            prepay = (
                "；须在鉴定开始前预交 prepaid before the examination begins (CRT-1)"
                if fee.prepayment_required
                else ""
            )
            line = (
                f"鉴定费报价 {yuan(fee.total)} 元，请确认 The fee is quoted at {yuan(fee.total)} yuan{prepay}"
            )
            receivers = [self._payer(fee, line)]
            if fee.payer_kind == "party":
                receivers.append(self._entruster())
            await self._record(
                "fee.quoted",
                quote.actor,
                {
                    "version": fee.version,
                    "items": [asdict(i) for i in fee.items],
                    "total": fee.total,
                    "payer_kind": fee.payer_kind,
                    "payer_party_id": fee.payer_party_id,
                    "prepayment_required": fee.prepayment_required,
                    "rule": "CRT-1" if fee.prepayment_required else "FEE-1",
                    "note": fee.note,
                },
                notify=receivers,
                message=f"{self.inp.court_reference}: the fee is quoted at {yuan(fee.total)} yuan{prepay}",
            )
            return self._snapshot()

    @quote_fee.validator
    def _validate_fee_quote(self, quote: FeeQuote) -> None:
        self._enforce(quote.actor, lambda: check_fee_quote(self._snapshot(), quote))

    @workflow.update
    async def answer_fee_quote(self, answer: FeeAnswer) -> CommissionSnapshot:
        async with self.lock:
            self._validate_fee_answer(answer)
            fee = self.fee
            assert fee is not None
            fee.status = "accepted" if answer.accepted else "declined"
            fee.answered_on = self._today()
            fee.answer_reason = answer.reason
            receivers = [Receiver(Role.INSTITUTION, self.inp.institution_id)]
            if fee.payer_kind == "party":
                receivers.append(self._entruster())
            await self._record(
                f"fee.{fee.status}",
                answer.actor,
                {"version": fee.version, "total": fee.total, "reason": answer.reason},
                notify=receivers,
                message=f"{self.inp.court_reference}: the payer {fee.status} the fee of {yuan(fee.total)} yuan"
                + (f": {answer.reason}" if answer.reason else ""),
            )
            return self._snapshot()

    @answer_fee_quote.validator
    def _validate_fee_answer(self, answer: FeeAnswer) -> None:
        self._enforce(answer.actor, lambda: check_fee_answer(self._snapshot(), answer))

    @workflow.update
    async def record_payment(self, payment: FeePayment) -> CommissionSnapshot:
        async with self.lock:
            self._validate_payment(payment)
            fee = self.fee
            assert fee is not None
            on = payment.paid_on or self._today()
            fee.payments.append(
                PaymentSnapshot(
                    amount=payment.amount,
                    reference=payment.reference,
                    paid_on=on,
                    recorded_by_role=payment.actor.role,
                    recorded_by=payment.actor.subject,
                    note=payment.note,
                )
            )
            fee.paid += payment.amount
            line = f"已收到鉴定费 {yuan(payment.amount)} 元（共 {yuan(fee.paid)}/{yuan(fee.total)}） A payment of {yuan(payment.amount)} yuan was recorded"
            receivers = [Receiver(Role.INSTITUTION, self.inp.institution_id), self._entruster()]
            if fee.payer_kind == "party":
                receivers.append(self._payer(fee, line))
            await self._record(
                "fee.paid",
                payment.actor,
                {
                    "amount": payment.amount,
                    "reference": payment.reference,
                    "paid_on": on,
                    "paid": fee.paid,
                    "total": fee.total,
                    "paid_in_full": fee.paid == fee.total,
                    "note": payment.note,
                },
                notify=[
                    r
                    for r in receivers
                    if (r.role, r.organisation_id) != (payment.actor.role, payment.actor.organisation_id)
                ],
                message=f"{self.inp.court_reference}: {yuan(payment.amount)} yuan paid ({payment.reference}); "
                f"{yuan(fee.paid)} of {yuan(fee.total)}",
            )
            return self._snapshot()

    @record_payment.validator
    def _validate_payment(self, payment: FeePayment) -> None:
        self._enforce(payment.actor, lambda: check_payment(self._snapshot(), payment, self._day()))

    async def _order_refund(
        self, rule_id: str, actor: Actor, *, ground: str = "", legacy: dict[str, str] | None = None
    ) -> None:
        """The refund the rule computes of what was paid (domain/fees.py), recorded with its
        amounts, and the FEE-2 clock to pay it back. Nothing paid here: the event the commission
        always recorded (`legacy`), or nothing."""
        fee = self.fee
        if fee is None or fee.paid <= 0 or fee.refund is not None:
            if legacy is not None:
                await self._record("fee.refund_ordered", actor, legacy)
            return
        due = refund_due(
            rule_id, paid=fee.paid, examination_started=self.agreement_effective_on is not None, ground=ground
        )
        today = self._today()
        if fee.payer_kind == "party":
            payee_kind, payee_id = Role.PARTY.value, fee.payer_party_id
        else:
            payee_kind, payee_id = self._entrusting_role(), self.inp.court_id
        fee.refund = RefundSnapshot(
            rule=rule_id,
            basis=due.basis,
            paid=fee.paid,
            minimum=due.minimum,
            ordered_on=today,
            payee_kind=payee_kind,
            payee_id=payee_id,
        )
        clock = await StatutoryClock.start(FEE_REFUND.rule_id, today, FEE_REFUND.limit, planner=self.planner)
        self.clocks[clock.rule.rule_id] = clock
        self.clocks_changed = True
        line = (
            f"应退鉴定费：已付 {yuan(fee.paid)} 元，至少退还 {yuan(due.minimum)} 元，{clock.state.due_on} 前 "
            f"A refund is due by {clock.state.due_on}: {due.basis}"
        )
        receivers = [
            Receiver(Role.INSTITUTION, self.inp.institution_id),
            Receiver(Role.INSTITUTION_HEAD, self.inp.institution_id),
            self._payer(fee, line),
        ]
        await self._record(
            "fee.refund_ordered",
            actor,
            {
                **(legacy or {}),
                "rule": rule_id,
                "paid": fee.paid,
                "minimum": due.minimum,
                "basis": due.basis,
                "payee_kind": payee_kind,
                "payee_id": payee_id,
                "due_on": clock.state.due_on,
            },
            notify=receivers,
            message=f"{self.inp.court_reference}: refund {yuan(due.minimum)}–{yuan(fee.paid)} yuan by "
            f"{clock.state.due_on} ({rule_id}, FEE-2)",
        )

    @workflow.update
    async def record_refund(self, record: RefundRecord) -> CommissionSnapshot:
        async with self.lock:
            self._validate_refund_record(record)
            fee = self.fee
            assert fee is not None and fee.refund is not None
            refund = fee.refund
            clock = self.clocks[FEE_REFUND.rule_id]
            on = record.refunded_on or self._today()
            await self._record_rungs(clock.stop(on))
            refund.status = "refunded"
            refund.amount = record.amount
            refund.reference = record.reference
            refund.refunded_on = on
            refund.retained_reason = record.retained_reason
            refund.late = clock.state.overdue or on > clock.state.due_on
            self.clocks_changed = True
            line = f"鉴定费已退还 {yuan(record.amount)} 元 The fee was refunded: {yuan(record.amount)} yuan ({record.reference})"
            await self._record(
                "fee.refunded",
                record.actor,
                {
                    "rule": refund.rule,
                    "amount": record.amount,
                    "paid": refund.paid,
                    "reference": record.reference,
                    "refunded_on": on,
                    "retained": refund.paid - record.amount,
                    "retained_reason": record.retained_reason,
                    "due_on": clock.state.due_on,
                    "late": refund.late,
                },
                notify=[self._payer(fee, line), self._entruster()]
                if fee.payer_kind == "party"
                else [self._entruster()],
                message=f"{self.inp.court_reference}: {yuan(record.amount)} yuan refunded ({record.reference})",
            )
            return self._snapshot()

    @record_refund.validator
    def _validate_refund_record(self, record: RefundRecord) -> None:
        # An institution barred from practice (EXIT-1) still pays back what it owes: no standing check.
        enforce(lambda: check_refund_record(self._snapshot(), record, self._day()))

    def _party_and_fee_tasks(self) -> list[TaskSnapshot]:
        """What the parties' requests and the fee leave to whom."""
        inst, court, entruster = self.inp.institution_id, self.inp.court_id, self._entrusting_role()
        tasks = [
            TaskSnapshot("review_party_request", entruster, court, None, "PTY-1")
            for r in self.party_requests
            if r.status == "pending"
        ]
        fee = self.fee
        if fee is None:
            return tasks
        if fee.status == "quoted" and self.stage in stages_for(COMMISSION_TRANSITIONS, "answer_fee_quote"):
            payer = (
                (Role.PARTY.value, fee.payer_party_id) if fee.payer_kind == "party" else (entruster, court)
            )
            tasks.append(TaskSnapshot("answer_fee_quote", payer[0], payer[1], None, "FEE-1"))
        unpaid = fee.status == "accepted" and fee.prepayment_required and fee.paid < fee.total
        if unpaid and self.stage == Stage.AWAITING_ACCEPTANCE:
            tasks.append(TaskSnapshot("record_payment", Role.INSTITUTION, inst, None, "CRT-1"))
        if fee.refund is not None and fee.refund.status == "ordered":
            clock = self.clocks.get(FEE_REFUND.rule_id)
            tasks.append(
                TaskSnapshot(
                    "record_refund", Role.INSTITUTION, inst, clock.state.due_on if clock else None, "FEE-2"
                )
            )
        return tasks

    # ---- calendar ----

    @workflow.signal
    async def recompute_clocks(self, change: CalendarChanged) -> None:
        """A year's official schedule was loaded: every running deadline is planned again."""
        async with self.lock:
            async for replanned in replan_for_calendar(self.planner, self.clocks.values(), change):
                clock = replanned.clock
                self.clocks_changed = True
                await self._record(
                    "clock.recomputed",
                    replanned.actor,
                    replanned.data,
                    notify=self._assignees(clock.rule.rule_id) if replanned.moved else [],
                    message=f"{self.inp.court_reference}: the {change.year} calendar moved the "
                    f"{clock.rule.name} deadline from {replanned.old_due_on} to {clock.state.due_on}",
                )

    # ---- exit from the registry (REG-6, REG-7, REG-8; EXIT-1) ----

    @workflow.signal
    async def registry_status_changed(self, notice: RegistryExit) -> None:
        """The registry's fan-out (workflows/exit.py): the institution or an assigned appraiser
        may no longer act (suspended, revoked, deregistered, licence lapsed), or may again.
        From this instant the validators refuse the barred party's steps (check_standing);
        the court is asked to re-entrust or withdraw (EXIT-1), a barred appraiser is replaced
        through the recusal path. A repeated notice changes nothing."""
        async with self.lock:
            if notice.notice_id in self.exit_notices or self.stage in TERMINAL_STAGES:
                return
            if not workflow.patched(REGISTRY_EXIT):
                return
            self.exit_notices.add(notice.notice_id)
            if notice.status == RESTORED:
                await self._lift_bar(notice)
            elif notice.status in BARRING_STATUSES:
                await self._bar(notice)

    def _remedy_open(self) -> bool:
        clock = self.clocks.get(REGISTRY_EXIT_REMEDY.rule_id)
        return clock is not None and not clock.state.stopped

    async def _bar(self, notice: RegistryExit) -> None:
        today = self._today()
        kind, entity = notice.entity_kind, notice.entity_id
        if kind == "appraiser" and entity not in self.appraiser_ids:
            return  # no longer on this commission: nothing of theirs runs here
        bar = RegistryBar(
            entity_kind=kind,
            entity_id=entity,
            status=notice.status,
            rule=notice.rule or rule_of(kind, notice.status),
            since=notice.since or today,
            reason=notice.reason,
            until=notice.until,
            notice_id=notice.notice_id,
        )
        self.registry_bars = [
            b for b in self.registry_bars if (b.entity_kind, b.entity_id) != (kind, entity)
        ] + [bar]
        data: dict[str, Any] = notice_data(notice)
        remedy_stages = stages_for(COMMISSION_TRANSITIONS, "withdraw")
        recusal_open = kind == "appraiser" and self.stage in stages_for(
            COMMISSION_TRANSITIONS, "decide_recusal"
        )
        if self.stage in remedy_stages and not recusal_open and not self._remedy_open():
            clock = await StatutoryClock.start(
                REGISTRY_EXIT_REMEDY.rule_id, today, REGISTRY_EXIT_REMEDY.limit, planner=self.planner
            )
            self.clocks[clock.rule.rule_id] = clock
            self.clocks_changed = True
            data["remedy_due_on"] = clock.state.due_on
        who = "the institution" if kind == "institution" else f"appraiser {entity}"
        status_text = BARRING_STATUSES[notice.status]
        remedy = (
            f"; re-entrust it elsewhere or withdraw it by {data['remedy_due_on']} (EXIT-1)"
            if "remedy_due_on" in data
            else ""
        )
        await self._record(
            "registry.barred",
            notice.actor or SYSTEM,
            data,
            notify=[
                self._entruster(),
                Receiver(Role.INSTITUTION, self.inp.institution_id),
                Receiver(Role.INSTITUTION_HEAD, self.inp.institution_id),
                *(Receiver(Role.APPRAISER, a) for a in self.appraiser_ids),
            ],
            message=f"{self.inp.court_reference}: {who} may no longer act ({status_text}, "
            f"{bar.rule}){remedy}",
        )
        if recusal_open and not any(
            r.appraiser_id == entity and r.status == "pending" for r in self.recusals
        ):
            await self._registry_recusal(bar)

    async def _registry_recusal(self, bar: RegistryBar) -> None:
        """A barred appraiser is replaced through the recusal path: the institution grants it
        with a qualified replacement (PROC-11); it may not refuse it."""
        today = self._today()
        recusal = RecusalSnapshot(
            id=str(len(self.recusals) + 1),
            appraiser_id=bar.entity_id,
            ground=REGISTRY_RECUSAL_GROUND,
            reason=f"{BARRING_STATUSES[bar.status]} since {bar.since} ({bar.rule})",
            requested_by_role="system",
            requested_on=today,
        )
        first_pending = pending_recusal(self.recusals) is None
        self.recusals.append(recusal)
        if first_pending:
            self.clocks[RECUSAL_DECISION.rule_id] = await StatutoryClock.start(
                RECUSAL_DECISION.rule_id, today, RECUSAL_DECISION.limit, planner=self.planner
            )
            self.clocks_changed = True
        await self._record(
            "recusal.requested",
            SYSTEM,
            {
                "recusal_id": recusal.id,
                "appraiser_id": bar.entity_id,
                "ground": REGISTRY_RECUSAL_GROUND,
                "ground_text": "the appraiser may no longer practise (registry)",
                "reason": recusal.reason,
            },
            notify=[
                Receiver(Role.INSTITUTION, self.inp.institution_id),
                self._entruster(),
            ],
            message=f"{self.inp.court_reference}: appraiser {bar.entity_id} may no longer practise; "
            "name a qualified replacement (recusal, PROC-11)",
        )

    async def _lift_bar(self, notice: RegistryExit) -> None:
        key = (notice.entity_kind, notice.entity_id)
        if not any((b.entity_kind, b.entity_id) == key for b in self.registry_bars):
            return
        self.registry_bars = [b for b in self.registry_bars if (b.entity_kind, b.entity_id) != key]
        data: dict[str, Any] = notice_data(notice)
        if barred_institution(self.registry_bars) is None and self._remedy_open():
            await self._record_rungs(self.clocks[REGISTRY_EXIT_REMEDY.rule_id].stop(self._today()))
            self.clocks_changed = True
            data["remedy_closed"] = True
        who = "the institution" if notice.entity_kind == "institution" else f"appraiser {notice.entity_id}"
        await self._record(
            "registry.restored",
            notice.actor or SYSTEM,
            data,
            notify=[
                self._entruster(),
                Receiver(Role.INSTITUTION, self.inp.institution_id),
            ],
            message=f"{self.inp.court_reference}: {who} may act again ({notice.reason or 'restored'})",
        )

    def _enforce(self, actor: Actor, check: Callable[[], None]) -> None:
        """A step's validator: first whether the actor's institution or the actor may act at
        all (a registry bar, domain/exit.check_standing), then the step's own check."""

        def guarded() -> None:
            check_standing(self._snapshot(), actor)
            check()

        enforce(guarded)

    # ---- independence: attempts to interfere (IND-1) ----

    @workflow.update
    async def report_interference(self, report: InterferenceReport) -> CommissionSnapshot:
        async with self.lock:
            self._validate_interference(report)
            item = InterferenceSnapshot(
                id=str(len(self.interference) + 1),
                appraiser_id=report.actor.organisation_id,
                who=report.who,
                occurred_at=report.occurred_at,
                what=report.what,
                reported_at=workflow.now().isoformat(),
                hidden_from_institution=report.hidden_from_institution,
                statement_hash=report.statement_hash,
                key_fingerprint=report.key_fingerprint,
            )
            self.interference.append(item)
            await self._record(
                "interference.reported",
                report.actor,
                {
                    "report_id": item.id,
                    "who": report.who,
                    "occurred_at": report.occurred_at,
                    "what": report.what,
                    "hidden_from_institution": report.hidden_from_institution,
                    "statement_hash": report.statement_hash,
                    "signature": report.signature,
                    "key_fingerprint": report.key_fingerprint,
                },
                notify=[Receiver(Role.SUPERVISOR, self.inp.bureau_id)] if self.inp.bureau_id else [],
                message=f"{self.inp.court_reference}: appraiser {report.actor.organisation_id} recorded an "
                "attempt to interfere with the appraisal (IND-1)",
            )
            return self._snapshot()

    @report_interference.validator
    def _validate_interference(self, report: InterferenceReport) -> None:
        def check() -> None:
            if self.stage in TERMINAL_STAGES:
                raise RuleViolation("not_in_stage", f"the commission is {self.stage}; no step remains")
            check_interference(self.appraiser_ids, report)

        enforce(check)

    @workflow.update
    async def review_interference(self, review: InterferenceReview) -> CommissionSnapshot:
        async with self.lock:
            self._validate_interference_review(review)
            item = next(r for r in self.interference if r.id == review.report_id)
            item.status = "reviewed"
            item.review_note = review.note
            item.reviewed_on = self._today()
            await self._record(
                "interference.reviewed",
                review.actor,
                {
                    "report_id": item.id,
                    "appraiser_id": item.appraiser_id,
                    "note": review.note,
                    "hidden_from_institution": item.hidden_from_institution,
                },
                notify=[Receiver(Role.APPRAISER, item.appraiser_id)],
                message=f"{self.inp.court_reference}: the bureau reviewed your interference report: {review.note}",
            )
            return self._snapshot()

    @review_interference.validator
    def _validate_interference_review(self, review: InterferenceReview) -> None:
        enforce(lambda: check_interference_review(self.interference, review, self.inp.bureau_id))

    # ---- report ----

    @workflow.update
    async def submit_report(self, submission: ReportSubmission) -> CommissionSnapshot:
        async with self.lock:
            self._validate_report(submission)
            attachments = [asdict(a) for a in submission.attachments]
            sections = sections_of(submission)
            content_hash = report_hash(submission.content, submission.opinion, attachments, sections)
            version = self.report.version + 1 if self.report else 1
            previous = self.report
            if previous is not None:  # a supplementary appraisal: the issued version is kept
                self.earlier_reports.append(previous)
            self.report = ReportSnapshot(
                version=version,
                content_hash=content_hash,
                opinion=submission.opinion,
                submitted_by=submission.actor.organisation_id,
                submitted_at=workflow.now(),
                attachments=list(submission.attachments),
                kind="supplementary" if previous else "original",
                previous_version=previous.version if previous else None,
            )
            self.stage = Stage.SIGNING
            await self._record_rungs(self._exam_clock().stop(self._today()))
            self.clocks_changed = True
            await self._record(
                "report.submitted",
                submission.actor,
                {
                    "version": version,
                    "content_hash": content_hash,
                    "content": submission.content,
                    "opinion": submission.opinion,
                    "attachments": attachments,
                    **({"sections": sections} if sections else {}),
                },
                notify=[Receiver(Role.APPRAISER, a) for a in self.appraiser_ids],
                message=f"{self.inp.court_reference}: report v{version} submitted; sign or dissent",
            )
            return self._snapshot()

    @submit_report.validator
    def _validate_report(self, submission: ReportSubmission) -> None:
        self._enforce(submission.actor, lambda: check_report(self._snapshot(), submission))

    @workflow.update
    async def sign_report(self, submission: SignatureSubmission) -> CommissionSnapshot:
        async with self.lock:
            self._validate_signature(submission)
            assert self.report is not None
            self.report.signatures.append(
                SignatureSnapshot(
                    appraiser_id=submission.actor.organisation_id,
                    kind=submission.kind,
                    signed_at=workflow.now(),
                    statement=submission.statement,
                    signature=submission.signature,
                    key_fingerprint=submission.key_fingerprint,
                )
            )
            all_signed = unsigned_appraisers(self.report, self.appraiser_ids) == []
            if all_signed:
                self.stage = Stage.AWAITING_ISSUE
            await self._record(
                "report.signed" if submission.kind == "sign" else "report.dissented",
                submission.actor,
                {
                    "version": self.report.version,
                    "content_hash": self.report.content_hash,
                    "statement": submission.statement,
                    "signature": submission.signature,
                    "key_fingerprint": submission.key_fingerprint,
                },
                notify=[Receiver(Role.INSTITUTION_HEAD, self.inp.institution_id)] if all_signed else [],
                message=f"{self.inp.court_reference}: every appraiser has signed; review and issue",
            )
            return self._snapshot()

    @sign_report.validator
    def _validate_signature(self, submission: SignatureSubmission) -> None:
        self._enforce(submission.actor, lambda: check_signature(self._snapshot(), submission))

    @workflow.update
    async def issue_report(self, request: IssueRequest) -> CommissionSnapshot:
        async with self.lock:
            self._validate_issue(request)
            report = self.report
            assert report is not None
            issued: dict[str, Any] = {"version": report.version, "content_hash": report.content_hash}
            sealed = workflow.patched(SEAL_ISSUED_REPORT)
            if sealed:
                numbered = await workflow.execute_activity_method(
                    ReportActivities.assign_document_number,
                    DocumentNumberRequest(
                        commission_id=self.inp.commission_id,
                        version=report.version,
                        institution_id=self.inp.institution_id,
                        category=self.inp.category,
                        year=self._day().year,
                    ),
                    start_to_close_timeout=NUMBERING_TIMEOUT,
                    retry_policy=NUMBERING_RETRY,
                )
                report.document_number = numbered.document_number
                issued["document_number"] = numbered.document_number
            report.issued_at = workflow.now()
            self.stage = Stage.ISSUED
            await self._record(
                "report.issued",
                request.actor,
                issued,
                notify=[self._entruster()],
                message=f"{self.inp.court_reference}: the appraisal report is issued",
            )
            if sealed:
                self.sealings.append(asyncio.create_task(self._seal(report.version, self.seq)))
            return self._snapshot()

    async def _seal(self, version: int, issued_seq: int) -> None:
        """Beside the main path: once the issue event is in PostgreSQL, the report version is
        rendered and sealed once (an idempotent activity storing the PDF), and the seal is
        recorded in the trail with the PDF's hash."""
        await workflow.wait_condition(lambda: self.projected_seq >= issued_seq)
        try:
            sealed = await workflow.execute_activity_method(
                ReportActivities.seal_report,
                SealRequest(
                    commission_id=self.inp.commission_id,
                    workflow_id=workflow.info().workflow_id,
                    version=version,
                    issued_seq=issued_seq,
                ),
                start_to_close_timeout=SEALING_TIMEOUT,
                schedule_to_close_timeout=SEALING_GIVES_UP_AFTER,
                retry_policy=SEALING_RETRY,
            )
        except ActivityError as err:
            async with self.lock:
                await self._record(
                    "report.seal_failed",
                    SYSTEM,
                    {"version": version, "reason": str(err.cause or err)},
                    notify=[Receiver(Role.INSTITUTION_HEAD, self.inp.institution_id)],
                    message=f"{self.inp.court_reference}: report v{version} could not be sealed",
                )
            return
        async with self.lock:
            for report in [*self.earlier_reports, *([self.report] if self.report else [])]:
                if report.version == version:
                    report.sealed_sha256 = sealed.sha256
            await self._record(
                "report.sealed",
                SYSTEM,
                {
                    "version": version,
                    "document_number": sealed.document_number,
                    "sha256": sealed.sha256,
                    "size": sealed.size,
                    "seal_serial": sealed.seal_serial,
                    "timestamp": sealed.timestamp,
                },
            )

    @issue_report.validator
    def _validate_issue(self, request: IssueRequest) -> None:
        self._enforce(request.actor, lambda: check_issue(self._snapshot(), request))

    @workflow.update
    async def close(self, request: ClosureRequest) -> CommissionSnapshot:
        async with self.lock:
            self._validate_close(request)
            self.stage = Stage.CLOSED
            await self._record("commission.closed", request.actor, {"reason": request.reason})
            return self._snapshot()

    @close.validator
    def _validate_close(self, request: ClosureRequest) -> None:
        self._enforce(request.actor, lambda: check_closure(self._snapshot(), request))

    @workflow.query
    def snapshot(self) -> CommissionSnapshot:
        return self._snapshot()

    # ---- helpers ----

    def _day(self) -> date:
        return local_today(workflow.now())

    def _today(self) -> str:
        return self._day().isoformat()

    def _assignees(self, rule_id: str) -> list[Receiver]:
        return self._audience(Audience.ASSIGNEES, rule_id)

    def _open_tasks(self) -> list[TaskSnapshot]:
        inst, court = self.inp.institution_id, self.inp.court_id
        entruster = self._entrusting_role()

        def due(rule_id: str) -> str | None:
            clock = self.clocks.get(rule_id)
            return clock.state.due_on if clock else None

        tasks: list[TaskSnapshot] = []
        if self.stage == Stage.AWAITING_ACCEPTANCE:
            tasks.append(TaskSnapshot("decide_acceptance", Role.INSTITUTION, inst, due("PROC-03"), "PROC-03"))
        elif self.stage == Stage.AWAITING_MATERIALS:
            paused = self._running_clock_while_paused().rule.rule_id
            tasks.append(TaskSnapshot("supply_materials", entruster, court, None, paused))
        elif self.stage == Stage.EXAMINING:
            exam = self._exam_clock().rule.rule_id
            tasks += [
                TaskSnapshot("submit_report", Role.APPRAISER, a, due(exam), exam) for a in self.appraiser_ids
            ]
        elif self.stage == Stage.SIGNING:
            tasks += [
                TaskSnapshot("sign_report", Role.APPRAISER, a, None, "PROC-24")
                for a in unsigned_appraisers(self.report, self.appraiser_ids)
            ]
        elif self.stage == Stage.AWAITING_ISSUE:
            tasks.append(TaskSnapshot("issue_report", Role.INSTITUTION_HEAD, inst, None, "PROC-25"))
        elif self.stage == Stage.ISSUED:
            tasks.append(TaskSnapshot("close_commission", entruster, court, None, None))
        tasks += self._criminal_tasks()
        if pending_recusal(self.recusals) is not None:
            tasks.append(TaskSnapshot("decide_recusal", Role.INSTITUTION, inst, due("PROC-11"), "PROC-11"))
        for objection in self.objections:
            if objection.status == "awaiting_reply":
                tasks += [
                    TaskSnapshot("answer_objection", Role.APPRAISER, a, due(OBJECTION_REPLY.rule_id), "CRT-7")
                    for a in self.appraiser_ids
                ]
            elif objection.status == "answered":
                tasks.append(TaskSnapshot("resolve_objection", Role.COURT, court, None, "CRT-8"))
        for testimony in self.testimonies.values():
            tasks += testimony.open_tasks
        if self._remedy_open():
            tasks.append(
                TaskSnapshot(
                    "registry_exit_remedy", entruster, court, due(REGISTRY_EXIT_REMEDY.rule_id), "EXIT-1"
                )
            )
        tasks += self._party_and_fee_tasks()
        if self.inp.bureau_id:
            tasks += [
                TaskSnapshot("review_interference", Role.SUPERVISOR, self.inp.bureau_id, None, "IND-1")
                for r in self.interference
                if r.status == "reported"
            ]
        for clock in self.clocks.values():
            if clock.state.stopped or not clock.state.overdue:
                continue
            rule_id = clock.rule.rule_id
            if rule_id == REGISTRY_EXIT_REMEDY.rule_id:  # the entrusting organ's own: the bureau hears of it
                if RungKind.ESCALATION in clock.state.rungs_fired and self.inp.bureau_id:
                    tasks.append(
                        TaskSnapshot(
                            "overdue_escalation",
                            Role.SUPERVISOR,
                            self.inp.bureau_id,
                            clock.state.due_on,
                            rule_id,
                        )
                    )
                continue
            if clock.rule.assignee_role in ENTRUSTING_ROLES:
                continue  # the entrusting organ's own lateness is its own task's (PROC-36)
            tasks.append(
                TaskSnapshot("overdue_escalation", Role.INSTITUTION_HEAD, inst, clock.state.due_on, rule_id)
            )
            if RungKind.ESCALATION in clock.state.rungs_fired:
                if self.inp.bureau_id:
                    tasks.append(
                        TaskSnapshot(
                            "overdue_escalation",
                            Role.SUPERVISOR,
                            self.inp.bureau_id,
                            clock.state.due_on,
                            rule_id,
                        )
                    )
                if entruster == Role.COURT and rule_id != FEE_REFUND.rule_id:  # the court's remedy (CRT-5)
                    tasks.append(
                        TaskSnapshot("overdue_remedy", Role.COURT, court, clock.state.due_on, "CRT-5")
                    )
        return tasks

    def _snapshot(self) -> CommissionSnapshot:
        inp = self.inp
        return CommissionSnapshot(
            id=inp.commission_id,
            workflow_id=workflow.info().workflow_id,
            stage=self.stage,
            court_id=inp.court_id,
            court_reference=inp.court_reference,
            case_number=inp.case_number,
            institution_id=inp.institution_id,
            category=inp.category,
            received_on=inp.received_on,
            matters=list(inp.matters),
            selection_mode=inp.selection_mode,
            court_deadline_working_days=inp.court_deadline_working_days,
            appraiser_ids=list(self.appraiser_ids),
            agreement_effective_on=self.agreement_effective_on,
            clocks=[c.state for c in self.clocks.values()],
            open_tasks=self._open_tasks(),
            report=self.report,
            refusal=self.refusal,
            pending_request=self.pending_request,
            refund=self.refund,
            previous_commission_id=inp.previous_commission_id,
            reassigned_to=self.reassigned_to,
            reappraisal_of=inp.reappraisal_of,
            reappraisals=list(self.reappraisals),
            opinion_status=self.opinion_status,
            earlier_reports=list(self.earlier_reports),
            supplementary=self.supplementary,
            recusals=list(self.recusals),
            objections=list(self.objections),
            testimonies=list(self.testimonies.values()),
            registry_bars=list(self.registry_bars),
            interference=list(self.interference),
            entrusting_role=self._entrusting_role(),
            entrusting_kind=inp.entrusting_kind or "court",
            case_kind=self._case_kind(),
            opinion_notices=list(self.opinion_notices),
            applications=list(self.applications),
            transfers=list(self.transfers),
            parties=list(self.parties),
            party_requests=list(self.party_requests),
            report_released=self.report_released,
            fee=self.fee,
            last_event_seq=self.seq,
            last_hash=self.last_hash,
        )

    def _search_attributes(self) -> None:
        running = [c for c in self.clocks.values() if not c.state.stopped]
        next_due: datetime | None = min((c.state.due_at for c in running if not c.state.paused), default=None)
        self.upserts.upsert(
            [
                sa.STAGE.value_set(self.stage),
                sa.COURT.value_set(self.inp.court_id),
                sa.INSTITUTION.value_set(self.inp.institution_id),
                sa.CATEGORY.value_set(self.inp.category),
                sa.OVERDUE.value_set(any(c.state.overdue for c in running)),
                sa.ESCALATION.value_set(highest_rung(running)),
                sa.NEXT_DUE_AT.value_set(next_due) if next_due else sa.NEXT_DUE_AT.value_unset(),
            ]
        )

    async def _record(
        self,
        kind: str,
        actor: Actor,
        data: dict[str, Any],
        *,
        notify: list[Receiver] | None = None,
        message: str = "",
        projected_first: bool = False,
    ) -> None:
        """Appends one event to the commission's hash chain, projects the read
        model and queues its notifications, in one idempotent activity keyed
        by (workflow id, seq); then delivers the notifications. The step answers
        before the projection, but for `projected_first` (the entrustment, whose
        answer promises the read model's row exists)."""
        notify = [*(notify or []), *self._stage_told(notify or [])]
        self.seq += 1
        event = chained_event(
            subject_id=self.inp.commission_id,
            seq=self.seq,
            kind=kind,
            actor=actor,
            data=data,
            prev_hash=self.last_hash,
        )
        self.last_hash = event.hash
        self._search_attributes()
        projection = RecordEventInput(
            event=event, snapshot=self._snapshot(), notify=notify or [], message=message
        )
        if self.versions.earlier_patch(ANSWER_BEFORE_PROJECTION) and not projected_first:
            self.unprojected.append(projection)  # the projector records it, in sequence
            return
        await self._project(projection)

    async def _project(self, projection: RecordEventInput) -> None:
        recorded = await workflow.execute_activity_method(
            CommissionActivities.record_commission_event,
            projection,
            start_to_close_timeout=RECORDING_TIMEOUT,
            retry_policy=RECORDING_RETRY,
        )
        self.projected_seq = max(self.projected_seq, projection.event.seq)
        # Histories from before this change always started a delivery; keep them replaying.
        nothing_to_deliver = self.versions.earlier_patch(DELIVER_ONLY_TO_ENDPOINTS) and not (
            recorded and recorded.pending_deliveries
        )
        if projection.notify and not nothing_to_deliver:
            self.deliveries.append(start_delivery(projection.event))

    async def _projector(self) -> None:
        """Records the events the steps appended, one at a time in sequence order, each
        exactly once: the audit chain, the read model and the outbox follow the workflow."""
        while True:
            await workflow.wait_condition(lambda: bool(self.unprojected))
            await self._project(self.unprojected[0])
            self.unprojected.pop(0)
