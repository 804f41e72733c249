"""One workflow per commission: entrustment → acceptance → examination →
signing → issue → closure. Every step is an Update whose validator rejects
what the rules do not allow now, before anything reaches history."""

import hashlib
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from appraisal.domain.audit import canonical_json, chain_hash
from appraisal.domain.calendar import local_today
from appraisal.domain.commission import (
    REFUSAL_GROUNDS,
    AcceptanceDecision,
    ClosureRequest,
    CommissionInput,
    CommissionSnapshot,
    IssueRequest,
    RegistrationRequest,
    ReportSnapshot,
    ReportSubmission,
    SignatureSnapshot,
    SignatureSubmission,
    TaskSnapshot,
    check_appraisers,
    check_date_within_history,
    require_actor,
    require_stage,
)
from appraisal.domain.errors import RuleViolation
from appraisal.domain.events import AuditEvent, RecordEventInput
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import ACCEPTANCE, EXAMINATION
from appraisal.domain.stages import TERMINAL_STAGES, Stage
from appraisal.workflows import search_attributes as sa
from appraisal.workflows.clock import StatutoryClock

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.commission import CommissionActivities

RECORDING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["invalid_event"],
)


def workflow_id_for(commission_id: str) -> str:
    return f"commission-{commission_id}"


def _violation(err: RuleViolation) -> ApplicationError:
    return ApplicationError(err.message, err.details(), type=err.code, non_retryable=True)


@workflow.defn
class CommissionWorkflow:
    @workflow.init
    def __init__(self, inp: CommissionInput) -> None:
        self.inp = inp
        self.stage = Stage.AWAITING_ACCEPTANCE
        self.appraiser_ids: list[str] = []
        self.agreement_effective_on: str | None = None
        self.clocks: dict[str, StatutoryClock] = {}
        self.report: ReportSnapshot | None = None
        self.refusal: dict[str, str] | None = None
        self.seq = 0
        self.last_hash = ""
        self.registered = False
        self.registration_answered = False
        self.clocks_changed = False

    # ---- life ----

    @workflow.run
    async def run(self, inp: CommissionInput) -> CommissionSnapshot:
        clock = await StatutoryClock.start(ACCEPTANCE.rule_id, inp.received_on, ACCEPTANCE.limit)
        self.clocks[clock.rule.rule_id] = clock
        await self._record(
            "commission.entrusted",
            inp.entrusted_by,
            {
                "court_reference": inp.court_reference,
                "case_number": inp.case_number,
                "category": inp.category,
                "institution_id": inp.institution_id,
                "selection_mode": inp.selection_mode,
                "selection_seed": inp.selection_seed,
                "selection_candidates": inp.selection_candidates,
                "received_on": inp.received_on,
                "materials": [asdict(m) for m in inp.materials],
            },
        )
        self.registered = True
        while self.stage not in TERMINAL_STAGES:
            await self._sleep_until_next_rung()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._snapshot()

    async def _sleep_until_next_rung(self) -> None:
        wake_ups = [w for c in self.clocks.values() if (w := c.next_wake_up()) is not None]
        timeout = None
        if wake_ups:
            timeout = max(min(wake_ups) - workflow.now(), timedelta(0))
        self.clocks_changed = False
        try:
            await workflow.wait_condition(
                lambda: self.clocks_changed or self.stage in TERMINAL_STAGES,
                timeout=timeout,
                timeout_summary="next statutory-clock rung",
            )
        except TimeoutError:
            await self._fire_due_rungs()

    async def _fire_due_rungs(self) -> None:
        now = workflow.now()
        system = Actor(role="system", organisation_id="", subject="statutory-clock")
        for clock in self.clocks.values():
            for kind, at in clock.fire_due(now):
                await self._record(
                    f"clock.{kind}",
                    system,
                    {
                        "rule": clock.rule.rule_id,
                        "due_on": clock.state.due_on,
                        "rung_at": at.isoformat(),
                    },
                )

    # ---- steps ----

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
        self._check(lambda: require_actor(request.actor, Role.COURT, self.inp.court_id))

    @workflow.update
    async def decide_acceptance(self, decision: AcceptanceDecision) -> CommissionSnapshot:
        today = local_today(workflow.now()).isoformat()
        if decision.decision == "refuse":
            self.stage = Stage.REFUSED
            self.refusal = {"ground": decision.ground, "reason": decision.reason}
            self.clocks[ACCEPTANCE.rule_id].stop(today)
            await self._record("commission.refused", decision.actor, dict(self.refusal))
            await self._record(
                "materials.returned",
                decision.actor,
                {"materials": [asdict(m) for m in self.inp.materials]},
            )
            return self._snapshot()
        effective_on = decision.agreement_effective_on or today
        self.stage = Stage.EXAMINING
        self.appraiser_ids = list(decision.appraiser_ids)
        self.agreement_effective_on = effective_on
        self.clocks[ACCEPTANCE.rule_id].stop(effective_on)
        budget = EXAMINATION.limit
        if self.inp.court_deadline_working_days:
            budget = min(budget, self.inp.court_deadline_working_days)
        self.clocks[EXAMINATION.rule_id] = await StatutoryClock.start(
            EXAMINATION.rule_id, effective_on, budget
        )
        self.clocks_changed = True
        await self._record(
            "commission.accepted",
            decision.actor,
            {
                "appraiser_ids": self.appraiser_ids,
                "agreement_effective_on": effective_on,
            },
        )
        return self._snapshot()

    @decide_acceptance.validator
    def _validate_acceptance(self, decision: AcceptanceDecision) -> None:
        def check() -> None:
            require_stage(self.stage, Stage.AWAITING_ACCEPTANCE)
            require_actor(decision.actor, Role.INSTITUTION, self.inp.institution_id)
            if decision.decision not in ("accept", "refuse"):
                raise RuleViolation("unknown_decision", "decision is accept or refuse")
            if decision.decision == "refuse":
                if decision.ground not in REFUSAL_GROUNDS:
                    raise RuleViolation("unknown_ground", f"{decision.ground} is not a PROC-05 ground")
                return
            check_appraisers(decision.appraiser_ids, self.inp.eligible_appraisers)
            if decision.agreement_effective_on:
                check_date_within_history(
                    decision.agreement_effective_on,
                    earliest=self.inp.received_on,
                    today=local_today(workflow.now()),
                    name="agreement_effective_on",
                )

        self._check(check)

    @workflow.update
    async def submit_report(self, submission: ReportSubmission) -> CommissionSnapshot:
        content_hash = hashlib.sha256(
            canonical_json(
                {
                    "content": submission.content,
                    "opinion": submission.opinion,
                    "attachments": [asdict(a) for a in submission.attachments],
                }
            )
        ).hexdigest()
        version = self.report.version + 1 if self.report else 1
        self.report = ReportSnapshot(
            version=version,
            content_hash=content_hash,
            opinion=submission.opinion,
            submitted_by=submission.actor.organisation_id,
            submitted_at=workflow.now(),
            attachments=list(submission.attachments),
        )
        self.stage = Stage.SIGNING
        self.clocks[EXAMINATION.rule_id].stop(local_today(workflow.now()).isoformat())
        self.clocks_changed = True
        await self._record(
            "report.submitted",
            submission.actor,
            {
                "version": version,
                "content_hash": content_hash,
                "opinion": submission.opinion,
            },
        )
        return self._snapshot()

    @submit_report.validator
    def _validate_report(self, submission: ReportSubmission) -> None:
        def check() -> None:
            require_stage(self.stage, Stage.EXAMINING)
            self._require_assigned_appraiser(submission.actor)

        self._check(check)

    @workflow.update
    async def sign_report(self, submission: SignatureSubmission) -> CommissionSnapshot:
        assert self.report is not None
        self.report.signatures.append(
            SignatureSnapshot(
                appraiser_id=submission.actor.organisation_id,
                kind=submission.kind,
                signed_at=workflow.now(),
                statement=submission.statement,
                signature=submission.signature,
            )
        )
        if self._unsigned_appraisers() == []:
            self.stage = Stage.AWAITING_ISSUE
        await self._record(
            "report.signed" if submission.kind == "sign" else "report.dissented",
            submission.actor,
            {
                "version": self.report.version,
                "content_hash": self.report.content_hash,
                "statement": submission.statement,
            },
        )
        return self._snapshot()

    @sign_report.validator
    def _validate_signature(self, submission: SignatureSubmission) -> None:
        def check() -> None:
            require_stage(self.stage, Stage.SIGNING)
            self._require_assigned_appraiser(submission.actor)
            if submission.kind not in ("sign", "dissent"):
                raise RuleViolation("unknown_signature_kind", "kind is sign or dissent")
            if submission.kind == "dissent" and not submission.statement.strip():
                raise RuleViolation(
                    "dissent_needs_statement",
                    "a dissent states its reasons",
                    rule="PROC-24",
                )
            if submission.actor.organisation_id not in self._unsigned_appraisers():
                raise RuleViolation(
                    "already_signed",
                    "this appraiser has already signed this report",
                    rule="PROC-24",
                )

        self._check(check)

    @workflow.update
    async def issue_report(self, request: IssueRequest) -> CommissionSnapshot:
        assert self.report is not None
        self.report.issued_at = workflow.now()
        self.stage = Stage.ISSUED
        await self._record(
            "report.issued",
            request.actor,
            {"version": self.report.version, "content_hash": self.report.content_hash},
        )
        return self._snapshot()

    @issue_report.validator
    def _validate_issue(self, request: IssueRequest) -> None:
        def check() -> None:
            require_stage(self.stage, Stage.AWAITING_ISSUE)
            require_actor(request.actor, Role.INSTITUTION_HEAD, self.inp.institution_id)

        self._check(check)

    @workflow.update
    async def close(self, request: ClosureRequest) -> CommissionSnapshot:
        self.stage = Stage.CLOSED
        await self._record("commission.closed", request.actor, {"reason": request.reason})
        return self._snapshot()

    @close.validator
    def _validate_close(self, request: ClosureRequest) -> None:
        def check() -> None:
            require_stage(self.stage, Stage.ISSUED)
            require_actor(request.actor, Role.COURT, self.inp.court_id)

        self._check(check)

    @workflow.query
    def snapshot(self) -> CommissionSnapshot:
        return self._snapshot()

    # ---- helpers ----

    @staticmethod
    def _check(check: Any) -> None:
        try:
            check()
        except RuleViolation as err:
            raise _violation(err) from None

    def _require_assigned_appraiser(self, actor: Actor) -> None:
        if actor.role != Role.APPRAISER or actor.organisation_id not in self.appraiser_ids:
            raise RuleViolation("wrong_actor", "only an appraiser assigned to this commission may")

    def _unsigned_appraisers(self) -> list[str]:
        signed = {s.appraiser_id for s in self.report.signatures} if self.report else set()
        return [a for a in self.appraiser_ids if a not in signed]

    def _open_tasks(self) -> list[TaskSnapshot]:
        inst = self.inp.institution_id

        def due(rule_id: str) -> str | None:
            clock = self.clocks.get(rule_id)
            return clock.state.due_on if clock else None

        if self.stage == Stage.AWAITING_ACCEPTANCE:
            return [
                TaskSnapshot(
                    "decide_acceptance",
                    Role.INSTITUTION,
                    inst,
                    due("PROC-03"),
                    "PROC-03",
                )
            ]
        if self.stage == Stage.EXAMINING:
            return [
                TaskSnapshot("submit_report", Role.APPRAISER, a, due("PROC-17"), "PROC-17")
                for a in self.appraiser_ids
            ]
        if self.stage == Stage.SIGNING:
            return [
                TaskSnapshot("sign_report", Role.APPRAISER, a, None, "PROC-24")
                for a in self._unsigned_appraisers()
            ]
        if self.stage == Stage.AWAITING_ISSUE:
            return [TaskSnapshot("issue_report", Role.INSTITUTION_HEAD, inst, None, "PROC-25")]
        if self.stage == Stage.ISSUED:
            return [TaskSnapshot("close_commission", Role.COURT, self.inp.court_id, None, None)]
        return []

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
            last_event_seq=self.seq,
        )

    def _search_attributes(self) -> None:
        running = [c for c in self.clocks.values() if not c.state.stopped]
        next_due: datetime | None = min((c.state.due_at for c in running), default=None)
        workflow.upsert_search_attributes(
            [
                sa.STAGE.value_set(self.stage),
                sa.COURT.value_set(self.inp.court_id),
                sa.INSTITUTION.value_set(self.inp.institution_id),
                sa.CATEGORY.value_set(self.inp.category),
                sa.OVERDUE.value_set(any(c.state.overdue for c in running)),
                sa.NEXT_DUE_AT.value_set(next_due) if next_due else sa.NEXT_DUE_AT.value_unset(),
            ]
        )

    async def _record(self, kind: str, actor: Actor, data: dict[str, Any]) -> None:
        """Appends one event to the commission's hash chain and projects the
        read model, in one idempotent activity keyed by (workflow id, seq)."""
        self.seq += 1
        event = AuditEvent(
            workflow_id=workflow.info().workflow_id,
            commission_id=self.inp.commission_id,
            seq=self.seq,
            kind=kind,
            actor_role=actor.role,
            actor_organisation_id=actor.organisation_id,
            actor_subject=actor.subject,
            occurred_at=workflow.now(),
            data=data,
            prev_hash=self.last_hash,
        )
        event.hash = chain_hash(self.last_hash, event.chained_fields())
        self.last_hash = event.hash
        self._search_attributes()
        await workflow.execute_activity_method(
            CommissionActivities.record_commission_event,
            RecordEventInput(event=event, snapshot=self._snapshot()),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RECORDING_RETRY,
        )
