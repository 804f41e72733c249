"""Who in the registry may be chosen or assigned today, and the licence renewal
tasks (REG-8) the daily LicenceExpiryWorkflow keeps in step with the registry."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.db.registry import sync_licence_tasks
from appraisal.domain.calendar import local_today


@dataclass
class LicenceSweepRequest:
    day: str
    """The day the sweep counts from (Asia/Shanghai), ISO."""


@dataclass
class LicenceSweepResult:
    opened: int
    closed: int
    exits_started: int = 0
    """Fan-outs of exit notices started by this sweep (lapsed licences, starts that failed)."""


class RegistryActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="sweep_licence_tasks")
    async def sweep_licence_tasks(self, request: LicenceSweepRequest) -> LicenceSweepResult:
        """Idempotent: a retry or a second run the same day opens and closes nothing more."""
        today = date.fromisoformat(request.day) if request.day else local_today(datetime.now(UTC))
        async with self.sessions() as session:
            opened, closed = await sync_licence_tasks(session, today=today)
            await session.commit()
        return LicenceSweepResult(opened=opened, closed=closed)
