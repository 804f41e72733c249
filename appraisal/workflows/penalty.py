"""One workflow per administrative penalty case (行政处罚): 立案 → investigation → notice of
the proposed penalty with the party's rights (Arts 44-45) → statement and defence, a hearing
on request within 5 days (PEN-2), noticed 7 days ahead (PEN-3) → the decision within 90 days
of filing (CMP-9, one extension approved by the head) → served within 7 days (PEN-4) → the
outcome in the integrity record, published where Art 48 asks, and a suspension or revocation
written to the registry, whose exit fan-out reaches every commission the party holds.
Every step is an Update whose validator refuses what the rules do not allow now, before
anything reaches history; every step is one link of the case's audit hash chain."""

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from appraisal.domain.calendar import local_today
from appraisal.domain.commission import TaskSnapshot
from appraisal.domain.errors import RuleViolation
from appraisal.domain.events import Receiver
from appraisal.domain.exit import exit_workflow_id
from appraisal.domain.penalty import (
    HEARING_PENALTIES,
    PENALTIES,
    RIGHTS,
    DecisionExtension,
    DecisionService,
    HearingRecord,
    HearingSchedule,
    Investigation,
    PartyStatement,
    Penalty,
    PenaltyDecision,
    PenaltyInput,
    PenaltyOutcome,
    PenaltyRegistration,
    PenaltySnapshot,
    PenaltyStage,
    ProposedPenalty,
    RecordPenaltyEventInput,
    check_filing,
    check_hearing_notice,
    check_penalties,
    months_after,
    require_case_bureau,
    require_penalty_stage,
    should_publish,
)
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import (
    PENALTY_DECISION,
    PENALTY_HEARING_REQUEST,
    PENALTY_SERVICE,
    ClockRule,
    RungKind,
)
from appraisal.workflows.clock import (
    ClockedWorkflow,
    FiredRung,
    Planner,
    StatutoryClock,
    due_rungs,
    sleep_until_due,
)
from appraisal.workflows.recording import RECORDING_RETRY, RECORDING_TIMEOUT, chained_event, start_delivery
from appraisal.workflows.validation import enforce
from appraisal.workflows.versions import Versions

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.penalty import PenaltyActivities

SYSTEM = Actor(role="system", organisation_id="", subject="statutory-clock")
EXIT_WORKFLOW = "RegistryExitWorkflow"
S = PenaltyStage


@workflow.defn
class PenaltyWorkflow(ClockedWorkflow):
    @workflow.init
    def __init__(self, inp: PenaltyInput) -> None:
        self.inp = inp
        self.stage = S.INVESTIGATING
        self.versions = Versions()
        self.planner = Planner(self.versions)
        self.clocks: dict[str, StatutoryClock] = {}
        self.investigation: dict[str, Any] | None = None
        self.proposal: dict[str, Any] | None = None
        self.statement: dict[str, Any] | None = None
        self.hearing: dict[str, Any] | None = None
        self.decision: dict[str, Any] | None = None
        self.service: dict[str, Any] | None = None
        self.outcome: dict[str, Any] | None = None
        self.seq = 0
        self.last_hash = ""
        self.registered = False
        self.registration_answered = False
        self.clocks_changed = False
        self.lock = asyncio.Lock()
        self.deliveries: list[Any] = []

    # ---- life ----

    @workflow.run
    async def run(self, inp: PenaltyInput) -> PenaltySnapshot:
        enforce(lambda: check_filing(inp))
        async with self.lock:
            clock = await StatutoryClock.start(
                PENALTY_DECISION.rule_id, inp.filed_on, PENALTY_DECISION.limit, planner=self.planner
            )
            self.clocks[clock.rule.rule_id] = clock
            await self._record(
                "penalty.filed",
                inp.filed_by,
                {
                    "reference": inp.reference,
                    "subject_kind": inp.subject_kind,
                    "subject_id": inp.subject_id,
                    "institution_id": inp.institution_id,
                    "source": inp.source,
                    "source_id": inp.source_id,
                    "filed_on": inp.filed_on,
                    "breach_on": inp.breach_on,
                    "harm": inp.harm,
                    "summary": inp.summary,
                    "decision_due_on": clock.state.due_on,
                },
            )
            self.registered = True
        while self.stage != S.CLOSED:
            await self._sleep_until_next_rung()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self.deliveries, return_exceptions=True)
        return self._snapshot()

    async def _sleep_until_next_rung(self) -> None:
        self.clocks_changed = False
        if await sleep_until_due(
            self.clocks.values(),
            woken=lambda: self.clocks_changed or self.stage == S.CLOSED,
            summary="next statutory-clock rung",
        ):
            async with self.lock:
                await self._record_rungs(due_rungs(self.clocks.values(), workflow.now()))
                await self._hearing_window_closed()

    async def _record_rungs(self, rungs: Iterable[FiredRung]) -> None:
        for fired in rungs:
            clock = fired.clock
            await self._record(
                f"clock.{fired.rung.kind}",
                SYSTEM,
                fired.data,
                notify=self._bureau() if fired.rung.notify else [],
                message=f"penalty case {self.inp.reference}: the {clock.rule.name} time limit "
                f"({clock.rule.rule_id}) ends on {clock.state.due_on}"
                if fired.rung.kind == RungKind.WARNING
                else f"penalty case {self.inp.reference}: the {clock.rule.name} time limit "
                f"({clock.rule.rule_id}) ended on {clock.state.due_on}",
            )

    async def _hearing_window_closed(self) -> None:
        """PEN-2: the 5 days passed without a hearing asked for: the bureau may decide."""
        clock = self.clocks.get(PENALTY_HEARING_REQUEST.rule_id)
        if self.stage == S.NOTIFIED and clock is not None and clock.state.overdue and not clock.state.stopped:
            await self._record_rungs(clock.stop(local_today(workflow.now()).isoformat()))
            self.stage = S.DECIDING
            self.clocks_changed = True
            await self._record(
                "penalty.rights_lapsed",
                SYSTEM,
                {
                    "rule": PENALTY_HEARING_REQUEST.rule_id,
                    "hearing_requested": False,
                    "window_ended_on": clock.state.due_on,
                },
                notify=self._bureau(),
                message=f"penalty case {self.inp.reference}: no hearing was asked for by {clock.state.due_on}; decide",
            )

    def _bureau(self) -> list[Receiver]:
        return [Receiver(Role.SUPERVISOR, self.inp.bureau_id)]

    def _party(self) -> list[Receiver]:
        if self.inp.subject_kind == "appraiser":
            return [
                Receiver(Role.APPRAISER, self.inp.subject_id),
                Receiver(Role.INSTITUTION_HEAD, self.inp.institution_id),
            ]
        return [
            Receiver(Role.INSTITUTION, self.inp.institution_id),
            Receiver(Role.INSTITUTION_HEAD, self.inp.institution_id),
        ]

    # ---- filing (立案) ----

    @workflow.update
    async def register(self, request: PenaltyRegistration) -> PenaltySnapshot:
        await workflow.wait_condition(lambda: self.registered)
        snapshot = self._snapshot()
        snapshot.created = not self.registration_answered
        self.registration_answered = True
        return snapshot

    @register.validator
    def _validate_register(self, request: PenaltyRegistration) -> None:
        def check() -> None:
            check_filing(self.inp)
            require_case_bureau(request.actor, self.inp.bureau_id)

        enforce(check)

    # ---- investigation ----

    @workflow.update
    async def record_investigation(self, request: Investigation) -> PenaltySnapshot:
        async with self.lock:
            self._validate_investigation(request)
            self.investigation = {
                "findings": request.findings,
                "evidence": [{"name": m.name, "sha256": m.sha256} for m in request.evidence],
                "recorded_on": self._today(),
            }
            await self._record("penalty.investigated", request.actor, dict(self.investigation))
            return self._snapshot()

    @record_investigation.validator
    def _validate_investigation(self, request: Investigation) -> None:
        def check() -> None:
            require_penalty_stage(self.stage, S.INVESTIGATING)
            require_case_bureau(request.actor, self.inp.bureau_id)
            if not request.findings.strip():
                raise RuleViolation(
                    "findings_required", "the investigation records its findings", rule="CMP-9"
                )

        enforce(check)

    # ---- notice of the proposed penalty (Arts 44-45, 63-64) ----

    @workflow.update
    async def notify_proposal(self, proposal: ProposedPenalty) -> PenaltySnapshot:
        async with self.lock:
            self._validate_proposal(proposal)
            on = proposal.notified_on or self._today()
            window = await StatutoryClock.start(
                PENALTY_HEARING_REQUEST.rule_id, on, PENALTY_HEARING_REQUEST.limit, planner=self.planner
            )
            self.clocks[window.rule.rule_id] = window
            hearing_right = any(p in HEARING_PENALTIES for p in proposal.penalties)
            self.proposal = {
                "facts": proposal.facts,
                "penalties": list(proposal.penalties),
                "basis": proposal.basis,
                "suspension_months": proposal.suspension_months,
                "fine_yuan": proposal.fine_yuan,
                "illegal_gains_yuan": proposal.illegal_gains_yuan,
                "notified_on": on,
                "hearing_right": hearing_right,
                "rights": list(RIGHTS),
                "hearing_request_due_on": window.state.due_on,
            }
            self.stage = S.NOTIFIED
            self.clocks_changed = True
            await self._record(
                "penalty.proposed",
                proposal.actor,
                dict(self.proposal),
                notify=self._party(),
                message=f"penalty case {self.inp.reference}: proposed {', '.join(proposal.penalties)}; you may "
                f"state and defend"
                + (f", and ask for a hearing by {window.state.due_on}" if hearing_right else "")
                + " (行政处罚法 Arts 44-45, 63-64)",
            )
            return self._snapshot()

    @notify_proposal.validator
    def _validate_proposal(self, proposal: ProposedPenalty) -> None:
        def check() -> None:
            require_penalty_stage(self.stage, S.INVESTIGATING)
            require_case_bureau(proposal.actor, self.inp.bureau_id)
            if self.investigation is None:
                raise RuleViolation(
                    "investigation_required",
                    "the facts are investigated before a penalty is proposed",
                    rule="CMP-9",
                )
            if not proposal.facts.strip() or not proposal.basis.strip():
                raise RuleViolation(
                    "notice_incomplete", "the notice states the facts, reasons and legal basis", rule="PEN-2"
                )
            if Penalty.NO_PENALTY in proposal.penalties:
                raise RuleViolation("unknown_penalty", "no penalty is decided, not proposed", rule="REG-3")
            check_penalties(
                proposal.penalties,
                subject_kind=self.inp.subject_kind,
                suspension_months=proposal.suspension_months,
                fine_yuan=proposal.fine_yuan,
                illegal_gains_yuan=proposal.illegal_gains_yuan,
            )
            if proposal.notified_on:
                self._date_between(proposal.notified_on, self.inp.filed_on, "notified_on")

        enforce(check)

    # ---- statement and defence; the hearing (Art 45, Art 64) ----

    @workflow.update
    async def record_statement(self, statement: PartyStatement) -> PenaltySnapshot:
        async with self.lock:
            self._validate_statement(statement)
            on = statement.received_on or self._today()
            self.statement = {
                "statement": statement.statement,
                "hearing_requested": statement.hearing_requested,
                "waives_hearing": statement.waives_hearing,
                "received_on": on,
            }
            window = self.clocks[PENALTY_HEARING_REQUEST.rule_id]
            if statement.hearing_requested or statement.waives_hearing:
                await self._record_rungs(window.stop(on))
                self.stage = S.HEARING if statement.hearing_requested else S.DECIDING
                self.clocks_changed = True
            await self._record("penalty.statement_received", statement.actor, dict(self.statement))
            return self._snapshot()

    @record_statement.validator
    def _validate_statement(self, statement: PartyStatement) -> None:
        def check() -> None:
            require_penalty_stage(self.stage, S.NOTIFIED)
            require_case_bureau(statement.actor, self.inp.bureau_id)
            if (
                not statement.statement.strip()
                and not statement.hearing_requested
                and not statement.waives_hearing
            ):
                raise RuleViolation("statement_required", "record what the party stated", rule="PEN-2")
            if statement.hearing_requested and statement.waives_hearing:
                raise RuleViolation(
                    "statement_required", "a hearing is asked for or waived, not both", rule="PEN-2"
                )
            assert self.proposal is not None
            on = statement.received_on or self._today()
            if statement.received_on:
                self._date_between(statement.received_on, str(self.proposal["notified_on"]), "received_on")
            window = self.clocks[PENALTY_HEARING_REQUEST.rule_id].state
            if statement.hearing_requested:
                if not self.proposal["hearing_right"]:
                    raise RuleViolation(
                        "no_hearing_right",
                        "the proposed penalty carries no right to a hearing (行政处罚法 Art 63)",
                        rule="PEN-2",
                    )
                if on > window.due_on:
                    raise RuleViolation(
                        "deadline_passed",
                        f"a hearing was to be asked for by {window.due_on} (行政处罚法 Art 64(1))",
                        rule="PEN-2",
                    )

        enforce(check)

    @workflow.update
    async def schedule_hearing(self, schedule: HearingSchedule) -> PenaltySnapshot:
        async with self.lock:
            self._validate_hearing_schedule(schedule)
            self.hearing = {
                "hearing_on": schedule.hearing_on,
                "place": schedule.place,
                "notified_on": schedule.notified_on or self._today(),
            }
            await self._record(
                "penalty.hearing_scheduled",
                schedule.actor,
                dict(self.hearing),
                notify=self._party(),
                message=f"penalty case {self.inp.reference}: hearing on {schedule.hearing_on} at {schedule.place}",
            )
            return self._snapshot()

    @schedule_hearing.validator
    def _validate_hearing_schedule(self, schedule: HearingSchedule) -> None:
        def check() -> None:
            require_penalty_stage(self.stage, S.HEARING)
            require_case_bureau(schedule.actor, self.inp.bureau_id)
            if self.hearing is not None and self.hearing.get("held_on"):
                raise RuleViolation("hearing_held", "the hearing was already held", rule="PEN-3")
            if not schedule.place.strip():
                raise RuleViolation("hearing_incomplete", "the notice states the place", rule="PEN-3")
            notified = schedule.notified_on or self._today()
            if schedule.notified_on:
                assert self.statement is not None
                self._date_between(schedule.notified_on, str(self.statement["received_on"]), "notified_on")
            check_hearing_notice(hearing_on=schedule.hearing_on, notified_on=notified)

        enforce(check)

    @workflow.update
    async def record_hearing(self, record: HearingRecord) -> PenaltySnapshot:
        async with self.lock:
            self._validate_hearing_record(record)
            assert self.hearing is not None
            self.hearing = {
                **self.hearing,
                "held_on": record.held_on or self._today(),
                "summary": record.summary,
            }
            self.stage = S.DECIDING
            await self._record("penalty.hearing_held", record.actor, dict(self.hearing))
            return self._snapshot()

    @record_hearing.validator
    def _validate_hearing_record(self, record: HearingRecord) -> None:
        def check() -> None:
            require_penalty_stage(self.stage, S.HEARING)
            require_case_bureau(record.actor, self.inp.bureau_id)
            if self.hearing is None:
                raise RuleViolation("hearing_not_scheduled", "schedule the hearing first", rule="PEN-3")
            held = record.held_on or self._today()
            if held < str(self.hearing["hearing_on"]):
                raise RuleViolation(
                    "hearing_not_held", f"the hearing is on {self.hearing['hearing_on']}", rule="PEN-3"
                )
            if record.held_on:
                self._date_between(record.held_on, str(self.hearing["hearing_on"]), "held_on")
            if not record.summary.strip():
                raise RuleViolation(
                    "summary_required", "the hearing's record states what was heard", rule="PEN-3"
                )

        enforce(check)

    # ---- the decision (Art 60) and its extension ----

    @workflow.update
    async def extend_decision(self, request: DecisionExtension) -> PenaltySnapshot:
        async with self.lock:
            self._validate_extension(request)
            clock = self.clocks[PENALTY_DECISION.rule_id]
            old_due = clock.state.due_on
            await clock.extend(working_days=request.days, by=request.actor.subject, reason=request.reason)
            self.clocks_changed = True
            await self._record(
                "clock.extended",
                request.actor,
                {
                    "rule": PENALTY_DECISION.rule_id,
                    "days": request.days,
                    "unit": PENALTY_DECISION.unit.value,
                    "reason": request.reason,
                    "approved_by": request.approved_by,
                    "old_due_on": old_due,
                    "new_due_on": clock.state.due_on,
                },
            )
            return self._snapshot()

    @extend_decision.validator
    def _validate_extension(self, request: DecisionExtension) -> None:
        def check() -> None:
            require_penalty_stage(self.stage, S.INVESTIGATING, S.NOTIFIED, S.HEARING, S.DECIDING)
            require_case_bureau(request.actor, self.inp.bureau_id)
            clock = self.clocks[PENALTY_DECISION.rule_id].state
            rule = PENALTY_DECISION
            if clock.extended:
                raise RuleViolation(
                    "extension_already_granted",
                    "the decision limit was already extended once",
                    rule=rule.rule_id,
                )
            if not 1 <= request.days <= rule.extension_max:
                raise RuleViolation(
                    "extension_too_long", f"an extension is 1 to {rule.extension_max} days", rule=rule.rule_id
                )
            if not request.reason.strip():
                raise RuleViolation("reason_required", "an extension states its reason", rule=rule.rule_id)
            if not request.approved_by.strip():
                raise RuleViolation(
                    "approval_required",
                    "the head of the bureau approves it (行政处罚法 Art 60)",
                    rule=rule.rule_id,
                )
            if clock.overdue or workflow.now() >= clock.due_at:
                raise RuleViolation(
                    "deadline_passed", f"the decision limit ended on {clock.due_on}", rule=rule.rule_id
                )

        enforce(check)

    @workflow.update
    async def decide(self, decision: PenaltyDecision) -> PenaltySnapshot:
        async with self.lock:
            self._validate_decision(decision)
            on = decision.decided_on or self._today()
            for rule in (PENALTY_HEARING_REQUEST, PENALTY_DECISION):
                clock = self.clocks.get(rule.rule_id)
                if clock is not None and not clock.state.stopped:
                    await self._record_rungs(clock.stop(on))
            service = await StatutoryClock.start(
                PENALTY_SERVICE.rule_id, on, PENALTY_SERVICE.limit, planner=self.planner
            )
            self.clocks[service.rule.rule_id] = service
            self.decision = {
                "penalties": list(decision.penalties),
                "penalty_texts": [PENALTIES[p] for p in decision.penalties],
                "reasons": decision.reasons,
                "basis": decision.basis,
                "decided_on": on,
                "suspension_months": decision.suspension_months,
                "fine_yuan": decision.fine_yuan,
                "illegal_gains_yuan": decision.illegal_gains_yuan,
                "publish": should_publish(decision.penalties, decision.publish),
                "decision_number": decision.decision_number,
                "late": self.clocks[PENALTY_DECISION.rule_id].state.overdue,
                "service_due_on": service.state.due_on,
            }
            self.stage = S.DECIDED
            self.clocks_changed = True
            await self._record("penalty.decided", decision.actor, dict(self.decision))
            return self._snapshot()

    @decide.validator
    def _validate_decision(self, decision: PenaltyDecision) -> None:
        def check() -> None:
            no_penalty = decision.penalties == [Penalty.NO_PENALTY]
            if no_penalty:  # 不予处罚 needs no notice: it may close the case at any point before
                require_penalty_stage(self.stage, S.INVESTIGATING, S.NOTIFIED, S.HEARING, S.DECIDING)
            else:
                require_penalty_stage(self.stage, S.DECIDING)
            require_case_bureau(decision.actor, self.inp.bureau_id)
            if not decision.reasons.strip():
                raise RuleViolation("reasons_required", "a decision states its reasons", rule="CMP-9")
            check_penalties(
                decision.penalties,
                subject_kind=self.inp.subject_kind,
                suspension_months=decision.suspension_months,
                fine_yuan=decision.fine_yuan,
                illegal_gains_yuan=decision.illegal_gains_yuan,
            )
            if not no_penalty:
                if not decision.basis.strip():
                    raise RuleViolation(
                        "notice_incomplete", "a decision states its legal basis", rule="CMP-9"
                    )
                assert self.proposal is not None
                proposed = set(self.proposal["penalties"])
                heavier = {Penalty.SUSPENSION, Penalty.REVOCATION, Penalty.FINE} & (
                    set(decision.penalties) - proposed
                )
                if heavier:
                    raise RuleViolation(
                        "penalty_not_proposed",
                        f"{', '.join(sorted(heavier))} was not in the notice: notify the party again "
                        "(行政处罚法 Arts 44-45)",
                        rule="PEN-2",
                    )
            if decision.decided_on:
                self._date_between(decision.decided_on, self.inp.filed_on, "decided_on")

        enforce(check)

    # ---- service (Art 61) and the outcome ----

    @workflow.update
    async def serve(self, service: DecisionService) -> PenaltySnapshot:
        async with self.lock:
            self._validate_service(service)
            assert self.decision is not None
            on = service.served_on or self._today()
            await self._record_rungs(self.clocks[PENALTY_SERVICE.rule_id].stop(on))
            self.service = {"served_on": on, "method": service.method}
            self.stage = S.CLOSED
            await self._record(
                "penalty.served",
                service.actor,
                dict(self.service),
                notify=self._party(),
                message=f"penalty case {self.inp.reference}: decision served: "
                f"{', '.join(self.decision['penalties'])}. Remedies: 行政复议 within 60 days, "
                "行政诉讼 within 6 months",
            )
            decision = self.decision
            penalties = list(decision["penalties"])
            months = int(decision["suspension_months"])
            until = (
                months_after(date.fromisoformat(on), months).isoformat()
                if Penalty.SUSPENSION in penalties and months
                else ""
            )
            result = await workflow.execute_activity_method(
                PenaltyActivities.apply_penalty_outcome,
                PenaltyOutcome(
                    case_id=self.inp.case_id,
                    bureau_id=self.inp.bureau_id,
                    reference=self.inp.reference,
                    subject_kind=self.inp.subject_kind,
                    subject_id=self.inp.subject_id,
                    institution_id=self.inp.institution_id,
                    penalties=penalties,
                    reasons=str(decision["reasons"]),
                    basis=str(decision["basis"]),
                    decided_on=str(decision["decided_on"]),
                    served_on=on,
                    publish=bool(decision["publish"]),
                    decision_number=str(decision["decision_number"]),
                    suspension_months=months,
                    suspended_until=until,
                    fine_yuan=int(decision["fine_yuan"]),
                    actor=service.actor,
                    recorded_at=workflow.now(),
                ),
                start_to_close_timeout=RECORDING_TIMEOUT * 6,
                retry_policy=RECORDING_RETRY,
            )
            self.outcome = {
                "integrity_entries_written": result.integrity_entries_written,
                "published": result.published,
                "registry_exit_id": result.registry_exit_id,
                "suspended_until": until,
            }
            if result.registry_exit is not None:
                # By name: the case's sandbox need not load the fan-out's module. Started
                # already (a retried step) is fine: one fan-out per notice.
                with contextlib.suppress(WorkflowAlreadyStartedError):
                    await workflow.start_child_workflow(
                        EXIT_WORKFLOW,
                        result.registry_exit,
                        id=exit_workflow_id(result.registry_exit.exit_id),
                        parent_close_policy=ParentClosePolicy.ABANDON,
                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    )
            await self._record("penalty.outcome_recorded", service.actor, dict(self.outcome))
            return self._snapshot()

    @serve.validator
    def _validate_service(self, service: DecisionService) -> None:
        def check() -> None:
            require_penalty_stage(self.stage, S.DECIDED)
            require_case_bureau(service.actor, self.inp.bureau_id)
            if service.served_on:
                assert self.decision is not None
                self._date_between(service.served_on, str(self.decision["decided_on"]), "served_on")

        enforce(check)

    # ---- calendar ----

    @workflow.query
    def snapshot(self) -> PenaltySnapshot:
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
        if self.stage == S.INVESTIGATING:
            tasks.append(task("investigate_penalty_case", PENALTY_DECISION))
        elif self.stage == S.NOTIFIED:
            tasks.append(task("await_party_statement", PENALTY_HEARING_REQUEST))
        elif self.stage == S.HEARING:
            tasks.append(task("hold_penalty_hearing", PENALTY_DECISION))
        elif self.stage == S.DECIDING:
            tasks.append(task("decide_penalty", PENALTY_DECISION))
        elif self.stage == S.DECIDED:
            tasks.append(task("serve_penalty_decision", PENALTY_SERVICE))
        for clock in self.clocks.values():
            if (
                clock.state.stopped
                or not clock.state.overdue
                or clock.rule.rule_id == PENALTY_HEARING_REQUEST.rule_id
            ):
                continue
            tasks.append(
                TaskSnapshot(
                    "overdue_escalation", Role.SUPERVISOR, bureau, clock.state.due_on, clock.rule.rule_id
                )
            )
        return tasks

    def _snapshot(self) -> PenaltySnapshot:
        inp = self.inp
        return PenaltySnapshot(
            id=inp.case_id,
            workflow_id=workflow.info().workflow_id,
            stage=self.stage,
            bureau_id=inp.bureau_id,
            reference=inp.reference,
            subject_kind=inp.subject_kind,
            subject_id=inp.subject_id,
            institution_id=inp.institution_id,
            source=inp.source,
            filed_on=inp.filed_on,
            breach_on=inp.breach_on,
            summary=inp.summary,
            source_id=inp.source_id,
            harm=inp.harm,
            investigation=self.investigation,
            proposal=self.proposal,
            statement=self.statement,
            hearing=self.hearing,
            decision=self.decision,
            service=self.service,
            outcome=self.outcome,
            clocks=[c.state for c in self.clocks.values()],
            open_tasks=self._open_tasks(),
            last_event_seq=self.seq,
            last_hash=self.last_hash,
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
        """Appends one event to the case's hash chain (the shared audit trail, under this
        workflow's id), projects the read model and queues its notifications, in one
        idempotent activity keyed by (workflow id, seq); then delivers the notifications."""
        self.seq += 1
        event = chained_event(
            subject_id=self.inp.case_id,
            seq=self.seq,
            kind=kind,
            actor=actor,
            data=data,
            prev_hash=self.last_hash,
        )
        self.last_hash = event.hash
        recorded = await workflow.execute_activity_method(
            PenaltyActivities.record_penalty_event,
            RecordPenaltyEventInput(
                event=event, snapshot=self._snapshot(), notify=notify or [], message=message
            ),
            start_to_close_timeout=RECORDING_TIMEOUT,
            retry_policy=RECORDING_RETRY,
        )
        if notify and recorded.pending_deliveries:
            self.deliveries.append(start_delivery(event))
