"""The registry in SQL: who may be chosen or assigned on a day, and the licence renewal
tasks (REG-8) kept in step with it."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.chain import next_link
from appraisal.db.models import Appraiser, Expert, Institution, RegistryChange
from appraisal.domain.audit import chain_hash
from appraisal.domain.roles import Actor
from appraisal.domain.rules import LICENCE_ALERT_DAYS

Registered = Institution | Appraiser


def eligible(model: type[Institution] | type[Appraiser], today: date) -> ColumnElement[bool]:
    """May be chosen or assigned today: active (or past the last day of a
    suspension), and its licence not expired; an appraiser also through pre-service
    training when admitted here (TRN-1)."""
    status, until, licence = col(model.status), col(model.status_until), col(model.licence_valid_until)
    suspension_over = and_(status == "suspended", until.is_not(None), until < today)
    licensed = or_(licence.is_(None), licence >= today)
    standing = and_(or_(status == "active", suspension_over), licensed)
    if model is Appraiser:
        return and_(standing, col(Appraiser.needs_pre_service_training).is_(False))
    return standing


# Both statements keep one open task per (entity, licence date) due within the
# window, and close the open ones whose entity now has another date or is revoked.
OPEN_DUE = text(
    """
    insert into licence_task (entity_kind, entity_id, bureau_id, licence_valid_until, opened_at, closed_reason)
    select 'institution', i.id, i.bureau_id, i.licence_valid_until, cast(:now as timestamptz), ''
    from institution i
    where i.licence_valid_until <= :horizon and i.status <> 'revoked' and (:entity_id = '' or i.id = :entity_id)
    union all
    select 'appraiser', a.id, i.bureau_id, a.licence_valid_until, cast(:now as timestamptz), ''
    from appraiser a join institution i on i.id = a.institution_id
    where a.licence_valid_until <= :horizon and a.status <> 'revoked' and (:entity_id = '' or a.id = :entity_id)
    on conflict (entity_kind, entity_id, licence_valid_until) do nothing
    """
)
CLOSE_STALE = text(
    """
    update licence_task t
    set closed_at = :now,
        closed_reason = case when e.status = 'revoked' then 'registration revoked'
                             when e.licence_valid_until is null then 'licence date cleared'
                             else 'licence renewed until ' || e.licence_valid_until end
    from (
        select 'institution' as kind, id, status, licence_valid_until from institution
        union all
        select 'appraiser', id, status, licence_valid_until from appraiser
    ) e
    where t.closed_at is null and e.kind = t.entity_kind and e.id = t.entity_id
      and (:entity_id = '' or t.entity_id = :entity_id)
      and (e.status = 'revoked' or e.licence_valid_until is distinct from t.licence_valid_until)
    """
)


# The open licence tasks are also rows of the supervisors' inbox (GET /v1/tasks).
INBOX_DROP_CLOSED = text(
    """
    delete from task
    where licence_task_id in (select id from licence_task where closed_at is not null)
    """
)
INBOX_ADD_OPEN = text(
    """
    insert into task (licence_task_id, kind, assignee_role, assignee_id, due_on, rule)
    select t.id, 'renew_licence', 'supervisor', t.bureau_id, t.licence_valid_until, 'REG-8'
    from licence_task t
    where t.closed_at is null and not exists (select 1 from task i where i.licence_task_id = t.id)
    """
)


async def sync_licence_tasks(session: AsyncSession, *, today: date, entity_id: str = "") -> tuple[int, int]:
    """Opens the REG-8 tasks now due and closes those a renewal or a revocation
    settled, for every entity or just `entity_id`; idempotent. Returns (opened, closed).
    The caller commits."""
    params: dict[str, Any] = {
        "now": datetime.now(UTC),
        "horizon": today + timedelta(days=LICENCE_ALERT_DAYS),
        "entity_id": entity_id,
    }
    connection = await session.connection()  # the session's transaction
    closed = await connection.execute(CLOSE_STALE, params)
    opened = await connection.execute(OPEN_DUE, params)
    await connection.execute(INBOX_DROP_CLOSED)
    await connection.execute(INBOX_ADD_OPEN)
    return opened.rowcount, closed.rowcount


def registry_change_fields(row: RegistryChange) -> dict[str, Any]:
    """What a registry change's hash covers: every column but its id and its own hash."""
    return row.model_dump(mode="json", exclude={"id", "hash"})


async def append_registry_change(
    session: AsyncSession,
    *,
    bureau_id: str,
    entity: Registered | Expert,
    action: str,
    actor: Actor,
    before: dict[str, Any] | None,
    reason: str,
    occurred_at: datetime,
) -> None:
    """Appends one change of `entity` (an institution, an appraiser or an expert of the pool,
    as it now stands) to the bureau's chain of registry changes; the caller's transaction
    commits it."""
    seq, prev_hash = await next_link(session, RegistryChange, partition="bureau_id", value=bureau_id)
    row = RegistryChange(
        bureau_id=bureau_id,
        seq=seq,
        entity_kind=type(entity).__name__.lower(),
        entity_id=entity.id,
        action=action,
        actor_role=actor.role,
        actor_organisation_id=actor.organisation_id,
        actor_subject=actor.subject,
        occurred_at=occurred_at,
        before=before,
        after=entity.model_dump(mode="json"),
        reason=reason,
        prev_hash=prev_hash,
        hash="",
    )
    row.hash = chain_hash(row.prev_hash, registry_change_fields(row))
    session.add(row)
