"""Side effects of the registration application workflow: the audit trail, the
notification outbox, the application's read model and its inbox tasks in one transaction,
idempotent on (workflow id, seq); and the approval's registry entry with its licence (and
the appraiser's signing key), idempotent on the application."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.activities.commission import append_event, replace_tasks
from appraisal.db.models import Admission, Appraiser, AppraiserKey, Institution, RegistryChange
from appraisal.db.registry import record_change, sync_licence_tasks
from appraisal.domain.admission import (
    AdmissionKind,
    AdmissionSnapshot,
    LicenceGrant,
    LicenceGrantResult,
    RecordAdmissionEventInput,
    SubjectKind,
)
from appraisal.domain.calendar import local_today
from appraisal.domain.events import RecordResult
from appraisal.domain.plain import jsonable


def _next_due_on(snapshot: AdmissionSnapshot) -> date | None:
    running = [c.due_on for c in snapshot.clocks if not c.stopped and not c.paused]
    return date.fromisoformat(min(running)) if running else None


def grant_reason(grant: LicenceGrant) -> str:
    """How the registry chain names the application that wrote a change (its idempotency key)."""
    how = "deemed renewal" if grant.deemed else grant.kind
    return f"[application {grant.admission_id}] {how} decided on {grant.decided_on}"


class AdmissionActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name="record_admission_event")
    async def record_admission_event(self, inp: RecordAdmissionEventInput) -> RecordResult:
        """Returns how many of the event's notifications wait for a webhook delivery."""
        async with self.sessions() as session, session.begin():
            pending = await append_event(session, inp.event, inp.notify, inp.message)
            await self._project(session, inp)
        return RecordResult(pending_deliveries=pending)

    async def _project(self, session: AsyncSession, inp: RecordAdmissionEventInput) -> None:
        """The read model, unless a later event already projected a newer state."""
        event, snap = inp.event, inp.snapshot
        row = {
            "id": snap.id,
            "workflow_id": snap.workflow_id,
            "bureau_id": snap.bureau_id,
            "reference": snap.reference,
            "kind": snap.kind,
            "subject_kind": snap.subject_kind,
            "subject_name": snap.subject_name[:200],
            "entity_id": snap.entity_id,
            "applicant_institution_id": snap.applicant_institution_id or None,
            "stage": snap.stage,
            "overdue": any(c.overdue and not c.stopped for c in snap.clocks),
            "next_due_on": _next_due_on(snap),
            "panel_expert_ids": [m.expert_id for m in snap.panel],
            "snapshot": jsonable(snap),
            "last_event_seq": snap.last_event_seq,
            "created_at": event.occurred_at,
            "updated_at": event.occurred_at,
        }
        upsert = insert(Admission).values(**row)
        newer = upsert.on_conflict_do_update(
            index_elements=["id"],
            set_={k: upsert.excluded[k] for k in row if k not in ("id", "created_at")},
            where=col(Admission.last_event_seq) < upsert.excluded.last_event_seq,
        ).returning(col(Admission.id))
        if (await session.exec(newer)).first() is None:
            return  # a later event already projected a newer state
        await replace_tasks(session, snap.open_tasks, admission_id=snap.id)

    @activity.defn(name="grant_licence")
    async def grant_licence(self, grant: LicenceGrant) -> LicenceGrantResult:
        """The registry entry the approval makes or changes, with its licence, and its link in
        the bureau's chain of registry changes, in one transaction; a retry finds that link
        and writes nothing again."""
        granted_at = grant.granted_at or datetime.now(UTC)
        reason = grant_reason(grant)
        async with self.sessions() as session, session.begin():
            done = await session.exec(
                select(RegistryChange.id).where(
                    RegistryChange.entity_id == grant.entity_id, RegistryChange.reason == reason
                )
            )
            if done.first() is not None:
                return LicenceGrantResult(written=False)
            entity: Institution | Appraiser | None = (
                await session.get(Institution, grant.entity_id, with_for_update=True)
                if grant.subject_kind == SubjectKind.INSTITUTION
                else await session.get(Appraiser, grant.entity_id, with_for_update=True)
            )
            before = entity.model_dump(mode="json") if entity is not None else None
            entity = self._apply(grant, entity)
            session.add(entity)
            await session.flush()
            await self._register_key(session, grant)
            await record_change(
                session,
                bureau_id=grant.bureau_id,
                entity=entity,
                action="created" if before is None else "updated",
                principal=grant.actor,
                before=before,
                reason=reason,
                occurred_at=granted_at,
            )
            await session.flush()
            await sync_licence_tasks(session, today=local_today(granted_at), entity_id=grant.entity_id)
        return LicenceGrantResult(written=True)

    def _apply(self, grant: LicenceGrant, found: Institution | Appraiser | None) -> Institution | Appraiser:
        licence_until = date.fromisoformat(grant.licence.valid_until)
        if found is None:
            if grant.institution is not None:
                details = grant.institution
                return Institution(
                    id=grant.entity_id,
                    name=details.name,
                    bureau_id=grant.bureau_id,
                    categories=list(details.categories),
                    founded_by_organ_id=details.founded_by_organ_id or None,
                    licence_valid_until=licence_until,
                    licence_number=grant.licence.number,
                )
            assert grant.appraiser is not None  # an admission states its details
            person = grant.appraiser
            return Appraiser(
                id=grant.entity_id,
                name=person.name,
                institution_id=person.institution_id,
                categories=list(person.categories),
                senior_title=person.senior_title,
                licence_valid_until=licence_until,
                licence_number=grant.licence.number,
                identity_hash=person.identity_hash or None,
                needs_pre_service_training=True,
            )
        changes: dict[str, Any] = {
            "licence_valid_until": licence_until,
            "licence_number": grant.licence.number,
        }
        change = grant.change
        if grant.kind == AdmissionKind.CHANGE and change is not None:
            changes |= {
                name: value
                for name, value in (
                    ("name", change.name),
                    ("categories", list(change.categories)),
                    ("institution_id", change.institution_id if isinstance(found, Appraiser) else ""),
                    ("senior_title", change.senior_title if isinstance(found, Appraiser) else None),
                )
                if value not in ("", [], None)
            }
        for name, value in changes.items():
            setattr(found, name, value)
        return found

    async def _register_key(self, session: AsyncSession, grant: LicenceGrant) -> None:
        """An appraiser's signing key: registered from the decision day; a new key (a change)
        ends the ones before it the day before."""
        key = grant.appraiser if grant.kind == AdmissionKind.ADMISSION else grant.change
        if grant.subject_kind != SubjectKind.APPRAISER or key is None or not key.public_key:
            return
        valid_from = date.fromisoformat(grant.decided_on)
        open_keys = await session.exec(
            select(AppraiserKey).where(
                AppraiserKey.appraiser_id == grant.entity_id,
                col(AppraiserKey.valid_until).is_(None),
                AppraiserKey.fingerprint != key.key_fingerprint,
            )
        )
        for old in open_keys.all():
            old.valid_until = max(old.valid_from, valid_from - timedelta(days=1))
            session.add(old)
        await session.exec(
            insert(AppraiserKey)
            .values(
                fingerprint=key.key_fingerprint,
                appraiser_id=grant.entity_id,
                public_key=key.public_key,
                valid_from=valid_from,
            )
            .on_conflict_do_nothing(index_elements=["fingerprint"])
        )
