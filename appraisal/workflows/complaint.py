"""One workflow per complaint (RULES.md section 10): registration →
acceptance (CMP-5, pausable while the complainant supplements materials,
extendable once) → handling decision (CMP-6, natural days, extendable once
with approval) → written notice to both sides (CMP-7). Every step is an
Update whose validator rejects what the rules do not allow now, before
anything reaches history; every step is one link of the complaint's audit
hash chain."""

import asyncio
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from temporalio import workflow

from appraisal.domain.commission import TaskSnapshot
from appraisal.domain.complaint import (
    DECLINE_GROUNDS,
    OUTCOMES,
    REMEDIES,
    TERMINAL_COMPLAINT_STAGES,
    ComplaintAcceptance,
    ComplaintDecision,
    ComplaintDecline,
    ComplaintExtension,
    ComplaintInput,
    ComplaintRegistration,
    ComplaintSnapshot,
    ComplaintStage,
    IntegrityEntriesInput,
    IntegrityEntry,
    Outcome,
    PartiesNotice,
    RecordComplaintEventInput,
    SupplementReceipt,
    SupplementRequest,
    check_registration,
    require_bureau,
    require_complaint_stage,
)
from appraisal.domain.errors import RuleViolation
from appraisal.domain.events import Receiver
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import (
    COMPLAINT_ACCEPTANCE,
    COMPLAINT_HANDLING,
    COMPLAINT_NOTICE,
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
    from appraisal.activities.complaint import ComplaintActivities

SYSTEM = Actor(role="system", organisation_id="", subject="statutory-clock")


@workflow.defn
class ComplaintWorkflow(ClockedWorkflow):
    @workflow.init
    def __init__(self, inp: ComplaintInput) -> None:
        self.inp = inp
        self.stage = ComplaintStage.AWAITING_ACCEPTANCE
        self.versions = Versions()
        self.planner = Planner(self.versions)
        self.upserts = sa.Upserts(self.versions)
        self.clocks: dict[str, StatutoryClock] = {}
        self.accepted_on: str | None = None
        self.declined: dict[str, str] | None = None
        self.pending_supplement: dict[str, str] | None = None
        self.decision: dict[str, str] | None = None
        self.notice: dict[str, str] | None = None
        self.integrity_entries: list[IntegrityEntry] = []
        self.seq = 0
        self.last_hash = ""
        self.registered = False
        self.registration_answered = False
        self.clocks_changed = False
        self.lock = asyncio.Lock()
        self.deliveries: list[Any] = []

    # ---- life ----

    @workflow.run
    async def run(self, inp: ComplaintInput) -> ComplaintSnapshot:
        # The API refused an invalid complaint before starting; this is defence in depth:
        # the workflow fails without writing anything.
        enforce(lambda: check_registration(inp))
        async with self.lock:
            clock = await StatutoryClock.start(
                COMPLAINT_ACCEPTANCE.rule_id,
                inp.received_on,
                COMPLAINT_ACCEPTANCE.limit,
                planner=self.planner,
            )
            self.clocks[clock.rule.rule_id] = clock
            await self._record(
                "complaint.registered",
                inp.registered_by,
                {
                    "reference": inp.reference,
                    "complainant": asdict(inp.complainant),
                    "institution_id": inp.institution_id,
                    "appraiser_id": inp.appraiser_id,
                    "commission_id": inp.commission_id,
                    "summary": inp.summary,
                    "received_on": inp.received_on,
                    "knew_on": inp.knew_on,
                    "materials": [asdict(m) for m in inp.materials],
                },
                **self._filed_by_party(
                    f"投诉已提交司法行政机关 Your complaint {inp.reference} reached the bureau"
                ),
            )
            self.registered = True
        while self.stage not in TERMINAL_COMPLAINT_STAGES:
            await self._sleep_until_next_rung()
        await workflow.wait_condition(workflow.all_handlers_finished)
        # A delivery that gave up leaves its outbox row pending: visible, not lost.
        await asyncio.gather(*self.deliveries, return_exceptions=True)
        return self._snapshot()

    async def _sleep_until_next_rung(self) -> None:
        self.clocks_changed = False
        if await sleep_until_due(
            self.clocks.values(),
            woken=lambda: self.clocks_changed or self.stage in TERMINAL_COMPLAINT_STAGES,
            summary="next statutory-clock rung",
        ):
            async with self.lock:
                await self._fire_due_rungs()

    async def _fire_due_rungs(self) -> None:
        await self._record_rungs(due_rungs(self.clocks.values(), workflow.now()))

    async def _record_rungs(self, rungs: Iterable[FiredRung]) -> None:
        for fired in rungs:
            await self._record(
                f"clock.{fired.rung.kind}",
                SYSTEM,
                fired.data,
                notify=self._audience(fired.rung.notify),
                message=self._rung_message(fired.rung.kind, fired.clock),
            )

    def _rung_message(self, kind: str, clock: StatutoryClock) -> str:
        name, due, reference = clock.rule.name, clock.state.due_on, self.inp.reference
        if kind == RungKind.WARNING:
            return f"complaint {reference}: most of the {name} time limit is used; it ends on {due}"
        if kind == RungKind.OVERDUE:
            return f"complaint {reference}: the {name} time limit ended on {due} ({clock.rule.rule_id})"
        return f"complaint {reference}: still overdue; the {name} time limit ended on {due} ({clock.rule.rule_id})"

    def _audience(self, audiences: tuple[Audience, ...]) -> list[Receiver]:
        """The bureau handles the complaint: its assignees and its supervision are the bureau."""
        if any(a in (Audience.ASSIGNEES, Audience.SUPERVISOR) for a in audiences):
            return [Receiver(Role.SUPERVISOR, self.inp.bureau_id)]
        return []

    def _complainant(self, message: str) -> list[Receiver]:
        """The party who filed the complaint itself (PTY-1) hears of it; a complaint the bureau
        registered tells its complainant in writing, outside the product."""
        by = self.inp.registered_by
        return [Receiver(Role.PARTY, by.organisation_id, message=message)] if by.role == Role.PARTY else []

    def _filed_by_party(self, message: str) -> dict[str, Any]:
        """A complaint a party filed: the bureau is told it arrived, and the party that it did."""
        if self.inp.registered_by.role != Role.PARTY:
            return {}
        return {
            "notify": [Receiver(Role.SUPERVISOR, self.inp.bureau_id), *self._complainant(message)],
            "message": f"complaint {self.inp.reference} filed by a party: decide acceptance (CMP-5)",
        }

    def _respondents(self) -> list[Receiver]:
        receivers = [
            Receiver(Role.INSTITUTION, self.inp.institution_id),
            Receiver(Role.INSTITUTION_HEAD, self.inp.institution_id),
        ]
        if self.inp.appraiser_id:
            receivers.append(Receiver(Role.APPRAISER, self.inp.appraiser_id))
        return receivers

    # ---- registration (CMP-1, CMP-2) ----

    @workflow.update
    async def register(self, request: ComplaintRegistration) -> ComplaintSnapshot:
        """Answers the registration request once the complaint is recorded."""
        await workflow.wait_condition(lambda: self.registered)
        snapshot = self._snapshot()
        snapshot.created = not self.registration_answered
        self.registration_answered = True
        return snapshot

    @register.validator
    def _validate_register(self, request: ComplaintRegistration) -> None:
        def check() -> None:
            check_registration(self.inp)
            if request.actor != self.inp.registered_by or request.actor.role != Role.PARTY:
                require_bureau(request.actor, self.inp.bureau_id)

        enforce(check)

    # ---- acceptance (CMP-4, CMP-5) ----

    @workflow.update
    async def accept(self, request: ComplaintAcceptance) -> ComplaintSnapshot:
        async with self.lock:
            self._validate_accept(request)
            on = request.accepted_on or self._today()
            await self._record_rungs(self.clocks[COMPLAINT_ACCEPTANCE.rule_id].stop(on))
            self.stage = ComplaintStage.HANDLING
            self.accepted_on = on
            handling = await StatutoryClock.start(
                COMPLAINT_HANDLING.rule_id, on, COMPLAINT_HANDLING.limit, planner=self.planner
            )
            self.clocks[COMPLAINT_HANDLING.rule_id] = handling
            self.clocks_changed = True
            await self._record(
                "complaint.accepted",
                request.actor,
                {"accepted_on": on, "note": request.note, "handling_due_on": handling.state.due_on},
                notify=self._respondents(),
                message=f"A complaint ({self.inp.reference}) against you was accepted on {on}",
            )
            return self._snapshot()

    @accept.validator
    def _validate_accept(self, request: ComplaintAcceptance) -> None:
        def check() -> None:
            require_complaint_stage(self.stage, ComplaintStage.AWAITING_ACCEPTANCE)
            require_bureau(request.actor, self.inp.bureau_id)
            if request.accepted_on:
                self._within_history(request.accepted_on, COMPLAINT_ACCEPTANCE, "accepted_on")

        enforce(check)

    @workflow.update
    async def decline(self, request: ComplaintDecline) -> ComplaintSnapshot:
        async with self.lock:
            self._validate_decline(request)
            on = request.declined_on or self._today()
            clock = self.clocks[COMPLAINT_ACCEPTANCE.rule_id]
            resumed = False
            if clock.state.paused:  # declined while materials were awaited: the pause ends that day
                await clock.resume(on=on)
                resumed = True
            await self._record_rungs(clock.stop(on))
            self.stage = ComplaintStage.DECLINED
            self.pending_supplement = None
            self.declined = {
                "ground": request.ground,
                "ground_text": DECLINE_GROUNDS[request.ground],
                "reason": request.reason,
                "declined_on": on,
            }
            await self._record(
                "complaint.declined",
                request.actor,
                {**self.declined, "pause_ended": resumed, "complainant_told": "in writing, with reasons"},
            )
            return self._snapshot()

    @decline.validator
    def _validate_decline(self, request: ComplaintDecline) -> None:
        def check() -> None:
            require_complaint_stage(
                self.stage, ComplaintStage.AWAITING_ACCEPTANCE, ComplaintStage.AWAITING_SUPPLEMENT
            )
            require_bureau(request.actor, self.inp.bureau_id)
            if request.ground not in DECLINE_GROUNDS:
                raise RuleViolation("unknown_ground", f"{request.ground} is not a CMP-4 ground", rule="CMP-4")
            if not request.reason.strip():
                raise RuleViolation("reason_required", "a complaint not accepted gets reasons", rule="CMP-4")
            if request.declined_on:
                clock = self.clocks[COMPLAINT_ACCEPTANCE.rule_id]
                earliest = clock.state.paused_on or clock.state.segment_start
                self._date_between(request.declined_on, earliest, "declined_on")

        enforce(check)

    # ---- supplementing materials: CMP-5 paused ----

    @workflow.update
    async def request_supplement(self, request: SupplementRequest) -> ComplaintSnapshot:
        async with self.lock:
            self._validate_supplement_request(request)
            clock = self.clocks[COMPLAINT_ACCEPTANCE.rule_id]
            on = request.requested_on or self._today()
            await self._record_rungs(
                await clock.pause(
                    on=on, reason=f"supplement: {request.description}", by=request.actor.subject
                )
            )
            self.stage = ComplaintStage.AWAITING_SUPPLEMENT
            self.pending_supplement = {"description": request.description, "requested_on": on}
            self.clocks_changed = True
            await self._record(
                "clock.paused",
                request.actor,
                {
                    "rule": clock.rule.rule_id,
                    "kind": "supplement",
                    "description": request.description,
                    "paused_on": on,
                    "used_days": clock.state.used_days,
                    "remaining_days": clock.state.total_budget - clock.state.used_days,
                },
            )
            return self._snapshot()

    @request_supplement.validator
    def _validate_supplement_request(self, request: SupplementRequest) -> None:
        def check() -> None:
            require_complaint_stage(self.stage, ComplaintStage.AWAITING_ACCEPTANCE)
            require_bureau(request.actor, self.inp.bureau_id)
            if not request.description.strip():
                raise RuleViolation("description_required", "say which materials are missing", rule="CMP-5")
            clock = self.clocks[COMPLAINT_ACCEPTANCE.rule_id]
            on = self._today()
            if request.requested_on:
                on = self._within_history(request.requested_on, COMPLAINT_ACCEPTANCE, "requested_on")
            if on > clock.state.due_on:
                raise RuleViolation(
                    "deadline_passed",
                    f"the {clock.rule.name} time limit ended on {clock.state.due_on}, before {on}",
                    rule=clock.rule.rule_id,
                )

        enforce(check)

    @workflow.update
    async def receive_supplement(self, receipt: SupplementReceipt) -> ComplaintSnapshot:
        async with self.lock:
            self._validate_supplement_receipt(receipt)
            clock = self.clocks[COMPLAINT_ACCEPTANCE.rule_id]
            on = receipt.received_on or self._today()
            await clock.resume(on=on)
            self.stage = ComplaintStage.AWAITING_ACCEPTANCE
            request = self.pending_supplement or {}
            self.pending_supplement = None
            self.clocks_changed = True
            await self._record(
                "clock.resumed",
                receipt.actor,
                {
                    "rule": clock.rule.rule_id,
                    "kind": "supplement",
                    "description": request.get("description", ""),
                    "received_on": on,
                    "materials": [asdict(m) for m in receipt.materials],
                    "due_on": clock.state.due_on,
                },
            )
            return self._snapshot()

    @receive_supplement.validator
    def _validate_supplement_receipt(self, receipt: SupplementReceipt) -> None:
        def check() -> None:
            require_complaint_stage(self.stage, ComplaintStage.AWAITING_SUPPLEMENT)
            require_bureau(receipt.actor, self.inp.bureau_id)
            if receipt.received_on:
                paused_on = self.clocks[COMPLAINT_ACCEPTANCE.rule_id].state.paused_on
                self._date_between(receipt.received_on, paused_on or self.inp.received_on, "received_on")

        enforce(check)

    # ---- extensions: CMP-5 (≤15 wd) and CMP-6 (≤30 d, approved, complainant told) ----

    @workflow.update
    async def extend_acceptance(self, request: ComplaintExtension) -> ComplaintSnapshot:
        async with self.lock:
            self._validate_extend_acceptance(request)
            return await self._extend(COMPLAINT_ACCEPTANCE, request)

    @extend_acceptance.validator
    def _validate_extend_acceptance(self, request: ComplaintExtension) -> None:
        def check() -> None:
            require_complaint_stage(self.stage, ComplaintStage.AWAITING_ACCEPTANCE)
            self._check_extension(COMPLAINT_ACCEPTANCE, request)

        enforce(check)

    @workflow.update
    async def extend_handling(self, request: ComplaintExtension) -> ComplaintSnapshot:
        async with self.lock:
            self._validate_extend_handling(request)
            return await self._extend(COMPLAINT_HANDLING, request)

    @extend_handling.validator
    def _validate_extend_handling(self, request: ComplaintExtension) -> None:
        def check() -> None:
            require_complaint_stage(self.stage, ComplaintStage.HANDLING)
            self._check_extension(COMPLAINT_HANDLING, request)
            if not request.approved_by.strip():
                raise RuleViolation(
                    "approval_required", "the head of the bureau approves this extension", rule="CMP-6"
                )
            if request.complainant_told_on:
                self._within_history(request.complainant_told_on, COMPLAINT_HANDLING, "complainant_told_on")

        enforce(check)

    def _check_extension(self, rule: ClockRule, request: ComplaintExtension) -> None:
        require_bureau(request.actor, self.inp.bureau_id)
        clock = self.clocks[rule.rule_id]
        if clock.state.extended:
            raise RuleViolation(
                "extension_already_granted",
                f"the {rule.name} time limit was already extended once",
                rule=rule.rule_id,
            )
        unit = "working days" if rule.unit.value == "working_day" else "days"
        if not 1 <= request.days <= rule.extension_max:
            raise RuleViolation(
                "extension_too_long", f"an extension is 1 to {rule.extension_max} {unit}", rule=rule.rule_id
            )
        if not request.reason.strip():
            raise RuleViolation("reason_required", "an extension states its reason", rule=rule.rule_id)
        if clock.state.overdue or workflow.now() >= clock.state.due_at:
            raise RuleViolation(
                "deadline_passed",
                f"the {rule.name} time limit ended on {clock.state.due_on}",
                rule=rule.rule_id,
            )

    async def _extend(self, rule: ClockRule, request: ComplaintExtension) -> ComplaintSnapshot:
        clock = self.clocks[rule.rule_id]
        old_due = clock.state.due_on
        await clock.extend(working_days=request.days, by=request.actor.subject, reason=request.reason)
        self.clocks_changed = True
        data: dict[str, Any] = {
            "rule": rule.rule_id,
            "days": request.days,
            "unit": rule.unit.value,
            "reason": request.reason,
            "old_due_on": old_due,
            "new_due_on": clock.state.due_on,
        }
        if rule.rule_id == COMPLAINT_HANDLING.rule_id:
            data["approved_by"] = request.approved_by
            data["complainant_told_on"] = request.complainant_told_on or self._today()
        await self._record("clock.extended", request.actor, data)
        return self._snapshot()

    # ---- the handling decision (CMP-6, CMP-8) and the integrity record (REG-9) ----

    @workflow.update
    async def decide(self, decision: ComplaintDecision) -> ComplaintSnapshot:
        async with self.lock:
            self._validate_decide(decision)
            on = decision.decided_on or self._today()
            await self._record_rungs(self.clocks[COMPLAINT_HANDLING.rule_id].stop(on))
            self.stage = ComplaintStage.DECIDED
            self.decision = {
                "findings": decision.findings,
                "outcome": decision.outcome,
                "outcome_text": OUTCOMES[decision.outcome],
                "decided_on": on,
            }
            if decision.fee_violation:  # REG-5: the integrity record counts a fee violation
                self.decision["breach"] = "fee_violation"
            notice = await StatutoryClock.start(
                COMPLAINT_NOTICE.rule_id, on, COMPLAINT_NOTICE.limit, planner=self.planner
            )
            self.clocks[COMPLAINT_NOTICE.rule_id] = notice
            self.clocks_changed = True
            await self._record(
                "complaint.decided", decision.actor, {**self.decision, "notice_due_on": notice.state.due_on}
            )
            if decision.outcome != Outcome.NO_ACTION:
                await self._write_integrity_record(decision, on)
            return self._snapshot()

    @decide.validator
    def _validate_decide(self, decision: ComplaintDecision) -> None:
        def check() -> None:
            require_complaint_stage(self.stage, ComplaintStage.HANDLING)
            require_bureau(decision.actor, self.inp.bureau_id)
            if not decision.findings.strip():
                raise RuleViolation("findings_required", "a decision records its findings", rule="CMP-8")
            if decision.outcome not in OUTCOMES:
                raise RuleViolation("unknown_outcome", f"{decision.outcome} is not an outcome", rule="CMP-8")
            if decision.decided_on:
                self._within_history(decision.decided_on, COMPLAINT_HANDLING, "decided_on")

        enforce(check)

    async def _write_integrity_record(self, decision: ComplaintDecision, on: str) -> None:
        subjects = [("institution", self.inp.institution_id)]
        if self.inp.appraiser_id:
            subjects.insert(0, ("appraiser", self.inp.appraiser_id))
        entries = [
            IntegrityEntry(
                subject_kind=kind,
                subject_id=subject_id,
                complaint_id=self.inp.complaint_id,
                outcome=decision.outcome,
                findings=decision.findings,
                decided_on=on,
                bureau_id=self.inp.bureau_id,
                rule="REG-5" if decision.fee_violation else "CMP-8",
            )
            for kind, subject_id in subjects
        ]
        await workflow.execute_activity_method(
            ComplaintActivities.write_integrity_entries,
            IntegrityEntriesInput(entries=entries, recorded_at=workflow.now()),
            start_to_close_timeout=RECORDING_TIMEOUT,
            retry_policy=RECORDING_RETRY,
        )
        self.integrity_entries = entries
        await self._record(
            "integrity.recorded",
            decision.actor,
            {
                "outcome": decision.outcome,
                "subjects": [{"kind": e.subject_kind, "id": e.subject_id} for e in entries],
            },
        )

    # ---- written notice to both sides (CMP-7) ----

    @workflow.update
    async def notify_parties(self, notice: PartiesNotice) -> ComplaintSnapshot:
        async with self.lock:
            self._validate_notify(notice)
            on = notice.notified_on or self._today()
            await self._record_rungs(self.clocks[COMPLAINT_NOTICE.rule_id].stop(on))
            self.stage = ComplaintStage.CLOSED
            self.notice = {"notified_on": on, "method": notice.method}
            assert self.decision is not None
            await self._record(
                "complaint.parties_notified",
                notice.actor,
                {
                    "notified_on": on,
                    "method": notice.method,
                    "told": ["complainant", "respondent"],
                    "outcome": self.decision["outcome"],
                    "remedies": [dict(r) for r in REMEDIES],
                },
                notify=[
                    *self._respondents(),
                    *self._complainant(
                        f"投诉已处理：{self.decision['outcome_text']} Your complaint {self.inp.reference} was "
                        f"decided on {self.decision['decided_on']}"
                    ),
                ],
                message=f"Complaint {self.inp.reference} decided on {self.decision['decided_on']}: "
                f"{self.decision['outcome']}. Remedies: " + "; ".join(r["text"] for r in REMEDIES),
            )
            return self._snapshot()

    @notify_parties.validator
    def _validate_notify(self, notice: PartiesNotice) -> None:
        def check() -> None:
            require_complaint_stage(self.stage, ComplaintStage.DECIDED)
            require_bureau(notice.actor, self.inp.bureau_id)
            if notice.notified_on:
                self._within_history(notice.notified_on, COMPLAINT_NOTICE, "notified_on")

        enforce(check)

    # ---- calendar ----

    @workflow.query
    def snapshot(self) -> ComplaintSnapshot:
        return self._snapshot()

    # ---- helpers ----

    def _open_tasks(self) -> list[TaskSnapshot]:
        bureau = self.inp.bureau_id

        def task(kind: str, rule: ClockRule) -> TaskSnapshot:
            clock = self.clocks.get(rule.rule_id)
            return TaskSnapshot(
                kind, Role.SUPERVISOR, bureau, clock.state.due_on if clock else None, rule.rule_id
            )

        tasks: list[TaskSnapshot] = []
        if self.stage == ComplaintStage.AWAITING_ACCEPTANCE:
            tasks.append(task("decide_complaint_acceptance", COMPLAINT_ACCEPTANCE))
        elif self.stage == ComplaintStage.AWAITING_SUPPLEMENT:
            tasks.append(TaskSnapshot("await_complaint_supplement", Role.SUPERVISOR, bureau, None, "CMP-5"))
        elif self.stage == ComplaintStage.HANDLING:
            tasks.append(task("decide_complaint", COMPLAINT_HANDLING))
        elif self.stage == ComplaintStage.DECIDED:
            tasks.append(task("notify_complaint_parties", COMPLAINT_NOTICE))
        for clock in self.clocks.values():
            if not clock.state.stopped and clock.state.overdue:
                tasks.append(
                    TaskSnapshot(
                        "overdue_escalation", Role.SUPERVISOR, bureau, clock.state.due_on, clock.rule.rule_id
                    )
                )
        return tasks

    def _snapshot(self) -> ComplaintSnapshot:
        inp = self.inp
        return ComplaintSnapshot(
            id=inp.complaint_id,
            workflow_id=workflow.info().workflow_id,
            stage=self.stage,
            bureau_id=inp.bureau_id,
            reference=inp.reference,
            institution_id=inp.institution_id,
            complainant=inp.complainant,
            summary=inp.summary,
            received_on=inp.received_on,
            knew_on=inp.knew_on,
            appraiser_id=inp.appraiser_id,
            commission_id=inp.commission_id,
            accepted_on=self.accepted_on,
            decline=self.declined,
            pending_supplement=self.pending_supplement,
            decision=self.decision,
            notice=self.notice,
            integrity_entries=list(self.integrity_entries),
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
                sa.INSTITUTION.value_set(self.inp.institution_id),
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
        """Appends one event to the complaint's hash chain (in the shared audit
        trail, under this workflow's id), projects the complaint read model and
        queues its notifications, in one idempotent activity keyed by
        (workflow id, seq); then delivers the notifications."""
        self.seq += 1
        event = chained_event(
            subject_id=self.inp.complaint_id,
            seq=self.seq,
            kind=kind,
            actor=actor,
            data=data,
            prev_hash=self.last_hash,
        )
        self.last_hash = event.hash
        self._search_attributes()
        recorded = await workflow.execute_activity_method(
            ComplaintActivities.record_complaint_event,
            RecordComplaintEventInput(
                event=event, snapshot=self._snapshot(), notify=notify or [], message=message
            ),
            start_to_close_timeout=RECORDING_TIMEOUT,
            retry_policy=RECORDING_RETRY,
        )
        if notify and recorded.pending_deliveries:
            self.deliveries.append(start_delivery(event))
