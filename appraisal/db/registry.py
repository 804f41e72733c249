"""The registry in SQL: who may be chosen or assigned on a day, and the licence renewal
tasks (REG-8) kept in step with it."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db import seal
from appraisal.db.chain import next_link
from appraisal.db.models import Appraiser, Expert, FeeStandard, Institution, RegistryChange
from appraisal.db.models import RegistryExit as RegistryExitRow
from appraisal.domain.audit import chain_hash
from appraisal.domain.exit import (
    RESTORED,
    ExitFanOutInput,
    RegistryExit,
    exit_workflow_id,
    restore_day,
    rule_of,
)
from appraisal.domain.roles import Actor
from appraisal.domain.rules import LICENCE_ALERT_DAYS
from appraisal.domain.standing import exit_status

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


# ---- the registry's chain of changes, and the one place a change of standing takes effect ----


def kind_of(entity: Registered | Expert | FeeStandard) -> str:
    if isinstance(entity, FeeStandard):
        return "fee_standard"
    if isinstance(entity, Expert):
        return "expert"
    return "institution" if isinstance(entity, Institution) else "appraiser"


def chained_fields(row: RegistryChange) -> dict[str, Any]:
    """What a registry change's hash covers: every column but its id and its own hash."""
    return row.model_dump(mode="json", exclude={"id", "hash"})


async def record_change(
    session: AsyncSession,
    *,
    principal: Actor,
    entity: Registered | Expert | FeeStandard,
    bureau_id: str,
    action: str,
    before: dict[str, Any] | None,
    reason: str,
    occurred_at: datetime | None = None,
) -> RegistryChange:
    """Appends one change of `entity` (an institution, an appraiser or an expert of the pool, as
    it now stands) to the bureau's chain of registry changes; the caller's transaction commits it."""
    seq, prev_hash = await next_link(session, RegistryChange, partition="bureau_id", value=bureau_id)
    row = RegistryChange(
        bureau_id=bureau_id,
        seq=seq,
        entity_kind=kind_of(entity),
        entity_id=entity.id,
        action=action,
        actor_role=principal.role,
        actor_organisation_id=principal.organisation_id,
        actor_subject=principal.subject,
        occurred_at=occurred_at or datetime.now(UTC),
        before=before,
        after=entity.model_dump(mode="json"),
        reason=reason,
        prev_hash=prev_hash,
        hash="",
    )
    row.hash = chain_hash(row.prev_hash, chained_fields(row))
    session.add(row)
    return row


def _standing_of(record: dict[str, Any]) -> SimpleNamespace:
    """A registry row's JSON (a change's `before`) as the fields standing reads."""

    def day(value: Any) -> date | None:
        return date.fromisoformat(value) if value else None

    return SimpleNamespace(
        status=record.get("status", "active"),
        status_until=day(record.get("status_until")),
        licence_valid_until=day(record.get("licence_valid_until")),
    )


async def standing_changed(
    session: AsyncSession,
    *,
    entity: Registered,
    before: dict[str, Any] | None,
    principal: Actor,
    reason: str,
    today: date,
    bureau_id: str,
    dedupe_key: str | None = None,
    previously: str | None = None,
) -> RegistryExitRow | None:
    """THE one place where a change of an institution's or an appraiser's standing takes
    effect beyond its registry row: every registry write (a supervisor's status change or
    update, a penalty decision served, the daily licence sweep, a suspension's end) calls it
    in its own transaction, after changing the row. When the entity moves into or out of its
    running work (suspended, revoked, deregistered, licence lapsed, or restored) it writes the
    exit notice that the fan-out (`workflows/exit.py`, started by the caller after commit:
    `services/exit.start_fan_out`, or as a child by a workflow) carries to every commission the
    entity holds. An institution's seal certificates are revoked here too (a restored one gets a
    new certificate at its next sealing, or from the bureau's status change). `previously`: what kept it out before, when the caller knows better than
    today's reading of `before` (a suspension's last day just passed). Returns the notice,
    or None when the standing did not change."""
    old = previously or (exit_status(_standing_of(before), today) if before is not None else None)
    new = exit_status(entity, today)
    old_until = (before or {}).get("status_until") or None
    new_until = entity.status_until.isoformat() if entity.status_until else None
    if old == new and (new != "suspended" or old_until == new_until):
        return None
    if new is None and old is None:
        return None
    if new is not None and isinstance(entity, Institution):  # no seal while it may not act
        await seal.revoke_for_exit(session, entity.id, status=new, at=datetime.now(UTC))
    status = new or RESTORED
    kind = kind_of(entity)
    institution_id = entity.id if isinstance(entity, Institution) else entity.institution_id
    values = {
        "bureau_id": bureau_id,
        "entity_kind": kind,
        "entity_id": entity.id,
        "institution_id": institution_id,
        "status": status,
        "rule": rule_of(kind, new or old or ""),
        "reason": reason,
        "since": today,
        "until": entity.status_until if status == "suspended" else None,
        "dedupe_key": dedupe_key,
        "actor_role": principal.role,
        "actor_organisation_id": principal.organisation_id,
        "actor_subject": principal.subject,
        "created_at": datetime.now(UTC),
        "signalled": 0,
    }
    statement = insert(RegistryExitRow).values(**values)
    if dedupe_key:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    inserted = (await session.exec(statement.returning(col(RegistryExitRow.id)))).first()
    if inserted is None:
        return None
    return await session.get(RegistryExitRow, inserted[0])


def fan_out_input(row: RegistryExitRow) -> ExitFanOutInput:
    """What the fan-out of an exit notice starts from."""
    assert row.id is not None
    until = row.until.isoformat() if row.until else ""
    return ExitFanOutInput(
        exit_id=row.id,
        notice=RegistryExit(
            notice_id=exit_workflow_id(row.id),
            entity_kind=row.entity_kind,
            entity_id=row.entity_id,
            institution_id=row.institution_id,
            status=row.status,
            reason=row.reason,
            since=row.since.isoformat(),
            until=until,
            rule=row.rule,
            actor=Actor(row.actor_role, row.actor_organisation_id, row.actor_subject),
        ),
        restore_on=restore_day(until) if row.status == "suspended" else "",
    )


@dataclass
class Lapse:
    entity: Registered
    bureau_id: str


SYSTEM_SWEEP = Actor(role="system", organisation_id="", subject="licence-sweep")


async def record_licence_lapses(session: AsyncSession, *, today: date) -> int:
    """Each institution or appraiser whose licence lapsed (its last valid day is past) and is
    otherwise active gets one exit notice per licence date (REG-8); a rerun adds none.
    The caller commits."""
    lapsed: list[Lapse] = []
    candidates: list[Registered] = [
        *(
            await session.exec(
                select(Institution).where(
                    col(Institution.licence_valid_until) < today,
                    col(Institution.status).in_(("active", "suspended")),
                )
            )
        ).all(),
        *(
            await session.exec(
                select(Appraiser).where(
                    col(Appraiser.licence_valid_until) < today,
                    col(Appraiser.status).in_(("active", "suspended")),
                )
            )
        ).all(),
    ]
    for entity in candidates:
        if exit_status(entity, today) != "licence_lapsed":
            continue
        if isinstance(entity, Institution):
            bureau = entity.bureau_id
        else:
            institution = await session.get(Institution, entity.institution_id)
            bureau = institution.bureau_id if institution else ""
        lapsed.append(Lapse(entity, bureau))
    written = 0
    for lapse in lapsed:
        entity = lapse.entity
        assert entity.licence_valid_until is not None
        row = await standing_changed(
            session,
            entity=entity,
            before={**entity.model_dump(mode="json"), "licence_valid_until": None},
            principal=SYSTEM_SWEEP,
            reason=f"licence valid until {entity.licence_valid_until} lapsed (REG-8)",
            today=today,
            bureau_id=lapse.bureau_id,
            dedupe_key=f"licence_lapsed:{kind_of(entity)}:{entity.id}:{entity.licence_valid_until}",
        )
        written += row is not None
    return written


async def unstarted_exits(session: AsyncSession) -> list[RegistryExitRow]:
    """Exit notices whose fan-out has not started (its start failed, or is under way)."""
    rows = await session.exec(
        select(RegistryExitRow)
        .where(col(RegistryExitRow.started_at).is_(None))
        .order_by(col(RegistryExitRow.id))
    )
    return list(rows.all())


async def end_suspension(
    session: AsyncSession, *, kind: str, entity_id: str, until: date, today: date
) -> RegistryExitRow | None:
    """A suspension's last day has passed (the fan-out's durable timer): the entity is active
    again, recorded in the bureau's chain, and its commissions are told through the one hook.
    Nothing when the suspension was changed meanwhile (another change has its own notice)."""
    entity: Registered | None = await session.get(
        Institution if kind == "institution" else Appraiser, entity_id, with_for_update=True
    )
    if entity is None or entity.status != "suspended" or entity.status_until != until:
        return None
    if isinstance(entity, Institution):
        bureau_id = entity.bureau_id
    else:
        institution = await session.get(Institution, entity.institution_id)
        bureau_id = institution.bureau_id if institution else ""
    before = entity.model_dump(mode="json")
    entity.status, entity.status_until = "active", None
    reason = f"the suspension ended on {until} (its last day)"
    await record_change(
        session,
        principal=SYSTEM_SUSPENSION,
        entity=entity,
        bureau_id=bureau_id,
        action="status",
        before=before,
        reason=reason,
    )
    session.add(entity)
    await session.flush()
    return await standing_changed(
        session,
        entity=entity,
        before=before,
        principal=SYSTEM_SUSPENSION,
        reason=reason,
        today=today,
        bureau_id=bureau_id,
        previously="suspended",
        dedupe_key=f"suspension_ended:{kind}:{entity_id}:{until}",
    )


SYSTEM_SUSPENSION = Actor(role="system", organisation_id="", subject="suspension-end")
