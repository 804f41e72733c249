"""What the commission and complaint workflows share about recording an event
(the hash chain, the read model, the outbox) and delivering its notifications.

Recording is an activity through the task queue, never a local activity: a
local activity's input becomes durable only when its workflow task completes,
so a task retried after a worker crash could record a different event (another
time, or another Update first) under a sequence number already written, and
break the chain. The worker-kill drill showed exactly that (docs/benchmarks.md)."""

from datetime import timedelta

from temporalio.common import RetryPolicy

RECORDING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=1)
)
"""Until PostgreSQL answers: an event is never dropped, only late."""
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=30)
)
