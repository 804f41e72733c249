"""The daily alert sweep of supervision analytics: each bureau's unusual rates raise (and, once
usual again, close) a task for the bureau (SUP-1)."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.db.supervision import bureau_ids, sync_alerts


@dataclass
class RateAlertsResult:
    opened: int = 0
    closed: int = 0


class SupervisionActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="sync_rate_alerts")
    async def sync_rate_alerts(self) -> RateAlertsResult:
        """Idempotent: a rerun opens and closes nothing more."""
        result = RateAlertsResult()
        async with self.sessions() as session:
            for bureau_id in await bureau_ids(session):
                opened, closed = await sync_alerts(session, bureau_id=bureau_id)
                result.opened += opened
                result.closed += closed
            await session.commit()
        return result
