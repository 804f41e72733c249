"""What the commission and complaint workflows share about recording an event
(the hash chain, the read model, the outbox) and delivering its notifications.

On the current shape recording is a local activity, run inside the step's own
workflow task: the step's Update, its event and its projection complete together,
in one task. A local activity's input becomes durable only when that task
completes, so a task retried after its worker died records a different event
(another time, or another Update first) under a sequence number the dead attempt
already wrote; the recording activity then replaces that attempt's events from this
number on, and refuses the older write of an attempt still running past its
timeout (activities/commission.py, `append_event`). The worker-kill drill checks
every chain afterwards (docs/benchmarks.md). Older histories recorded through an
activity on the task queue, a second workflow task per step."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

from appraisal.domain.audit import chain_hash
from appraisal.domain.events import AuditEvent, DeliveryRequest
from appraisal.domain.roles import Actor
from appraisal.workflows.versions import Versions

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.notification import NotificationActivities

RECORDING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=1)
)
"""Until PostgreSQL answers: an event is never dropped, only late."""
RECORDING_TIMEOUT = timedelta(seconds=5)
"""A recording takes milliseconds; one whose worker died is tried again on another after this
(the worker-kill drill's recovery time: docs/benchmarks.md)."""
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=30)
)


Activities = TypeVar("Activities")
Recorded = TypeVar("Recorded")
Projection = TypeVar("Projection")


async def record_event(
    versions: Versions,
    recording: Callable[[Activities, Projection], Awaitable[Recorded]],
    projection: Projection,
) -> Recorded:
    """Records one event: in this workflow task on the current shape, else on the task queue."""
    if versions.current:
        return await workflow.execute_local_activity_method(
            recording, projection, start_to_close_timeout=RECORDING_TIMEOUT, retry_policy=RECORDING_RETRY
        )
    return await workflow.execute_activity_method(
        recording, projection, start_to_close_timeout=RECORDING_TIMEOUT, retry_policy=RECORDING_RETRY
    )


def chained_event(
    *, subject_id: str, seq: int, kind: str, actor: Actor, data: dict[str, Any], prev_hash: str
) -> AuditEvent:
    """The workflow's next audit event, now, its hash chained to the one before."""
    event = AuditEvent(
        workflow_id=workflow.info().workflow_id,
        commission_id=subject_id,
        seq=seq,
        kind=kind,
        actor_role=actor.role,
        actor_organisation_id=actor.organisation_id,
        actor_subject=actor.subject,
        occurred_at=workflow.now(),
        data=data,
        prev_hash=prev_hash,
    )
    event.hash = chain_hash(prev_hash, event.chained_fields())
    return event


def start_delivery(event: AuditEvent) -> workflow.ActivityHandle[Any]:
    """Delivers the event's notifications to their webhooks, retried for up to a week."""
    return workflow.start_activity_method(
        NotificationActivities.deliver_notifications,
        DeliveryRequest(workflow_id=event.workflow_id, event_seq=event.seq),
        start_to_close_timeout=timedelta(seconds=60),
        schedule_to_close_timeout=timedelta(days=7),
        retry_policy=DELIVERY_RETRY,
    )
