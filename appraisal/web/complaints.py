"""The bureau's complaint pages in the workspace: register a party's complaint, follow its
clocks and trail, and take each of its steps by form, through the same services and the
same Temporal Updates as the REST API's /v1/complaints."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from appraisal.api.deps import CalendarDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.complaint import COMPLAINANT_KINDS, DECLINE_GROUNDS, OUTCOMES
from appraisal.domain.lifecycle import COMPLAINT_TRANSITIONS, stages_for
from appraisal.domain.roles import Actor
from appraisal.schemas.complaint import ComplaintCreate, ComplaintDecisionCreate
from appraisal.services import complaint as complaints
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

DECISIONS: dict[str, tuple[str, str, str]] = {
    "accept": ("accept", "受理投诉 Accept", "受理 Accept"),
    "decline": ("decline", "不予受理 Decline (CMP-4)", "不予受理 Decline"),
    "extend_acceptance": ("extend_acceptance", "延长受理审查 Extend the acceptance review", "延长 Extend"),
    "request_supplement": ("request_supplement", "通知补充材料 Ask for a supplement", "通知 Ask"),
    "supplement_received": ("receive_supplement", "收到补充材料 Supplement received", "记录 Record"),
    "extend_handling": ("extend_handling", "延长处理期限 Extend the handling", "延长 Extend"),
    "decide": ("decide", "作出处理决定 Decide (CMP-8)", "决定 Decide"),
    "notify_parties": ("notify_parties", "书面告知双方 Notify both sides", "告知并结案 Notify and close"),
}
"""Each decision of POST /v1/complaints/{id}/decision: the workflow's step (whose stages
offer the form), the form's title and its button."""

FIELDS: dict[str, Field] = {
    "on": Field("on", "日期（默认今天）Day (default today)", "date", required=False),
    "note": Field("note", "说明 Note", "textarea", required=False),
    "ground": Field(
        "ground", "不予受理理由 Ground", "select", {k: f"{k} · {v}" for k, v in DECLINE_GROUNDS.items()}
    ),
    "reason": Field("reason", "理由 Reason", "textarea"),
    "days": Field("days", "延长天数 Days", "number"),
    "approved_by": Field("approved_by", "批准人 Approved by"),
    "complainant_told_on": Field(
        "complainant_told_on", "告知投诉人日期 Complainant told on", "date", required=False
    ),
    "description": Field("description", "需要补充什么 What is missing", "textarea"),
    "materials": Field("materials", "补充材料 Materials", "materials", required=False),
    "findings": Field("findings", "调查结论 Findings", "textarea"),
    "outcome": Field("outcome", "处理结果 Outcome", "select", OUTCOMES),
    "fee_violation": Field(
        "fee_violation",
        "违规收费 A fee violation (REG-5)",
        "select",
        {"false": "否 No", "true": "是，计入诚信档案 Yes: counted in the integrity record"},
        required=False,
    ),
    "method": Field("method", "告知方式 How they were told", required=False),
}


def decision_fields(decision: str) -> tuple[Field, ...]:
    """The inputs of a decision: its own fields (services/complaint.DECISION_FIELDS)."""
    required, optional = complaints.DECISION_FIELDS[decision]
    return tuple(FIELDS[name] for name in (*required, *optional))


async def _complaint_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    calendar: WorkingCalendar,
    today: Any,
    complaint_id: str,
    refused: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    row = await complaints.load_in_scope(session=session, principal=principal, complaint_id=complaint_id)
    complaint = complaints.to_public(row.snapshot, calendar=calendar, today=today)
    offered = [
        {"key": decision, "title": title, "button": button, "fields": decision_fields(decision), "item": {}}
        for decision, (step, title, button) in DECISIONS.items()
        if complaint.stage in stages_for(COMPLAINT_TRANSITIONS, step)
    ]
    return render(
        request,
        "complaint.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "",
            "complaint": complaint,
            "institution_name": await registry.organisation_name(
                session=session, kind="institution", id_=complaint.institution_id
            ),
            "offered": offered,
            "trail": await complaints.audit_trail(session=session, complaint=row),
            "refused": refused,
        },
        status_code=status_code,
    )


@router.get("/complaints/new")
async def complaint_form(request: Request, principal: PagePrincipalDep, session: SessionDep) -> Response:
    return await _register_page(request, principal=principal, session=session)


async def _register_page(
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
        "complaint_new.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "complaint",
            "institutions": await registry.list_institutions(session=session, category=None),
            "kinds": COMPLAINANT_KINDS,
            "refused": refused,
            "kept": kept or {},
        },
        status_code=status_code,
    )


def registration_fields(posted: dict[str, list[str]]) -> dict[str, Any]:
    """The registration form as the body of POST /v1/complaints (blank inputs left out)."""

    def first(name: str) -> str:
        return (posted.get(name) or [""])[0].replace("\r\n", "\n").strip()

    body: dict[str, Any] = {
        "complainant": {
            name: first(f"complainant.{name}")
            for name in ("name", "kind", "interest", "contact")
            if first(f"complainant.{name}")
        },
        "materials": forms.body_fields(forms.MATERIALS_ONLY, posted)["materials"],
    }
    for name in (
        "reference",
        "institution_id",
        "appraiser_id",
        "commission_id",
        "summary",
        "knew_on",
        "received_on",
    ):
        if first(name):
            body[name] = first(name)
    return body


@router.post("/complaints")
async def register(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    """A party's complaint registered, as POST /v1/complaints takes it (the same body and
    service); a refused one (time-barred, another bureau's) comes back with the rule."""
    posted = await read_form_lists(request)
    try:
        result, _ = await complaints.register(
            session=session,
            client=client,
            task_queue=settings.task_queue,
            principal=principal,
            body=ComplaintCreate.model_validate(registration_fields(posted)),
            today=today,
            calendar=calendar,
            paper_history_days=settings.paper_history_days,
        )
    except REFUSALS as err:
        return await _register_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            kept=forms.entered(posted),
            status_code=refusal_status(err),
        )
    complaint = complaints.public_of(result, calendar=calendar, today=today)
    return RedirectResponse(f"{PREFIX}/complaints/{complaint.id}", status_code=303)


@router.get("/complaints/{complaint_id}")
async def complaint_page(
    request: Request,
    complaint_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    return await _complaint_page(
        request,
        principal=principal,
        session=session,
        calendar=calendar,
        today=today,
        complaint_id=complaint_id,
    )


@router.post("/complaints/{complaint_id}/decision")
async def decide(
    request: Request,
    complaint_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    """One step of the complaint, as POST /v1/complaints/{id}/decision takes it."""
    posted = await read_form_lists(request)
    decision = (posted.get("decision") or [""])[0]
    try:
        fields = forms.body_fields(decision_fields(decision), posted) if decision in DECISIONS else {}
        body = ComplaintDecisionCreate.model_validate({"decision": decision, **fields})
        await complaints.decide(
            session=session, client=client, principal=principal, complaint_id=complaint_id, body=body
        )
    except REFUSALS as err:
        return await _complaint_page(
            request,
            principal=principal,
            session=session,
            calendar=calendar,
            today=today,
            complaint_id=complaint_id,
            refused={"key": decision, "message": refusal_of(err), "entered": forms.entered(posted)},
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/complaints/{complaint_id}", status_code=303)
