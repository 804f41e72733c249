import contextlib

from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from appraisal.settings import Settings
from appraisal.workflows import search_attributes


async def connect(settings: Settings) -> Client:
    return await Client.connect(settings.resolved_temporal_address(), namespace=settings.temporal_namespace)


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


async def ensure_schedules(client: Client, *, task_queue: str) -> None:
    """The daily audit anchor at 00:30 Beijing time; created once, kept if present."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleSpec,
    )

    from appraisal.workflows.anchor import ANCHOR_SCHEDULE_ID, DailyAnchorInput, DailyAnchorWorkflow

    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            DailyAnchorWorkflow.run, DailyAnchorInput(), id="audit-daily-anchor-run", task_queue=task_queue
        ),
        spec=ScheduleSpec(cron_expressions=["30 0 * * *"], time_zone_name="Asia/Shanghai"),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(ANCHOR_SCHEDULE_ID, schedule)
