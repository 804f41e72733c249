"""Trivial workflows the benchmarks compare the product against, on the same
Temporal dev server. They live in an importable module (not `__main__`)
because the worker's sandbox re-imports workflow classes by module."""

from temporalio import workflow


@workflow.defn
class EmptyWorkflow:
    """Returns as soon as it runs: the floor for starting a workflow."""

    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn
class UpdateTargetWorkflow:
    """Waits for one Update, answers it at once, then completes: the floor for
    one step taken as a Temporal Update."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.query
    def ready(self) -> bool:
        return True

    @workflow.update
    def step(self, payload: str) -> str:
        self.done = True
        return payload
