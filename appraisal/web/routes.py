"""The workspace's pages for every role, under /ui: server-rendered, read from the same
services (and with the same scope checks) as the REST API; its forms take a step through
the same services and Updates as the API's step routes."""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from appraisal.api.deps import CalendarDep, NowDep, SealDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.api.paging import (
    decode_inbox_cursor,
    decode_list_cursor,
    encode_inbox_cursor,
    encode_list_cursor,
)
from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar
from appraisal.domain.commission import REFUSAL_GROUNDS
from appraisal.domain.errors import InvalidInput, RuleViolation
from appraisal.domain.organs import NEXT_ORGANS, case_number_format, institution_closed_to
from appraisal.domain.parties import SIDES
from appraisal.domain.reappraisal import REAPPRAISAL_GROUNDS
from appraisal.domain.roles import INVESTIGATING_ROLES, Actor, Role
from appraisal.domain.stages import TERMINAL_STAGES, Stage
from appraisal.schemas.commission import CommissionPublic, EntrustmentCreate, ReentrustmentCreate
from appraisal.schemas.criminal import CaseTransferCreate
from appraisal.schemas.lifecycle import ReappraisalCreate
from appraisal.schemas.supervision import SupervisionOverview
from appraisal.services import (
    accounts,
    audit,
    case_transfer,
    consistency,
    evaluation,
    notification,
    organs,
    parties,
    reappraisal,
    registry,
    report,
    selection,
    steps,
    supervision,
)
from appraisal.services import commission as commissions
from appraisal.web import charts, forms
from appraisal.web.pages import CATEGORIES, PAGE_HEADERS, STAGES, render
from appraisal.web.session import (
    PARTY_HOME,
    PREFIX,
    REFUSALS,
    SESSION_COOKIE,
    PagePrincipalDep,
    PageRoute,
    forget,
    login_page,
    read_form,
    read_form_lists,
    refusal_of,
    refusal_status,
    same_origin,
    sign_in,
    sign_in_account,
)

router = APIRouter(
    prefix=PREFIX,
    route_class=PageRoute,
    include_in_schema=False,
    default_response_class=HTMLResponse,
)

LIST_LIMIT = 20
LIST_PAGE = 50
NOTIFICATIONS = 100
INBOX_LIMIT = 50
DUE_WITHIN_CHOICES = (3, 5, 10, 20, 30, 60)
DueWithin = Annotated[int, Query(ge=1, le=supervision.DUE_WITHIN_MAX)]


async def choosable(
    session: AsyncSession, institutions: list[Any], principal: Actor
) -> list[SimpleNamespace]:
    """The institutions the viewer's organ may choose, each named with its latest published
    integrity grade (EVL-1); one an investigative organ set up is offered only to that organ and
    its own system (ENT-3)."""
    organ = await organs.organ_of_principal(session=session, principal=principal)
    founders = await organs.organs_by_id(
        session=session, ids=[i.founded_by_organ_id for i in institutions if i.founded_by_organ_id]
    )
    offered = [
        i
        for i in institutions
        if not institution_closed_to(
            founded_by_kind=founders[i.founded_by_organ_id].kind
            if i.founded_by_organ_id in founders
            else None,
            founded_by_id=i.founded_by_organ_id,
            organ_kind=organ.kind,
            organ_id=organ.id,
        )
    ]
    grades = await evaluation.latest_grades(session=session, ids=[i.id for i in offered])
    return [
        SimpleNamespace(id=i.id, name=f"{i.name} · 诚信 {grades[i.id]}" if i.id in grades else i.name)
        for i in offered
    ]


async def viewer_of(session: AsyncSession, principal: Actor) -> dict[str, Any]:
    """Who is signed in, with their organisation's name, for the page header."""
    return {
        "role": principal.role,
        "organisation": await registry.principal_organisation_name(session=session, principal=principal),
        "subject": principal.subject,
        "manages_accounts": principal.role == Role.SUPERVISOR
        or await accounts.is_administrator(session=session, principal=principal),
    }


def _short(name: str) -> str:
    """A chart label: the Chinese name alone when a name gives both."""
    first = name.split(" ", 1)[0]
    return first if not first.isascii() else name[:28]


def _counts_context(overview: SupervisionOverview) -> dict[str, Any]:
    by_stage = charts.bar_chart(
        "按阶段 By stage",
        [
            (STAGES.get(stage, stage), [("final" if stage in TERMINAL_STAGES else "open", n)])
            for stage, n in overview.counts.by_stage.items()
        ],
        legend=[("open", "在办 Open"), ("final", "已终结 Final")],
    )
    by_institution = charts.bar_chart(
        "按机构 By institution",
        [
            (
                _short(i.name),
                [
                    ("overdue", i.overdue),
                    ("due-soon", i.due_soon),
                    ("open", max(i.open - i.overdue - i.due_soon, 0)),
                    ("final", i.total - i.open),
                ],
            )
            for i in overview.by_institution
        ],
        legend=[
            ("overdue", "逾期 Overdue"),
            ("due-soon", "即将到期 Due soon"),
            ("open", "其他在办 Other open"),
            ("final", "已终结 Final"),
        ],
    )
    return {
        "overview": overview,
        "by_stage_chart": by_stage,
        "by_institution_chart": by_institution,
        "refreshed_at": datetime.now(CHINA_TZ).strftime("%H:%M:%S"),
    }


@router.get("/login")
async def login_form(request: Request, next_path: str = Query(default="", alias="next")) -> Response:
    # Without `next`, signing in goes to the role's home (an inbox or the overview).
    return login_page(request, next_path=next_path)


@router.post("/login")
async def login(
    request: Request, settings: SettingsDep, session: SessionDep, now: NowDep, today: TodayDep
) -> Response:
    if not same_origin(request):
        return login_page(request, next_path="", error="跨站登录被拒绝 Cross-site sign-in refused")
    form = await read_form(request)
    if "username" in form:
        return await sign_in_account(request, session, now, today, form=form)
    return await sign_in(
        request, settings, session, today, token=form.get("token", ""), next_path=form.get("next", "")
    )


@router.post("/logout")
async def logout(request: Request, session: SessionDep, now: NowDep) -> Response:
    if signed_in := request.cookies.get(SESSION_COOKIE):
        await accounts.sign_out(session=session, token=signed_in, now=now)
    response = login_page(request, next_path="", notice="已退出 Signed out")
    forget(response)
    return response


@router.get("/overview")
async def overview_page(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
    due_within: DueWithin = supervision.DUE_WITHIN_DEFAULT,
) -> Response:
    overview = await supervision.overview(
        session=session, principal=principal, calendar=calendar, today=today, due_within=due_within
    )
    listed: dict[str, Any] = {}
    for name, overdue, due_before in (("overdue", True, None), ("due_soon", False, overview.due_by)):
        listing = await commissions.list_commissions(
            session=session,
            principal=principal,
            stage=None,
            institution_id=None,
            court_id=None,
            category=None,
            overdue=overdue,
            due_before=due_before,
            limit=LIST_LIMIT,
            offset=0,
        )
        listed[name] = [
            (row, calendar.working_days_between(today, row.next_due_on) if row.next_due_on else None)
            for row in listing.rows
        ]
    return render(
        request,
        "overview.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "overview",
            **_counts_context(overview),
            **listed,
            "overdue_total": overview.counts.overdue,
            "due_soon_total": overview.counts.due_soon,
            "institutions": {i.institution_id: i.name for i in overview.by_institution},
            "choices": sorted({*DUE_WITHIN_CHOICES, due_within}),
            "rates": overview.rates,
        },
    )


@router.get("/overview/counts")
async def overview_counts(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
    due_within: DueWithin = supervision.DUE_WITHIN_DEFAULT,
) -> Response:
    """The counts panel alone: what the overview's htmx refresh swaps in."""
    overview = await supervision.overview(
        session=session, principal=principal, calendar=calendar, today=today, due_within=due_within
    )
    return render(request, "_counts.html", _counts_context(overview))


REPORT_TEXT_EVENTS = ("report.submitted", "report.corrected")
"""Where a report version's text is kept: the audit trail, beside its hash."""


@dataclass(frozen=True)
class Refusal:
    """A step just refused (nothing changed): which form (`key`, the step's path with its
    item), the rule and field, and what the form had in it."""

    key: str
    message: str
    entered: dict[str, str]


async def _commission_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    calendar: WorkingCalendar,
    today: date,
    commission_id: str,
    refusal: Refusal | None = None,
    status_code: int = 200,
    new_links: list[Any] | None = None,
) -> Response:
    """The commission, and the forms of the steps the viewer may take on it now (a party has its
    own page: /ui/party). `new_links`: the one-time links of parties just registered, shown once."""
    if principal.role == Role.PARTY:  # its own commission alone (404 for another), on its own page
        from appraisal.web.parties import party_page  # the party's page lives beside its routes

        await commissions.load_in_scope(session=session, principal=principal, commission_id=commission_id)

        return await party_page(
            request,
            principal=principal,
            session=session,
            calendar=calendar,
            today=today,
            refusal=refusal,
            status_code=status_code,
        )
    row = await commissions.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    commission = commissions.to_public(row.snapshot, calendar=calendar, today=today, viewer=principal)
    offers = forms.offers(principal, commission)
    relinking = forms.relinking_offers(principal, commission)
    choosing = {o.step.path for o in offers} & {"acceptance", "recusals/{recusal_id}/decision"}
    named = await registry.names(session=session, ids=commission.appraiser_ids)
    if principal.role == Role.APPRAISER:  # an appraiser names only themself (a recusal)
        assigned = [
            (principal.organisation_id, named.get(principal.organisation_id, principal.organisation_id))
        ]
    else:
        assigned = [(a, named.get(a, a)) for a in commission.appraiser_ids]
    trail = await commissions.audit_trail(session=session, commission_id=row.id, viewer=principal)
    assignable = (
        await registry.assignable_appraisers(
            session=session,
            institution_id=commission.institution_id,
            category=commission.category,
            today=today,
        )
        if choosing
        else []
    )
    grades = await evaluation.latest_grades(session=session, ids=[a.id for a in assignable])
    return render(
        request,
        "commission.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "",
            "commission": commission,
            "court_name": await organs.organ_name(session=session, organ_id=commission.court_id),
            "case": await case_transfer.case_history(session=session, principal=principal, commission=row),
            "transfer_offer": await _transfer_offer(session, principal, commission),
            "institution_name": await registry.organisation_name(
                session=session, kind="institution", id_=commission.institution_id
            ),
            "appraisers": [(a, named.get(a, a)) for a in commission.appraiser_ids],
            "assigned": assigned,
            "names": named
            | await registry.names(
                session=session,
                ids=[
                    s.appraiser_id
                    for r in [commission.report, *commission.earlier_reports]
                    if r
                    for s in r.signatures
                ],
            ),
            "may_trace": principal.role == Role.SUPERVISOR,
            "timeline": charts.timeline(commission.clocks, received_on=commission.received_on, today=today),
            "trail": trail,
            "report_texts": {
                str(e.data["content_hash"]): e.data for e in trail if e.kind in REPORT_TEXT_EVENTS
            },
            "selection": await selection.selection_if_recorded(session=session, commission=row),
            "verdict": await audit.verify_commission(session=session, commission=row),
            "offers": offers,
            "relinking": relinking,
            "institutions": await choosable(
                session,
                await registry.list_institutions(session=session, category=commission.category),
                principal,
            )
            if relinking
            else [],
            "reappraisal_grounds": REAPPRAISAL_GROUNDS,
            "assignable": [
                (a.id, f"{a.name} · 诚信 {grades[a.id]}" if a.id in grades else a.name, a.senior_title)
                for a in assignable
            ]
            if choosing
            else [],
            "grounds": REFUSAL_GROUNDS,
            "refusal": refusal,
            "parties": await parties.publics(
                session=session,
                parties=await parties.of_commission(
                    session=session, principal=principal, commission_id=row.id
                ),
            )
            if _entrusted_by(principal, commission)
            else [],
            "party_names": {p.party_id: p.name for p in commission.parties},
            "may_register_parties": _entrusted_by(principal, commission) and row.stage not in TERMINAL_STAGES,
            "new_links": new_links or [],
            "sides": SIDES,
        },
        status_code=status_code,
    )


def _entrusted_by(principal: Actor, commission: CommissionPublic) -> bool:
    """The viewer is the organ that entrusted the commission (it manages the parties)."""
    return (principal.role, principal.organisation_id) == (commission.entrusting_role, commission.court_id)


@dataclass(frozen=True)
class TransferOffer:
    """The form handing the case over: the viewer's own number of it, the organs it may go to."""

    case_number: str
    organs: list[organs.Organ]


async def _transfer_offer(
    session: AsyncSession, principal: Actor, commission: CommissionPublic
) -> TransferOffer | None:
    """Offered to the investigating organ handling the commission's case now (ENT-4)."""
    if principal.role not in INVESTIGATING_ROLES:
        return None
    if commission.transfers:
        last = commission.transfers[-1]
        holder, number = (last.to_role, last.to_organ_id), last.to_case_number
    else:
        holder, number = (commission.entrusting_role, commission.court_id), commission.case_number
    if holder != (principal.role, principal.organisation_id):
        return None
    mine = await organs.organ_of_principal(session=session, principal=principal)
    following = [
        o
        for kind in NEXT_ORGANS.get(mine.kind, ())
        for o in await organs.list_organs(session=session, kind=kind)
    ]
    return TransferOffer(number, following) if following else None


async def _entrust_page(
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
        "entrust.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "entrust",
            "case_format": case_number_format(
                (await organs.organ_of_principal(session=session, principal=principal)).kind
            ),
            "categories": CATEGORIES,
            "institutions": await choosable(
                session, await registry.list_institutions(session=session, category=None), principal
            ),
            "refused": refused,
            "kept": kept or {},
        },
        status_code=status_code,
    )


@router.get("/commissions")
async def commissions_page(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
    q: str = Query(default="", max_length=100),
    stage: Stage | Literal[""] = "",
    institution_id: str = Query(default="", max_length=36),
    category: str = Query(default="", max_length=60),
    overdue: bool = False,
    escalated: bool = False,
    due_before: date | Literal[""] = "",
    cursor: str | None = Query(default=None, max_length=200),
) -> Response:
    """Every commission the viewer may see, searched and filtered as GET /v1/commissions
    does, one keyset page after another, soonest deadline first."""
    listing = await commissions.list_commissions(
        session=session,
        principal=principal,
        stage=stage or None,
        institution_id=institution_id or None,
        court_id=None,
        category=category or None,
        overdue=True if overdue else None,
        escalated=True if escalated else None,
        due_before=due_before or None,
        text=q or None,
        limit=LIST_PAGE,
        after=decode_list_cursor(cursor) if cursor else None,
    )
    filters = {
        "q": q,
        "stage": stage,
        "institution_id": institution_id,
        "category": category,
        "overdue": overdue,
        "escalated": escalated,
        "due_before": due_before.isoformat() if isinstance(due_before, date) else "",
    }
    same = [(k, "true" if v is True else v) for k, v in filters.items() if v]
    institutions = await registry.list_institutions(session=session, category=None)
    return render(
        request,
        "commissions.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "commissions",
            "filters": filters,
            "rows": [
                (row, calendar.working_days_between(today, row.next_due_on) if row.next_due_on else None)
                for row in listing.rows
            ],
            "total": listing.total,
            "total_exact": listing.total_exact,
            "start": listing.offset,
            "institutions": institutions,
            "institutions_by_id": {i.id: i.name for i in institutions},
            "categories": CATEGORIES,
            "cursor": cursor,
            "first_page": f"{PREFIX}/commissions?{urlencode(same)}",
            "next_page": f"{PREFIX}/commissions?{urlencode([*same, ('cursor', encode_list_cursor(listing.following))])}"
            if listing.following
            else None,
        },
    )


@router.get("/commissions/new")
async def entrust_form(request: Request, principal: PagePrincipalDep, session: SessionDep) -> Response:
    return await _entrust_page(request, principal=principal, session=session)


@router.post("/commissions")
async def entrust(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    """The court's entrustment, as POST /v1/commissions takes it (the same body and service);
    a court reference already used opens the commission it started."""
    posted = await read_form_lists(request)
    try:
        result, _ = await commissions.entrust(
            session=session,
            client=client,
            task_queue=settings.task_queue,
            principal=principal,
            body=EntrustmentCreate.model_validate(forms.entrustment_fields(posted)),
            today=today,
            paper_history_days=settings.paper_history_days,
        )
    except REFUSALS as err:
        return await _entrust_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            kept=forms.entered(posted),
            status_code=refusal_status(err),
        )
    public = commissions.public_of(result, calendar=calendar, today=today)
    return RedirectResponse(f"{PREFIX}/commissions/{public.id}?seq={public.last_event_seq}", status_code=303)


@router.get("/commissions/{commission_id}")
async def commission_page(
    request: Request,
    commission_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
    seq: int | None = Query(default=None, ge=1, le=2**31 - 1, description="read your writes: wait for it"),
) -> Response:
    if seq is not None:  # back from a step: show the commission as that step left it
        await consistency.await_read_model(
            session=session,
            principal=principal,
            wanted={commission_id: seq},
            within_seconds=settings.read_your_writes_seconds,
        )
    return await _commission_page(
        request,
        principal=principal,
        session=session,
        calendar=calendar,
        today=today,
        commission_id=commission_id,
    )


def _step_page(step: steps.Step) -> Callable[..., Coroutine[Any, Any, Response]]:
    """The form of one step, taken as the REST API's POST for it takes it (the same body,
    the same service, the same Update). Refused, the page comes back with the rule and the
    field beside the form, what was typed still in it, and nothing changed; taken, the
    browser reads the commission at the step's own sequence."""

    async def take_step(
        request: Request,
        commission_id: str,
        principal: PagePrincipalDep,
        session: SessionDep,
        client: TemporalDep,
        calendar: CalendarDep,
        today: TodayDep,
    ) -> Response:
        item_id = next((v for k, v in request.path_params.items() if k != "commission_id"), "")
        posted = await read_form_lists(request)
        try:
            body = step.body.model_validate(forms.body_fields(forms.FORMS[step.path].fields, posted))
            snapshot = await steps.take(
                session=session,
                client=client,
                principal=principal,
                today=today,
                commission_id=commission_id,
                step=step,
                body=body,
                item_id=item_id,
            )
        except REFUSALS as err:
            return await _commission_page(
                request,
                principal=principal,
                session=session,
                calendar=calendar,
                today=today,
                commission_id=commission_id,
                refusal=Refusal(
                    request.url.path.split(f"/commissions/{commission_id}/", 1)[1],
                    refusal_of(err),
                    forms.entered(posted),
                ),
                status_code=refusal_status(err),
            )
        if step.of_testimony:  # the testimony reports the step into the commission's trail itself
            return RedirectResponse(f"{PREFIX}/commissions/{commission_id}#testimonies", status_code=303)
        seq = commissions.to_public(snapshot, calendar=calendar, today=today).last_event_seq
        if principal.role == Role.PARTY:
            return RedirectResponse(f"{PARTY_HOME}?seq={seq}", status_code=303)
        return RedirectResponse(f"{PREFIX}/commissions/{commission_id}?seq={seq}", status_code=303)

    take_step.__name__ = f"take_{step.name}"
    return take_step


for _step in steps.STEPS.values():
    router.add_api_route(f"/commissions/{{commission_id}}/{_step.path}", _step_page(_step), methods=["POST"])


@router.post("/commissions/{commission_id}/reentrustment")
@router.post("/commissions/{commission_id}/reappraisal")
async def relink(
    request: Request,
    commission_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    """The court re-entrusts an overdue commission (CRT-5) or orders a re-appraisal (PROC-31),
    as POST …/reentrustment and …/reappraisal do (the same bodies and services); the browser
    goes on to the new, linked commission."""
    path = request.url.path.rsplit("/", 1)[1]
    posted = await read_form_lists(request)
    try:
        old = await commissions.load_in_scope(
            session=session, principal=principal, commission_id=commission_id
        )
        fields = forms.relinking_fields(posted)
        if path == "reappraisal":
            result, _ = await reappraisal.reappraise(
                session=session,
                client=client,
                task_queue=settings.task_queue,
                principal=principal,
                old=old,
                body=ReappraisalCreate.model_validate(fields),
                today=today,
            )
        else:
            result, _ = await commissions.reentrust(
                session=session,
                client=client,
                task_queue=settings.task_queue,
                principal=principal,
                old=old,
                body=ReentrustmentCreate.model_validate(fields),
                today=today,
            )
    except REFUSALS as err:
        return await _commission_page(
            request,
            principal=principal,
            session=session,
            calendar=calendar,
            today=today,
            commission_id=commission_id,
            refusal=Refusal(path, refusal_of(err), forms.entered(posted)),
            status_code=refusal_status(err),
        )
    public = commissions.public_of(result, calendar=calendar, today=today)
    return RedirectResponse(f"{PREFIX}/commissions/{public.id}?seq={public.last_event_seq}", status_code=303)


@router.post("/commissions/{commission_id}/case-transfer")
async def transfer_case(
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
    """The case of this commission handed over to the next organ, as POST /v1/case-transfers
    does (the same body and service); the browser comes back to the commission's case."""
    posted = await read_form_lists(request)
    try:
        await commissions.load_in_scope(session=session, principal=principal, commission_id=commission_id)
        fields = {k: v[0].strip() for k, v in posted.items() if k != "csrftoken" and v and v[0].strip()}
        await case_transfer.transfer_case(
            session=session,
            client=client,
            principal=principal,
            body=CaseTransferCreate.model_validate(fields),
            today=today,
            now=now,
            within_seconds=settings.read_your_writes_seconds,
        )
    except REFUSALS as err:
        return await _commission_page(
            request,
            principal=principal,
            session=session,
            calendar=calendar,
            today=today,
            commission_id=commission_id,
            refusal=Refusal("case-transfer", refusal_of(err), forms.entered(posted)),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/commissions/{commission_id}#case", status_code=303)


@router.get("/commissions/{commission_id}/report.pdf")
async def report_pdf(
    commission_id: str, principal: PagePrincipalDep, session: SessionDep, seal: SealDep, settings: SettingsDep
) -> Response:
    """The issued report's sealed PDF, as GET /v1/commissions/{id}/report.pdf gives it."""
    try:
        pdf = await report.issued_report_pdf(
            session=session,
            principal=principal,
            commission_id=commission_id,
            seal=seal,
            within_seconds=settings.read_your_writes_seconds,
        )
    except RuleViolation as err:
        raise InvalidInput("report", err.message) from err
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="report-{commission_id}.pdf"'},
    )


@router.get("/appraisers/{appraiser_id}")
async def appraiser_page(
    request: Request, appraiser_id: str, principal: PagePrincipalDep, session: SessionDep
) -> Response:
    trace = await supervision.appraiser_trace(session=session, principal=principal, appraiser_id=appraiser_id)
    return render(
        request,
        "appraiser.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "",
            "trace": trace,
            "institution_name": await registry.organisation_name(
                session=session, kind="institution", id_=trace.institution_id
            ),
        },
    )


@router.get("/notifications")
async def notifications_page(request: Request, principal: PagePrincipalDep, session: SessionDep) -> Response:
    """What happened to the viewer's commissions: the notifications sent to their organisation."""
    return render(
        request,
        "notifications.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "notifications",
            "notifications": await notification.sent_to(
                session=session, principal=principal, limit=NOTIFICATIONS
            ),
            "contact": await notification.contact_of(session=session, principal=principal),
        },
    )


@router.get("/inbox")
async def inbox_page(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
    cursor: str | None = Query(default=None, max_length=200),
) -> Response:
    after = decode_inbox_cursor(cursor) if cursor is not None else None
    tasks, following = await commissions.inbox(
        session=session, principal=principal, limit=INBOX_LIMIT, after=after
    )
    return render(
        request,
        "inbox.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "inbox",
            "tasks": tasks,
            "left": {
                t.due_on: calendar.working_days_between(today, t.due_on)
                for t in tasks
                if t.due_on is not None
            },
            "next_page": f"{PREFIX}/inbox?{urlencode({'cursor': encode_inbox_cursor(following)})}"
            if following
            else None,
        },
    )
