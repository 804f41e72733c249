"""Registry writes by the supervising bureau, each audited in `registry_change`
(hash-chained per bureau); who may be assigned at acceptance; the licence
renewal tasks (REG-8)."""

from datetime import date
from typing import Any, Literal, TypeVar
from uuid import uuid4

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.core.seal import SealSettings
from appraisal.db.models import (
    Appraiser,
    AppraiserKey,
    Bureau,
    CommissionParty,
    Court,
    EntrustingOrgan,
    Expert,
    Institution,
    LicenceTask,
    LicenceTaskPublic,
    RegistryChange,
)
from appraisal.db.registry import (
    Registered,
    eligible,
    kind_of,
    record_change,
    standing_changed,
    sync_licence_tasks,
)
from appraisal.domain.accounts import Workplace
from appraisal.domain.errors import InvalidInput, NotFound, RuleViolation
from appraisal.domain.exit import FINAL_STATUSES as FINAL_STATUSES_OF_EXIT
from appraisal.domain.organs import INVESTIGATIVE_FOUNDERS, role_of
from appraisal.domain.roles import Actor, Role
from appraisal.domain.standing import sanction, standing
from appraisal.schemas.registry import (
    AppraiserCreate,
    AppraiserUpdate,
    InstitutionCreate,
    InstitutionUpdate,
    RegistryStatusCreate,
)
from appraisal.services import exit as exits
from appraisal.services import seal as seal_service

FINAL_STATUSES = FINAL_STATUSES_OF_EXIT
Entity = TypeVar("Entity", Institution, Appraiser)


def _kind(entity: Registered) -> str:
    return kind_of(entity)


async def _record(
    *,
    session: AsyncSession,
    principal: Actor,
    entity: Registered,
    bureau_id: str,
    action: str,
    before: dict[str, Any] | None,
    reason: str,
) -> None:
    """Appends one change to the bureau's chain."""
    await record_change(
        session,
        principal=principal,
        entity=entity,
        bureau_id=bureau_id,
        action=action,
        before=before,
        reason=reason,
    )


async def require_investigative_founder(*, session: AsyncSession, organ_id: str) -> None:
    """422 unless the organ that set an institution up is a registered investigative organ (ENT-3)."""
    founder = await session.get(EntrustingOrgan, organ_id)
    if founder is None or founder.kind not in INVESTIGATIVE_FOUNDERS:
        raise InvalidInput(
            "founded_by_organ_id",
            f"{organ_id} is not a registered investigative organ (a court sets up no institution: ENT-3)",
        )


async def _institution_in_bureau(
    *, session: AsyncSession, principal: Actor, institution_id: str, for_update: bool = False
) -> Institution:
    query = select(Institution).where(
        Institution.id == institution_id, Institution.bureau_id == principal.organisation_id
    )
    found = (await session.exec(query.with_for_update() if for_update else query)).first()
    if found is None:
        raise NotFound("institution")
    return found


async def _appraiser_in_bureau(*, session: AsyncSession, principal: Actor, appraiser_id: str) -> Appraiser:
    found = (
        await session.exec(
            select(Appraiser)
            .join(Institution, col(Institution.id) == col(Appraiser.institution_id))
            .where(Appraiser.id == appraiser_id, Institution.bureau_id == principal.organisation_id)
            .with_for_update(of=Appraiser)
        )
    ).first()
    if found is None:
        raise NotFound("appraiser")
    return found


async def require_in_bureau(*, session: AsyncSession, principal: Actor, kind: str, entity_id: str) -> None:
    """NotFound unless the institution or appraiser is under the supervisor's bureau: what a
    form checks before it reads its fields, so a refusal never tells what exists elsewhere."""
    if kind == "institutions":
        await _institution_in_bureau(session=session, principal=principal, institution_id=entity_id)
    elif kind == "appraisers":
        await _appraiser_in_bureau(session=session, principal=principal, appraiser_id=entity_id)
    else:
        raise NotFound(kind)


def _within_scope(categories: list[str], institution: Institution) -> None:
    outside = [c for c in categories if c not in institution.categories]
    if outside:
        raise InvalidInput(
            "categories",
            f"{', '.join(outside)} not in the institution's registered categories "
            f"({', '.join(institution.categories)}) (REG-1)",
        )


async def _add(
    *, session: AsyncSession, principal: Actor, entity: Entity, bureau_id: str, reason: str, today: date
) -> Entity:
    """Registers the new entity, audits its creation, and opens its licence tasks."""
    session.add(entity)
    await _record(
        session=session,
        principal=principal,
        entity=entity,
        bureau_id=bureau_id,
        action="created",
        before=None,
        reason=reason,
    )
    await session.flush()
    await sync_licence_tasks(session, today=today, entity_id=entity.id)
    await session.commit()
    await session.refresh(entity)
    return entity


async def create_institution(
    *,
    session: AsyncSession,
    principal: Actor,
    body: InstitutionCreate,
    today: date,
    seal: SealSettings | None = None,
) -> Institution:
    """A new institution under the caller's bureau."""
    if await session.get(Bureau, principal.organisation_id) is None:
        raise RuleViolation("bureau_not_registered", f"bureau {principal.organisation_id} is not registered")
    if body.founded_by_organ_id is not None:
        await require_investigative_founder(session=session, organ_id=body.founded_by_organ_id)
    institution = Institution(
        id=str(uuid4()),
        name=body.name,
        bureau_id=principal.organisation_id,
        categories=body.categories,
        licence_valid_until=body.licence_valid_until,
        founded_by_organ_id=body.founded_by_organ_id,
        licence_number=body.licence_number,
        short_name=body.short_name,
        address=body.address,
        phone=body.phone,
    )
    added = await _add(
        session=session,
        principal=principal,
        entity=institution,
        bureau_id=principal.organisation_id,
        reason=body.reason,
        today=today,
    )
    if seal is not None:  # its seal certificate from the bureau's authority (else at its first sealing)
        await seal_service.issue_for(session=session, seal=seal, institution=added)
        await session.commit()
        await session.refresh(added)
    return added


async def create_appraiser(
    *, session: AsyncSession, principal: Actor, body: AppraiserCreate, today: date
) -> Appraiser:
    """A new appraiser at an institution under the caller's bureau."""
    institution = await session.get(Institution, body.institution_id)
    if institution is None:
        raise InvalidInput("institution_id", f"no institution {body.institution_id}")
    if institution.bureau_id != principal.organisation_id:
        raise RuleViolation("not_in_bureau", "that institution is registered with another bureau")
    _within_scope(body.categories, institution)
    appraiser = Appraiser(
        id=str(uuid4()),
        name=body.name,
        institution_id=institution.id,
        categories=body.categories,
        senior_title=body.senior_title,
        licence_valid_until=body.licence_valid_until,
        licence_number=body.licence_number,
    )
    return await _add(
        session=session,
        principal=principal,
        entity=appraiser,
        bureau_id=institution.bureau_id,
        reason=body.reason,
        today=today,
    )


async def _apply(
    *,
    session: AsyncSession,
    fan_out: exits.Starter | None,
    principal: Actor,
    entity: Entity,
    changes: dict[str, Any],
    reason: str,
    today: date,
) -> Entity:
    """Applies the changed fields, audits them, and settles its licence tasks."""
    before = entity.model_dump(mode="json")
    for field, value in changes.items():
        setattr(entity, field, value)
    notice = None
    if entity.model_dump(mode="json") != before:
        await _record(
            session=session,
            principal=principal,
            entity=entity,
            bureau_id=principal.organisation_id,  # the entity was found under it
            action="updated" if "status" not in changes else "status",
            before=before,
            reason=reason,
        )
        session.add(entity)
        await session.flush()
        await sync_licence_tasks(session, today=today, entity_id=entity.id)
        notice = await standing_changed(
            session,
            entity=entity,
            before=before,
            principal=principal,
            reason=reason,
            today=today,
            bureau_id=principal.organisation_id,
        )
    await session.commit()
    await session.refresh(entity)
    if notice is not None:  # after the commit: the fan-out reads what it committed
        await exits.start_fan_out(session=session, starter=fan_out, exit_id=notice.id)
    return entity


async def update_institution(
    *,
    session: AsyncSession,
    fan_out: exits.Starter | None,
    principal: Actor,
    institution_id: str,
    body: InstitutionUpdate,
    today: date,
) -> Institution:
    institution = await _institution_in_bureau(
        session=session, principal=principal, institution_id=institution_id, for_update=True
    )
    changes = body.model_dump(include=body.model_fields_set - {"reason"})
    return await _apply(
        session=session,
        fan_out=fan_out,
        principal=principal,
        entity=institution,
        changes=changes,
        reason=body.reason,
        today=today,
    )


async def update_appraiser(
    *,
    session: AsyncSession,
    fan_out: exits.Starter | None,
    principal: Actor,
    appraiser_id: str,
    body: AppraiserUpdate,
    today: date,
) -> Appraiser:
    appraiser = await _appraiser_in_bureau(session=session, principal=principal, appraiser_id=appraiser_id)
    if body.categories is not None:
        institution = await session.get(Institution, appraiser.institution_id)
        assert institution is not None  # the foreign key
        _within_scope(body.categories, institution)
    changes = body.model_dump(include=body.model_fields_set - {"reason"})
    return await _apply(
        session=session,
        fan_out=fan_out,
        principal=principal,
        entity=appraiser,
        changes=changes,
        reason=body.reason,
        today=today,
    )


async def _change_status(
    *,
    session: AsyncSession,
    fan_out: exits.Starter | None,
    principal: Actor,
    entity: Entity,
    body: RegistryStatusCreate,
    today: date,
) -> Entity:
    if entity.status in FINAL_STATUSES:
        raise RuleViolation(
            "registry_status_final",
            f"this {_kind(entity)}'s registration was {entity.status}; that is final",
            rule="REG-3",
        )
    if body.until is not None and body.until < today:
        raise InvalidInput("until", f"{body.until} is already past")
    changes = {"status": body.status, "status_until": body.until}
    return await _apply(
        session=session,
        fan_out=fan_out,
        principal=principal,
        entity=entity,
        changes=changes,
        reason=body.reason,
        today=today,
    )


async def change_institution_status(
    *,
    session: AsyncSession,
    fan_out: exits.Starter | None,
    principal: Actor,
    institution_id: str,
    body: RegistryStatusCreate,
    today: date,
    seal: SealSettings | None = None,
) -> Institution:
    """Suspend, reinstate or revoke (final) an institution (REG-6). Suspended or revoked, its
    seal certificates are revoked (the next CRL lists them); reinstated, it gets a new one."""
    institution = await _institution_in_bureau(
        session=session, principal=principal, institution_id=institution_id, for_update=True
    )
    changed = await _change_status(
        session=session, fan_out=fan_out, principal=principal, entity=institution, body=body, today=today
    )
    await seal_service.follow_status(session=session, seal=seal, institution=changed)
    await session.commit()
    await session.refresh(changed)
    return changed


async def change_appraiser_status(
    *,
    session: AsyncSession,
    fan_out: exits.Starter | None,
    principal: Actor,
    appraiser_id: str,
    body: RegistryStatusCreate,
    today: date,
) -> Appraiser:
    """Suspend, reinstate or revoke (final) an appraiser (REG-7)."""
    appraiser = await _appraiser_in_bureau(session=session, principal=principal, appraiser_id=appraiser_id)
    return await _change_status(
        session=session, fan_out=fan_out, principal=principal, entity=appraiser, body=body, today=today
    )


async def changes(*, session: AsyncSession, principal: Actor, entity_id: str | None) -> list[RegistryChange]:
    """The bureau's registry changes in chain order, optionally of one entity."""
    query = select(RegistryChange).where(RegistryChange.bureau_id == principal.organisation_id)
    if entity_id:
        query = query.where(RegistryChange.entity_id == entity_id)
    return list((await session.exec(query.order_by(col(RegistryChange.seq)))).all())


async def require_active_appraisers(*, session: AsyncSession, appraiser_ids: list[str], today: date) -> None:
    """409 naming the first appraiser the registry does not allow to be assigned
    today (suspended, revoked or licence expired since entrustment). Ids the
    registry does not know are left to the workflow's own check."""
    found = {
        a.id: a
        for a in (await session.exec(select(Appraiser).where(col(Appraiser.id).in_(appraiser_ids)))).all()
    }
    for appraiser_id in appraiser_ids:
        appraiser = found.get(appraiser_id)
        reason = standing(appraiser, today, kind="appraiser") if appraiser else None
        if appraiser and not reason and appraiser.needs_pre_service_training:
            reason = "not yet through pre-service training (先培训后上岗)", "TRN-1"
        if appraiser and reason:
            why, rule = reason
            raise RuleViolation(
                "appraiser_not_active",
                f"appraiser {appraiser.name} ({appraiser.id}) may not be assigned: {why}",
                rule=rule,
                about={"appraiser_id": appraiser.id},
            )


async def licence_tasks(*, session: AsyncSession, bureau_id: str) -> list[LicenceTaskPublic]:
    """The bureau's open REG-8 tasks, soonest expiry first; due on the licence's last valid day."""
    rows = (
        await session.exec(
            select(LicenceTask)
            .where(LicenceTask.bureau_id == bureau_id, col(LicenceTask.closed_at).is_(None))
            .order_by(col(LicenceTask.licence_valid_until), col(LicenceTask.id))
        )
    ).all()
    ids = [r.entity_id for r in rows]
    names = dict(
        (
            await session.exec(select(Institution.id, Institution.name).where(col(Institution.id).in_(ids)))
        ).all()
    )
    names |= dict(
        (await session.exec(select(Appraiser.id, Appraiser.name).where(col(Appraiser.id).in_(ids)))).all()
    )
    return [
        LicenceTaskPublic.model_validate(
            {
                **row.model_dump(),
                "entity_name": names.get(row.entity_id, ""),
                "due_on": row.licence_valid_until,
            }
        )
        for row in rows
    ]


async def list_institutions(*, session: AsyncSession, category: str | None) -> list[Institution]:
    query = select(Institution).order_by(col(Institution.name))
    if category:
        query = query.where(col(Institution.categories).contains([category]))
    return list((await session.exec(query)).all())


async def list_appraisers(
    *, session: AsyncSession, institution_id: str | None, category: str | None
) -> list[Appraiser]:
    query = select(Appraiser).order_by(col(Appraiser.name))
    if institution_id:
        query = query.where(Appraiser.institution_id == institution_id)
    if category:
        query = query.where(col(Appraiser.categories).contains([category]))
    return list((await session.exec(query)).all())


async def assignable_appraisers(
    *, session: AsyncSession, institution_id: str, category: str, today: date
) -> list[Appraiser]:
    """Who an institution may assign to a commission of this category today: its appraisers
    in good standing, with a licence in force, registered for the category."""
    query = select(Appraiser).where(
        Appraiser.institution_id == institution_id,
        eligible(Appraiser, today),
        col(Appraiser.categories).contains([category]),
    )
    return list((await session.exec(query.order_by(col(Appraiser.name)))).all())


async def names(*, session: AsyncSession, ids: list[str]) -> dict[str, str]:
    """The registered names of these appraisers, by id (an unknown id is left out)."""
    rows = await session.exec(select(Appraiser).where(col(Appraiser.id).in_(ids)))
    return {a.id: a.name for a in rows.all()}


ORGANISATIONS: dict[str, type[Court] | type[Bureau] | type[Institution]] = {
    "court": Court,
    "bureau": Bureau,
    "institution": Institution,
}


async def organisation_name(
    *, session: AsyncSession, kind: Literal["court", "bureau", "institution"], id_: str
) -> str:
    """A court's, bureau's or institution's name; its id when it is not registered."""
    found: Court | Bureau | Institution | None = await session.get(ORGANISATIONS[kind], id_)
    return found.name if found else id_


async def registered_keys(*, session: AsyncSession) -> list[AppraiserKey]:
    """Every registered public key, current and past, by appraiser and date."""
    query = select(AppraiserKey).order_by(col(AppraiserKey.appraiser_id), col(AppraiserKey.valid_from))
    return list((await session.exec(query)).all())


Organisation = Court | Bureau | Institution | Appraiser | EntrustingOrgan | Expert | CommissionParty
ROLE_ORGANISATIONS: dict[
    str,
    type[Court]
    | type[Bureau]
    | type[Institution]
    | type[Appraiser]
    | type[EntrustingOrgan]
    | type[Expert]
    | type[CommissionParty],
] = {
    Role.COURT: Court,
    Role.SUPERVISOR: Bureau,
    Role.INSTITUTION: Institution,
    Role.INSTITUTION_HEAD: Institution,
    Role.APPRAISER: Appraiser,
    Role.PROCURATORATE: EntrustingOrgan,
    Role.PUBLIC_SECURITY: EntrustingOrgan,
    Role.INVESTIGATIVE_ORGAN: EntrustingOrgan,
    Role.EXPERT: Expert,
    Role.PARTY: CommissionParty,
}
"""Where the registry holds the organisation a token of each role names (a party's is its
registration on a commission)."""


async def principal_organisation_name(*, session: AsyncSession, principal: Actor) -> str:
    """The name of the organisation a principal acts for (an appraiser's is the appraiser);
    its id when it is not registered."""
    kind = ROLE_ORGANISATIONS.get(principal.role)
    found: Organisation | None = await session.get(kind, principal.organisation_id) if kind else None
    return found.name if found else principal.organisation_id


async def workplace_of(*, session: AsyncSession, role: str, organisation_id: str) -> Workplace | None:
    """Where an account of this role and organisation works (None: not in the registry)."""
    if role == Role.SUPERVISOR:
        return (
            Workplace("bureau", organisation_id, organisation_id)
            if await session.get(Bureau, organisation_id)
            else None
        )
    if role == Role.COURT:
        court = await session.get(Court, organisation_id)
        return Workplace("court", court.id, court.bureau_id) if court else None
    if ROLE_ORGANISATIONS.get(role) is EntrustingOrgan:
        organ = await session.get(EntrustingOrgan, organisation_id)
        if organ is None or role_of(organ.kind) != role:
            return None
        return Workplace("organ", organ.id, organ.bureau_id)
    if role == Role.EXPERT:
        expert = await session.get(Expert, organisation_id)
        return Workplace("expert", expert.id, expert.bureau_id) if expert else None
    institution_id = organisation_id
    if role == Role.APPRAISER:
        appraiser = await session.get(Appraiser, organisation_id)
        if appraiser is None:
            return None
        institution_id = appraiser.institution_id
    institution = await session.get(Institution, institution_id)
    return Workplace("institution", institution.id, institution.bureau_id) if institution else None


async def organisations_at(*, session: AsyncSession, place: Workplace, whole_bureau: bool) -> list[str]:
    """The organisation ids whose accounts work at a place: a court's own; an institution's and
    its appraisers'; with `whole_bureau`, the bureau's and every court's, institution's and
    appraiser's under it."""
    if not whole_bureau:
        if place.kind != "institution":
            return [place.organisation_id]
        institution_ids = [place.organisation_id]
        ids = [place.organisation_id]
    else:
        courts = (await session.exec(select(Court.id).where(Court.bureau_id == place.bureau_id))).all()
        organs = (
            await session.exec(select(EntrustingOrgan.id).where(EntrustingOrgan.bureau_id == place.bureau_id))
        ).all()
        institution_ids = list(
            (await session.exec(select(Institution.id).where(Institution.bureau_id == place.bureau_id))).all()
        )
        experts = (await session.exec(select(Expert.id).where(Expert.bureau_id == place.bureau_id))).all()
        ids = [place.bureau_id, *courts, *organs, *institution_ids, *experts]
    appraisers = (
        await session.exec(select(Appraiser.id).where(col(Appraiser.institution_id).in_(institution_ids)))
    ).all()
    return [*ids, *appraisers]


async def organisation_refusal(*, session: AsyncSession, principal: Actor, today: date) -> str | None:
    """Why a token's organisation may not act (not in the registry, revoked, suspended);
    None when it may. An appraiser's organisation is the appraiser."""
    kind = ROLE_ORGANISATIONS.get(principal.role)
    if kind is None:
        return f"no organisation acts as {principal.role}"
    found: Organisation | None = await session.get(kind, principal.organisation_id)
    if found is None:
        return f"{principal.role} {principal.organisation_id} is not in the registry"
    if isinstance(found, EntrustingOrgan) and role_of(found.kind) != principal.role:
        return f"{principal.organisation_id} is a {found.kind}, which does not act as {principal.role}"
    if isinstance(found, Expert):
        return None if found.status == "active" else f"expert {principal.organisation_id} is {found.status}"
    if isinstance(found, Institution | Appraiser):
        barred = sanction(found, today)
        if barred:
            return f"{principal.role} {principal.organisation_id} is {barred}"
    return None
