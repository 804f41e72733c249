"""The parties' pages in the workspace (PTY-1): a party signs in by its one-time link and sees its
commission alone on /ui/party — the stage, the clocks, the institution and how it was chosen
(the random draw re-run from its seed, watched live while the organ runs it), the materials, the
report once released — refreshed by htmx from the read model; and the forms it acts through. The
organ's side: registering parties and issuing links on the commission's page, scheduling and
running a draw with the parties present; the bureau's charging standards; a contact for SMS and
e-mail notifications. Every form goes through the same services as the REST API."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from appraisal.api.deps import CalendarDep, NowDep, SealDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.errors import InvalidInput, NotFound, RuleViolation
from appraisal.domain.organs import case_number_format
from appraisal.domain.parties import SIDES
from appraisal.domain.roles import Actor, Role
from appraisal.domain.stages import Stage
from appraisal.schemas.fees import FeeStandardCreate, FeeStandardPublic
from appraisal.schemas.parties import ContactPut, DrawCreate, PartiesCreate, PartyComplaintCreate
from appraisal.services import commission as commissions
from appraisal.services import (
    complaint,
    consistency,
    draws,
    fees,
    notification,
    organs,
    parties,
    registry,
    report,
)
from appraisal.web import forms
from appraisal.web.pages import CATEGORIES, PAGE_HEADERS, render
from appraisal.web.routes import Refusal, _commission_page, viewer_of
from appraisal.web.session import (
    PARTY_HOME,
    PREFIX,
    REFUSALS,
    PagePrincipalDep,
    PageRoute,
    login_page,
    read_form_lists,
    refusal_of,
    refusal_status,
    remember_session,
    same_origin,
)

router = APIRouter(
    prefix=PREFIX, route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)
PARTY_ROWS = 3
"""Blank party rows a registration form offers."""


def _first(posted: dict[str, list[str]], name: str) -> str:
    return (posted.get(name) or [""])[0].replace("\r\n", "\n").strip()


def party_rows(posted: dict[str, list[str]], prefix: str = "party") -> list[dict[str, Any]]:
    """The rows of a parties form as `PartyIn` bodies (a row without a name is left out)."""
    fields = ("name", "side", "phone", "email", "username", "password")
    columns = {f: posted.get(f"{prefix}.{f}", []) for f in fields}
    rows: list[dict[str, Any]] = []
    for i, name in enumerate(columns["name"]):
        if not name.strip():
            continue
        row = {f: columns[f][i].strip() for f in fields if i < len(columns[f]) and columns[f][i].strip()}
        rows.append(row)
    return rows


# ---- the party's own pages ----


async def _party_context(
    *, principal: Actor, session: AsyncSession, calendar: WorkingCalendar, today: date
) -> dict[str, Any]:
    party = await parties.party_of(session=session, principal=principal)
    view = None
    if party.commission_id:
        try:
            view = await parties.party_view(
                session=session,
                principal=principal,
                commission_id=party.commission_id,
                calendar=calendar,
                today=today,
            )
        except NotFound:  # registered, its registration not yet in the read model: the page waits
            view = None
    draw = await parties.draw_of_party(session=session, principal=principal)
    return {
        "party": party,
        "view": view,
        "draw": await draws.public(session=session, draw=draw, today=today, with_parties=False)
        if draw
        else None,
        "sides": SIDES,
        "contact": await notification.contact_of(session=session, principal=principal),
    }


async def party_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    calendar: WorkingCalendar,
    today: date,
    refusal: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    context = await _party_context(principal=principal, session=session, calendar=calendar, today=today)
    view = context["view"]
    return render(
        request,
        "party.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "party",
            **context,
            "refusal": refusal,
            "may_object": bool(view and view.stage == Stage.ISSUED and view.entrusting_role == Role.COURT),
            "may_answer_fee": bool(view and view.fee_is_mine and view.fee and view.fee.status == "quoted"),
        },
        status_code=status_code,
    )


@router.get("/party")
async def party_home(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
    seq: int | None = Query(default=None, ge=1, le=2**31 - 1, description="read your writes: wait for it"),
) -> Response:
    """The party's commission alone (or the draw it waits for), refreshing itself."""
    party = await parties.party_of(session=session, principal=principal)
    if seq is not None and party.commission_id:
        await consistency.await_read_model(
            session=session,
            principal=principal,
            wanted={party.commission_id: seq},
            within_seconds=settings.read_your_writes_seconds,
        )
    return await party_page(request, principal=principal, session=session, calendar=calendar, today=today)


@router.get("/party/live")
async def party_live(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
    waiting: bool = False,
) -> Response:
    """What the party's page refreshes every few seconds (htmx): the draw, the stage and the
    clocks. A page that waited for its commission (a draw not yet run) loads whole once it is
    there, with its forms."""
    context = await _party_context(principal=principal, session=session, calendar=calendar, today=today)
    if waiting and context["view"] is not None and request.headers.get("hx-request"):
        return render(request, "_party_live.html", context, headers={"HX-Refresh": "true"})
    return render(request, "_party_live.html", context)


@router.get("/party/report.pdf")
async def party_report(
    principal: PagePrincipalDep, session: SessionDep, seal: SealDep, settings: SettingsDep
) -> Response:
    """The issued report's sealed PDF, once the entrusting organ released it to the parties."""
    party = await parties.party_of(session=session, principal=principal)
    if not party.commission_id:
        raise NotFound()
    try:
        pdf = await report.issued_report_pdf(
            session=session,
            principal=principal,
            commission_id=party.commission_id,
            seal=seal,
            within_seconds=settings.read_your_writes_seconds,
        )
    except RuleViolation as err:
        raise InvalidInput("report", err.message) from err
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **PAGE_HEADERS,
            "Content-Disposition": f'attachment; filename="report-{party.commission_id}.pdf"',
        },
    )


@router.get("/party/sign-in/{token}")
async def link_page(request: Request, token: str) -> Response:
    """A party's one-time link: a page asking to sign in (opening the link, or a mail client's
    preview of it, uses nothing; the button does)."""
    return render(request, "party_sign_in.html", {"viewer": None, "active": "", "token": token, "error": ""})


@router.post("/party/sign-in/{token}")
async def link_sign_in(
    request: Request, token: str, session: SessionDep, now: NowDep, today: TodayDep
) -> Response:
    if not same_origin(request):
        return login_page(request, next_path="", error="跨站登录被拒绝 Cross-site sign-in refused")
    try:
        signed_in = await parties.sign_in_by_link(session=session, token=token, now=now, today=today)
    except parties.LinkRefused as err:  # the form again, with the reason (as a wrong password)
        return render(
            request,
            "party_sign_in.html",
            {"viewer": None, "active": "", "token": token, "error": err.message},
        )
    response = RedirectResponse(PARTY_HOME, status_code=303)
    remember_session(request, response, signed_in)
    return response


@router.post("/party/complaints")
async def party_complaint(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    """The party's own complaint to the bureau, as POST /v1/commissions/{id}/complaints."""
    posted = await read_form_lists(request)
    try:
        party = await parties.party_of(session=session, principal=principal)
        if not party.commission_id:
            raise NotFound()
        row = await commissions.load_in_scope(
            session=session, principal=principal, commission_id=party.commission_id
        )
        fields = forms.body_fields(COMPLAINT_FIELDS, posted)
        await complaint.register_by_party(
            session=session,
            client=client,
            task_queue=settings.task_queue,
            principal=principal,
            commission=row,
            party_name=party.name,
            party_side=party.side,
            body=PartyComplaintCreate.model_validate(fields),
            today=today,
            calendar=calendar,
        )
    except REFUSALS as err:
        return await party_page(
            request,
            principal=principal,
            session=session,
            calendar=calendar,
            today=today,
            refusal=Refusal("complaints", refusal_of(err), forms.entered(posted)),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PARTY_HOME}#complaints", status_code=303)


COMPLAINT_FIELDS = (
    forms.Field("summary", "投诉事项 What you complain of", "textarea"),
    forms.Field("appraiser_id", "被投诉的鉴定人（可选）The appraiser (optional)", required=False),
    forms.Field("knew_on", "知道之日 When you knew of it (default today)", "date", required=False),
    forms.Field("materials", "材料 Materials", "materials", required=False),
)


@router.post("/notifications/contact")
async def set_contact(
    request: Request, principal: PagePrincipalDep, session: SessionDep, now: NowDep
) -> Response:
    """Where the viewer is told by SMS or e-mail, as PUT /v1/notifications/contact."""
    posted = await read_form_lists(request)
    back = PARTY_HOME if principal.role == Role.PARTY else f"{PREFIX}/notifications"
    try:
        body = ContactPut.model_validate(
            {k: _first(posted, k) for k in ("phone", "email") if _first(posted, k)}
        )
    except ValidationError as err:
        wrong = err.errors()[0]
        raise InvalidInput(
            str(wrong["loc"][0]), "手机号或电子邮件地址格式不对 not a mobile number or e-mail address"
        ) from err
    await notification.set_contact(
        session=session, principal=principal, phone=body.phone or "", email=body.email or "", now=now
    )
    return RedirectResponse(f"{back}#contact", status_code=303)


# ---- the entrusting organ: parties of a commission, their links ----


@router.post("/commissions/{commission_id}/parties")
async def register_parties(
    request: Request,
    commission_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
    now: NowDep,
) -> Response:
    """The organ registers parties, as POST /v1/commissions/{id}/parties; the page shows each
    one-time link once (not in any address, so it stays out of the browser's history)."""
    posted = await read_form_lists(request)
    try:
        made, _ = await parties.register(
            session=session,
            client=client,
            principal=principal,
            commission_id=commission_id,
            body=PartiesCreate.model_validate({"parties": party_rows(posted)}),
            now=now,
            today=today,
            link_hours=settings.party_link_hours,
        )
    except REFUSALS as err:
        return await _commission_page(
            request,
            principal=principal,
            session=session,
            calendar=calendar,
            today=today,
            commission_id=commission_id,
            refusal=Refusal("parties", refusal_of(err), forms.entered(posted)),
            status_code=refusal_status(err),
        )
    return await _commission_page(
        request,
        principal=principal,
        session=session,
        calendar=calendar,
        today=today,
        commission_id=commission_id,
        new_links=[{"name": r.party.name, "link": r.link, "expires_at": r.expires_at} for r in made],
    )


@router.post("/parties/{party_id}/link")
async def new_link(
    request: Request,
    party_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
    now: NowDep,
) -> Response:
    """A fresh one-time link for a party the organ registered, shown once on its page."""
    made = await parties.new_link(
        session=session, principal=principal, party_id=party_id, now=now, link_hours=settings.party_link_hours
    )
    shown = [{"name": made.party.name, "link": made.link, "expires_at": made.expires_at}]
    if made.party.commission_id:
        return await _commission_page(
            request,
            principal=principal,
            session=session,
            calendar=calendar,
            today=today,
            commission_id=made.party.commission_id,
            new_links=shown,
        )
    assert made.party.draw_id is not None
    return await _draw_page(
        request,
        principal=principal,
        session=session,
        today=today,
        draw_id=made.party.draw_id,
        new_links=shown,
    )


# ---- the random draw with the parties present (SEL-3) ----


@router.get("/draws")
async def draws_page(
    request: Request, principal: PagePrincipalDep, session: SessionDep, today: TodayDep
) -> Response:
    return await _draws_page(request, principal=principal, session=session, today=today)


async def _draws_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    today: date,
    refused: str = "",
    kept: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    organ = await organs.organ_of_principal(session=session, principal=principal)
    return render(
        request,
        "draws.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "draws",
            "draws": [
                await draws.public(session=session, draw=d, today=today, with_parties=False)
                for d in await draws.of_organ(session=session, principal=principal)
            ],
            "categories": CATEGORIES,
            "institutions": await registry.list_institutions(session=session, category=None),
            "case_format": case_number_format(organ.kind),
            "sides": SIDES,
            "rows": range(PARTY_ROWS),
            "refused": refused,
            "kept": kept or {},
        },
        status_code=status_code,
    )


@router.post("/draws")
async def create_draw(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    today: TodayDep,
    now: NowDep,
) -> Response:
    """A draw scheduled with its parties, as POST /v1/draws; their links shown once."""
    posted = await read_form_lists(request)
    try:
        entrustment = forms.entrustment_fields({**posted, "mode": ["random"]})
        body: dict[str, Any] = {"entrustment": entrustment, "parties": party_rows(posted)}
        for optional in ("scheduled_at", "place"):
            if value := _first(posted, optional):
                body[optional] = (
                    value + forms.CHINA_OFFSET if optional == "scheduled_at" and len(value) <= 16 else value
                )
        draw, made, _ = await draws.create(
            session=session,
            principal=principal,
            body=DrawCreate.model_validate(body),
            now=now,
            today=today,
            link_hours=settings.party_link_hours,
        )
    except REFUSALS as err:
        return await _draws_page(
            request,
            principal=principal,
            session=session,
            today=today,
            refused=refusal_of(err),
            kept=forms.entered(posted),
            status_code=refusal_status(err),
        )
    return await _draw_page(
        request,
        principal=principal,
        session=session,
        today=today,
        draw_id=draw.id,
        new_links=[{"name": r.party.name, "link": r.link, "expires_at": r.expires_at} for r in made],
    )


async def _draw_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    today: date,
    draw_id: str,
    new_links: list[dict[str, Any]] | None = None,
    refused: str = "",
    status_code: int = 200,
) -> Response:
    draw = await draws.load(session=session, principal=principal, draw_id=draw_id)
    shown = await draws.public(session=session, draw=draw, today=today, with_parties=True)
    return render(
        request,
        "draw.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "draws",
            "draw": shown,
            "institutions": {
                i.id: i.name for i in await registry.list_institutions(session=session, category=None)
            },
            "new_links": new_links or [],
            "refused": refused,
        },
        status_code=status_code,
    )


@router.get("/draws/{draw_id}")
async def draw_page(
    request: Request, draw_id: str, principal: PagePrincipalDep, session: SessionDep, today: TodayDep
) -> Response:
    return await _draw_page(request, principal=principal, session=session, today=today, draw_id=draw_id)


@router.post("/draws/{draw_id}/run")
async def run_draw(
    request: Request,
    draw_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    today: TodayDep,
    now: NowDep,
) -> Response:
    """The organ runs the draw, as POST /v1/draws/{id}/run: its page (and the parties') shows the
    institution drawn and the draw re-run from its seed."""
    try:
        await draws.run(
            session=session,
            client=client,
            task_queue=settings.task_queue,
            principal=principal,
            draw_id=draw_id,
            today=today,
            now=now,
            paper_history_days=settings.paper_history_days,
        )
    except REFUSALS as err:
        return await _draw_page(
            request,
            principal=principal,
            session=session,
            today=today,
            draw_id=draw_id,
            refused=refusal_of(err),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/draws/{draw_id}", status_code=303)


# ---- the bureau's charging standards (FEE-1) ----


@router.get("/fee-standards")
async def standards_page(request: Request, principal: PagePrincipalDep, session: SessionDep) -> Response:
    return await _standards_page(request, principal=principal, session=session)


async def _standards_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    refused: str = "",
    kept: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "fee_standards.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "fee-standards",
            "standards": [
                FeeStandardPublic.model_validate(s)
                for s in await fees.standards(session=session, history=True)
            ],
            "categories": CATEGORIES,
            "may_set": principal.role == Role.SUPERVISOR,
            "refused": refused,
            "kept": kept or {},
        },
        status_code=status_code,
    )


@router.post("/fee-standards")
async def set_standard(
    request: Request, principal: PagePrincipalDep, session: SessionDep, now: NowDep, today: TodayDep
) -> Response:
    posted = await read_form_lists(request)
    try:
        body = FeeStandardCreate.model_validate(
            {
                k: _first(posted, k)
                for k in ("category", "matter", "ceiling", "source", "effective_from", "reason")
                if _first(posted, k)
            }
        )
        await fees.set_standard(session=session, principal=principal, body=body, now=now, today=today)
    except REFUSALS as err:
        return await _standards_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            kept=forms.entered(posted),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/fee-standards", status_code=303)
