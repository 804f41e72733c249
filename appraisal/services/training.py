"""Training (TRN-1, TRN-2): the courses the bureau (or whoever organises them for it) holds,
the attendance it enters or imports, each a link of the bureau's training chain; a completed
pre-service course lets an appraiser admitted here be assigned (a link of the registry chain);
the year's hours per appraiser against the minimum, their open tasks closed once reached."""

from datetime import UTC, date, datetime
from uuid import uuid4

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.chain import next_link
from appraisal.db.integrity import course_in_year, training_hours
from appraisal.db.models import Appraiser, Institution, TrainingChange, TrainingCourse, TrainingRecord
from appraisal.db.registry import record_change
from appraisal.db.training import sync_training_tasks
from appraisal.domain.audit import chain_hash
from appraisal.domain.errors import InvalidInput, NotFound
from appraisal.domain.roles import Actor, Role
from appraisal.domain.training import PRE_SERVICE, TrainingSweep, check_attendance, check_course
from appraisal.schemas.training import (
    AppraiserTraining,
    AttendanceCreate,
    AttendancePublic,
    AttendanceResult,
    CourseCreate,
    CoursePublic,
)


def change_fields(row: TrainingChange) -> dict[str, object]:
    """What a training change's hash covers: every column but its id and its own hash."""
    return row.model_dump(mode="json", exclude={"id", "hash"})


async def _link(
    session: AsyncSession,
    *,
    principal: Actor,
    action: str,
    course_id: str,
    appraiser_id: str | None,
    data: dict[str, object],
) -> None:
    seq, prev_hash = await next_link(
        session, TrainingChange, partition="bureau_id", value=principal.organisation_id
    )
    row = TrainingChange(
        bureau_id=principal.organisation_id,
        seq=seq,
        action=action,
        course_id=course_id,
        appraiser_id=appraiser_id,
        actor_role=principal.role,
        actor_organisation_id=principal.organisation_id,
        actor_subject=principal.subject,
        occurred_at=datetime.now(UTC),
        data=data,
        prev_hash=prev_hash,
        hash="",
    )
    row.hash = chain_hash(prev_hash, change_fields(row))
    session.add(row)


async def create_course(
    *, session: AsyncSession, principal: Actor, body: CourseCreate, now: datetime
) -> TrainingCourse:
    check_course(kind=body.kind, starts_on=body.starts_on, ends_on=body.ends_on, hours=body.hours)
    course = TrainingCourse(
        id=str(uuid4()),
        bureau_id=principal.organisation_id,
        kind=body.kind,
        title=body.title,
        organiser=body.organiser,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        hours=body.hours,
        created_by=principal.subject,
        created_at=now,
    )
    session.add(course)
    await _link(
        session,
        principal=principal,
        action="course_created",
        course_id=course.id,
        appraiser_id=None,
        data=course.model_dump(mode="json", exclude={"created_at"}),
    )
    await session.commit()
    await session.refresh(course)
    return course


async def course_in_bureau(*, session: AsyncSession, principal: Actor, course_id: str) -> TrainingCourse:
    """404 unless the course is the supervisor's bureau's."""
    course = await session.get(TrainingCourse, course_id)
    if course is None or course.bureau_id != principal.organisation_id:
        raise NotFound("course")
    return course


async def record_attendance(
    *,
    session: AsyncSession,
    principal: Actor,
    course_id: str,
    body: AttendanceCreate,
    now: datetime,
    min_hours: int,
) -> AttendanceResult:
    """Every record in one transaction (a list imported in one go); an appraiser listed again
    replaces their earlier record of the course."""
    course = await course_in_bureau(session=session, principal=principal, course_id=course_id)
    ids = [r.appraiser_id for r in body.records]
    found = {
        a.id: a
        for a in (
            await session.exec(
                select(Appraiser)
                .join(Institution, col(Institution.id) == col(Appraiser.institution_id))
                .where(col(Appraiser.id).in_(ids), Institution.bureau_id == principal.organisation_id)
            )
        ).all()
    }
    trained: list[str] = []
    for index, record in enumerate(body.records):
        appraiser = found.get(record.appraiser_id)
        if appraiser is None:
            raise InvalidInput(
                f"records.{index}.appraiser_id", f"no appraiser {record.appraiser_id} under this bureau"
            )
        hours = course.hours if record.hours is None else record.hours
        check_attendance(hours=hours, course_hours=course.hours)
        values = {
            "course_id": course.id,
            "appraiser_id": appraiser.id,
            "hours": hours,
            "completed": record.completed,
            "recorded_by": principal.subject,
            "recorded_at": now,
        }
        upsert = insert(TrainingRecord).values(**values)
        await session.exec(
            upsert.on_conflict_do_update(
                index_elements=["course_id", "appraiser_id"],
                set_={k: upsert.excluded[k] for k in ("hours", "completed", "recorded_by", "recorded_at")},
            )
        )
        await _link(
            session,
            principal=principal,
            action="attendance_recorded",
            course_id=course.id,
            appraiser_id=appraiser.id,
            data={"hours": hours, "completed": record.completed, "kind": course.kind},
        )
        if course.kind == PRE_SERVICE and record.completed and appraiser.needs_pre_service_training:
            before = appraiser.model_dump(mode="json")
            appraiser.needs_pre_service_training = False
            session.add(appraiser)
            await session.flush()
            await record_change(
                session,
                bureau_id=principal.organisation_id,
                entity=appraiser,
                action="updated",
                principal=principal,
                before=before,
                reason=f"pre-service training completed (TRN-1): {course.title}",
                occurred_at=now,
            )
            trained.append(appraiser.id)
    await session.flush()
    await sync_training_tasks(
        session,
        TrainingSweep(
            bureau_id=principal.organisation_id,
            year=course.ends_on.year,
            min_hours=min_hours,
            at=now,
            open_new=False,
        ),
    )
    await session.commit()
    return AttendanceResult(course_id=course.id, recorded=len(body.records), pre_service_completed=trained)


async def list_courses(*, session: AsyncSession, bureau_id: str, year: int | None) -> list[CoursePublic]:
    attendees = (
        select(TrainingRecord.course_id, func.count().label("n"))
        .group_by(col(TrainingRecord.course_id))
        .subquery()
    )
    query = (
        select(TrainingCourse, func.coalesce(attendees.c.n, 0))
        .outerjoin(attendees, attendees.c.course_id == col(TrainingCourse.id))
        .where(TrainingCourse.bureau_id == bureau_id)
    )
    if year is not None:
        query = query.where(course_in_year(year))
    rows = (await session.exec(query.order_by(col(TrainingCourse.starts_on).desc()))).all()
    return [CoursePublic.model_validate({**c.model_dump(), "attendees": int(n)}) for c, n in rows]


async def appraiser_in_scope(*, session: AsyncSession, principal: Actor, appraiser_id: str) -> Appraiser:
    """The bureau its appraisers; an institution its own; an appraiser themself. 404 otherwise."""
    row = (
        await session.exec(
            select(Appraiser, Institution)
            .join(Institution, col(Institution.id) == col(Appraiser.institution_id))
            .where(Appraiser.id == appraiser_id)
        )
    ).first()
    if row is not None:
        appraiser, institution = row
        allowed = {
            Role.SUPERVISOR: institution.bureau_id,
            Role.INSTITUTION: institution.id,
            Role.INSTITUTION_HEAD: institution.id,
            Role.APPRAISER: appraiser.id,
        }
        if allowed.get(Role(principal.role)) == principal.organisation_id:
            return appraiser
    raise NotFound("appraiser")


async def appraiser_training(
    *, session: AsyncSession, principal: Actor, appraiser_id: str, year: int, min_hours: int
) -> AppraiserTraining:
    appraiser = await appraiser_in_scope(session=session, principal=principal, appraiser_id=appraiser_id)
    hours = (await training_hours(session, appraiser_ids=[appraiser.id], year=year)).get(appraiser.id, 0)
    rows = (
        await session.exec(
            select(TrainingRecord, TrainingCourse)
            .join(TrainingCourse, col(TrainingCourse.id) == col(TrainingRecord.course_id))
            .where(TrainingRecord.appraiser_id == appraiser.id)
            .order_by(col(TrainingCourse.ends_on).desc())
        )
    ).all()
    return AppraiserTraining(
        appraiser_id=appraiser.id,
        name=appraiser.name,
        institution_id=appraiser.institution_id,
        year=year,
        required_hours=min_hours,
        in_service_hours=hours,
        short_by=max(0, min_hours - hours),
        needs_pre_service_training=appraiser.needs_pre_service_training,
        records=[
            AttendancePublic(
                course_id=course.id,
                title=course.title,
                kind=course.kind,
                ends_on=course.ends_on,
                appraiser_id=record.appraiser_id,
                hours=record.hours,
                completed=record.completed,
                recorded_at=record.recorded_at,
            )
            for record, course in rows
        ],
    )


def default_year(today: date, year: int | None) -> int:
    if year is not None and year > today.year:
        raise InvalidInput("year", f"{year} has not begun")
    return year or today.year
