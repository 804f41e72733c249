"""Side effects of the exit fan-out (workflows/exit.py): the pages of commissions an
institution or an appraiser holds, the notice marked started and counted, and a suspension's
end written to the registry through its one hook."""

from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.db.models import Commission
from appraisal.db.models import RegistryExit as RegistryExitRow
from appraisal.db.registry import end_suspension, fan_out_input, record_licence_lapses, unstarted_exits
from appraisal.domain.calendar import local_today
from appraisal.domain.exit import (
    ExitFanOutInput,
    ExitStarted,
    HeldPage,
    HeldPageRequest,
    SuspensionEnd,
    SuspensionEndResult,
)
from appraisal.domain.stages import TERMINAL_STAGES

ENDED = [s.value for s in TERMINAL_STAGES]


class ExitActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="held_commissions")
    async def held_commissions(self, request: HeldPageRequest) -> HeldPage:
        """The next page (by id) of the running commissions entrusted to the institution, or
        with the appraiser assigned."""
        holds = (
            col(Commission.institution_id) == request.entity_id
            if request.entity_kind == "institution"
            else col(Commission.appraiser_ids).contains([request.entity_id])
        )
        async with self.sessions() as session:
            rows = (
                await session.exec(
                    select(Commission.id, Commission.workflow_id)
                    .where(holds, col(Commission.stage).not_in(ENDED), col(Commission.id) > request.after)
                    .order_by(col(Commission.id))
                    .limit(request.limit)
                )
            ).all()
        return HeldPage(commissions=[(row_id, workflow_id) for row_id, workflow_id in rows])

    @activity.defn(name="mark_exit_started")
    async def mark_exit_started(self, started: ExitStarted) -> None:
        async with self.sessions() as session, session.begin():
            await session.exec(
                update(RegistryExitRow)
                .where(col(RegistryExitRow.id) == started.exit_id, col(RegistryExitRow.started_at).is_(None))
                .values(started_at=datetime.now(UTC))
            )

    @activity.defn(name="mark_exit_signalled")
    async def mark_exit_signalled(self, started: ExitStarted, signalled: int) -> None:
        async with self.sessions() as session, session.begin():
            await session.exec(
                update(RegistryExitRow)
                .where(col(RegistryExitRow.id) == started.exit_id)
                .values(signalled=signalled)
            )

    @activity.defn(name="end_suspension")
    async def end_suspension(self, end: SuspensionEnd) -> SuspensionEndResult:
        """Idempotent: the restoration notice is unique per (entity, last day)."""
        today = date.fromisoformat(end.today) if end.today else local_today(datetime.now(UTC))
        async with self.sessions() as session, session.begin():
            row = await end_suspension(
                session,
                kind=end.entity_kind,
                entity_id=end.entity_id,
                until=date.fromisoformat(end.until),
                today=max(today, date.fromisoformat(end.until)),
            )
            if row is None:
                row = (
                    await session.exec(
                        select(RegistryExitRow).where(
                            RegistryExitRow.dedupe_key
                            == f"suspension_ended:{end.entity_kind}:{end.entity_id}:{end.until}"
                        )
                    )
                ).first()
            if row is None:
                return SuspensionEndResult()
            inp = fan_out_input(row)
        return SuspensionEndResult(restored_exit_id=inp.exit_id, notice=inp.notice)

    @activity.defn(name="pending_exits")
    async def pending_exits(self, day: str) -> list[ExitFanOutInput]:
        """The lapsed licences of the day written as exit notices (REG-8), and every notice
        whose fan-out has not started yet (a start that failed is retried here, daily)."""
        today = date.fromisoformat(day) if day else local_today(datetime.now(UTC))
        async with self.sessions() as session, session.begin():
            await record_licence_lapses(session, today=today)
            return [fan_out_input(row) for row in await unstarted_exits(session)]
