"""The bureau's own pages in the workspace: the registry (register institutions and
appraisers, suspend, reinstate or revoke them, every change in the bureau's chain), random
inspections (draw and re-verify), and the working-day calendar (load a year's official
schedule). Each form goes through the same service as its REST route."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from appraisal.api.deps import FanOutDep, NowDep, SealIfAnyDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.domain.errors import InvalidInput
from appraisal.domain.organs import INVESTIGATIVE_FOUNDERS
from appraisal.domain.roles import Actor
from appraisal.schemas.commission import CalendarYearPut
from appraisal.schemas.penalty import InspectionResultsCreate
from appraisal.schemas.registry import (
    AppraiserCreate,
    AppraiserUpdate,
    InspectionCreate,
    InstitutionCreate,
    InstitutionUpdate,
    RegistryStatusCreate,
)
from appraisal.services import calendar, evaluation, inspection, organs, registry
from appraisal.web.pages import CATEGORIES, render
from appraisal.web.routes import viewer_of
from appraisal.web.session import (
    PREFIX,
    REFUSALS,
    PagePrincipalDep,
    PageRoute,
    read_form_lists,
    refusal_of,
    refusal_status,
)

router = APIRouter(
    prefix=PREFIX, route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


def _fields(posted: dict[str, list[str]], *names: str) -> dict[str, Any]:
    """The named inputs that were filled in (their first value)."""
    found = {name: (posted.get(name) or [""])[0].strip() for name in names}
    return {name: value for name, value in found.items() if value}


def _days(text: str) -> list[str]:
    """Dates typed one per line (or separated by commas or spaces)."""
    return [d for d in text.replace(",", " ").split() if d]


# ---- the registry ----


async def _registry_page(
    request: Request, *, principal: Actor, session: AsyncSession, refused: str = "", status_code: int = 200
) -> Response:
    institutions = [
        i
        for i in await registry.list_institutions(session=session, category=None)
        if i.bureau_id == principal.organisation_id
    ]
    ours = {i.id for i in institutions}
    appraisers = [
        a
        for a in await registry.list_appraisers(session=session, institution_id=None, category=None)
        if a.institution_id in ours
    ]
    changes = await registry.changes(session=session, principal=principal, entity_id=None)
    grades = await evaluation.latest_grades(
        session=session, ids=[i.id for i in institutions] + [a.id for a in appraisers]
    )
    return render(
        request,
        "registry.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "registry",
            "institutions": institutions,
            "institution_names": {i.id: i.name for i in institutions},
            "appraisers": appraisers,
            "grades": grades,
            "categories": CATEGORIES,
            "founder_names": await organs.organ_names(
                session=session, ids=[i.founded_by_organ_id for i in institutions if i.founded_by_organ_id]
            ),
            "founders": [
                o
                for o in await organs.list_organs(session=session)
                if o.kind in INVESTIGATIVE_FOUNDERS and o.bureau_id == principal.organisation_id
            ],
            "changes": changes[-30:][::-1],
            "licence_tasks": await registry.licence_tasks(
                session=session, bureau_id=principal.organisation_id
            ),
            "refused": refused,
        },
        status_code=status_code,
    )


@router.get("/registry")
async def registry_page(request: Request, principal: PagePrincipalDep, session: SessionDep) -> Response:
    return await _registry_page(request, principal=principal, session=session)


@router.post("/registry/institutions")
async def register_institution(
    request: Request, principal: PagePrincipalDep, session: SessionDep, today: TodayDep, seal: SealIfAnyDep
) -> Response:
    posted = await read_form_lists(request)
    try:
        body = InstitutionCreate.model_validate(
            {
                "categories": posted.get("categories", []),
                **_fields(
                    posted,
                    "name",
                    "licence_valid_until",
                    "licence_number",
                    "short_name",
                    "address",
                    "phone",
                    "reason",
                    "founded_by_organ_id",
                ),
            }
        )
        await registry.create_institution(
            session=session, principal=principal, body=body, today=today, seal=seal
        )
    except REFUSALS as err:
        await session.rollback()
        return await _registry_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/registry", status_code=303)


@router.post("/registry/appraisers")
async def register_appraiser(
    request: Request, principal: PagePrincipalDep, session: SessionDep, today: TodayDep
) -> Response:
    posted = await read_form_lists(request)
    try:
        body = AppraiserCreate.model_validate(
            {
                "categories": posted.get("categories", []),
                "senior_title": (posted.get("senior_title") or ["false"])[0] == "true",
                **_fields(
                    posted, "name", "institution_id", "licence_valid_until", "licence_number", "reason"
                ),
            }
        )
        await registry.create_appraiser(session=session, principal=principal, body=body, today=today)
    except REFUSALS as err:
        await session.rollback()
        return await _registry_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/registry", status_code=303)


@router.post("/registry/{kind}/{entity_id}/status")
async def change_status(
    request: Request,
    kind: str,
    entity_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    today: TodayDep,
    fan_out: FanOutDep,
    seal: SealIfAnyDep,
) -> Response:
    """Suspend (until a day, or not), reinstate or revoke an institution or an appraiser."""
    await registry.require_in_bureau(session=session, principal=principal, kind=kind, entity_id=entity_id)
    posted = await read_form_lists(request)
    try:
        body = RegistryStatusCreate.model_validate(_fields(posted, "status", "reason", "until"))
        if kind == "institutions":
            await registry.change_institution_status(
                session=session,
                fan_out=fan_out,
                principal=principal,
                institution_id=entity_id,
                body=body,
                today=today,
                seal=seal,
            )
        else:
            await registry.change_appraiser_status(
                session=session,
                fan_out=fan_out,
                principal=principal,
                appraiser_id=entity_id,
                body=body,
                today=today,
            )
    except REFUSALS as err:
        await session.rollback()
        return await _registry_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/registry", status_code=303)


@router.post("/registry/{kind}/{entity_id}/licence")
async def renew_licence(
    request: Request,
    kind: str,
    entity_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    today: TodayDep,
    fan_out: FanOutDep,
) -> Response:
    """A licence's new last valid day (a renewal closes its REG-8 task), as PATCH does it."""
    await registry.require_in_bureau(session=session, principal=principal, kind=kind, entity_id=entity_id)
    posted = await read_form_lists(request)
    fields = _fields(posted, "licence_valid_until", "reason")
    try:
        if kind == "institutions":
            await registry.update_institution(
                session=session,
                fan_out=fan_out,
                principal=principal,
                institution_id=entity_id,
                body=InstitutionUpdate.model_validate(fields),
                today=today,
            )
        else:
            await registry.update_appraiser(
                session=session,
                fan_out=fan_out,
                principal=principal,
                appraiser_id=entity_id,
                body=AppraiserUpdate.model_validate(fields),
                today=today,
            )
    except REFUSALS as err:
        await session.rollback()
        return await _registry_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/registry", status_code=303)


# ---- inspections ----


async def _inspections_page(
    request: Request, *, principal: Actor, session: AsyncSession, refused: str = "", status_code: int = 200
) -> Response:
    draws, total = await inspection.list_inspections(
        session=session, bureau_id=principal.organisation_id, limit=20, offset=0
    )
    return render(
        request,
        "inspections.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "inspections",
            "draws": draws,
            "total": total,
            "names": await registry.names(
                session=session, ids=[i for d in draws for i in d.picks.institutions]
            )
            | {i.id: i.name for i in await registry.list_institutions(session=session, category=None)},
            "refused": refused,
        },
        status_code=status_code,
    )


@router.get("/inspections")
async def inspections_page(request: Request, principal: PagePrincipalDep, session: SessionDep) -> Response:
    return await _inspections_page(request, principal=principal, session=session)


@router.post("/inspections")
async def draw(request: Request, principal: PagePrincipalDep, session: SessionDep, now: NowDep) -> Response:
    """A random inspection drawn, as POST /v1/supervision/inspections draws it, and published."""
    posted = await read_form_lists(request)
    try:
        body = InspectionCreate.model_validate(
            _fields(posted, "institutions", "case_files_per_institution", "inspectors", "period", "seed")
        )
        await inspection.create(session=session, principal=principal, body=body, now=now)
    except REFUSALS as err:
        await session.rollback()
        return await _inspections_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/inspections", status_code=303)


@router.post("/inspections/{inspection_id}/results")
async def close_inspection(
    request: Request, inspection_id: str, principal: PagePrincipalDep, session: SessionDep, now: NowDep
) -> Response:
    """What the inspection found at each institution drawn, as POST …/results records it; the
    results are then public (/ui/public/inspections)."""
    await inspection.require_in_bureau(session=session, principal=principal, inspection_id=inspection_id)
    posted = await read_form_lists(request)
    drawn = [k.split(".", 1)[1] for k in posted if k.startswith("conclusion.")]
    results = [
        {
            "institution_id": institution_id,
            "conclusion": (posted.get(f"conclusion.{institution_id}") or [""])[0],
            **(
                {"summary": summary}
                if (summary := (posted.get(f"summary.{institution_id}") or [""])[0].strip())
                else {}
            ),
        }
        for institution_id in drawn
    ]
    try:
        body = InspectionResultsCreate.model_validate({"results": results})
        await inspection.close(
            session=session, principal=principal, inspection_id=inspection_id, body=body, now=now
        )
    except REFUSALS as err:
        await session.rollback()
        return await _inspections_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/inspections#draw-{inspection_id}", status_code=303)


# ---- the calendar ----


async def _calendar_page(
    request: Request,
    *,
    year: int,
    session: AsyncSession,
    principal: Actor,
    refused: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "calendar.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "calendar",
            "year": await calendar.show_year(session=session, year=year),
            "refused": refused,
        },
        status_code=status_code,
    )


@router.get("/calendar")
async def calendar_page(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    today: TodayDep,
    year: int | None = None,
) -> Response:
    try:
        return await _calendar_page(
            request, year=year or today.year + 1, session=session, principal=principal
        )
    except InvalidInput as err:
        return await _calendar_page(
            request,
            year=today.year,
            session=session,
            principal=principal,
            refused=refusal_of(err),
            status_code=422,
        )


@router.post("/calendar/{year}")
async def load_calendar(
    request: Request,
    year: int,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """A year's official schedule loaded, as PUT /v1/calendar/{year} loads it: every running
    commission recomputes its deadlines."""
    posted = await read_form_lists(request)
    first = {name: (posted.get(name) or [""])[0] for name in ("rest_days", "makeup_workdays", "source")}
    try:
        body = CalendarYearPut.model_validate(
            {
                "rest_days": _days(first["rest_days"]),
                "makeup_workdays": _days(first["makeup_workdays"]),
                **({"source": first["source"].strip()} if first["source"].strip() else {}),
            }
        )
        await calendar.load_year(
            session=session,
            client=client,
            task_queue=settings.task_queue,
            principal=principal,
            year=year,
            body=body,
        )
    except REFUSALS as err:
        await session.rollback()
        return await _calendar_page(
            request,
            year=year,
            session=session,
            principal=principal,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/calendar?year={year}", status_code=303)
