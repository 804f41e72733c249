"""The Temporal worker: every workflow and activity of the product."""

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.worker import Interceptor, PollerBehaviorSimpleMaximum, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from appraisal.activities.admission import AdmissionActivities
from appraisal.activities.anchor import AnchorActivities, AnchorOutput
from appraisal.activities.calendar import CalendarActivities
from appraisal.activities.clock import ClockActivities
from appraisal.activities.commission import CommissionActivities
from appraisal.activities.complaint import ComplaintActivities
from appraisal.activities.evaluation import EvaluationActivities
from appraisal.activities.exit import ExitActivities
from appraisal.activities.inspection import InspectionActivities
from appraisal.activities.notification import NotificationActivities
from appraisal.activities.penalty import PenaltyActivities
from appraisal.activities.registry import RegistryActivities
from appraisal.activities.report import ReportActivities
from appraisal.activities.supervision import SupervisionActivities
from appraisal.core.anchor_file import anchor_key
from appraisal.core.channels import Channels, channels_from
from appraisal.core.observability import tracing_interceptors
from appraisal.core.seal import SealLoader, SealSettings
from appraisal.core.settings import Settings
from appraisal.core.temporal import connect, ensure_schedules, metrics_runtime
from appraisal.db.engine import create_engine, session_factory
from appraisal.workflows.admission import AdmissionWorkflow
from appraisal.workflows.anchor import AnchorDeliveryWorkflow, DailyAnchorWorkflow
from appraisal.workflows.calendar import CalendarReloadWorkflow
from appraisal.workflows.commission import CommissionWorkflow
from appraisal.workflows.complaint import ComplaintWorkflow
from appraisal.workflows.evaluation import AnnualEvaluationsWorkflow, IntegrityEvaluationWorkflow
from appraisal.workflows.exit import RegistryExitWorkflow
from appraisal.workflows.inspection import InspectionDrawWorkflow
from appraisal.workflows.licence import LicenceExpiryWorkflow
from appraisal.workflows.penalty import PenaltyWorkflow
from appraisal.workflows.supervision import SupervisionRatesWorkflow
from appraisal.workflows.testimony import TestimonyWorkflow

# The domain package is pure and deterministic (a test checks its imports), and the
# workflows' helper modules hold no state of their own (a workflow's planner, versions and
# upserts live on its instance), so the sandbox may share them instead of re-importing
# them for every workflow run; each workflow's own module is still executed afresh.
SHARED_WORKFLOW_HELPERS = (
    "appraisal.workflows.clock",
    "appraisal.workflows.recording",
    "appraisal.workflows.search_attributes",
    "appraisal.workflows.validation",
    "appraisal.workflows.versions",
)
WORKFLOW_SANDBOX = SandboxRestrictions.default.with_passthrough_modules(
    "appraisal.domain", *SHARED_WORKFLOW_HELPERS
)

WORKFLOWS = [
    CommissionWorkflow,
    CalendarReloadWorkflow,
    DailyAnchorWorkflow,
    AnchorDeliveryWorkflow,
    ComplaintWorkflow,
    TestimonyWorkflow,
    LicenceExpiryWorkflow,
    InspectionDrawWorkflow,
    RegistryExitWorkflow,
    PenaltyWorkflow,
    SupervisionRatesWorkflow,
    AdmissionWorkflow,
    IntegrityEvaluationWorkflow,
    AnnualEvaluationsWorkflow,
]


def worker_tuning(settings: Settings) -> dict[str, Any]:
    """The WORKER_* settings as Worker options: how much one worker process takes on at once."""
    return {
        "max_cached_workflows": settings.worker_max_cached_workflows,
        "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks,
        "max_concurrent_activities": settings.worker_max_concurrent_activities,
        "max_concurrent_local_activities": settings.worker_max_concurrent_local_activities,
        "workflow_task_poller_behavior": PollerBehaviorSimpleMaximum(settings.worker_workflow_task_pollers),
        "activity_task_poller_behavior": PollerBehaviorSimpleMaximum(settings.worker_activity_task_pollers),
        "sticky_queue_schedule_to_start_timeout": timedelta(seconds=settings.worker_sticky_timeout_seconds),
    }


def build_worker(
    client: Client,
    *,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
    interceptors: Sequence[Interceptor] = (),
    tuning: Mapping[str, Any] | None = None,
    anchors: AnchorOutput | None = None,
    seal: Callable[[], SealSettings] | None = None,
    channels: Channels | None = None,
) -> Worker:
    commission = CommissionActivities(sessions)
    clock = ClockActivities(sessions)
    http = httpx.AsyncClient(timeout=10)
    notification = NotificationActivities(sessions, http, channels or Channels.logged(http))
    calendar = CalendarActivities(sessions, client)
    anchor = AnchorActivities(sessions, anchors)
    complaint = ComplaintActivities(sessions)
    registry = RegistryActivities(sessions)
    inspection = InspectionActivities(sessions)
    exits = ExitActivities(sessions)
    penalty = PenaltyActivities(sessions)
    supervision = SupervisionActivities(sessions)
    report = ReportActivities(sessions, seal)
    admission = AdmissionActivities(sessions)
    evaluation = EvaluationActivities(sessions)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            clock.plan_clock,
            clock.calendar_years,
            commission.record_commission_event,
            notification.deliver_notifications,
            calendar.signal_running_commissions,
            anchor.write_daily_anchor,
            anchor.deliver_daily_anchor,
            complaint.record_complaint_event,
            complaint.write_integrity_entries,
            registry.sweep_licence_tasks,
            inspection.list_bureaus,
            inspection.draw_scheduled_inspection,
            exits.held_commissions,
            exits.mark_exit_started,
            exits.mark_exit_signalled,
            exits.end_suspension,
            exits.pending_exits,
            penalty.record_penalty_event,
            penalty.apply_penalty_outcome,
            supervision.sync_rate_alerts,
            report.assign_document_number,
            report.seal_report,
            admission.record_admission_event,
            admission.grant_licence,
            evaluation.record_evaluation_event,
            evaluation.list_institutions,
            evaluation.sync_training_tasks,
            evaluation.assess_year,
            evaluation.change_grade,
            evaluation.publish_grades,
        ],
        interceptors=interceptors,
        workflow_runner=SandboxedWorkflowRunner(restrictions=WORKFLOW_SANDBOX),
        **(tuning or {}),
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    seal = SealLoader.of(settings)
    if settings.environment == "production":
        seal()  # no seal authority yet (`appraisal seal init`): stop here, not at the first issue
    client = await connect(settings, runtime=metrics_runtime(settings))
    engine = create_engine(settings)
    worker = build_worker(
        client,
        task_queue=settings.task_queue,
        sessions=session_factory(engine),
        interceptors=tracing_interceptors(settings),
        tuning=worker_tuning(settings),
        anchors=AnchorOutput(settings.anchor_folder(), anchor_key(settings.anchor_signing_key)),
        seal=seal,
        channels=channels_from(settings, httpx.AsyncClient(timeout=10)),
    )
    await ensure_schedules(client, task_queue=settings.task_queue, settings=settings)
    try:
        async with worker:
            await (stop or asyncio.Event()).wait()
    finally:
        await engine.dispose()
