"""Training in SQL: the appraisers of a bureau short of the year's in-service hours, and the
training tasks (TRN-3) kept in step with their hours, in the inbox of each appraiser and of
their institution."""

from datetime import UTC, datetime

from sqlalchemy import delete, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.integrity import training_hours
from appraisal.db.models import Appraiser, Institution, Task, TrainingTask
from appraisal.domain.training import TrainingSweep, TrainingSweepResult

TRAINING_TASK_KIND = "complete_training_hours"


async def practising(session: AsyncSession, *, bureau_id: str) -> list[Appraiser]:
    """The appraisers of the bureau's institutions whose registration is not revoked."""
    rows = await session.exec(
        select(Appraiser)
        .join(Institution, col(Institution.id) == col(Appraiser.institution_id))
        .where(Institution.bureau_id == bureau_id, Appraiser.status != "revoked")
        .order_by(col(Appraiser.id))
    )
    return list(rows.all())


INBOX_ADD_OPEN = text(
    """
    insert into task (training_task_id, kind, assignee_role, assignee_id, due_on, rule)
    select t.id, :kind, who.role, case when who.role = 'appraiser' then t.appraiser_id else t.institution_id end,
           make_date(t.year, 12, 31), 'TRN-2'
    from training_task t cross join (values ('appraiser'), ('institution')) as who(role)
    where t.closed_at is null and (:bureau_id = '' or t.bureau_id = :bureau_id)
      and not exists (select 1 from task i where i.training_task_id = t.id and i.assignee_role = who.role)
    """
)


async def sync_training_tasks(session: AsyncSession, sweep: TrainingSweep) -> TrainingSweepResult:
    """Idempotent: updates the open tasks' hours, closes those whose hours are reached, and
    (when `open_new`) opens one for every appraiser still short; the inbox follows. The
    caller commits."""
    now = sweep.at or datetime.now(UTC)
    appraisers = await practising(session, bureau_id=sweep.bureau_id)
    hours = await training_hours(session, appraiser_ids=[a.id for a in appraisers], year=sweep.year)
    short = {a.id: a for a in appraisers if hours.get(a.id, 0) < sweep.min_hours}
    result = TrainingSweepResult(short=len(short))
    open_tasks = (
        await session.exec(
            select(TrainingTask).where(
                TrainingTask.bureau_id == sweep.bureau_id,
                TrainingTask.year == sweep.year,
                col(TrainingTask.closed_at).is_(None),
            )
        )
    ).all()
    known = {t.appraiser_id for t in open_tasks}
    for task in open_tasks:
        task.hours_done = hours.get(task.appraiser_id, 0)
        if task.appraiser_id not in short:
            task.closed_at, task.closed_reason = now, f"{task.hours_done} hours reached"
            result.closed += 1
        session.add(task)
    if sweep.open_new:
        for appraiser in short.values():
            if appraiser.id in known:
                continue
            existing = (
                await session.exec(
                    select(TrainingTask).where(
                        TrainingTask.appraiser_id == appraiser.id, TrainingTask.year == sweep.year
                    )
                )
            ).first()
            if existing is None:
                session.add(
                    TrainingTask(
                        appraiser_id=appraiser.id,
                        institution_id=appraiser.institution_id,
                        bureau_id=sweep.bureau_id,
                        year=sweep.year,
                        hours_done=hours.get(appraiser.id, 0),
                        hours_required=sweep.min_hours,
                        opened_at=now,
                    )
                )
                result.opened += 1
                result.warned.append(appraiser.id)
                if appraiser.institution_id not in result.institutions:
                    result.institutions.append(appraiser.institution_id)
    await session.flush()
    await _inbox(session, bureau_id=sweep.bureau_id)
    return result


async def close_training_tasks(
    session: AsyncSession, *, bureau_id: str, year: int, reason: str, now: datetime
) -> None:
    """The year is evaluated: its open tasks close (the shortfall is in the integrity record)."""
    for task in (
        await session.exec(
            select(TrainingTask).where(
                TrainingTask.bureau_id == bureau_id,
                TrainingTask.year == year,
                col(TrainingTask.closed_at).is_(None),
            )
        )
    ).all():
        task.closed_at, task.closed_reason = now, reason
        session.add(task)
    await session.flush()
    await _inbox(session, bureau_id=bureau_id)


async def _inbox(session: AsyncSession, *, bureau_id: str) -> None:
    closed = select(TrainingTask.id).where(col(TrainingTask.closed_at).is_not(None))
    await session.exec(delete(Task).where(col(Task.training_task_id).in_(closed)))
    connection = await session.connection()
    await connection.execute(INBOX_ADD_OPEN, {"kind": TRAINING_TASK_KIND, "bureau_id": bureau_id})
