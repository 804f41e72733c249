"""The Temporal worker: every workflow and activity of the product."""

import asyncio

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.worker import Worker

from appraisal.activities.calendar import CalendarActivities
from appraisal.activities.clock import ClockActivities
from appraisal.activities.commission import CommissionActivities
from appraisal.activities.notification import NotificationActivities
from appraisal.db.engine import create_engine, session_factory
from appraisal.settings import Settings
from appraisal.temporal import connect
from appraisal.workflows.calendar import CalendarReloadWorkflow
from appraisal.workflows.commission import CommissionWorkflow

WORKFLOWS = [CommissionWorkflow, CalendarReloadWorkflow]


def build_worker(client: Client, *, task_queue: str, sessions: async_sessionmaker[AsyncSession]) -> Worker:
    commission = CommissionActivities(sessions)
    clock = ClockActivities(sessions)
    notification = NotificationActivities(sessions)
    calendar = CalendarActivities(sessions, client)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            clock.plan_clock,
            commission.record_commission_event,
            notification.deliver_notifications,
            calendar.signal_running_commissions,
        ],
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    client = await connect(settings)
    engine = create_engine(settings)
    worker = build_worker(client, task_queue=settings.task_queue, sessions=session_factory(engine))
    try:
        async with worker:
            await (stop or asyncio.Event()).wait()
    finally:
        await engine.dispose()
