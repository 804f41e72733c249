"""What the commission and complaint workflows share about recording an event
(the hash chain, the read model, the outbox) and delivering its notifications."""

from datetime import timedelta

from temporalio.common import RetryPolicy

RECORDING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=1)
)
"""Until PostgreSQL answers: an event is never dropped, only late."""
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=30)
)
RECORD_AS_LOCAL_ACTIVITY = "record-as-local-activity"
"""Patch: record each event in a local activity, inside the workflow task that made
it, instead of a round trip through the task queue (half the history events and
workflow tasks of a step). Histories from before it keep replaying the old path."""
