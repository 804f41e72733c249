"""Court testimony as a child of the commission workflow (RULES.md TST-2…TST-9):
the court summons appraisers to a hearing; each confirms, asks not to appear
(TST-8) or proposes to testify remotely; the court rules on those requests and
records what happened at the hearing; a refusal to testify excludes the
opinion (TST-2), refers the appraiser to the supervising bureau (TST-6, TST-9),
writes the integrity record and starts the court's 3-day refund ruling
(TST-4). Durable timers remind the appraisers (TST-7's 2-working-day
confirmation SLA, 3 days and 1 day before the hearing) and climb the refund
ruling's ladder.

The child writes no audit event itself: every step is signalled to the
parent commission (`testimony_event`), which appends it to the commission's
one hash chain and projects its read model from the snapshot the event
carries."""

import asyncio
import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

from appraisal.domain.calendar import local_today
from appraisal.domain.commission import TaskSnapshot
from appraisal.domain.complaint import IntegrityEntriesInput
from appraisal.domain.events import Receiver
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import TESTIMONY_CONFIRMATION, TESTIMONY_REFUND_RULING, Audience, RungKind
from appraisal.domain.testimony import (
    DECLINE_GROUNDS,
    EXPECTED_IN_COURT,
    HEARING_REMINDERS,
    MINIMUM_NOTICE_DAYS,
    OUTCOME_REMINDER,
    OUTCOME_REMINDER_AFTER,
    REQUEST_STATES,
    TESTIMONY_WORKFLOW,
    AppraiserState,
    AppraiserTestimony,
    CaseKind,
    RefundRuling,
    Response,
    TestimonyConfirmation,
    TestimonyEvent,
    TestimonyInput,
    TestimonyOutcome,
    TestimonyResult,
    TestimonyRuling,
    TestimonySnapshot,
    TestimonyStage,
    check_confirmation,
    check_input,
    check_outcome,
    check_refund_ruling,
    check_ruling,
    integrity_entries,
    notice_days,
    refusal_rule,
    refused_to_testify,
    testimony_workflow_id,
)
from appraisal.workflows.clock import FiredRung, Planner, StatutoryClock, due_rungs, sleep_until_due
from appraisal.workflows.validation import enforce
from appraisal.workflows.versions import Versions

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.complaint import ComplaintActivities

__all__ = ["TestimonyWorkflow", "testimony_workflow_id"]

INTEGRITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=1)
)
SYSTEM = Actor(role="system", organisation_id="", subject="testimony-timer")
PARENT_SIGNAL = "testimony_event"
REMIND_COURT_OF_OUTCOME = "remind-court-of-outcome"
"""Patch: a reminder to the court a day after the hearing if no outcome is recorded."""
RUNG_EVENT_PREFIX = {
    TESTIMONY_CONFIRMATION.rule_id: "testimony.confirmation",
    TESTIMONY_REFUND_RULING.rule_id: "testimony.refund_ruling",
}
"""A rung fires `<prefix>_<rung>`, e.g. testimony.refund_ruling_overdue."""
ANSWER_STATES = {
    Response.CONFIRM: AppraiserState.CONFIRMED,
    Response.DECLINE: AppraiserState.DECLINE_REQUESTED,
    Response.REMOTE: AppraiserState.REMOTE_REQUESTED,
}
APPEARING = (AppraiserState.CONFIRMED, AppraiserState.REMOTE_ALLOWED, AppraiserState.APPEARANCE_REQUIRED)


@workflow.defn(name=TESTIMONY_WORKFLOW)
class TestimonyWorkflow:
    @workflow.init
    def __init__(self, inp: TestimonyInput) -> None:
        self.inp = inp
        self.stage = TestimonyStage.AWAITING_HEARING
        self.versions = Versions()
        self.planner = Planner(self.versions)
        self.appraisers = {a: AppraiserTestimony(a) for a in inp.appraiser_ids}
        aware = inp.hearing_at.tzinfo is not None and inp.summoned_at.tzinfo is not None
        self.notice_days = notice_days(inp.summoned_at, inp.hearing_at) if aware else 0
        self.clocks: dict[str, StatutoryClock] = {}
        self.reminders: list[tuple[str, datetime]] = []
        self.hearing_began = False
        self.outcome_note = ""
        self.outcome_recorded_at: datetime | None = None
        self.excluded = False
        self.penalty_referred: list[str] = []
        self.refund_ruling: dict[str, Any] | None = None
        self.seq = 0
        self.summoned = False
        self.timers_changed = False
        self.lock = asyncio.Lock()

    # ---- life ----

    @workflow.run
    async def run(self, inp: TestimonyInput) -> TestimonyResult:
        # The commission checked the summons before starting this; defence in depth:
        # the workflow fails without signalling anything if it ever gets a bad one.
        enforce(lambda: check_input(inp))
        async with self.lock:
            confirmation = await StatutoryClock.start(
                TESTIMONY_CONFIRMATION.rule_id,
                local_today(inp.summoned_at).isoformat(),
                TESTIMONY_CONFIRMATION.limit,
                planner=self.planner,
            )
            self.clocks[confirmation.rule.rule_id] = confirmation
            now = workflow.now()
            self.reminders = [
                (name, at)
                for name, days in HEARING_REMINDERS
                if (at := inp.hearing_at - timedelta(days=days)) > now
            ]
            # Summonses from before this change have no such reminder; keep them replaying.
            if self.versions.earlier_patch(REMIND_COURT_OF_OUTCOME):
                self.reminders.append((OUTCOME_REMINDER, inp.hearing_at + OUTCOME_REMINDER_AFTER))
            snapshot = self._snapshot()
            await self._emit(
                "testimony.summoned",
                inp.summoned_by or Actor(Role.COURT, inp.court_id, "court"),
                {
                    "court_reference": inp.court_reference,
                    "appraiser_ids": list(inp.appraiser_ids),
                    "hearing_at": inp.hearing_at.isoformat(),
                    "place": inp.place,
                    "requirements": inp.requirements,
                    "reason": inp.reason,
                    "summoned_at": inp.summoned_at.isoformat(),
                    "notice_days": snapshot.notice_days,
                    "short_notice": snapshot.short_notice,
                    "case_kind": inp.case_kind,
                    "confirmation_due_on": confirmation.state.due_on,
                },
                notify=[*self._appraiser_receivers(inp.appraiser_ids), self._institution()],
                message=f"{inp.court_reference}: summoned to testify at {self._hearing_text()}; "
                f"confirm by {confirmation.state.due_on}",
            )
            self.summoned = True
        while self.stage != TestimonyStage.CONCLUDED:
            await self._sleep_until_next_wake_up()
        await workflow.wait_condition(workflow.all_handlers_finished)
        async with self.lock:
            await self._emit(
                "testimony.concluded",
                SYSTEM,
                {
                    "results": self._snapshot().results,
                    "excluded_from_fact_finding": self.excluded,
                    "refund_ruling": self.refund_ruling,
                },
            )
        return TestimonyResult(self._snapshot())

    async def _sleep_until_next_wake_up(self) -> None:
        others = [at for _, at in self.reminders]
        if not self.hearing_began:
            others.append(self.inp.hearing_at)
        self.timers_changed = False
        if await sleep_until_due(
            self.clocks.values(),
            also=others,
            woken=lambda: self.timers_changed or self.stage == TestimonyStage.CONCLUDED,
            summary="next testimony reminder or clock rung",
        ):
            async with self.lock:
                await self._fire_due()

    async def _fire_due(self) -> None:
        now = workflow.now()
        if not self.hearing_began and now >= self.inp.hearing_at:
            await self._begin_hearing()
        due = [r for r in self.reminders if r[1] <= now]
        self.reminders = [r for r in self.reminders if r[1] > now]
        for name, at in due:
            await self._remind(name, at)
        await self._emit_rungs(due_rungs(self.clocks.values(), now))

    async def _emit_rungs(self, rungs: Iterable[FiredRung]) -> None:
        for fired in rungs:
            clock = fired.clock
            unanswered = self._in_state(AppraiserState.SUMMONED)
            await self._emit(
                f"{RUNG_EVENT_PREFIX[clock.rule.rule_id]}_{fired.rung.kind}",
                SYSTEM,
                {
                    **fired.data,
                    **({"unanswered": unanswered} if clock.rule is TESTIMONY_CONFIRMATION else {}),
                },
                notify=self._audience(clock, fired.rung.notify),
                message=self._rung_message(fired.rung.kind, clock),
            )

    async def _begin_hearing(self) -> None:
        """Past the hearing's start nobody can still confirm: the SLA clock stops."""
        self.hearing_began = True
        confirmation = self.clocks[TESTIMONY_CONFIRMATION.rule_id]
        if not confirmation.state.stopped:
            await self._emit_rungs(confirmation.stop(self._today()))

    async def _remind(self, name: str, at: datetime) -> None:
        if name == OUTCOME_REMINDER:
            await self._remind_court_of_outcome(at)
            return
        expected = [a.appraiser_id for a in self.appraisers.values() if a.state in EXPECTED_IN_COURT]
        if not expected:  # everyone was excused
            return
        await self._emit(
            "testimony.reminder",
            SYSTEM,
            {
                "reminder": name,
                "at": at.isoformat(),
                "hearing_at": self.inp.hearing_at.isoformat(),
                "place": self.inp.place,
                "appraiser_ids": expected,
            },
            notify=[*self._appraiser_receivers(expected), self._institution()],
            message=f"{self.inp.court_reference}: the hearing is at {self._hearing_text()}",
        )

    async def _remind_court_of_outcome(self, at: datetime) -> None:
        if self.outcome_recorded_at is not None:
            return
        await self._emit(
            "testimony.outcome_reminder",
            SYSTEM,
            {
                "reminder": OUTCOME_REMINDER,
                "at": at.isoformat(),
                "hearing_at": self.inp.hearing_at.isoformat(),
            },
            notify=[self._court()],
            message=f"{self.inp.court_reference}: record the outcome of the hearing of {self._hearing_text()};"
            " the commission waits on it",
        )

    def _rung_message(self, kind: str, clock: StatutoryClock) -> str:
        reference, due = self.inp.court_reference, clock.state.due_on
        if clock.rule is TESTIMONY_CONFIRMATION:
            return f"{reference}: confirm the summons to testify (due {due}, TST-7); the hearing is at " + (
                self._hearing_text()
            )
        if kind == RungKind.WARNING:
            return f"{reference}: rule on the refund by {due} (TST-4)"
        if kind == RungKind.OVERDUE:
            return f"{reference}: the refund ruling was due on {due} (TST-4)"
        return f"{reference}: still no refund ruling; it was due on {due} (TST-4)"

    # ---- the appraisers answer (TST-7, TST-8, remote testimony) ----

    @workflow.update
    async def confirm(self, request: TestimonyConfirmation) -> TestimonySnapshot:
        await workflow.wait_condition(lambda: self.summoned)
        async with self.lock:
            self._validate_confirm(request)
            appraiser = self.appraisers[request.actor.organisation_id]
            appraiser.state = ANSWER_STATES[Response(request.response)]
            appraiser.response = request.response
            appraiser.ground = request.ground
            appraiser.reason = request.reason
            appraiser.answered_at = workflow.now()
            confirmation = self.clocks[TESTIMONY_CONFIRMATION.rule_id]
            if not self._in_state(AppraiserState.SUMMONED) and not confirmation.state.stopped:
                await self._emit_rungs(confirmation.stop(self._today()))
                self.timers_changed = True
            data: dict[str, Any] = {"appraiser_id": appraiser.appraiser_id, "reason": request.reason}
            if request.ground:
                data |= {"ground": request.ground, "ground_text": DECLINE_GROUNDS[request.ground]}
            await self._emit(
                f"testimony.{appraiser.state}",
                request.actor,
                data,
                notify=[self._court(), self._institution()],
                message=f"{self.inp.court_reference}: appraiser {appraiser.appraiser_id} answered the summons: "
                f"{request.response}",
            )
            return self._snapshot()

    @confirm.validator
    def _validate_confirm(self, request: TestimonyConfirmation) -> None:
        enforce(lambda: check_confirmation(self._snapshot(), request, workflow.now()))

    # ---- the court rules on a request ----

    @workflow.update
    async def rule_on_request(self, ruling: TestimonyRuling) -> TestimonySnapshot:
        await workflow.wait_condition(lambda: self.summoned)
        async with self.lock:
            self._validate_ruling(ruling)
            appraiser = self.appraisers[ruling.appraiser_id]
            requested = appraiser.state
            allowed, refused = REQUEST_STATES[AppraiserState(requested)]
            appraiser.state = allowed if ruling.allow else refused
            appraiser.ruling_note = ruling.note
            appraiser.ruled_at = workflow.now()
            await self._emit(
                "testimony.request_ruled",
                ruling.actor,
                {
                    "appraiser_id": appraiser.appraiser_id,
                    "request": appraiser.response,
                    "allow": ruling.allow,
                    "note": ruling.note,
                    "state": appraiser.state,
                },
                notify=[*self._appraiser_receivers([appraiser.appraiser_id]), self._institution()],
                message=f"{self.inp.court_reference}: the court ruled on appraiser {appraiser.appraiser_id}'s "
                f"request: {appraiser.state}",
            )
            return self._snapshot()

    @rule_on_request.validator
    def _validate_ruling(self, ruling: TestimonyRuling) -> None:
        enforce(lambda: check_ruling(self._snapshot(), ruling))

    # ---- the hearing's outcome (TST-2, TST-4, TST-6, TST-9) ----

    @workflow.update
    async def record_outcome(self, outcome: TestimonyOutcome) -> TestimonySnapshot:
        await workflow.wait_condition(lambda: self.summoned)
        async with self.lock:
            self._validate_outcome(outcome)
            if not self.hearing_began:
                await self._begin_hearing()
                self.timers_changed = True
            for appraiser_id, result in outcome.results.items():
                self.appraisers[appraiser_id].state = result
            self.outcome_note = outcome.note
            self.outcome_recorded_at = workflow.now()
            refused = refused_to_testify({a: self.appraisers[a].state for a in self.inp.appraiser_ids})
            today = self._today()
            criminal = self.inp.case_kind == CaseKind.CRIMINAL
            if refused and not criminal:
                self.excluded = True
                self.stage = TestimonyStage.AWAITING_REFUND_RULING
                refund = await StatutoryClock.start(
                    TESTIMONY_REFUND_RULING.rule_id,
                    today,
                    TESTIMONY_REFUND_RULING.limit,
                    planner=self.planner,
                )
                self.clocks[refund.rule.rule_id] = refund
                self.timers_changed = True
            else:
                # TST-6: a criminal case has no refund ruling; the outcome ends the testimony.
                self.excluded = bool(refused)
                self.stage = TestimonyStage.CONCLUDED
            results = self._snapshot().results
            await self._emit(
                "testimony.outcome_recorded",
                outcome.actor,
                {"results": results, "note": outcome.note},
                notify=[self._institution(), *self._appraiser_receivers(self.inp.appraiser_ids)],
                message=f"{self.inp.court_reference}: the court recorded the hearing's outcome",
            )
            if refused:
                await self._refused(outcome.actor, refused, today)
            return self._snapshot()

    @record_outcome.validator
    def _validate_outcome(self, outcome: TestimonyOutcome) -> None:
        enforce(lambda: check_outcome(self._snapshot(), outcome, workflow.now()))

    async def _refused(self, court: Actor, refused: list[str], today: str) -> None:
        """TST-2: the opinion is no basis for fact-finding; TST-4: the court rules on
        the refund within 3 days; TST-6: in a criminal case, no basis for conviction and no
        refund ruling; TST-6/TST-9: the bureau is told, the integrity record written."""
        refund = self.clocks.get(TESTIMONY_REFUND_RULING.rule_id)
        if refund is None:
            await self._emit(
                "testimony.opinion_excluded",
                court,
                {"rule": "TST-6", "appraiser_ids": refused, "case_kind": self.inp.case_kind},
                notify=[self._institution(), self._head(), self._court()],
                message=f"{self.inp.court_reference}: the appraisal opinion is not a basis for conviction "
                "(an appraiser refused to testify in a criminal case, TST-6)",
            )
        else:
            await self._emit(
                "testimony.opinion_excluded",
                court,
                {"rule": "TST-2", "appraiser_ids": refused, "refund_ruling_due_on": refund.state.due_on},
                notify=[self._institution(), self._head(), self._court()],
                message=f"{self.inp.court_reference}: the appraisal opinion is not a basis for fact-finding "
                f"(an appraiser refused to testify, TST-2); refund ruling due by {refund.state.due_on} (TST-4)",
            )
        written = await workflow.execute_activity_method(
            ComplaintActivities.write_integrity_entries,
            IntegrityEntriesInput(
                entries=integrity_entries(self._snapshot(), refused, today), recorded_at=workflow.now()
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=INTEGRITY_RETRY,
        )
        self.penalty_referred = list(refused)
        await self._emit(
            "testimony.penalty_referred",
            court,
            {
                # The refusal's own ground first: TST-6 in a criminal case, TST-4 otherwise.
                "rules": [refusal_rule(self.inp.case_kind), "TST-9", "REG-7"],
                "appraiser_ids": refused,
                "bureau_id": self.inp.bureau_id,
                "integrity_entries_written": written.written,
            },
            notify=[
                Receiver(Role.SUPERVISOR, self.inp.bureau_id),
                self._head(),
                *self._appraiser_receivers(refused),
            ],
            message=f"{self.inp.court_reference}: appraiser(s) {', '.join(refused)} refused to testify after "
            "notice; referred for a penalty (suspension 3 months to 1 year, TST-9)",
        )

    # ---- the refund (TST-4) ----

    @workflow.update
    async def rule_on_refund(self, ruling: RefundRuling) -> TestimonySnapshot:
        await workflow.wait_condition(lambda: self.summoned)
        async with self.lock:
            self._validate_refund(ruling)
            clock = self.clocks[TESTIMONY_REFUND_RULING.rule_id]
            await self._emit_rungs(clock.stop(self._today()))
            self.refund_ruling = {
                "ordered": ruling.ordered,
                "note": ruling.note,
                "ruled_on": clock.state.stopped_on,
                "due_on": clock.state.due_on,
                "late": clock.state.overdue,
            }
            self.stage = TestimonyStage.CONCLUDED
            self.timers_changed = True
            await self._emit(
                "testimony.refund_ruled",
                ruling.actor,
                {"rule": "TST-4", **self.refund_ruling},
                notify=[self._institution(), self._head(), *self._appraiser_receivers(self.penalty_referred)],
                message=f"{self.inp.court_reference}: the court "
                + ("ordered" if ruling.ordered else "did not order")
                + " a refund of the appraisal fee (TST-4)",
            )
            return self._snapshot()

    @rule_on_refund.validator
    def _validate_refund(self, ruling: RefundRuling) -> None:
        enforce(lambda: check_refund_ruling(self._snapshot(), ruling))

    @workflow.query
    def snapshot(self) -> TestimonySnapshot:
        return self._snapshot()

    # ---- helpers ----

    def _today(self) -> str:
        return local_today(workflow.now()).isoformat()

    def _hearing_text(self) -> str:
        return f"{self.inp.hearing_at.isoformat()} ({self.inp.place})"

    def _in_state(self, *states: str) -> list[str]:
        return [a.appraiser_id for a in self.appraisers.values() if a.state in states]

    @staticmethod
    def _appraiser_receivers(appraiser_ids: list[str]) -> list[Receiver]:
        return [Receiver(Role.APPRAISER, a) for a in appraiser_ids]

    def _court(self) -> Receiver:
        return Receiver(Role.COURT, self.inp.court_id)

    def _institution(self) -> Receiver:
        return Receiver(Role.INSTITUTION, self.inp.institution_id)

    def _head(self) -> Receiver:
        return Receiver(Role.INSTITUTION_HEAD, self.inp.institution_id)

    def _audience(self, clock: StatutoryClock, audiences: tuple[Audience, ...]) -> list[Receiver]:
        receivers: list[Receiver] = []
        for audience in audiences:
            if audience == Audience.ASSIGNEES and clock.rule.assignee_role == Role.APPRAISER:
                receivers += self._appraiser_receivers(self._in_state(AppraiserState.SUMMONED))
            elif audience in (Audience.ASSIGNEES, Audience.COURT):
                receivers.append(self._court())
            elif audience == Audience.INSTITUTION_HEAD:
                receivers.append(self._head())
            else:
                receivers.append(Receiver(Role.SUPERVISOR, self.inp.bureau_id))
        return _unique(receivers)

    def _open_tasks(self) -> list[TaskSnapshot]:
        court = self.inp.court_id
        hearing_day = local_today(self.inp.hearing_at).isoformat()
        tasks: list[TaskSnapshot] = []
        if self.stage == TestimonyStage.AWAITING_HEARING:
            confirmation = self.clocks.get(TESTIMONY_CONFIRMATION.rule_id)
            for a in self.appraisers.values():
                if a.state == AppraiserState.SUMMONED and not self.hearing_began:
                    due = confirmation.state.due_on if confirmation else None
                    tasks.append(
                        TaskSnapshot("confirm_testimony", Role.APPRAISER, a.appraiser_id, due, "TST-7")
                    )
                elif a.state in APPEARING and not self.hearing_began:
                    tasks.append(
                        TaskSnapshot("appear_in_court", Role.APPRAISER, a.appraiser_id, hearing_day, "TST-2")
                    )
                elif a.state in REQUEST_STATES:
                    rule = "TST-8" if a.state == AppraiserState.DECLINE_REQUESTED else "TST-5"
                    tasks.append(
                        TaskSnapshot("rule_on_testimony_request", Role.COURT, court, hearing_day, rule)
                    )
            tasks.append(TaskSnapshot("record_testimony_outcome", Role.COURT, court, hearing_day, "TST-2"))
        elif self.stage == TestimonyStage.AWAITING_REFUND_RULING:
            refund = self.clocks[TESTIMONY_REFUND_RULING.rule_id]
            tasks.append(
                TaskSnapshot("rule_on_testimony_refund", Role.COURT, court, refund.state.due_on, "TST-4")
            )
        for clock in self.clocks.values():
            if clock.state.stopped:
                continue
            for rung in clock.rule.ladder:
                if rung.kind == RungKind.WARNING or rung.kind not in clock.state.rungs_fired:
                    continue
                above = tuple(a for a in rung.notify if a != Audience.ASSIGNEES)
                tasks += [
                    TaskSnapshot(
                        "overdue_escalation",
                        r.role,
                        r.organisation_id,
                        clock.state.due_on,
                        clock.rule.rule_id,
                    )
                    for r in self._audience(clock, above)
                ]
        return _unique(tasks)

    def _snapshot(self) -> TestimonySnapshot:
        inp = self.inp
        return TestimonySnapshot(
            testimony_id=inp.testimony_id,
            commission_id=inp.commission_id,
            workflow_id=workflow.info().workflow_id,
            court_id=inp.court_id,
            institution_id=inp.institution_id,
            bureau_id=inp.bureau_id,
            court_reference=inp.court_reference,
            hearing_at=inp.hearing_at,
            place=inp.place,
            summoned_at=inp.summoned_at,
            requirements=inp.requirements,
            reason=inp.reason,
            stage=self.stage,
            notice_days=self.notice_days,
            short_notice=self.notice_days < MINIMUM_NOTICE_DAYS,
            appraisers=[dataclasses.replace(a) for a in self.appraisers.values()],
            outcome_note=self.outcome_note,
            outcome_recorded_at=self.outcome_recorded_at,
            excluded_from_fact_finding=self.excluded,
            penalty_referred=list(self.penalty_referred),
            refund_ruling=dict(self.refund_ruling) if self.refund_ruling else None,
            clocks=[c.state for c in self.clocks.values()],
            open_tasks=self._open_tasks(),
            last_event_seq=self.seq,
            case_kind=inp.case_kind,
        )

    async def _emit(
        self,
        kind: str,
        actor: Actor,
        data: dict[str, Any],
        *,
        notify: list[Receiver] | None = None,
        message: str = "",
    ) -> None:
        """Signals one step to the parent commission, which records it in its hash
        chain; awaited under the lock, so the parent receives the steps in order."""
        self.seq += 1
        event = TestimonyEvent(
            testimony_id=self.inp.testimony_id,
            kind=kind,
            actor=actor,
            data=data,
            notify=_unique(notify or []),
            message=message,
            snapshot=self._snapshot(),
            seq=self.seq,
            occurred_at=workflow.now(),
        )
        await workflow.get_external_workflow_handle(self.inp.parent_workflow_id).signal(PARENT_SIGNAL, event)


T = TypeVar("T")


def _unique(items: list[T]) -> list[T]:
    return [item for i, item in enumerate(items) if item not in items[:i]]
