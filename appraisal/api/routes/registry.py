from fastapi import APIRouter, Query

from appraisal.api.deps import READ_YOUR_WRITES, FanOutDep, SealIfAnyDep, SessionDep, TodayDep
from appraisal.api.errors import ERRORS
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.db.models import (
    Appraiser,
    AppraiserPublic,
    Institution,
    InstitutionPublic,
    LicenceTaskPublic,
    RegistryChange,
    RegistryChangePublic,
)
from appraisal.schemas.criminal import OrganPublic
from appraisal.schemas.registry import (
    AppraiserCreate,
    AppraiserUpdate,
    InstitutionCreate,
    InstitutionUpdate,
    RegistryStatusCreate,
)
from appraisal.services import organs
from appraisal.services import registry as service

router = APIRouter(
    prefix="/v1/registry", tags=["registry"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)


@router.get("/institutions", response_model=list[InstitutionPublic], responses=ERRORS)
async def list_institutions(
    _: AuthorizedDep,
    session: SessionDep,
    category: str | None = Query(default=None, max_length=60),
) -> list[Institution]:
    """Registered institutions, optionally only those registered for a category."""
    return await service.list_institutions(session=session, category=category)


@router.get("/organs", response_model=list[OrganPublic], responses=ERRORS)
async def list_organs(
    _: AuthorizedDep,
    session: SessionDep,
    kind: str | None = Query(
        default=None, max_length=30, description="court, procuratorate, public_security, state_security, …"
    ),
) -> list[OrganPublic]:
    """Every entrusting organ (ENT-1): courts, procuratorates, public security organs and the
    other investigative organs, each with the role its users act with; where a case may be
    handed over (POST /v1/case-transfers)."""
    found = await organs.list_organs(session=session, kind=kind)
    return [OrganPublic(id=o.id, name=o.name, kind=o.kind, role=o.role, bureau_id=o.bureau_id) for o in found]


@router.get("/appraisers", response_model=list[AppraiserPublic], responses=ERRORS)
async def list_appraisers(
    _: AuthorizedDep,
    session: SessionDep,
    institution_id: str | None = Query(default=None, max_length=36),
    category: str | None = Query(default=None, max_length=60),
) -> list[Appraiser]:
    """Registered appraisers, by institution and category."""
    return await service.list_appraisers(session=session, institution_id=institution_id, category=category)


@router.post("/institutions", response_model=InstitutionPublic, status_code=201, responses=ERRORS)
async def create_institution(
    body: InstitutionCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    today: TodayDep,
    seal: SealIfAnyDep,
) -> Institution:
    """Register an institution under the caller's bureau (supervisor); audited. The bureau's
    authority issues it a seal certificate (GET /v1/registry/seal/certificates)."""
    return await service.create_institution(
        session=session, principal=principal, body=body, today=today, seal=seal
    )


@router.post("/appraisers", response_model=AppraiserPublic, status_code=201, responses=ERRORS)
async def create_appraiser(
    body: AppraiserCreate, principal: AuthorizedDep, session: SessionDep, today: TodayDep
) -> Appraiser:
    """Register an appraiser at an institution under the caller's bureau (supervisor), within
    the institution's categories (REG-1); audited."""
    return await service.create_appraiser(session=session, principal=principal, body=body, today=today)


@router.patch("/institutions/{institution_id}", response_model=InstitutionPublic, responses=ERRORS)
async def update_institution(
    institution_id: str,
    body: InstitutionUpdate,
    principal: AuthorizedDep,
    session: SessionDep,
    today: TodayDep,
    fan_out: FanOutDep,
) -> Institution:
    """Change an institution's name, categories or licence date (a renewal closes its REG-8 task); audited."""
    return await service.update_institution(
        session=session,
        fan_out=fan_out,
        principal=principal,
        institution_id=institution_id,
        body=body,
        today=today,
    )


@router.patch("/appraisers/{appraiser_id}", response_model=AppraiserPublic, responses=ERRORS)
async def update_appraiser(
    appraiser_id: str,
    body: AppraiserUpdate,
    principal: AuthorizedDep,
    session: SessionDep,
    today: TodayDep,
    fan_out: FanOutDep,
) -> Appraiser:
    """Change an appraiser's name, categories, senior title or licence date; audited."""
    return await service.update_appraiser(
        session=session,
        fan_out=fan_out,
        principal=principal,
        appraiser_id=appraiser_id,
        body=body,
        today=today,
    )


@router.post("/institutions/{institution_id}/status", response_model=InstitutionPublic, responses=ERRORS)
async def change_institution_status(
    institution_id: str,
    body: RegistryStatusCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    today: TodayDep,
    fan_out: FanOutDep,
    seal: SealIfAnyDep,
) -> Institution:
    """Suspend (optionally until a day), reinstate, revoke or deregister (注销) an institution
    (REG-6). Revocation and deregistration are final (409 `registry_status_final`); a suspended,
    revoked or deregistered institution is never selected, and its seal certificates are revoked
    (the CRL lists them; reinstated, it gets a new one). Every running commission it holds
    learns of it at once (the exit fan-out, EXIT-1): its steps are refused from then on and
    the court is asked to re-entrust or withdraw; the end of a suspension restores it."""
    return await service.change_institution_status(
        session=session,
        fan_out=fan_out,
        principal=principal,
        institution_id=institution_id,
        body=body,
        today=today,
        seal=seal,
    )


@router.post("/appraisers/{appraiser_id}/status", response_model=AppraiserPublic, responses=ERRORS)
async def change_appraiser_status(
    appraiser_id: str,
    body: RegistryStatusCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    today: TodayDep,
    fan_out: FanOutDep,
) -> Appraiser:
    """Suspend (optionally until a day), reinstate, revoke or deregister (注销) an appraiser
    (REG-7). Revocation and deregistration are final (409 `registry_status_final`); a barred
    appraiser cannot be assigned, and on every running commission they hold their steps are
    refused and the institution must replace them (a recusal it may not refuse)."""
    return await service.change_appraiser_status(
        session=session,
        fan_out=fan_out,
        principal=principal,
        appraiser_id=appraiser_id,
        body=body,
        today=today,
    )


@router.get("/changes", response_model=list[RegistryChangePublic], responses=ERRORS)
async def list_changes(
    principal: AuthorizedDep,
    session: SessionDep,
    entity_id: str | None = Query(default=None, max_length=36),
) -> list[RegistryChange]:
    """Every registry change of the caller's bureau (or of one institution or appraiser), in
    order, with who, when, before, after and reason, hash-chained like the commission trail."""
    return await service.changes(session=session, principal=principal, entity_id=entity_id)


@router.get("/licence-tasks", response_model=list[LicenceTaskPublic], responses=ERRORS)
async def list_licence_tasks(principal: AuthorizedDep, session: SessionDep) -> list[LicenceTaskPublic]:
    """Licences of the caller's bureau expiring within 60 days, or expired, not yet renewed (REG-8)."""
    return await service.licence_tasks(session=session, bureau_id=principal.organisation_id)
