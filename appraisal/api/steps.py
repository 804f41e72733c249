"""One step on a commission, as every step route takes it: the authorised
principal finds the commission in its scope, the Update goes to its workflow
(whose validator decides whether the step is allowed now), and the new state
comes back as the commission's public shape."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Response
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from appraisal.api.deps import CalendarDep, SessionDep, TemporalDep, TodayDep
from appraisal.api.policy import AuthorizedDep
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.errors import RuleViolation
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Actor
from appraisal.domain.stages import TERMINAL_STAGES
from appraisal.schemas.commission import CommissionPublic
from appraisal.services import commission as service
from appraisal.services.consistency import SEQ_HEADER


@dataclass(frozen=True)
class CommissionSteps:
    principal: Actor
    session: AsyncSession
    client: Client
    calendar: WorkingCalendar
    today: date
    response: Response

    async def send(self, commission_id: str, update: Any, message: Any) -> CommissionPublic:
        row = await service.load_in_scope(
            session=self.session, principal=self.principal, commission_id=commission_id
        )
        if row.stage in TERMINAL_STAGES:  # its workflow has ended: no Update can reach it
            raise RuleViolation("not_in_stage", f"the commission is {row.stage}; no step remains")
        snapshot = await self.update(row.workflow_id, update, message)
        public = service.to_public(jsonable(snapshot), calendar=self.calendar, today=self.today)
        answered_at(self.response, public)
        return public

    async def update(self, workflow_id: str, update: Any, message: Any, *, what: str = "commission") -> Any:
        """The Update to a workflow (of a commission or its testimony) that its read model
        showed still running."""
        try:
            return await self.client.get_workflow_handle(workflow_id).execute_update(update, message)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            # The row is there, so its workflow ended after the row was read: a step that
            # ended it (perhaps this caller's own, repeated) went through meanwhile.
            raise RuleViolation("not_in_stage", f"the {what} has ended; no step remains") from err


def answered_at(response: Response, commission: CommissionPublic) -> None:
    """The commission's event sequence once the step is durable in its workflow (the
    read model may follow a moment later): what a read takes back as X-Min-Seq."""
    response.headers[SEQ_HEADER] = str(commission.last_event_seq)


def commission_steps(
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
    response: Response,
) -> CommissionSteps:
    return CommissionSteps(principal, session, client, calendar, today, response)


StepsDep = Annotated[CommissionSteps, Depends(commission_steps)]
