"""The public pages (公开), for anyone, without signing in: the registry of institutions and
appraisers, the results of each closed random inspection (双随机一公开), the published penalty
decisions and the integrity grades, from the same services as the public JSON API
(/v1/public/…). Nothing confidential: no commission, no case facts, no party."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from appraisal.api.deps import SessionDep, SettingsDep, TodayDep
from appraisal.domain.errors import InvalidInput
from appraisal.services import integrity
from appraisal.services import public as service
from appraisal.web.pages import CATEGORIES, render
from appraisal.web.session import PREFIX, PageRoute

router = APIRouter(
    prefix=f"{PREFIX}/public",
    route_class=PageRoute,
    include_in_schema=False,
    default_response_class=HTMLResponse,
)


def _page(request: Request, name: str, active: str, **context: object) -> Response:
    return render(request, name, {"viewer": None, "active": active, "categories": CATEGORIES, **context})


@router.get("")
async def public_index(request: Request) -> Response:
    return _page(request, "public_index.html", "public")


@router.get("/registry")
async def public_registry(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    category: str = Query(default="", max_length=60),
) -> Response:
    return _page(
        request,
        "public_registry.html",
        "public-registry",
        today=today,
        category=category,
        institutions=await service.institutions(session=session, today=today, category=category or None),
        appraisers=await service.appraisers(session=session, today=today, category=category or None),
    )


@router.get("/inspections")
async def public_inspections(request: Request, session: SessionDep) -> Response:
    return _page(
        request,
        "public_inspections.html",
        "public-inspections",
        inspections=await service.inspections(session=session),
    )


@router.get("/penalties")
async def public_penalties(request: Request, session: SessionDep) -> Response:
    return _page(
        request,
        "public_penalties.html",
        "public-penalties",
        penalties=await service.penalties(session=session),
    )


@router.get("/grades")
async def public_grades(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    today: TodayDep,
    year: int | None = Query(default=None, ge=2000, le=9999),
) -> Response:
    chosen = year or today.year - 1
    try:
        integrity.check_year(chosen, today=today)
    except InvalidInput as err:
        raise InvalidInput("year", err.message) from err
    grades = await service.grades(session=session, year=chosen, rule=integrity.GradingRule.of(settings))
    return _page(request, "public_grades.html", "public-grades", grades=grades)
