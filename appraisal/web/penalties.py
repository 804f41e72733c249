"""The bureau's penalty cases in the workspace (行政处罚): file one (from a referral or the
bureau's own finding), follow its clocks and trail, and take each step by form, through the
same services and the same Temporal Updates as the REST API's /v1/penalties."""

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from appraisal.api.deps import CalendarDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.lifecycle import PENALTY_TRANSITIONS, stages_for
from appraisal.domain.penalty import PENALTIES, SOURCES
from appraisal.domain.roles import Actor
from appraisal.schemas.penalty import PenaltyCaseCreate, PenaltyStepCreate
from appraisal.services import penalty as penalties
from appraisal.services import registry
from appraisal.web import forms
from appraisal.web.forms import Field
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

STEPS: dict[str, tuple[str, str, str]] = {
    "investigate": ("record_investigation", "调查取证 Investigate", "记录 Record"),
    "propose": (
        "notify_proposal",
        "告知拟处罚及权利 Notify the proposed penalty (Arts 44-45)",
        "告知 Notify",
    ),
    "statement": ("record_statement", "当事人陈述、申辩 The party's statement and defence", "记录 Record"),
    "schedule_hearing": ("schedule_hearing", "通知听证 Notify the hearing (≥7 days ahead)", "通知 Notify"),
    "hearing_held": ("record_hearing", "听证笔录 The hearing held", "记录 Record"),
    "extend": ("extend_decision", "延长决定期限 Extend the decision limit (Art 60)", "延长 Extend"),
    "decide": ("decide", "作出处罚决定 Decide (REG-3…REG-7)", "决定 Decide"),
    "serve": ("serve", "送达处罚决定书 Serve the decision", "送达并结案 Serve and close"),
}
"""Each step of POST /v1/penalties/{id}/steps: the workflow's step (whose stages offer the
form), the form's title and its button."""

YES_NO = {"": "—", "true": "是 Yes", "false": "否 No"}
PENALTY_CHOICES = {code: text for code, text in PENALTIES.items()}
FIELDS: dict[str, Field] = {
    "on": Field("on", "日期（默认今天）Day (default today)", "date", required=False),
    "findings": Field("findings", "调查结论 Findings", "textarea"),
    "evidence": Field("evidence", "证据 Evidence", "materials", required=False),
    "facts": Field("facts", "事实、理由和依据 Facts, reasons and basis", "textarea"),
    "penalties": Field("penalties", "处罚种类 Penalties", "choices", PENALTY_CHOICES),
    "basis": Field("basis", "法律依据 Legal basis", "textarea"),
    "suspension_months": Field(
        "suspension_months", "停业月数 Suspension, months (3-12)", "number", required=False
    ),
    "fine_yuan": Field("fine_yuan", "罚款（元）Fine, yuan", required=False),
    "illegal_gains_yuan": Field("illegal_gains_yuan", "违法所得（元）Illegal gains, yuan", required=False),
    "statement": Field("statement", "陈述申辩内容 What the party stated", "textarea", required=False),
    "hearing_requested": Field(
        "hearing_requested", "申请听证 Hearing asked for", "select", YES_NO, required=False
    ),
    "waives_hearing": Field("waives_hearing", "放弃听证 Hearing waived", "select", YES_NO, required=False),
    "hearing_on": Field("hearing_on", "听证日期 Hearing on", "date"),
    "place": Field("place", "地点 Place"),
    "summary": Field("summary", "听证情况 What was heard", "textarea"),
    "days": Field("days", "延长天数 Days (at most 30)", "number"),
    "reason": Field("reason", "理由 Reason", "textarea"),
    "approved_by": Field("approved_by", "批准人（负责人）Approved by (the head)"),
    "reasons": Field("reasons", "决定理由 Reasons", "textarea"),
    "publish": Field(
        "publish", "公开 Publish (default: fines, suspensions, revocations)", "select", YES_NO, required=False
    ),
    "decision_number": Field("decision_number", "决定书文号 Decision number", required=False),
    "method": Field("method", "送达方式 How it was served", required=False),
}


def step_fields(step: str) -> tuple[Field, ...]:
    required, optional = penalties.STEP_FIELDS[step]
    return tuple(FIELDS[name] for name in (*required, *optional))


def step_body(step: str, posted: dict[str, list[str]]) -> dict[str, Any]:
    """A posted step form as the body of POST /v1/penalties/{id}/steps: one penalty (or two, a
    warning with it) as a list, yes/no as booleans."""
    fields = forms.body_fields(step_fields(step), posted) if step in STEPS else {}
    if "penalties" in fields:
        fields["penalties"] = [p for p in posted.get("penalties", []) if p]
    for name in ("hearing_requested", "waives_hearing", "publish"):
        if name in fields:
            fields[name] = fields[name] == "true"
    return {"step": step, **fields}


async def _case_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    calendar: WorkingCalendar,
    today: Any,
    case_id: str,
    refused: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    row = await penalties.load_in_scope(session=session, principal=principal, case_id=case_id)
    case = penalties.to_public(row.snapshot, calendar=calendar, today=today)
    offered = [
        {"key": step, "title": title, "button": button, "fields": step_fields(step), "item": {}}
        for step, (name, title, button) in STEPS.items()
        if case.stage in stages_for(PENALTY_TRANSITIONS, name)
    ]
    subject = (
        await registry.names(session=session, ids=[case.subject_id])
        if case.subject_kind == "appraiser"
        else {}
    ).get(case.subject_id) or await registry.organisation_name(
        session=session, kind="institution", id_=case.institution_id
    )
    return render(
        request,
        "penalty.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "penalties",
            "case": case,
            "subject_name": subject,
            "offered": offered,
            "trail": await penalties.audit_trail(session=session, case=row),
            "refused": refused,
        },
        status_code=status_code,
    )


async def _list_page(
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
        "penalties.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "penalties",
            "cases": await penalties.list_cases(session=session, principal=principal),
            "institutions": [
                i
                for i in await registry.list_institutions(session=session, category=None)
                if i.bureau_id == principal.organisation_id
            ],
            "appraisers": await registry.list_appraisers(session=session, institution_id=None, category=None),
            "sources": SOURCES,
            "refused": refused,
            "kept": kept or {},
        },
        status_code=status_code,
    )


@router.get("/penalties")
async def penalty_list(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    source: str = Query(default="", max_length=30),
    source_id: str = Query(default="", max_length=36),
    subject_kind: str = Query(default="", max_length=20),
    subject_id: str = Query(default="", max_length=36),
) -> Response:
    """The bureau's cases and the filing form (prefilled from a referral's link)."""
    kept = {
        k: v
        for k, v in {
            "source": source,
            "source_id": source_id,
            "subject_kind": subject_kind,
            "subject_id": subject_id,
        }.items()
        if v
    }
    return await _list_page(request, principal=principal, session=session, kept=kept)


def filing_fields(posted: dict[str, list[str]]) -> dict[str, Any]:
    def first(name: str) -> str:
        return (posted.get(name) or [""])[0].replace("\r\n", "\n").strip()

    body: dict[str, Any] = {}
    for name in ("reference", "subject_kind", "source", "source_id", "summary", "breach_on", "filed_on"):
        if first(name):
            body[name] = first(name)
    kind = body.get("subject_kind", "")
    chosen = first("appraiser_id") if kind == "appraiser" else first("institution_id")
    if chosen:
        body["subject_id"] = chosen
    if first("harm") == "true":
        body["harm"] = True
    return body


@router.post("/penalties")
async def file_case(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    """立案, as POST /v1/penalties takes it (the same body and service)."""
    posted = await read_form_lists(request)
    try:
        result, _ = await penalties.file(
            session=session,
            client=client,
            task_queue=settings.task_queue,
            principal=principal,
            body=PenaltyCaseCreate.model_validate(filing_fields(posted)),
            today=today,
            paper_history_days=settings.paper_history_days,
        )
    except REFUSALS as err:
        return await _list_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            kept=forms.entered(posted),
            status_code=refusal_status(err),
        )
    case = penalties.public_of(result, calendar=calendar, today=today)
    return RedirectResponse(f"{PREFIX}/penalties/{case.id}", status_code=303)


@router.get("/penalties/{case_id}")
async def case_page(
    request: Request,
    case_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    return await _case_page(
        request, principal=principal, session=session, calendar=calendar, today=today, case_id=case_id
    )


@router.post("/penalties/{case_id}/steps")
async def take_step(
    request: Request,
    case_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    """One step of the case, as POST /v1/penalties/{id}/steps takes it."""
    await penalties.load_in_scope(session=session, principal=principal, case_id=case_id)
    posted = await read_form_lists(request)
    step = (posted.get("step") or [""])[0]
    try:
        body = PenaltyStepCreate.model_validate(step_body(step, posted))
        await penalties.take_step(
            session=session, client=client, principal=principal, case_id=case_id, body=body
        )
    except REFUSALS as err:
        return await _case_page(
            request,
            principal=principal,
            session=session,
            calendar=calendar,
            today=today,
            case_id=case_id,
            refused={"key": step, "message": refusal_of(err), "entered": forms.entered(posted)},
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/penalties/{case_id}", status_code=303)
