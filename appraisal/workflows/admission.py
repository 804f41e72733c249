"""One workflow per registration application (登记申请): an institution's or an appraiser's
admission, a licence's renewal (延续) or a registration's change (变更), one path for all.

Received → accepted within 5 working days, or everything missing asked for once (补正, the
clock paused until the correction arrives); no answer in time counts as accepted (ADM-1,
行政许可法 Art 32) → an expert panel drawn at random from the bureau's pool, conflicted
experts left out or recused, each expert's signed score and opinion, the time not counted
(ADM-4, Art 45) → the decision within 20 working days of acceptance, once extended by at most
10 with the head's approval (ADM-3, Art 42) → on approval the licence (5 years) and the
registry entry, the appraiser's key registered; on refusal the reasons and the remedies.
A renewal not decided before its licence expires is deemed granted (ADM-7, Art 50).

Every step is an Update whose validator refuses what the rules do not allow now, before
anything reaches history; every step is one link of the application's audit hash chain."""

import asyncio
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from temporalio import workflow

from appraisal.domain.admission import (
    NOT_ACCEPTED_GROUNDS,
    PANEL_SIZES,
    RECOMMENDATIONS,
    REVIEW_DAYS,
    TERMINAL_ADMISSION_STAGES,
    AdmissionApproval,
    AdmissionExtension,
    AdmissionInput,
    AdmissionKind,
    AdmissionRefusal,
    AdmissionRegistration,
    AdmissionSnapshot,
    AdmissionStage,
    AdmissionWithdrawal,
    ApplicationAcceptance,
    ApplicationNotAccepted,
    CorrectionRequest,
    CorrectionSupply,
    ExpertRecusal,
    ExpertReview,
    ExpertReviewSubmission,
    LicenceGrant,
    PanelDraw,
    PanelDrawRequest,
    PanelMember,
    RecordAdmissionEventInput,
    check_registration,
    licence_for,
    qualification_gaps,
    remedies,
    require_admission_stage,
    require_applicant_or_bureau,
    require_bureau,
    review_hash,
    review_required,
    subject_name,
)
from appraisal.domain.calendar import end_of_day
from appraisal.domain.commission import TaskSnapshot
from appraisal.domain.draw import seeded_sample
from appraisal.domain.errors import RuleViolation
from appraisal.domain.events import Receiver
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import (
    ADMISSION_ACCEPTANCE,
    ADMISSION_DECISION,
    EXPERT_REVIEW,
    Audience,
    ClockRule,
    RungKind,
)
from appraisal.workflows import search_attributes as sa
from appraisal.workflows.clock import (
    ClockedWorkflow,
    FiredRung,
    Planner,
    StatutoryClock,
    due_rungs,
    highest_rung,
    sleep_until_due,
)
from appraisal.workflows.recording import (
    RECORDING_RETRY,
    RECORDING_TIMEOUT,
    chained_event,
    start_delivery,
)
from appraisal.workflows.validation import enforce
from appraisal.workflows.versions import Versions

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.admission import AdmissionActivities

SYSTEM = Actor(role="system", organisation_id="", subject="statutory-clock")


@workflow.defn
class AdmissionWorkflow(ClockedWorkflow):
    @workflow.init
    def __init__(self, inp: AdmissionInput) -> None:
        self.inp = inp
        self.stage = AdmissionStage.AWAITING_ACCEPTANCE
        self.versions = Versions()
        self.planner = Planner(self.versions)
        self.upserts = sa.Upserts(self.versions)
        self.clocks: dict[str, StatutoryClock] = {}
        self.accepted_on: str | None = None
        self.deemed_accepted = False
        self.correction: dict[str, str] | None = None
        self.correction_requested = False
        self.review_required = review_required(inp)
        self.review_concluded = False
        self.panel: list[PanelMember] = []
        self.draws: list[PanelDraw] = []
        self.reviews: list[ExpertReview] = []
        self.gaps = qualification_gaps(inp)
        self.decision: dict[str, Any] | None = None
        self.not_accepted: dict[str, str] | None = None
        self.withdrawn: dict[str, str] | None = None
        self.seq = 0
        self.last_hash = ""
        self.registered = False
        self.registration_answered = False
        self.clocks_changed = False
        self.lock = asyncio.Lock()
        self.deliveries: list[Any] = []

    # ---- life ----

    @workflow.run
    async def run(self, inp: AdmissionInput) -> AdmissionSnapshot:
        # The API refused an invalid application before starting; this is defence in depth.
        enforce(lambda: check_registration(inp))
        async with self.lock:
            clock = await StatutoryClock.start(
                ADMISSION_ACCEPTANCE.rule_id,
                inp.received_on,
                ADMISSION_ACCEPTANCE.limit,
                planner=self.planner,
            )
            self.clocks[clock.rule.rule_id] = clock
            await self._record(
                "admission.registered",
                inp.filed_by,
                {
                    "reference": inp.reference,
                    "kind": inp.kind,
                    "subject_kind": inp.subject_kind,
                    "entity_id": inp.entity_id,
                    "subject_name": subject_name(inp),
                    "applicant_institution_id": inp.applicant_institution_id,
                    "received_on": inp.received_on,
                    "institution": asdict(inp.institution) if inp.institution else None,
                    "appraiser": asdict(inp.appraiser) if inp.appraiser else None,
                    "change": asdict(inp.change) if inp.change else None,
                    "registered": asdict(inp.registered) if inp.registered else None,
                    "materials": [asdict(m) for m in inp.materials],
                    "review_required": self.review_required,
                    "gaps": list(self.gaps),
                    "acceptance_due_on": clock.state.due_on,
                },
                notify=self._bureau(),
                message=f"registration application {inp.reference} received on {inp.received_on}",
            )
            self.registered = True
        while self.stage not in TERMINAL_ADMISSION_STAGES:
            await self._sleep_until_next_rung()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self.deliveries, return_exceptions=True)
        return self._snapshot()

    def _renewal_deemed_at(self) -> datetime | None:
        """ADM-7: a renewal not decided by the end of the licence's last day is deemed granted.
        Not while the applicant corrects the application: that delay is theirs (I)."""
        registered = self.inp.registered
        if self.inp.kind != AdmissionKind.RENEWAL or registered is None or not registered.licence_valid_until:
            return None
        if self.stage in TERMINAL_ADMISSION_STAGES or self.stage == AdmissionStage.AWAITING_CORRECTION:
            return None
        return end_of_day(date.fromisoformat(registered.licence_valid_until))

    async def _sleep_until_next_rung(self) -> None:
        self.clocks_changed = False
        deemed_at = self._renewal_deemed_at()
        if await sleep_until_due(
            self.clocks.values(),
            woken=lambda: self.clocks_changed or self.stage in TERMINAL_ADMISSION_STAGES,
            summary="next statutory-clock rung",
            also=[deemed_at] if deemed_at else [],
        ):
            async with self.lock:
                await self._record_rungs(due_rungs(self.clocks.values(), workflow.now()))
                await self._deem_when_due()

    async def _deem_when_due(self) -> None:
        """What the law makes of the bureau's silence: an application not answered within
        ADM-1 is accepted; a renewal not decided before its licence ends is granted."""
        acceptance = self.clocks[ADMISSION_ACCEPTANCE.rule_id]
        if self.stage == AdmissionStage.AWAITING_ACCEPTANCE and acceptance.state.overdue:
            await self._accept(SYSTEM, on=acceptance.state.segment_start, deemed=True)
        deemed_at = self._renewal_deemed_at()
        if deemed_at is not None and workflow.now() >= deemed_at:
            await self._deem_renewed()

    async def _record_rungs(self, rungs: Iterable[FiredRung]) -> None:
        for fired in rungs:
            await self._record(
                f"clock.{fired.rung.kind}",
                SYSTEM,
                fired.data,
                notify=self._audience(fired.clock, fired.rung.notify),
                message=self._rung_message(fired.rung.kind, fired.clock),
            )

    def _rung_message(self, kind: str, clock: StatutoryClock) -> str:
        name, due, reference = clock.rule.name, clock.state.due_on, self.inp.reference
        if kind == RungKind.WARNING:
            return f"application {reference}: most of the {name} time limit is used; it ends on {due}"
        if kind == RungKind.OVERDUE:
            return f"application {reference}: the {name} time limit ended on {due} ({clock.rule.rule_id})"
        return f"application {reference}: still overdue; the {name} time limit ended on {due}"

    def _audience(self, clock: StatutoryClock, audiences: tuple[Audience, ...]) -> list[Receiver]:
        """The experts answer for their review; the bureau for everything else."""
        receivers: list[Receiver] = []
        for audience in audiences:
            if audience == Audience.ASSIGNEES and clock.rule.rule_id == EXPERT_REVIEW.rule_id:
                receivers += [Receiver(Role.EXPERT, m.expert_id) for m in self._reviewers_due()]
            elif not any(r.role == Role.SUPERVISOR for r in receivers):
                receivers += self._bureau()
        return receivers

    def _bureau(self) -> list[Receiver]:
        return [Receiver(Role.SUPERVISOR, self.inp.bureau_id)]

    def _applicant(self) -> list[Receiver]:
        if self.inp.applicant_institution_id:
            return [Receiver(Role.INSTITUTION, self.inp.applicant_institution_id)]
        return []

    # ---- filing ----

    @workflow.update
    async def register(self, request: AdmissionRegistration) -> AdmissionSnapshot:
        """Answers the filing once the application is recorded."""
        await workflow.wait_condition(lambda: self.registered)
        snapshot = self._snapshot()
        snapshot.created = not self.registration_answered
        self.registration_answered = True
        return snapshot

    @register.validator
    def _validate_register(self, request: AdmissionRegistration) -> None:
        def check() -> None:
            check_registration(self.inp)
            require_applicant_or_bureau(request.actor, self.inp)

        enforce(check)

    # ---- acceptance (ADM-1, ADM-2) ----

    @workflow.update
    async def accept(self, request: ApplicationAcceptance) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_accept(request)
            await self._accept(request.actor, on=request.accepted_on or self._today(), note=request.note)
            return self._snapshot()

    @accept.validator
    def _validate_accept(self, request: ApplicationAcceptance) -> None:
        def check() -> None:
            require_admission_stage(self.stage, AdmissionStage.AWAITING_ACCEPTANCE)
            require_bureau(request.actor, self.inp.bureau_id)
            if request.accepted_on:
                self._within_history(request.accepted_on, ADMISSION_ACCEPTANCE, "accepted_on")

        enforce(check)

    async def _accept(self, actor: Actor, *, on: str, deemed: bool = False, note: str = "") -> None:
        clock = self.clocks[ADMISSION_ACCEPTANCE.rule_id]
        await self._record_rungs(clock.stop(self._today() if deemed else on))
        self.stage = AdmissionStage.DECIDING
        self.accepted_on = on
        self.deemed_accepted = deemed
        decision = await StatutoryClock.start(
            ADMISSION_DECISION.rule_id, on, ADMISSION_DECISION.limit, planner=self.planner
        )
        self.clocks[ADMISSION_DECISION.rule_id] = decision
        self.clocks_changed = True
        await self._record(
            "admission.accepted",
            actor,
            {
                "accepted_on": on,
                "deemed": deemed,
                "note": note or ("no answer within ADM-1: accepted as of the receipt" if deemed else ""),
                "decision_due_on": decision.state.due_on,
                "review_required": self.review_required,
                "rule": ADMISSION_ACCEPTANCE.rule_id,
            },
            notify=self._applicant() + (self._bureau() if deemed else []),
            message=f"application {self.inp.reference} accepted as of {on}"
            + (" (deemed: not answered within 5 working days)" if deemed else "")
            + f"; decision due by {decision.state.due_on}",
        )

    @workflow.update
    async def decline_acceptance(self, request: ApplicationNotAccepted) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_decline_acceptance(request)
            on = request.decided_on or self._today()
            clock = self.clocks[ADMISSION_ACCEPTANCE.rule_id]
            if clock.state.paused:
                await clock.resume(on=on)
            await self._record_rungs(clock.stop(on))
            self.stage = AdmissionStage.NOT_ACCEPTED
            self.not_accepted = {
                "ground": request.ground,
                "ground_text": NOT_ACCEPTED_GROUNDS[request.ground],
                "reason": request.reason,
                "decided_on": on,
            }
            await self._record(
                "admission.not_accepted",
                request.actor,
                {**self.not_accepted, "applicant_told": "in writing, with the ground", "rule": "ADM-2"},
                notify=self._applicant(),
                message=f"application {self.inp.reference} not accepted: {request.reason}",
            )
            return self._snapshot()

    @decline_acceptance.validator
    def _validate_decline_acceptance(self, request: ApplicationNotAccepted) -> None:
        def check() -> None:
            require_admission_stage(
                self.stage, AdmissionStage.AWAITING_ACCEPTANCE, AdmissionStage.AWAITING_CORRECTION
            )
            require_bureau(request.actor, self.inp.bureau_id)
            if request.ground not in NOT_ACCEPTED_GROUNDS:
                raise RuleViolation(
                    "unknown_ground", f"{request.ground} is not an ADM-2 ground", rule="ADM-2"
                )
            if not request.reason.strip():
                raise RuleViolation(
                    "reason_required", "an application not accepted is told why", rule="ADM-2"
                )
            if request.decided_on:
                clock = self.clocks[ADMISSION_ACCEPTANCE.rule_id]
                self._date_between(
                    request.decided_on, clock.state.paused_on or clock.state.segment_start, "decided_on"
                )

        enforce(check)

    # ---- correction (补正): ADM-1 paused, once ----

    @workflow.update
    async def request_correction(self, request: CorrectionRequest) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_correction_request(request)
            clock = self.clocks[ADMISSION_ACCEPTANCE.rule_id]
            on = request.requested_on or self._today()
            await self._record_rungs(
                await clock.pause(
                    on=on, reason=f"correction: {request.description}", by=request.actor.subject
                )
            )
            self.stage = AdmissionStage.AWAITING_CORRECTION
            self.correction_requested = True
            self.correction = {"description": request.description, "requested_on": on}
            self.clocks_changed = True
            await self._record(
                "admission.correction_requested",
                request.actor,
                {
                    "rule": clock.rule.rule_id,
                    "description": request.description,
                    "requested_on": on,
                    "used_days": clock.state.used_days,
                    "remaining_days": clock.state.total_budget - clock.state.used_days,
                },
                notify=self._applicant(),
                message=f"application {self.inp.reference}: correct it (补正): {request.description}",
            )
            return self._snapshot()

    @request_correction.validator
    def _validate_correction_request(self, request: CorrectionRequest) -> None:
        def check() -> None:
            require_admission_stage(self.stage, AdmissionStage.AWAITING_ACCEPTANCE)
            require_bureau(request.actor, self.inp.bureau_id)
            if self.correction_requested:
                raise RuleViolation(
                    "correction_already_requested",
                    "what is missing is asked for once, all of it (一次告知)",
                    rule="ADM-2",
                )
            if not request.description.strip():
                raise RuleViolation("description_required", "say everything that is missing", rule="ADM-2")
            clock = self.clocks[ADMISSION_ACCEPTANCE.rule_id]
            on = self._today()
            if request.requested_on:
                on = self._within_history(request.requested_on, ADMISSION_ACCEPTANCE, "requested_on")
            if on > clock.state.due_on:
                raise RuleViolation(
                    "deadline_passed",
                    f"the {clock.rule.name} time limit ended on {clock.state.due_on}, before {on}",
                    rule=clock.rule.rule_id,
                )

        enforce(check)

    @workflow.update
    async def supply_correction(self, supply: CorrectionSupply) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_correction_supply(supply)
            clock = self.clocks[ADMISSION_ACCEPTANCE.rule_id]
            on = supply.received_on or self._today()
            await clock.resume(on=on)
            self.stage = AdmissionStage.AWAITING_ACCEPTANCE
            self.correction = {**(self.correction or {}), "received_on": on}
            self.clocks_changed = True
            await self._record(
                "admission.correction_received",
                supply.actor,
                {
                    "rule": clock.rule.rule_id,
                    "received_on": on,
                    "materials": [asdict(m) for m in supply.materials],
                    "note": supply.note,
                    "acceptance_due_on": clock.state.due_on,
                },
                notify=self._bureau(),
                message=f"application {self.inp.reference}: the correction arrived on {on}",
            )
            return self._snapshot()

    @supply_correction.validator
    def _validate_correction_supply(self, supply: CorrectionSupply) -> None:
        def check() -> None:
            require_admission_stage(self.stage, AdmissionStage.AWAITING_CORRECTION)
            require_applicant_or_bureau(supply.actor, self.inp)
            if supply.received_on:
                paused_on = self.clocks[ADMISSION_ACCEPTANCE.rule_id].state.paused_on
                self._date_between(supply.received_on, paused_on or self.inp.received_on, "received_on")

        enforce(check)

    # ---- the expert panel (ADM-4, ADM-5): ADM-3 paused ----

    @workflow.update
    async def draw_panel(self, request: PanelDrawRequest) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_draw(request)
            on = request.drawn_on or self._today()
            picks = seeded_sample(request.seed, request.candidates, request.size)
            decision = self.clocks[ADMISSION_DECISION.rule_id]
            await self._record_rungs(
                await decision.pause(
                    on=on, reason="expert review (行政许可法 Art 45)", by=request.actor.subject
                )
            )
            review = await StatutoryClock.start(
                EXPERT_REVIEW.rule_id, on, request.review_days, planner=self.planner
            )
            self.clocks[EXPERT_REVIEW.rule_id] = review
            self.draws.append(PanelDraw(request.seed, sorted(request.candidates), request.size, picks, on))
            self.panel = [PanelMember(e, request.names.get(e, ""), on) for e in picks]
            self.stage = AdmissionStage.EXPERT_REVIEW
            self.clocks_changed = True
            await self._record(
                "admission.panel_drawn",
                request.actor,
                {
                    "rule": "ADM-5",
                    "seed": request.seed,
                    "candidates": sorted(request.candidates),
                    "size": request.size,
                    "picks": picks,
                    "drawn_on": on,
                    "review_days": request.review_days,
                    "review_due_on": review.state.due_on,
                    "decision_clock_paused": True,
                    "applicant_told": f"in writing: the expert review takes up to {request.review_days} "
                    "working days, not counted in the decision's time limit",
                },
                notify=[Receiver(Role.EXPERT, e) for e in picks] + self._applicant(),
                message=f"application {self.inp.reference}: expert review by {review.state.due_on} "
                "(not counted in the decision's time limit)",
            )
            return self._snapshot()

    @draw_panel.validator
    def _validate_draw(self, request: PanelDrawRequest) -> None:
        def check() -> None:
            require_admission_stage(self.stage, AdmissionStage.DECIDING)
            require_bureau(request.actor, self.inp.bureau_id)
            if self.review_concluded:
                raise RuleViolation("review_concluded", "the expert review has concluded", rule="ADM-5")
            if request.size not in PANEL_SIZES:
                raise RuleViolation(
                    "panel_size",
                    f"a panel has {PANEL_SIZES.start} to {PANEL_SIZES.stop - 1} experts",
                    rule="ADM-5",
                )
            if request.review_days not in REVIEW_DAYS:
                raise RuleViolation(
                    "review_days", f"the review takes 1 to {REVIEW_DAYS.stop - 1} working days", rule="ADM-4"
                )
            recused = {m.expert_id for m in self.panel if m.recused}
            if recused & set(request.candidates):
                raise RuleViolation("expert_recused", "a recused expert cannot be drawn again", rule="ADM-5")
            if len(set(request.candidates)) < request.size:
                raise RuleViolation(
                    "too_few_experts",
                    f"{len(set(request.candidates))} experts without a conflict for a panel of {request.size}: "
                    "register more experts in the pool",
                    rule="ADM-5",
                )
            if request.drawn_on:
                self._within_history(request.drawn_on, ADMISSION_DECISION, "drawn_on")

        enforce(check)

    @workflow.update
    async def recuse_expert(self, request: ExpertRecusal) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_recusal(request)
            on = request.on or self._today()
            member = next(m for m in self.panel if m.expert_id == request.expert_id and not m.recused)
            member.recused = True
            member.recusal_reason = request.reason
            replacement = seeded_sample(request.seed, request.candidates, 1)
            if replacement:
                self.draws.append(
                    PanelDraw(request.seed, sorted(request.candidates), 1, replacement, on, member.expert_id)
                )
                self.panel.append(PanelMember(replacement[0], request.names.get(replacement[0], ""), on))
            await self._record(
                "admission.expert_recused",
                request.actor,
                {
                    "rule": "ADM-5",
                    "expert_id": request.expert_id,
                    "reason": request.reason,
                    "by": "the expert" if request.actor.role == Role.EXPERT else "the bureau",
                    "seed": request.seed,
                    "candidates": sorted(request.candidates),
                    "replacement": replacement[0] if replacement else None,
                },
                notify=[Receiver(Role.EXPERT, r) for r in replacement] + self._bureau(),
                message=f"application {self.inp.reference}: an expert recused"
                + (", a replacement drawn" if replacement else ""),
            )
            await self._conclude_when_reviewed()
            return self._snapshot()

    @recuse_expert.validator
    def _validate_recusal(self, request: ExpertRecusal) -> None:
        def check() -> None:
            require_admission_stage(self.stage, AdmissionStage.EXPERT_REVIEW)
            actor = request.actor
            if actor.role == Role.EXPERT:
                if actor.organisation_id != request.expert_id:
                    raise RuleViolation("wrong_actor", "an expert recuses only themself", rule="ADM-5")
            else:
                require_bureau(actor, self.inp.bureau_id)
            member = next((m for m in self.panel if m.expert_id == request.expert_id and not m.recused), None)
            if member is None:
                raise RuleViolation("not_on_panel", f"{request.expert_id} is not on the panel", rule="ADM-5")
            if member.reviewed:
                raise RuleViolation("already_reviewed", "the expert has already reviewed", rule="ADM-5")
            if not request.reason.strip():
                raise RuleViolation("reason_required", "a recusal states the conflict", rule="ADM-5")
            served = {m.expert_id for m in self.panel}
            if served & set(request.candidates):
                raise RuleViolation(
                    "expert_recused", "a replacement is drawn from experts not yet on the panel", rule="ADM-5"
                )
            active = [m for m in self.panel if not m.recused]
            if not request.candidates and len(active) - 1 < PANEL_SIZES.start:
                raise RuleViolation(
                    "no_replacement_expert",
                    "no expert left to replace the recused one: register more experts in the pool",
                    rule="ADM-5",
                )
            if request.on:
                self._within_history(request.on, EXPERT_REVIEW, "on")

        enforce(check)

    @workflow.update
    async def submit_review(self, submission: ExpertReviewSubmission) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_review(submission)
            expert_id = submission.actor.organisation_id
            member = next(m for m in self.panel if m.expert_id == expert_id and not m.recused)
            member.reviewed = True
            review = ExpertReview(
                expert_id=expert_id,
                score=submission.score,
                recommendation=submission.recommendation,
                opinion=submission.opinion,
                review_hash=submission.review_hash,
                signature=submission.signature,
                key_fingerprint=submission.key_fingerprint,
                submitted_at=workflow.now().isoformat(),
            )
            self.reviews.append(review)
            await self._record(
                "admission.review_submitted", submission.actor, {"rule": "ADM-5", **asdict(review)}
            )
            await self._conclude_when_reviewed()
            return self._snapshot()

    @submit_review.validator
    def _validate_review(self, submission: ExpertReviewSubmission) -> None:
        def check() -> None:
            require_admission_stage(self.stage, AdmissionStage.EXPERT_REVIEW)
            actor = submission.actor
            member = next(
                (m for m in self.panel if m.expert_id == actor.organisation_id and not m.recused), None
            )
            if actor.role != Role.EXPERT or member is None:
                raise RuleViolation("wrong_actor", "only an expert of the panel reviews", rule="ADM-5")
            if member.reviewed:
                raise RuleViolation("already_reviewed", "each expert reviews once", rule="ADM-5")
            if not 0 <= submission.score <= 100:
                raise RuleViolation("score_out_of_range", "a score is 0 to 100", rule="ADM-5")
            if submission.recommendation not in RECOMMENDATIONS:
                raise RuleViolation("unknown_recommendation", "recommend approve or refuse", rule="ADM-5")
            if not submission.opinion.strip():
                raise RuleViolation("opinion_required", "a review gives its opinion", rule="ADM-5")
            expected = review_hash(
                admission_id=self.inp.admission_id,
                expert_id=actor.organisation_id,
                score=submission.score,
                recommendation=submission.recommendation,
                opinion=submission.opinion,
            )
            if submission.review_hash != expected or not submission.signature:
                raise RuleViolation(
                    "bad_signature", "the signature is not over this review's hash", rule="ADM-5"
                )

        enforce(check)

    def _reviewers_due(self) -> list[PanelMember]:
        return [m for m in self.panel if not m.recused and not m.reviewed]

    async def _conclude_when_reviewed(self) -> None:
        if self.stage != AdmissionStage.EXPERT_REVIEW or self._reviewers_due():
            return
        on = self._today()
        review = self.clocks[EXPERT_REVIEW.rule_id]
        await self._record_rungs(review.stop(on))
        decision = self.clocks[ADMISSION_DECISION.rule_id]
        await decision.resume(on=on)
        self.stage = AdmissionStage.DECIDING
        self.review_concluded = True
        self.clocks_changed = True
        scores = [r.score for r in self.reviews]
        await self._record(
            "admission.review_concluded",
            SYSTEM,
            {
                "rule": "ADM-5",
                "reviews": len(self.reviews),
                "average_score": round(sum(scores) / len(scores), 1) if scores else None,
                "recommendations": {
                    k: sum(r.recommendation == k for r in self.reviews) for k in RECOMMENDATIONS
                },
                "concluded_on": on,
                "decision_due_on": decision.state.due_on,
            },
            notify=self._bureau(),
            message=f"application {self.inp.reference}: the expert review concluded; decision due by "
            f"{decision.state.due_on}",
        )

    # ---- extension (ADM-3: once, ≤10 wd, the head's approval, the applicant told) ----

    @workflow.update
    async def extend_decision(self, request: AdmissionExtension) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_extension(request)
            clock = self.clocks[ADMISSION_DECISION.rule_id]
            old_due = clock.state.due_on
            await clock.extend(working_days=request.days, by=request.actor.subject, reason=request.reason)
            self.clocks_changed = True
            await self._record(
                "clock.extended",
                request.actor,
                {
                    "rule": clock.rule.rule_id,
                    "days": request.days,
                    "unit": clock.rule.unit.value,
                    "reason": request.reason,
                    "approved_by": request.approved_by,
                    "applicant_told_on": request.applicant_told_on or self._today(),
                    "old_due_on": old_due,
                    "new_due_on": clock.state.due_on,
                },
                notify=self._applicant(),
                message=f"application {self.inp.reference}: the decision is extended to {clock.state.due_on}: "
                f"{request.reason}",
            )
            return self._snapshot()

    @extend_decision.validator
    def _validate_extension(self, request: AdmissionExtension) -> None:
        def check() -> None:
            require_admission_stage(self.stage, AdmissionStage.DECIDING)
            require_bureau(request.actor, self.inp.bureau_id)
            rule = ADMISSION_DECISION
            clock = self.clocks[rule.rule_id]
            if clock.state.extended:
                raise RuleViolation(
                    "extension_already_granted",
                    "the decision's time limit was already extended once",
                    rule=rule.rule_id,
                )
            if not 1 <= request.days <= rule.extension_max:
                raise RuleViolation(
                    "extension_too_long",
                    f"an extension is 1 to {rule.extension_max} working days",
                    rule=rule.rule_id,
                )
            if not request.reason.strip():
                raise RuleViolation("reason_required", "an extension states its reason", rule=rule.rule_id)
            if not request.approved_by.strip():
                raise RuleViolation(
                    "approval_required", "the head of the bureau approves this extension", rule=rule.rule_id
                )
            if clock.state.overdue or workflow.now() >= clock.state.due_at:
                raise RuleViolation(
                    "deadline_passed",
                    f"the {rule.name} time limit ended on {clock.state.due_on}",
                    rule=rule.rule_id,
                )
            if request.applicant_told_on:
                self._within_history(request.applicant_told_on, rule, "applicant_told_on")

        enforce(check)

    # ---- the decision (ADM-3, ADM-6) ----

    @workflow.update
    async def approve(self, request: AdmissionApproval) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_approve(request)
            on = request.decided_on or self._today()
            await self._record_rungs(self.clocks[ADMISSION_DECISION.rule_id].stop(on))
            await self._grant(request.actor, on=on, note=request.note, deemed=False)
            return self._snapshot()

    @approve.validator
    def _validate_approve(self, request: AdmissionApproval) -> None:
        def check() -> None:
            require_admission_stage(self.stage, AdmissionStage.DECIDING)
            require_bureau(request.actor, self.inp.bureau_id)
            if self.review_required and not self.review_concluded:
                raise RuleViolation(
                    "review_required", "the expert panel reviews this application first", rule="ADM-5"
                )
            if self.gaps:
                raise RuleViolation(
                    "not_qualified", "REG-2 is not met: " + "; ".join(self.gaps), rule="REG-2"
                )
            if request.decided_on:
                self._within_history(request.decided_on, ADMISSION_DECISION, "decided_on")

        enforce(check)

    async def _grant(self, actor: Actor, *, on: str, note: str, deemed: bool) -> None:
        licence = licence_for(self.inp, on)
        inp = self.inp
        await workflow.execute_activity_method(
            AdmissionActivities.grant_licence,
            LicenceGrant(
                admission_id=inp.admission_id,
                bureau_id=inp.bureau_id,
                kind=inp.kind,
                subject_kind=inp.subject_kind,
                entity_id=inp.entity_id,
                licence=licence,
                actor=actor,
                institution=inp.institution,
                appraiser=inp.appraiser,
                change=inp.change,
                decided_on=on,
                deemed=deemed,
                granted_at=workflow.now(),
            ),
            start_to_close_timeout=RECORDING_TIMEOUT,
            retry_policy=RECORDING_RETRY,
        )
        self.stage = AdmissionStage.APPROVED
        self.decision = {
            "outcome": "approved",
            "decided_on": on,
            "note": note,
            "deemed": deemed,
            "licence_number": licence.number,
            "valid_from": licence.valid_from,
            "valid_until": licence.valid_until,
        }
        key = (
            inp.appraiser.key_fingerprint
            if inp.appraiser
            else (inp.change.key_fingerprint if inp.change else "")
        )
        await self._record(
            "admission.deemed_renewed" if deemed else "admission.approved",
            actor,
            {
                **self.decision,
                "kind": inp.kind,
                "subject_kind": inp.subject_kind,
                "entity_id": inp.entity_id,
                "key_registered": key,
                "rule": "ADM-7" if deemed else "ADM-6",
            },
            notify=self._applicant() + self._bureau(),
            message=f"application {inp.reference} granted: licence {licence.number} valid until "
            f"{licence.valid_until}"
            + (" (deemed: not decided before the licence expired)" if deemed else ""),
        )

    async def _deem_renewed(self) -> None:
        registered = self.inp.registered
        assert registered is not None
        on = registered.licence_valid_until
        for clock in self.clocks.values():
            if not clock.state.stopped:
                await self._record_rungs(clock.stop(self._today()))
        await self._grant(SYSTEM, on=on, note="not decided before the licence expired", deemed=True)

    @workflow.update
    async def refuse(self, request: AdmissionRefusal) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_refuse(request)
            on = request.decided_on or self._today()
            await self._record_rungs(self.clocks[ADMISSION_DECISION.rule_id].stop(on))
            self.stage = AdmissionStage.REFUSED
            self.decision = {
                "outcome": "refused",
                "decided_on": on,
                "reasons": request.reasons,
                "remedies": remedies(),
            }
            await self._record(
                "admission.refused",
                request.actor,
                {**self.decision, "rule": "ADM-6", "applicant_told": "in writing, with reasons and remedies"},
                notify=self._applicant(),
                message=f"application {self.inp.reference} refused: {request.reasons}. Remedies: "
                + "; ".join(r["text"] for r in remedies()),
            )
            return self._snapshot()

    @refuse.validator
    def _validate_refuse(self, request: AdmissionRefusal) -> None:
        def check() -> None:
            require_admission_stage(self.stage, AdmissionStage.DECIDING)
            require_bureau(request.actor, self.inp.bureau_id)
            if not request.reasons.strip():
                raise RuleViolation("reason_required", "a refusal states its reasons", rule="ADM-6")
            if request.decided_on:
                self._within_history(request.decided_on, ADMISSION_DECISION, "decided_on")

        enforce(check)

    # ---- withdrawal ----

    @workflow.update
    async def withdraw(self, request: AdmissionWithdrawal) -> AdmissionSnapshot:
        async with self.lock:
            self._validate_withdraw(request)
            on = request.on or self._today()
            for clock in self.clocks.values():
                if not clock.state.stopped:
                    await self._record_rungs(clock.stop(on))
            self.stage = AdmissionStage.WITHDRAWN
            self.withdrawn = {"reason": request.reason, "on": on}
            await self._record(
                "admission.withdrawn",
                request.actor,
                dict(self.withdrawn),
                notify=self._bureau() + self._applicant(),
                message=f"application {self.inp.reference} withdrawn",
            )
            return self._snapshot()

    @withdraw.validator
    def _validate_withdraw(self, request: AdmissionWithdrawal) -> None:
        def check() -> None:
            if self.stage in TERMINAL_ADMISSION_STAGES:
                raise RuleViolation("not_in_stage", f"the application is {self.stage}; no step remains")
            require_applicant_or_bureau(request.actor, self.inp)
            if not request.reason.strip():
                raise RuleViolation("reason_required", "say why the application is withdrawn")
            if request.on:
                self._date_between(request.on, self.inp.received_on, "on")

        enforce(check)

    # ---- calendar ----

    @workflow.query
    def snapshot(self) -> AdmissionSnapshot:
        return self._snapshot()

    # ---- helpers ----

    def _open_tasks(self) -> list[TaskSnapshot]:
        bureau = self.inp.bureau_id

        def task(
            kind: str, rule: ClockRule, role: str = Role.SUPERVISOR, assignee: str = bureau
        ) -> TaskSnapshot:
            clock = self.clocks.get(rule.rule_id)
            return TaskSnapshot(kind, role, assignee, clock.state.due_on if clock else None, rule.rule_id)

        tasks: list[TaskSnapshot] = []
        if self.stage == AdmissionStage.AWAITING_ACCEPTANCE:
            tasks.append(task("decide_admission_acceptance", ADMISSION_ACCEPTANCE))
        elif self.stage == AdmissionStage.AWAITING_CORRECTION:
            if self.inp.applicant_institution_id:
                tasks.append(
                    TaskSnapshot(
                        "supply_admission_correction",
                        Role.INSTITUTION,
                        self.inp.applicant_institution_id,
                        None,
                        "ADM-2",
                    )
                )
            else:
                tasks.append(
                    TaskSnapshot("await_admission_correction", Role.SUPERVISOR, bureau, None, "ADM-2")
                )
        elif self.stage == AdmissionStage.DECIDING:
            if self.review_required and not self.review_concluded:
                tasks.append(task("draw_expert_panel", ADMISSION_DECISION))
            else:
                tasks.append(task("decide_admission", ADMISSION_DECISION))
        elif self.stage == AdmissionStage.EXPERT_REVIEW:
            tasks += [
                task("submit_expert_review", EXPERT_REVIEW, Role.EXPERT, m.expert_id)
                for m in self._reviewers_due()
            ]
        for clock in self.clocks.values():
            if (
                not clock.state.stopped
                and clock.state.overdue
                and clock.rule.rule_id != ADMISSION_ACCEPTANCE.rule_id
            ):
                tasks.append(
                    TaskSnapshot(
                        "overdue_escalation", Role.SUPERVISOR, bureau, clock.state.due_on, clock.rule.rule_id
                    )
                )
        return tasks

    def _snapshot(self) -> AdmissionSnapshot:
        inp = self.inp
        return AdmissionSnapshot(
            id=inp.admission_id,
            workflow_id=workflow.info().workflow_id,
            stage=self.stage,
            bureau_id=inp.bureau_id,
            reference=inp.reference,
            kind=inp.kind,
            subject_kind=inp.subject_kind,
            subject_name=subject_name(inp),
            entity_id=inp.entity_id,
            received_on=inp.received_on,
            applicant_institution_id=inp.applicant_institution_id,
            accepted_on=self.accepted_on,
            deemed_accepted=self.deemed_accepted,
            correction=dict(self.correction) if self.correction else None,
            correction_requested=self.correction_requested,
            review_required=self.review_required,
            review_concluded=self.review_concluded,
            panel=list(self.panel),
            draws=list(self.draws),
            reviews=list(self.reviews),
            gaps=list(self.gaps),
            decision=dict(self.decision) if self.decision else None,
            not_accepted=self.not_accepted,
            withdrawn=self.withdrawn,
            institution=inp.institution,
            appraiser=inp.appraiser,
            change=inp.change,
            registered=inp.registered,
            materials=list(inp.materials),
            clocks=[c.state for c in self.clocks.values()],
            open_tasks=self._open_tasks(),
            last_event_seq=self.seq,
            last_hash=self.last_hash,
        )

    def _search_attributes(self) -> None:
        running = [c for c in self.clocks.values() if not c.state.stopped]
        next_due: datetime | None = min((c.state.due_at for c in running if not c.state.paused), default=None)
        self.upserts.upsert(
            [
                sa.STAGE.value_set(self.stage),
                sa.INSTITUTION.value_set(self.inp.applicant_institution_id or self.inp.entity_id),
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
    ) -> None:
        """Appends one event to the application's hash chain (in the shared audit trail,
        under this workflow's id), projects the read model and its inbox tasks and queues its
        notifications, in one idempotent activity keyed by (workflow id, seq)."""
        self.seq += 1
        event = chained_event(
            subject_id=self.inp.admission_id,
            seq=self.seq,
            kind=kind,
            actor=actor,
            data=data,
            prev_hash=self.last_hash,
        )
        self.last_hash = event.hash
        self._search_attributes()
        recorded = await workflow.execute_activity_method(
            AdmissionActivities.record_admission_event,
            RecordAdmissionEventInput(
                event=event, snapshot=self._snapshot(), notify=notify or [], message=message
            ),
            start_to_close_timeout=RECORDING_TIMEOUT,
            retry_policy=RECORDING_RETRY,
        )
        if notify and recorded.pending_deliveries:
            self.deliveries.append(start_delivery(event))
