"""Training in the workspace: the bureau's courses (pre-service and in-service), the attendance
the organiser enters or imports (one line per appraiser), and each appraiser's hours of the
year against the minimum: the bureau sees its appraisers, an institution its own, an
appraiser themself. Each form goes through the same service as its REST route."""

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from appraisal.api.deps import NowDep, SessionDep, SettingsDep, TodayDep
from appraisal.domain.roles import Actor, Role
from appraisal.domain.training import COURSE_KINDS
from appraisal.schemas.training import AttendanceCreate, CourseCreate
from appraisal.services import evaluation, registry, training
from appraisal.web.pages import render
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


def attendance_lines(text: str) -> list[dict[str, Any]]:
    """Imported attendance: one appraiser per line, `appraiser id[,hours[,completed]]` (tabs or
    spaces also separate; `0`/`no` marks one who did not complete)."""
    records: list[dict[str, Any]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        parts = [p for p in line.replace("\t", ",").replace(" ", ",").split(",") if p]
        if not parts:
            continue
        record: dict[str, Any] = {"appraiser_id": parts[0]}
        if len(parts) > 1:
            record["hours"] = parts[1]
        if len(parts) > 2:
            record["completed"] = parts[2].lower() not in ("0", "no", "false", "否")
        records.append(record)
    return records


async def _appraisers_in_view(session: AsyncSession, principal: Actor) -> list[Any]:
    all_appraisers = await registry.list_appraisers(session=session, institution_id=None, category=None)
    if principal.role == Role.APPRAISER:
        return [a for a in all_appraisers if a.id == principal.organisation_id]
    if principal.role in (Role.INSTITUTION, Role.INSTITUTION_HEAD):
        return [a for a in all_appraisers if a.institution_id == principal.organisation_id]
    ours = {
        i.id
        for i in await registry.list_institutions(session=session, category=None)
        if i.bureau_id == principal.organisation_id
    }
    return [a for a in all_appraisers if a.institution_id in ours]


async def _page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    year: int,
    min_hours: int,
    refused: str = "",
    status_code: int = 200,
) -> Response:
    bureau = await evaluation.bureau_of(session=session, principal=principal)
    people = await _appraisers_in_view(session, principal)
    rows = [
        await training.appraiser_training(
            session=session, principal=principal, appraiser_id=a.id, year=year, min_hours=min_hours
        )
        for a in people
    ]
    return render(
        request,
        "training.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "training",
            "year": year,
            "min_hours": min_hours,
            "courses": await training.list_courses(session=session, bureau_id=bureau or "", year=None),
            "rows": rows,
            "kinds": COURSE_KINDS,
            "refused": refused,
        },
        status_code=status_code,
    )


@router.get("/training")
async def training_page(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    today: TodayDep,
    year: int | None = Query(default=None, ge=2000, le=9999),
) -> Response:
    return await _page(
        request,
        principal=principal,
        session=session,
        year=training.default_year(today, year),
        min_hours=settings.training_min_hours,
    )


@router.post("/training/courses")
async def create_course(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    today: TodayDep,
    now: NowDep,
) -> Response:
    posted = await read_form_lists(request)
    fields = {k: v[0].strip() for k, v in posted.items() if k != "csrftoken" and v and v[0].strip()}
    try:
        await training.create_course(
            session=session, principal=principal, body=CourseCreate.model_validate(fields), now=now
        )
    except REFUSALS as err:
        await session.rollback()
        return await _page(
            request,
            principal=principal,
            session=session,
            year=today.year,
            min_hours=settings.training_min_hours,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/training", status_code=303)


@router.post("/training/courses/{course_id}/attendance")
async def record_attendance(
    request: Request,
    course_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    today: TodayDep,
    now: NowDep,
) -> Response:
    """Attendance entered (ticked appraisers) or imported (pasted lines), as POST
    /v1/training/courses/{id}/attendance takes it."""
    await training.course_in_bureau(session=session, principal=principal, course_id=course_id)
    posted = await read_form_lists(request)
    records = [{"appraiser_id": a} for a in posted.get("appraiser_ids", []) if a]
    records += attendance_lines((posted.get("lines") or [""])[0])
    try:
        await training.record_attendance(
            session=session,
            principal=principal,
            course_id=course_id,
            body=AttendanceCreate.model_validate({"records": records}),
            now=now,
            min_hours=settings.training_min_hours,
        )
    except REFUSALS as err:
        await session.rollback()
        return await _page(
            request,
            principal=principal,
            session=session,
            year=today.year,
            min_hours=settings.training_min_hours,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/training", status_code=303)
