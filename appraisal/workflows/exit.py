"""The exit fan-out (健全淘汰退出机制): one workflow per registry exit notice signals
`registry_status_changed` to every running commission the institution or appraiser holds,
a page at a time (an activity reads each page by id), continuing as new every few pages so
its history stays short however many it holds, and resuming where it stopped after any
failure. A suspension with a last day then sleeps on a durable timer until the day after
it, writes the end into the registry (through its one hook) and carries the restoration to
the same commissions the same way."""

import asyncio
from datetime import datetime, time, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

from appraisal.domain.calendar import CHINA_TZ, local_today
from appraisal.domain.exit import (
    ExitFanOutInput,
    ExitFanOutResult,
    ExitStarted,
    HeldPageRequest,
    RegistryExit,
    SuspensionEnd,
)

with workflow.unsafe.imports_passed_through():
    from appraisal.activities.exit import ExitActivities

EXIT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
EXIT_TIMEOUT = timedelta(seconds=30)
SIGNAL = "registry_status_changed"


@workflow.defn
class RegistryExitWorkflow:
    @workflow.run
    async def run(self, inp: ExitFanOutInput) -> ExitFanOutResult:
        started = ExitStarted(exit_id=inp.exit_id, workflow_id=workflow.info().workflow_id)
        if not inp.after and not inp.signalled:
            await workflow.execute_activity_method(
                ExitActivities.mark_exit_started,
                started,
                start_to_close_timeout=EXIT_TIMEOUT,
                retry_policy=EXIT_RETRY,
            )
        notice, after, signalled = inp.notice, inp.after, inp.signalled
        for _ in range(inp.pages_per_run):
            page = await workflow.execute_activity_method(
                ExitActivities.held_commissions,
                HeldPageRequest(notice.entity_kind, notice.entity_id, after=after, limit=inp.batch),
                start_to_close_timeout=EXIT_TIMEOUT,
                retry_policy=EXIT_RETRY,
            )
            if not page.commissions:
                break
            told = await asyncio.gather(*(self._tell(wid, notice) for _, wid in page.commissions))
            signalled += sum(told)
            after = page.commissions[-1][0]
            if len(page.commissions) < inp.batch:
                break
        else:  # more pages may follow: a fresh history, from where this one stopped
            workflow.continue_as_new(
                ExitFanOutInput(
                    exit_id=inp.exit_id,
                    notice=notice,
                    after=after,
                    signalled=signalled,
                    restore_on=inp.restore_on,
                )
            )
        await workflow.execute_activity_method(
            ExitActivities.mark_exit_signalled,
            args=[started, signalled],
            start_to_close_timeout=EXIT_TIMEOUT,
            retry_policy=EXIT_RETRY,
        )
        if not inp.restore_on:
            return ExitFanOutResult(signalled=signalled)
        restore_at = datetime.combine(datetime.fromisoformat(inp.restore_on).date(), time(), tzinfo=CHINA_TZ)
        if restore_at > workflow.now():
            await workflow.sleep(restore_at - workflow.now(), summary="the suspension's last day ends")
        ended = await workflow.execute_activity_method(
            ExitActivities.end_suspension,
            SuspensionEnd(
                inp.exit_id,
                notice.entity_kind,
                notice.entity_id,
                notice.until,
                today=local_today(workflow.now()).isoformat(),
            ),
            start_to_close_timeout=EXIT_TIMEOUT,
            retry_policy=EXIT_RETRY,
        )
        if ended.notice is None:  # changed meanwhile: that change carries its own notice
            return ExitFanOutResult(signalled=signalled)
        workflow.continue_as_new(ExitFanOutInput(exit_id=ended.restored_exit_id, notice=ended.notice))

    async def _tell(self, workflow_id: str, notice: RegistryExit) -> int:
        """1 once the commission's workflow has the signal; 0 when it ended meanwhile."""
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(SIGNAL, notice)
        except FailureError:
            return 0
        return 1
