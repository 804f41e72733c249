import contextlib
import logging

from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode

from appraisal.core.settings import Settings
from appraisal.workflows import search_attributes

logger = logging.getLogger(__name__)


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """`runtime`: the SDK runtime the client and its workers use (default: the process's)."""
    return await Client.connect(
        settings.resolved_temporal_address(), namespace=settings.temporal_namespace, runtime=runtime
    )


def metrics_runtime(settings: Settings) -> Runtime | None:
    """An SDK runtime serving Temporal's worker metrics to Prometheus at
    WORKER_METRICS_ADDRESS, or None when that is empty or cannot be bound: a
    worker without metrics still runs every commission."""
    if not settings.worker_metrics_address:
        return None
    try:
        return Runtime(
            telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=settings.worker_metrics_address))
        )
    except ValueError as err:  # the address is taken or malformed
        logger.error(
            "worker metrics off: %s (WORKER_METRICS_ADDRESS %s)", err, settings.worker_metrics_address
        )
        return None


async def _known_search_attributes(client: Client, namespace: str) -> set[str]:
    try:
        known = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
    except RPCError as err:
        if err.status == RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server
            return set()
        raise
    return set(known.custom_attributes)


async def register_search_attributes(client: Client, namespace: str) -> None:
    """Adds the product's search attributes the server does not know yet."""
    known = await _known_search_attributes(client, namespace)
    missing = {
        # SearchAttributeIndexedValueType numbers its members as the proto enum does.
        key.name: int(key.indexed_value_type)
        for key in search_attributes.ALL
        if key.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)  # type: ignore[arg-type]
        )


async def ensure_schedules(client: Client, *, task_queue: str, settings: Settings) -> None:
    """The daily audit anchor at 00:30 Beijing time, the daily licence sweep (REG-8, lapsed
    licences reaching their commissions) at 06:00 and the supervision rates (SUP-1) at 06:30,
    created once and kept if present; the monthly random inspection draw on the 1st at 09:00,
    its sizes kept in step with `settings`; the annual integrity evaluations on 1 January at
    00:20, their grading rule and training minimum kept in step with `settings`."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleSpec,
        ScheduleUpdate,
        ScheduleUpdateInput,
    )

    from appraisal.domain.evaluation import AnnualEvaluationsInput
    from appraisal.domain.integrity import GradingRule
    from appraisal.workflows.anchor import ANCHOR_SCHEDULE_ID, DailyAnchorInput, DailyAnchorWorkflow
    from appraisal.workflows.evaluation import ANNUAL_EVALUATION_SCHEDULE_ID, AnnualEvaluationsWorkflow
    from appraisal.workflows.inspection import (
        INSPECTION_SCHEDULE_ID,
        InspectionDrawInput,
        InspectionDrawWorkflow,
    )
    from appraisal.workflows.licence import LICENCE_SCHEDULE_ID, LicenceExpiryInput, LicenceExpiryWorkflow
    from appraisal.workflows.supervision import RATES_SCHEDULE_ID, SupervisionRatesWorkflow

    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            DailyAnchorWorkflow.run, DailyAnchorInput(), id="audit-daily-anchor-run", task_queue=task_queue
        ),
        spec=ScheduleSpec(cron_expressions=["30 0 * * *"], time_zone_name="Asia/Shanghai"),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(ANCHOR_SCHEDULE_ID, schedule)
    licence = Schedule(
        action=ScheduleActionStartWorkflow(
            LicenceExpiryWorkflow.run,
            LicenceExpiryInput(),
            id="registry-licence-expiry-run",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=["0 6 * * *"], time_zone_name="Asia/Shanghai"),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(LICENCE_SCHEDULE_ID, licence)
    rates = Schedule(
        action=ScheduleActionStartWorkflow(
            SupervisionRatesWorkflow.run, id="supervision-daily-rates-run", task_queue=task_queue
        ),
        spec=ScheduleSpec(cron_expressions=["30 6 * * *"], time_zone_name="Asia/Shanghai"),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(RATES_SCHEDULE_ID, rates)
    sizes = InspectionDrawInput(
        institutions=settings.inspection_institutions,
        case_files_per_institution=settings.inspection_case_files_per_institution,
        inspectors=settings.inspection_inspectors,
    )
    inspection = Schedule(
        action=ScheduleActionStartWorkflow(
            InspectionDrawWorkflow.run, sizes, id="supervision-monthly-inspection-run", task_queue=task_queue
        ),
        spec=ScheduleSpec(cron_expressions=["0 9 1 * *"], time_zone_name="Asia/Shanghai"),
    )

    def same_schedule_current_sizes(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=inspection)

    try:
        await client.create_schedule(INSPECTION_SCHEDULE_ID, inspection)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(INSPECTION_SCHEDULE_ID).update(same_schedule_current_sizes)
    evaluations = Schedule(
        action=ScheduleActionStartWorkflow(
            AnnualEvaluationsWorkflow.run,
            AnnualEvaluationsInput(
                grading=GradingRule(
                    dict(settings.integrity_deductions), dict(settings.integrity_grade_floors)
                ),
                training_min_hours=settings.training_min_hours,
            ),
            id="supervision-annual-evaluation-run",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=["20 0 1 1 *"], time_zone_name="Asia/Shanghai"),
    )

    def same_schedule_current_rule(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=evaluations)

    try:
        await client.create_schedule(ANNUAL_EVALUATION_SCHEDULE_ID, evaluations)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(ANNUAL_EVALUATION_SCHEDULE_ID).update(same_schedule_current_rule)
