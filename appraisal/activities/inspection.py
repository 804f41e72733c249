"""Random inspections (双随机一公开): draw institutions of a bureau, case files of
each and inspectors, from a seed anyone can re-run; store every list drawn from."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.db.inspection import InspectionSizes, draw_and_store
from appraisal.db.models import Bureau
from appraisal.domain.errors import RuleViolation

INSPECTION_NAMESPACE = uuid.UUID("5d0c7b9e-3f1a-5c2d-8e4b-6a7f8091a2b3")


def scheduled_inspection_id(bureau_id: str, period: str) -> str:
    """One scheduled draw per bureau and month, however often the schedule fires."""
    return str(uuid.uuid5(INSPECTION_NAMESPACE, f"{bureau_id}\n{period}\nscheduled"))


@dataclass
class BureauListRequest:
    pass


@dataclass
class BureauList:
    bureau_ids: list[str] = field(default_factory=list)


@dataclass
class ScheduledDrawRequest:
    bureau_id: str
    period: str
    seed: int
    institutions: int
    case_files_per_institution: int
    inspectors: int
    drawn_at: str = ""
    """The schedule's instant (ISO), which decides who is eligible; empty in histories
    recorded before it was passed, then the activity's own clock."""


@dataclass
class ScheduledDrawResult:
    inspection_id: str = ""
    skipped: str = ""
    """Why nothing was drawn (no active institution, no inspector)."""


class InspectionActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="list_bureaus")
    async def list_bureaus(self, _: BureauListRequest) -> BureauList:
        async with self.sessions() as session:
            ids = (await session.exec(select(Bureau.id).order_by(col(Bureau.id)))).all()
        return BureauList(bureau_ids=list(ids))

    @activity.defn(name="draw_scheduled_inspection")
    async def draw_scheduled_inspection(self, request: ScheduledDrawRequest) -> ScheduledDrawResult:
        """Idempotent: the id follows from (bureau, period), so a retry or a second
        run of the month returns the draw already stored."""
        sizes = InspectionSizes(request.institutions, request.case_files_per_institution, request.inspectors)
        async with self.sessions() as session:
            try:
                stored = await draw_and_store(
                    session,
                    inspection_id=scheduled_inspection_id(request.bureau_id, request.period),
                    bureau_id=request.bureau_id,
                    seed=request.seed,
                    sizes=sizes,
                    period=request.period,
                    origin="scheduled",
                    drawn_by="monthly schedule",
                    drawn_at=datetime.fromisoformat(request.drawn_at)
                    if request.drawn_at
                    else datetime.now(UTC),
                )
            except RuleViolation as err:
                return ScheduledDrawResult(skipped=err.message)
        return ScheduledDrawResult(inspection_id=stored.id)
