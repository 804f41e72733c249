"""The annual integrity evaluation (年度诚信执业评价, EVL-1): one workflow per bureau and
year, started by a yearly Temporal Schedule on 1 January (or by the bureau for a year of its
choosing). While the year runs it sleeps until TRN-3, when every appraiser still short of the
year's in-service hours gets a task, and then until the year's end. Then each institution
assesses itself (EVL-2); the bureau's assessment is computed from the year's record (overdue
deadlines, refusals to testify, upheld complaints, training shortfalls, which are entered in
the integrity record first) and reviewed (EVL-3); the proposed grades are published for
objection (公示, EVL-4); the objections are decided (EVL-5); the grades are confirmed and
published. Durable timers only; every step an Update refused by its validator before history
when the rules do not allow it; every step one link of the evaluation's audit hash chain."""

import asyncio
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from appraisal.domain.calendar import local_today
from appraisal.domain.commission import TaskSnapshot
from appraisal.domain.errors import RuleViolation
from appraisal.domain.evaluation import (
    OBJECTION_DAYS,
    AnnualEvaluationsInput,
    AnnualEvaluationsOutcome,
    AssessmentRequest,
    AssessmentSummary,
    EvaluationInput,
    EvaluationRegistration,
    EvaluationSnapshot,
    EvaluationStage,
    GradeAdjustment,
    GradeChange,
    GradeObjectionFiling,
    GradesConfirmation,
    GradesPublicationRequest,
    InstitutionsRequest,
    Objection,
    ObjectionDecision,
    ProposedGradesPublication,
    RecordEvaluationEventInput,
    SelfAssessment,
    check_start,
    evaluation_id_for,
    evaluation_workflow_id,
    require_bureau,
    require_evaluation_stage,
    require_objector,
)
from appraisal.domain.events import Receiver
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import (
    ASSESSMENT_REVIEW,
    GRADE_OBJECTIONS,
    OBJECTION_DECISIONS,
    SELF_ASSESSMENT,
    Audience,
    ClockRule,
    RungKind,
)
from appraisal.domain.training import TrainingSweep, warning_at, year_end
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
    from appraisal.activities.evaluation import EvaluationActivities
    from appraisal.activities.inspection import BureauListRequest, InspectionActivities

SYSTEM = Actor(role="system", organisation_id="", subject="statutory-clock")
ANNUAL_EVALUATION_SCHEDULE_ID = "supervision-annual-evaluation"
ASSESSMENT_TIMEOUT = timedelta(minutes=10)
"""A bureau's year: a few queries per institution and appraiser, in one transaction."""
BATCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5))


@workflow.defn
class IntegrityEvaluationWorkflow(ClockedWorkflow):
    @workflow.init
    def __init__(self, inp: EvaluationInput) -> None:
        self.inp = inp
        self.stage = EvaluationStage.IN_YEAR
        self.versions = Versions()
        self.planner = Planner(self.versions)
        self.upserts = sa.Upserts(self.versions)
        self.clocks: dict[str, StatutoryClock] = {}
        self.started_on = ""
        self.institutions: list[str] = []
        self.self_assessments: dict[str, dict[str, Any]] = {}
        self.training_warning: dict[str, Any] | None = None
        self.assessment: AssessmentSummary | None = None
        self.adjustments: list[dict[str, str]] = []
        self.proposed_on: str | None = None
        self.objections: list[Objection] = []
        self.published_on: str | None = None
        self.seq = 0
        self.last_hash = ""
        self.registered = False
        self.registration_answered = False
        self.clocks_changed = False
        self.lock = asyncio.Lock()
        self.deliveries: list[Any] = []

    # ---- life ----

    @workflow.run
    async def run(self, inp: EvaluationInput) -> EvaluationSnapshot:
        enforce(lambda: check_start(inp, local_today(workflow.now())))
        self.started_on = self._today()
        async with self.lock:
            await self._record(
                "evaluation.started",
                inp.started_by,
                {
                    "year": inp.year,
                    "grading": asdict(inp.grading),
                    "training_min_hours": inp.training_min_hours,
                    "rule": "EVL-1",
                },
            )
            ends = year_end(inp.year)
            if workflow.now() >= ends:  # a year already over: its self-assessment opens at once
                await self._open_self_assessment()
            self.registered = True
        if workflow.now() < ends:
            warn = warning_at(inp.year)
            if workflow.now() < warn:
                await workflow.sleep(warn - workflow.now(), summary="TRN-3: the training warning")
            async with self.lock:
                await self._warn_training()
            await workflow.sleep(ends - workflow.now(), summary="the year's end")
            async with self.lock:
                await self._open_self_assessment()
        while self.stage != EvaluationStage.PUBLISHED:
            await self._sleep_until_next_rung()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self.deliveries, return_exceptions=True)
        return self._snapshot()

    async def _sleep_until_next_rung(self) -> None:
        self.clocks_changed = False
        if await sleep_until_due(
            self.clocks.values(),
            woken=lambda: self.clocks_changed or self.stage == EvaluationStage.PUBLISHED,
            summary="next statutory-clock rung",
        ):
            async with self.lock:
                await self._record_rungs(due_rungs(self.clocks.values(), workflow.now()))
                await self._close_windows()

    async def _close_windows(self) -> None:
        """EVL-2 and EVL-4 are windows: at their end the evaluation moves on."""
        if self.stage == EvaluationStage.SELF_ASSESSMENT and self._clock(SELF_ASSESSMENT).state.overdue:
            await self._assess()
        if self.stage == EvaluationStage.OBJECTION_PERIOD and self._clock(GRADE_OBJECTIONS).state.overdue:
            await self._close_objections()

    async def _record_rungs(self, rungs: Iterable[FiredRung]) -> None:
        for fired in rungs:
            window = fired.clock.rule.rule_id in (SELF_ASSESSMENT.rule_id, GRADE_OBJECTIONS.rule_id)
            kind = fired.rung.kind
            await self._record(
                f"clock.{kind}",
                SYSTEM,
                {**fired.data, "window_closed": window and kind == RungKind.OVERDUE},
                notify=self._audience(fired.clock, fired.rung.notify),
                message=f"integrity evaluation {self.inp.year}: the {fired.clock.rule.name} "
                f"{'period ends' if kind == RungKind.WARNING else 'period ended'} on {fired.clock.state.due_on}",
            )

    def _audience(self, clock: StatutoryClock, audiences: tuple[Audience, ...]) -> list[Receiver]:
        receivers: list[Receiver] = []
        for audience in audiences:
            if audience == Audience.ASSIGNEES and clock.rule.rule_id == SELF_ASSESSMENT.rule_id:
                receivers += [Receiver(Role.INSTITUTION, i) for i in self._not_self_assessed()]
            elif not any(r.role == Role.SUPERVISOR for r in receivers):
                receivers.append(Receiver(Role.SUPERVISOR, self.inp.bureau_id))
        return receivers

    def _institutions(self) -> list[Receiver]:
        return [Receiver(Role.INSTITUTION, i) for i in self.institutions]

    def _not_self_assessed(self) -> list[str]:
        return [i for i in self.institutions if i not in self.self_assessments]

    # ---- the year: the training warning (TRN-3) ----

    async def _warn_training(self) -> None:
        result = await workflow.execute_activity_method(
            EvaluationActivities.sync_training_tasks,
            TrainingSweep(
                bureau_id=self.inp.bureau_id,
                year=self.inp.year,
                min_hours=self.inp.training_min_hours,
                at=workflow.now(),
            ),
            start_to_close_timeout=ASSESSMENT_TIMEOUT,
            retry_policy=BATCH_RETRY,
        )
        self.training_warning = {
            "on": self._today(),
            "appraisers_short": result.short,
            "tasks_opened": result.opened,
        }
        await self._record(
            "training.warning_issued",
            SYSTEM,
            {
                **self.training_warning,
                "year": self.inp.year,
                "required_hours": self.inp.training_min_hours,
                "rule": "TRN-3",
            },
            notify=[Receiver(Role.SUPERVISOR, self.inp.bureau_id)]
            + [Receiver(Role.APPRAISER, a) for a in result.warned]
            + [Receiver(Role.INSTITUTION, i) for i in result.institutions],
            message=f"training (TRN-3): {result.short} appraisers are short of the "
            f"{self.inp.training_min_hours} in-service hours of {self.inp.year}; complete them by "
            f"{self.inp.year}-12-31, or the shortfall enters the integrity record",
        )

    # ---- self-assessment (EVL-2) ----

    async def _open_self_assessment(self) -> None:
        listed = await workflow.execute_activity_method(
            EvaluationActivities.list_institutions,
            InstitutionsRequest(self.inp.bureau_id),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=BATCH_RETRY,
        )
        self.institutions = list(listed.institution_ids)
        today = local_today(workflow.now())
        last_day = date(self.inp.year, 12, 31)
        trigger = last_day if today <= last_day + timedelta(days=1) else today
        clock = await StatutoryClock.start(
            SELF_ASSESSMENT.rule_id, trigger.isoformat(), SELF_ASSESSMENT.limit, planner=self.planner
        )
        self.clocks[SELF_ASSESSMENT.rule_id] = clock
        self.stage = EvaluationStage.SELF_ASSESSMENT
        self.clocks_changed = True
        await self._record(
            "evaluation.self_assessment_opened",
            SYSTEM,
            {
                "institutions": list(self.institutions),
                "due_on": clock.state.due_on,
                "rule": SELF_ASSESSMENT.rule_id,
            },
            notify=self._institutions(),
            message=f"integrity evaluation {self.inp.year}: assess yourself by {clock.state.due_on}",
        )
        if not self.institutions:
            await self._assess()

    @workflow.update
    async def self_assess(self, request: SelfAssessment) -> EvaluationSnapshot:
        async with self.lock:
            self._validate_self_assess(request)
            institution_id = request.actor.organisation_id
            self.self_assessments[institution_id] = {
                "score": request.score,
                "summary": request.summary,
                "submitted_on": self._today(),
                "materials": [asdict(m) for m in request.materials],
            }
            await self._record(
                "evaluation.self_assessed",
                request.actor,
                {"institution_id": institution_id, **self.self_assessments[institution_id]},
            )
            if not self._not_self_assessed():
                await self._assess()
            return self._snapshot()

    @self_assess.validator
    def _validate_self_assess(self, request: SelfAssessment) -> None:
        def check() -> None:
            require_evaluation_stage(self.stage, EvaluationStage.SELF_ASSESSMENT)
            actor = request.actor
            if actor.role != Role.INSTITUTION or actor.organisation_id not in self.institutions:
                raise RuleViolation(
                    "wrong_actor", "an institution under the bureau assesses itself", rule="EVL-2"
                )
            if actor.organisation_id in self.self_assessments:
                raise RuleViolation(
                    "already_self_assessed", "an institution assesses itself once", rule="EVL-2"
                )
            if not 0 <= request.score <= 100:
                raise RuleViolation("score_out_of_range", "a score is 0 to 100", rule="EVL-2")
            if not request.summary.strip():
                raise RuleViolation("summary_required", "a self-assessment states its summary", rule="EVL-2")

        enforce(check)

    # ---- the bureau's assessment (EVL-3) ----

    async def _assess(self) -> None:
        clock = self.clocks.get(SELF_ASSESSMENT.rule_id)
        if clock is not None and not clock.state.stopped:
            await self._record_rungs(clock.stop(self._today()))
        self.assessment = await workflow.execute_activity_method(
            EvaluationActivities.assess_year,
            AssessmentRequest(
                evaluation_id=self.inp.evaluation_id,
                bureau_id=self.inp.bureau_id,
                year=self.inp.year,
                grading=self.inp.grading,
                training_min_hours=self.inp.training_min_hours,
                assessed_at=workflow.now(),
            ),
            start_to_close_timeout=ASSESSMENT_TIMEOUT,
            retry_policy=BATCH_RETRY,
        )
        review = await StatutoryClock.start(
            ASSESSMENT_REVIEW.rule_id, self._today(), ASSESSMENT_REVIEW.limit, planner=self.planner
        )
        self.clocks[ASSESSMENT_REVIEW.rule_id] = review
        self.stage = EvaluationStage.REVIEWING
        self.clocks_changed = True
        await self._record(
            "evaluation.assessed",
            SYSTEM,
            {
                **asdict(self.assessment),
                "not_self_assessed": self._not_self_assessed(),
                "review_due_on": review.state.due_on,
                "rule": "EVL-1",
            },
            notify=[Receiver(Role.SUPERVISOR, self.inp.bureau_id)],
            message=f"integrity evaluation {self.inp.year}: the proposed grades await review by "
            f"{review.state.due_on}",
        )

    @workflow.update
    async def adjust_grade(self, request: GradeAdjustment) -> EvaluationSnapshot:
        async with self.lock:
            self._validate_adjust(request)
            await self._change_grade(request.subject_kind, request.subject_id, request.grade, request.reason)
            adjustment = {
                "subject_kind": request.subject_kind,
                "subject_id": request.subject_id,
                "grade": request.grade,
                "reason": request.reason,
            }
            self.adjustments.append(adjustment)
            await self._record("evaluation.grade_adjusted", request.actor, {**adjustment, "rule": "EVL-3"})
            return self._snapshot()

    @adjust_grade.validator
    def _validate_adjust(self, request: GradeAdjustment) -> None:
        def check() -> None:
            require_evaluation_stage(self.stage, EvaluationStage.REVIEWING)
            require_bureau(request.actor, self.inp.bureau_id)
            self._check_grade(request.grade)
            if not request.reason.strip():
                raise RuleViolation("reason_required", "an adjusted grade states its reason", rule="EVL-3")

        enforce(check)

    def _check_grade(self, grade: str) -> None:
        if grade not in self.inp.grading.grades:
            raise RuleViolation(
                "unknown_grade", f"{grade} is not one of {', '.join(self.inp.grading.grades)}", rule="EVL-1"
            )

    async def _change_grade(self, subject_kind: str, subject_id: str, grade: str, note: str) -> None:
        await workflow.execute_activity_method(
            EvaluationActivities.change_grade,
            GradeChange(self.inp.evaluation_id, subject_kind, subject_id, grade, note),
            start_to_close_timeout=RECORDING_TIMEOUT,
            retry_policy=RECORDING_RETRY,
        )

    @workflow.update
    async def publish_proposed(self, request: ProposedGradesPublication) -> EvaluationSnapshot:
        async with self.lock:
            self._validate_publish_proposed(request)
            today = self._today()
            await self._record_rungs(self._clock(ASSESSMENT_REVIEW).stop(today))
            period = await StatutoryClock.start(
                GRADE_OBJECTIONS.rule_id,
                today,
                request.objection_days or GRADE_OBJECTIONS.limit,
                planner=self.planner,
            )
            self.clocks[GRADE_OBJECTIONS.rule_id] = period
            self.stage = EvaluationStage.OBJECTION_PERIOD
            self.proposed_on = today
            self.clocks_changed = True
            await self._record(
                "evaluation.proposed_published",
                request.actor,
                {
                    "proposed_on": today,
                    "objections_until": period.state.due_on,
                    "note": request.note,
                    "rule": "EVL-4",
                },
                notify=self._institutions(),
                message=f"integrity evaluation {self.inp.year}: the proposed grades are published; object by "
                f"{period.state.due_on}",
            )
            return self._snapshot()

    @publish_proposed.validator
    def _validate_publish_proposed(self, request: ProposedGradesPublication) -> None:
        def check() -> None:
            require_evaluation_stage(self.stage, EvaluationStage.REVIEWING)
            require_bureau(request.actor, self.inp.bureau_id)
            if request.objection_days and request.objection_days not in OBJECTION_DAYS:
                raise RuleViolation(
                    "objection_days",
                    f"the objection period is 1 to {OBJECTION_DAYS.stop - 1} working days",
                    rule=GRADE_OBJECTIONS.rule_id,
                )

        enforce(check)

    # ---- objections (EVL-4, EVL-5) ----

    @workflow.update
    async def file_objection(self, request: GradeObjectionFiling) -> EvaluationSnapshot:
        async with self.lock:
            self._validate_objection(request)
            objection = Objection(
                objection_id=len(self.objections) + 1,
                subject_kind=request.subject_kind,
                subject_id=request.subject_id,
                institution_id=request.subject_institution_id,
                reason=request.reason,
                filed_by=f"{request.actor.role}:{request.actor.organisation_id}",
                filed_on=self._today(),
                proposed_grade=request.proposed_grade,
            )
            self.objections.append(objection)
            await self._record(
                "evaluation.objection_filed",
                request.actor,
                {**asdict(objection), "rule": "EVL-4"},
                notify=[Receiver(Role.SUPERVISOR, self.inp.bureau_id)],
                message=f"integrity evaluation {self.inp.year}: an objection to a proposed grade",
            )
            return self._snapshot()

    @file_objection.validator
    def _validate_objection(self, request: GradeObjectionFiling) -> None:
        def check() -> None:
            require_evaluation_stage(self.stage, EvaluationStage.OBJECTION_PERIOD)
            require_objector(request.actor, request)
            if request.subject_institution_id not in self.institutions:
                raise RuleViolation("not_evaluated", "that subject is not evaluated here", rule="EVL-4")
            if not request.reason.strip():
                raise RuleViolation("reason_required", "an objection states its reasons", rule="EVL-4")
            if any(
                o.subject_kind == request.subject_kind and o.subject_id == request.subject_id
                for o in self.objections
            ):
                raise RuleViolation("already_objected", "one objection per grade", rule="EVL-4")

        enforce(check)

    async def _close_objections(self) -> None:
        await self._record_rungs(self._clock(GRADE_OBJECTIONS).stop(self._today()))
        if self.objections:
            deciding = await StatutoryClock.start(
                OBJECTION_DECISIONS.rule_id, self._today(), OBJECTION_DECISIONS.limit, planner=self.planner
            )
            self.clocks[OBJECTION_DECISIONS.rule_id] = deciding
            self.stage = EvaluationStage.DECIDING_OBJECTIONS
        else:
            self.stage = EvaluationStage.AWAITING_CONFIRMATION
        self.clocks_changed = True
        await self._record(
            "evaluation.objection_period_closed",
            SYSTEM,
            {"objections": len(self.objections), "rule": "EVL-4"},
            notify=[Receiver(Role.SUPERVISOR, self.inp.bureau_id)],
            message=f"integrity evaluation {self.inp.year}: the objection period ended with "
            f"{len(self.objections)} objections",
        )

    @workflow.update
    async def decide_objection(self, request: ObjectionDecision) -> EvaluationSnapshot:
        async with self.lock:
            self._validate_decide_objection(request)
            objection = self.objections[request.objection_id - 1]
            if request.upheld:
                await self._change_grade(
                    objection.subject_kind, objection.subject_id, request.grade, request.reason
                )
            objection.decision = {
                "upheld": request.upheld,
                "grade": request.grade if request.upheld else objection.proposed_grade,
                "reason": request.reason,
                "decided_on": self._today(),
            }
            if all(o.decision for o in self.objections):
                await self._record_rungs(self._clock(OBJECTION_DECISIONS).stop(self._today()))
                self.stage = EvaluationStage.AWAITING_CONFIRMATION
                self.clocks_changed = True
            await self._record(
                "evaluation.objection_decided",
                request.actor,
                {"objection_id": objection.objection_id, **objection.decision, "rule": "EVL-5"},
                notify=[Receiver(Role.INSTITUTION, objection.institution_id)]
                + (
                    [Receiver(Role.APPRAISER, objection.subject_id)]
                    if objection.subject_kind == "appraiser"
                    else []
                ),
                message=f"integrity evaluation {self.inp.year}: your objection was "
                f"{'upheld' if request.upheld else 'dismissed'}: {request.reason}",
            )
            return self._snapshot()

    @decide_objection.validator
    def _validate_decide_objection(self, request: ObjectionDecision) -> None:
        def check() -> None:
            require_evaluation_stage(self.stage, EvaluationStage.DECIDING_OBJECTIONS)
            require_bureau(request.actor, self.inp.bureau_id)
            if not 1 <= request.objection_id <= len(self.objections):
                raise RuleViolation("no_such_objection", f"no objection {request.objection_id}", rule="EVL-5")
            if self.objections[request.objection_id - 1].decision:
                raise RuleViolation("already_decided", "that objection was decided", rule="EVL-5")
            if request.upheld:
                self._check_grade(request.grade)
            if not request.reason.strip():
                raise RuleViolation(
                    "reason_required", "a decision on an objection states its reasons", rule="EVL-5"
                )

        enforce(check)

    # ---- confirmation and publication ----

    @workflow.update
    async def confirm(self, request: GradesConfirmation) -> EvaluationSnapshot:
        async with self.lock:
            self._validate_confirm(request)
            today = self._today()
            await workflow.execute_activity_method(
                EvaluationActivities.publish_grades,
                GradesPublicationRequest(self.inp.evaluation_id, today),
                start_to_close_timeout=RECORDING_TIMEOUT,
                retry_policy=RECORDING_RETRY,
            )
            self.stage = EvaluationStage.PUBLISHED
            self.published_on = today
            await self._record(
                "evaluation.published",
                request.actor,
                {"published_on": today, "note": request.note, "rule": "EVL-1"},
                notify=self._institutions(),
                message=f"integrity evaluation {self.inp.year}: the grades are confirmed and published",
            )
            return self._snapshot()

    @confirm.validator
    def _validate_confirm(self, request: GradesConfirmation) -> None:
        def check() -> None:
            require_evaluation_stage(self.stage, EvaluationStage.AWAITING_CONFIRMATION)
            require_bureau(request.actor, self.inp.bureau_id)

        enforce(check)

    # ---- starting, calendar, query ----

    @workflow.update
    async def register(self, request: EvaluationRegistration) -> EvaluationSnapshot:
        """Answers the bureau's start once the evaluation is recorded."""
        await workflow.wait_condition(lambda: self.registered)
        snapshot = self._snapshot()
        snapshot.created = not self.registration_answered
        self.registration_answered = True
        return snapshot

    @register.validator
    def _validate_register(self, request: EvaluationRegistration) -> None:
        enforce(lambda: require_bureau(request.actor, self.inp.bureau_id))

    @workflow.query
    def snapshot(self) -> EvaluationSnapshot:
        return self._snapshot()

    # ---- helpers ----

    def _clock(self, rule: ClockRule) -> StatutoryClock:
        return self.clocks[rule.rule_id]

    def _open_tasks(self) -> list[TaskSnapshot]:
        bureau = self.inp.bureau_id

        def due(rule: ClockRule) -> str | None:
            clock = self.clocks.get(rule.rule_id)
            return clock.state.due_on if clock else None

        tasks: list[TaskSnapshot] = []
        if self.stage == EvaluationStage.SELF_ASSESSMENT:
            tasks += [
                TaskSnapshot(
                    "submit_self_assessment",
                    Role.INSTITUTION,
                    i,
                    due(SELF_ASSESSMENT),
                    SELF_ASSESSMENT.rule_id,
                )
                for i in self._not_self_assessed()
            ]
        elif self.stage == EvaluationStage.REVIEWING:
            tasks.append(
                TaskSnapshot(
                    "review_proposed_grades", Role.SUPERVISOR, bureau, due(ASSESSMENT_REVIEW), "EVL-3"
                )
            )
        elif self.stage == EvaluationStage.DECIDING_OBJECTIONS:
            tasks.append(
                TaskSnapshot(
                    "decide_grade_objection", Role.SUPERVISOR, bureau, due(OBJECTION_DECISIONS), "EVL-5"
                )
            )
        elif self.stage == EvaluationStage.AWAITING_CONFIRMATION:
            tasks.append(TaskSnapshot("confirm_grades", Role.SUPERVISOR, bureau, None, "EVL-1"))
        for clock in self.clocks.values():
            if (
                not clock.state.stopped
                and clock.state.overdue
                and clock.rule.rule_id in (ASSESSMENT_REVIEW.rule_id, OBJECTION_DECISIONS.rule_id)
            ):
                tasks.append(
                    TaskSnapshot(
                        "overdue_escalation", Role.SUPERVISOR, bureau, clock.state.due_on, clock.rule.rule_id
                    )
                )
        return tasks

    def _snapshot(self) -> EvaluationSnapshot:
        inp = self.inp
        return EvaluationSnapshot(
            id=inp.evaluation_id,
            workflow_id=workflow.info().workflow_id,
            stage=self.stage,
            bureau_id=inp.bureau_id,
            year=inp.year,
            started_on=self.started_on,
            grading=inp.grading,
            training_min_hours=inp.training_min_hours,
            institutions=list(self.institutions),
            self_assessments=dict(self.self_assessments),
            training_warning=self.training_warning,
            assessment=self.assessment,
            adjustments=list(self.adjustments),
            proposed_on=self.proposed_on,
            objections=list(self.objections),
            published_on=self.published_on,
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
        """Appends one event to the evaluation's hash chain, projects its read model and inbox
        and queues its notifications, in one idempotent activity keyed by (workflow id, seq)."""
        self.seq += 1
        event = chained_event(
            subject_id=self.inp.evaluation_id,
            seq=self.seq,
            kind=kind,
            actor=actor,
            data=data,
            prev_hash=self.last_hash,
        )
        self.last_hash = event.hash
        self._search_attributes()
        recorded = await workflow.execute_activity_method(
            EvaluationActivities.record_evaluation_event,
            RecordEvaluationEventInput(
                event=event, snapshot=self._snapshot(), notify=notify or [], message=message
            ),
            start_to_close_timeout=RECORDING_TIMEOUT,
            retry_policy=RECORDING_RETRY,
        )
        if notify and recorded.pending_deliveries:
            self.deliveries.append(start_delivery(event))


@workflow.defn
class AnnualEvaluationsWorkflow:
    """What the yearly schedule runs on 1 January: every bureau's evaluation of the year just
    begun, each its own workflow (abandoned by this one, which ends once they are started)."""

    @workflow.run
    async def run(self, inp: AnnualEvaluationsInput) -> AnnualEvaluationsOutcome:
        year = inp.year or local_today(workflow.now()).year
        outcome = AnnualEvaluationsOutcome(year=year)
        bureaus = await workflow.execute_activity_method(
            InspectionActivities.list_bureaus,
            BureauListRequest(),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=BATCH_RETRY,
        )
        for bureau_id in bureaus.bureau_ids:
            evaluation_id = evaluation_id_for(bureau_id, year)
            try:
                await workflow.start_child_workflow(
                    IntegrityEvaluationWorkflow.run,
                    EvaluationInput(
                        evaluation_id=evaluation_id,
                        bureau_id=bureau_id,
                        year=year,
                        started_by=Actor(role="system", organisation_id="", subject="annual schedule"),
                        grading=inp.grading,
                        training_min_hours=inp.training_min_hours,
                    ),
                    id=evaluation_workflow_id(evaluation_id),
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
            except WorkflowAlreadyStartedError:
                outcome.already_running.append(bureau_id)
            else:
                outcome.started.append(bureau_id)
        return outcome
