from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from appraisal.db.models import Admission, Commission, Complaint, IntegrityEvaluation, PenaltyCase
from appraisal.domain.admission import TERMINAL_ADMISSION_STAGES
from appraisal.domain.commission import CalendarChanged
from appraisal.domain.complaint import TERMINAL_COMPLAINT_STAGES
from appraisal.domain.evaluation import EvaluationStage
from appraisal.domain.penalty import TERMINAL_PENALTY_STAGES
from appraisal.domain.stages import TERMINAL_STAGES

PAGE = 500

# Every workflow that runs statutory clocks, with the stages in which it has ended. New ones
# go at the end: a retried walk resumes from the index its heartbeat recorded.
CLOCKED: list[tuple[type[SQLModel], list[str]]] = [
    (Commission, [s.value for s in TERMINAL_STAGES]),
    (Complaint, [s.value for s in TERMINAL_COMPLAINT_STAGES]),
    (PenaltyCase, [s.value for s in TERMINAL_PENALTY_STAGES]),
    (Admission, [s.value for s in TERMINAL_ADMISSION_STAGES]),
    (IntegrityEvaluation, [EvaluationStage.PUBLISHED.value]),
]


class CalendarActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: Client) -> None:
        self.sessions = sessions
        self.client = client

    @activity.defn(name="signal_running_commissions")
    async def signal_running_commissions(self, change: CalendarChanged) -> int:
        """Signals `recompute_clocks` to every commission, complaint, registration application
        and annual evaluation not yet ended, table by table in id order; the heartbeat carries the table and
        the last id done, so a retry resumes where it stopped."""
        details = activity.info().heartbeat_details
        table_index = int(details[0]) if details else 0
        after = str(details[1]) if details else ""
        signalled = int(details[2]) if details else 0
        for index in range(table_index, len(CLOCKED)):
            table, ended = CLOCKED[index]
            if index != table_index:
                after = ""
            while True:
                async with self.sessions() as session:
                    page = (
                        await session.exec(
                            select(table.id, table.workflow_id)  # type: ignore[attr-defined]
                            .where(col(table.id) > after, col(table.stage).not_in(ended))  # type: ignore[attr-defined]
                            .order_by(col(table.id))  # type: ignore[attr-defined]
                            .limit(PAGE)
                        )
                    ).all()
                if not page:
                    break
                for row_id, workflow_id in page:
                    try:
                        await self.client.get_workflow_handle(workflow_id).signal("recompute_clocks", change)
                        signalled += 1
                    except RPCError as err:
                        if err.status != RPCStatusCode.NOT_FOUND:  # ended meanwhile: nothing to recompute
                            raise
                    after = row_id
                activity.heartbeat(index, after, signalled)
        return signalled
