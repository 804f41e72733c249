"""One step on a commission, as every step route takes it: the authorised principal's
step goes through services/steps (the same path as the workspace's forms) and the new
state comes back as the commission's public shape, with its sequence in X-Seq."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Response
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from appraisal.api.deps import CalendarDep, SessionDep, TemporalDep, TodayDep
from appraisal.api.policy import AuthorizedDep
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.roles import Actor
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.lifecycle import TestimonyPublic
from appraisal.services import commission as service
from appraisal.services import steps
from appraisal.services.consistency import SEQ_HEADER


@dataclass(frozen=True)
class CommissionSteps:
    principal: Actor
    session: AsyncSession
    client: Client
    calendar: WorkingCalendar
    today: date
    response: Response

    async def take(
        self, commission_id: str, step: steps.Step, body: BaseModel, *, item_id: str = ""
    ) -> CommissionPublic:
        snapshot = await steps.take(
            session=self.session,
            client=self.client,
            principal=self.principal,
            today=self.today,
            commission_id=commission_id,
            step=step,
            body=body,
            item_id=item_id,
        )
        return self.answer(snapshot)

    async def take_on_testimony(
        self, commission_id: str, step: steps.Step, body: BaseModel, testimony_id: str
    ) -> TestimonyPublic:
        snapshot = await steps.take(
            session=self.session,
            client=self.client,
            principal=self.principal,
            today=self.today,
            commission_id=commission_id,
            step=step,
            body=body,
            item_id=testimony_id,
        )
        return TestimonyPublic.model_validate(snapshot)

    def answer(self, snapshot: dict[str, Any]) -> CommissionPublic:
        """The commission's public shape after a step, with the sequence a read may wait for."""
        public = service.to_public(snapshot, calendar=self.calendar, today=self.today, viewer=self.principal)
        answered_at(self.response, public)
        return public

    async def update(self, workflow_id: str, update: Any, message: Any, *, what: str = "commission") -> Any:
        return await steps.update_workflow(
            client=self.client, workflow_id=workflow_id, update=update, message=message, what=what
        )


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
