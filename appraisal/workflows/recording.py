"""What the commission and complaint workflows share about recording an event
(the hash chain, the read model, the outbox) and delivering its notifications.

Recording is an activity through the task queue, never a local activity: a
local activity's input becomes durable only when its workflow task completes,
so a task retried after a worker crash could record a different event (another
time, or another Update first) under a sequence number already written, and
break the chain. The worker-kill drill showed exactly that (docs/benchmarks.md)."""

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

from appraisal.domain.audit import chain_hash
from appraisal.domain.events import AuditEvent, DeliveryRequest
from appraisal.domain.roles import Actor

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
