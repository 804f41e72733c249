from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from appraisal.db.models import Commission
from appraisal.domain.commission import CalendarChanged
from appraisal.domain.stages import TERMINAL_STAGES

PAGE = 500


class CalendarActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: Client) -> None:
        self.sessions = sessions
        self.client = client

    @activity.defn(name="signal_running_commissions")
    async def signal_running_commissions(self, change: CalendarChanged) -> int:
        """Signals `recompute_clocks` to every commission not yet ended, in id
        order; the heartbeat carries the last id done, so a retry resumes."""
        details = activity.info().heartbeat_details
        after = str(details[0]) if details else ""
        signalled = int(details[1]) if details else 0
        ended = [s.value for s in TERMINAL_STAGES]
        while True:
            async with self.sessions() as session:
                page = (
                    await session.exec(
                        select(Commission.id, Commission.workflow_id)
                        .where(col(Commission.id) > after, col(Commission.stage).not_in(ended))
                        .order_by(col(Commission.id))
                        .limit(PAGE)
                    )
                ).all()
            if not page:
                return signalled
            for commission_id, workflow_id in page:
                try:
                    await self.client.get_workflow_handle(workflow_id).signal("recompute_clocks", change)
                    signalled += 1
                except RPCError as err:
                    if err.status != RPCStatusCode.NOT_FOUND:  # ended meanwhile: nothing to recompute
                        raise
                after = commission_id
            activity.heartbeat(after, signalled)
