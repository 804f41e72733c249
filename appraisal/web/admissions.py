"""Registration applications in the workspace: the bureau files a new institution's
application (received at its window) and takes every step of the bureau; an institution files
its appraisers' admissions and its renewals and changes, hands in its correction, withdraws; a
panel expert reviews (signed in the browser) or recuses. Every form goes through the same
service and the same Temporal Update as the REST API's /v1/admissions."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from appraisal.api.deps import CalendarDep, SessionDep, SettingsDep, TemporalDep, TodayDep
from appraisal.domain.admission import (
    FOUNDING_ORGAN_KINDS,
    NOT_ACCEPTED_GROUNDS,
    QUALIFICATIONS,
    RECOMMENDATIONS,
    TERMINAL_ADMISSION_STAGES,
    AdmissionStage,
)
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.organs import INVESTIGATIVE_FOUNDERS
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.admission import (
    AdmissionCreate,
    AdmissionDecisionCreate,
    AdmissionWithdrawalCreate,
    CorrectionCreate,
    ExpertCreate,
    ExpertRecusalCreate,
    ReviewCreate,
)
from appraisal.services import admission as admissions
from appraisal.services import expert as experts
from appraisal.services import organs, registry
from appraisal.web import forms
from appraisal.web.forms import Field
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

A = AdmissionStage
DECISIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "accept": ((A.AWAITING_ACCEPTANCE,), "受理 Accept (ADM-1)", "受理 Accept"),
    "request_correction": (
        (A.AWAITING_ACCEPTANCE,),
        "一次告知补正 Ask for the correction, once (ADM-2)",
        "告知 Ask",
    ),
    "correction_received": ((A.AWAITING_CORRECTION,), "收到补正材料 Correction received", "记录 Record"),
    "decline": (
        (A.AWAITING_ACCEPTANCE, A.AWAITING_CORRECTION),
        "不予受理 Do not accept (ADM-2)",
        "不予受理 Decline",
    ),
    "draw_panel": ((A.DECIDING,), "随机抽取评审专家 Draw the expert panel (ADM-5)", "抽取 Draw"),
    "recuse_expert": ((A.EXPERT_REVIEW,), "专家回避 Recuse an expert", "回避并补抽 Recuse and replace"),
    "extend": ((A.DECIDING,), "延长审核期限 Extend the decision (ADM-3, once, ≤10 wd)", "延长 Extend"),
    "approve": ((A.DECIDING,), "准予登记 Approve: licence and registry entry", "准予 Approve"),
    "refuse": ((A.DECIDING,), "不予登记 Refuse, with reasons and remedies (ADM-6)", "不予登记 Refuse"),
    "withdraw": (
        (A.AWAITING_ACCEPTANCE, A.AWAITING_CORRECTION, A.DECIDING, A.EXPERT_REVIEW),
        "代申请人撤回 Withdraw on the applicant's behalf",
        "撤回 Withdraw",
    ),
}
"""The bureau's steps of POST /v1/admissions/{id}/decision: the stages that offer each, its
form's title and its button."""

ON = Field("on", "日期（默认今天）Day (default today)", "date", required=False)
FIELDS: dict[str, Field] = {
    "on": ON,
    "note": Field("note", "说明 Note", "textarea", required=False),
    "ground": Field(
        "ground", "不予受理理由 Ground", "select", {k: f"{k} · {v}" for k, v in NOT_ACCEPTED_GROUNDS.items()}
    ),
    "reason": Field("reason", "理由 Reasons", "textarea"),
    "description": Field("description", "需补正的全部内容 Everything missing", "textarea"),
    "materials": Field("materials", "补正材料 Materials", "materials", required=False),
    "size": Field("size", "专家人数（3–7）Experts (3–7)", "number", required=False),
    "review_days": Field(
        "review_days",
        "评审期限（工作日，书面告知申请人）Review time told to the applicant (working days)",
        "number",
        required=False,
    ),
    "seed": Field("seed", "随机种子（可选）Seed (optional)", required=False),
    "days": Field("days", "延长工作日 Working days (at most 10)", "number"),
    "approved_by": Field("approved_by", "批准的负责人 Approved by (the head)"),
    "applicant_told_on": Field(
        "applicant_told_on", "告知申请人日期 Applicant told on", "date", required=False
    ),
}


def decision_fields(decision: str, panel: list[tuple[str, str]]) -> tuple[Field, ...]:
    """The inputs of a decision: its own fields (services/admission.DECISION_FIELDS); the
    recusal chooses among the panel's experts."""
    required, optional = admissions.DECISION_FIELDS[decision]
    specs = []
    for name in (*required, *optional):
        if name == "expert_id":
            specs.append(Field("expert_id", "回避的专家 The expert", "select", dict(panel)))
        else:
            specs.append(FIELDS[name])
    return tuple(specs)


def _first(posted: dict[str, list[str]], name: str) -> str:
    return (posted.get(name) or [""])[0].replace("\r\n", "\n").strip()


def _filled(posted: dict[str, list[str]], *names: str, prefix: str = "") -> dict[str, Any]:
    return {name: _first(posted, prefix + name) for name in names if _first(posted, prefix + name)}


def filing_fields(posted: dict[str, list[str]]) -> dict[str, Any]:
    """A filing form as the body of POST /v1/admissions (blank inputs left out): which form
    it was says the kind and the subject."""
    form = _first(posted, "form")
    body: dict[str, Any] = {
        **_filled(posted, "reference", "received_on"),
        "materials": forms.body_fields(forms.MATERIALS_ONLY, posted)["materials"],
    }
    if form == "institution":
        institution: dict[str, Any] = {
            **_filled(
                posted,
                "name",
                "founding_organ_kind",
                "founded_by_organ_id",
                "legal_representative",
                "address",
                "equipment",
                prefix="",
            ),
            "categories": posted.get("categories", []),
            "laboratory_accredited": _first(posted, "laboratory_accredited") == "true",
            "appraisers_per_category": {
                code: _first(posted, f"appraisers.{code}")
                for code in posted.get("categories", [])
                if _first(posted, f"appraisers.{code}")
            },
        }
        return {**body, "kind": "admission", "subject_kind": "institution", "institution": institution}
    if form == "appraiser":
        appraiser: dict[str, Any] = {
            **_filled(posted, "name", "identity_number", "qualification", "years_in_field", "public_key"),
            "categories": posted.get("categories", []),
            **{
                flag: True
                for flag in (
                    "senior_title",
                    "convicted",
                    "dismissed_from_public_office",
                    "registration_revoked",
                )
                if _first(posted, flag) == "true"
            },
        }
        if _first(posted, "institution_id"):
            appraiser["institution_id"] = _first(posted, "institution_id")
        return {**body, "kind": "admission", "subject_kind": "appraiser", "appraiser": appraiser}
    entity = _first(posted, "entity")  # "<kind>:<id>"
    subject_kind, _, entity_id = entity.partition(":")
    body |= {"subject_kind": subject_kind or "institution", "entity_id": entity_id or None}
    if form == "renewal":
        return {**body, "kind": "renewal"}
    change: dict[str, Any] = _filled(posted, "name", "public_key", "institution_id")
    if posted.get("categories"):
        change["categories"] = posted["categories"]
    return {**body, "kind": "change", "change": change}


async def _list_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    refused: str = "",
    refused_form: str = "",
    kept: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    own_institution = principal.role == Role.INSTITUTION
    institutions = await registry.list_institutions(session=session, category=None)
    bureau = principal.organisation_id if principal.role == Role.SUPERVISOR else None
    if own_institution:
        mine = next((i for i in institutions if i.id == principal.organisation_id), None)
        bureau = mine.bureau_id if mine else None
    ours = [i for i in institutions if i.bureau_id == bureau]
    appraisers = await registry.list_appraisers(
        session=session, institution_id=principal.organisation_id if own_institution else None, category=None
    )
    entities = (
        [
            (
                f"institution:{principal.organisation_id}",
                next((i.name for i in ours if i.id == principal.organisation_id), ""),
            )
        ]
        + [(f"appraiser:{a.id}", a.name) for a in appraisers]
        if own_institution
        else []
    )
    return render(
        request,
        "admissions.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "admissions",
            "applications": await admissions.list_admissions(session=session, principal=principal),
            "experts": await experts.list_experts(session=session, bureau_id=principal.organisation_id)
            if principal.role == Role.SUPERVISOR
            else [],
            "institutions": ours,
            "own_categories": next((i.categories for i in ours if i.id == principal.organisation_id), []),
            "entities": entities,
            "categories": CATEGORIES,
            "founders": FOUNDING_ORGAN_KINDS,
            "investigative_organs": [
                o for o in await organs.list_organs(session=session) if o.kind in INVESTIGATIVE_FOUNDERS
            ]
            if principal.role == Role.SUPERVISOR
            else [],
            "qualifications": QUALIFICATIONS,
            "refused": refused,
            "refused_form": refused_form,
            "kept": kept or {},
        },
        status_code=status_code,
    )


@router.get("/admissions")
async def admissions_page(request: Request, principal: PagePrincipalDep, session: SessionDep) -> Response:
    return await _list_page(request, principal=principal, session=session)


@router.post("/admissions")
async def file_application(
    request: Request,
    principal: PagePrincipalDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    """An application filed, as POST /v1/admissions takes it (the same body and service)."""
    posted = await read_form_lists(request)
    try:
        result, _ = await admissions.file(
            session=session,
            client=client,
            task_queue=settings.task_queue,
            principal=principal,
            body=AdmissionCreate.model_validate(filing_fields(posted)),
            today=today,
            paper_history_days=settings.paper_history_days,
        )
    except REFUSALS as err:
        await session.rollback()
        return await _list_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            refused_form=_first(posted, "form"),
            kept=forms.entered(posted),
            status_code=refusal_status(err),
        )
    application = admissions.public_of(result, calendar=calendar, today=today)
    return RedirectResponse(f"{PREFIX}/admissions/{application.id}", status_code=303)


@router.post("/experts")
async def add_expert(request: Request, principal: PagePrincipalDep, session: SessionDep) -> Response:
    """An expert added to the bureau's pool, as POST /v1/experts does."""
    posted = await read_form_lists(request)
    try:
        body = ExpertCreate.model_validate(
            {
                **_filled(posted, "name", "title", "affiliation_institution_id", "public_key"),
                "categories": posted.get("categories", []),
            }
        )
        await experts.create_expert(session=session, principal=principal, body=body)
    except REFUSALS as err:
        await session.rollback()
        return await _list_page(
            request,
            principal=principal,
            session=session,
            refused=refusal_of(err),
            refused_form="expert",
            kept=forms.entered(posted),
            status_code=refusal_status(err),
        )
    return RedirectResponse(f"{PREFIX}/admissions#experts", status_code=303)


async def _application_page(
    request: Request,
    *,
    principal: Actor,
    session: AsyncSession,
    calendar: WorkingCalendar,
    today: Any,
    admission_id: str,
    refused: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    row = await admissions.load_in_scope(session=session, principal=principal, admission_id=admission_id)
    application = admissions.to_public(row.snapshot, calendar=calendar, today=today)
    names = {m.expert_id: m.name or m.expert_id for m in application.panel}
    active = [
        (m.expert_id, names[m.expert_id]) for m in application.panel if not m.recused and not m.reviewed
    ]
    offered = []
    if principal.role == Role.SUPERVISOR:
        offered = [
            {
                "key": decision,
                "title": title,
                "button": button,
                "fields": decision_fields(decision, active),
                "action": f"{PREFIX}/admissions/{application.id}/decision",
                "item": {},
            }
            for decision, (stages, title, button) in DECISIONS.items()
            if application.stage in stages and (decision != "recuse_expert" or active)
        ]
    applicant = (
        principal.role == Role.INSTITUTION
        and principal.organisation_id == application.applicant_institution_id
    )
    me = next(
        (m for m in application.panel if m.expert_id == principal.organisation_id and not m.recused), None
    )
    return render(
        request,
        "admission.html",
        {
            "viewer": await viewer_of(session, principal),
            "active": "admissions",
            "a": application,
            "offered": offered,
            "may_correct": applicant and application.stage == A.AWAITING_CORRECTION,
            "may_withdraw": applicant and application.stage not in TERMINAL_ADMISSION_STAGES,
            "may_review": principal.role == Role.EXPERT
            and application.stage == A.EXPERT_REVIEW
            and me is not None
            and not me.reviewed,
            "expert_id": principal.organisation_id,
            "expert_names": names,
            "recommendations": RECOMMENDATIONS,
            "materials_field": FIELDS["materials"],
            "applicant_name": await registry.organisation_name(
                session=session, kind="institution", id_=application.applicant_institution_id
            )
            if application.applicant_institution_id
            else "",
            "trail": await admissions.audit_trail(session=session, admission=row),
            "refused": refused,
        },
        status_code=status_code,
    )


@router.get("/admissions/{admission_id}")
async def application_page(
    request: Request,
    admission_id: str,
    principal: PagePrincipalDep,
    session: SessionDep,
    calendar: CalendarDep,
    today: TodayDep,
) -> Response:
    return await _application_page(
        request,
        principal=principal,
        session=session,
        calendar=calendar,
        today=today,
        admission_id=admission_id,
    )


STEPS = ("decision", "correction", "withdrawal", "review", "recusal")
"""The forms of an application, each posted where the API's POST /v1/admissions/{id}/<step> is."""


def _step_page(step: str) -> Any:
    async def take_step(
        request: Request,
        admission_id: str,
        principal: PagePrincipalDep,
        session: SessionDep,
        client: TemporalDep,
        calendar: CalendarDep,
        today: TodayDep,
    ) -> Response:
        """One step on the application, as the API's POST …/{step} takes it."""
        posted = await read_form_lists(request)
        key = _first(posted, "decision") if step == "decision" else step
        try:
            await _take(session, client, principal, admission_id, step, key, posted)
        except REFUSALS as err:
            return await _application_page(
                request,
                principal=principal,
                session=session,
                calendar=calendar,
                today=today,
                admission_id=admission_id,
                refused={"key": key, "message": refusal_of(err), "entered": forms.entered(posted)},
                status_code=refusal_status(err),
            )
        return RedirectResponse(f"{PREFIX}/admissions/{admission_id}", status_code=303)

    take_step.__name__ = f"admission_{step}"
    return take_step


async def _take(
    session: AsyncSession,
    client: Any,
    principal: Actor,
    admission_id: str,
    step: str,
    key: str,
    posted: dict[str, list[str]],
) -> None:
    if step == "decision":
        row = await admissions.load_in_scope(session=session, principal=principal, admission_id=admission_id)
        panel = [(m["expert_id"], m.get("name", "")) for m in row.snapshot.get("panel", [])]
        fields = forms.body_fields(decision_fields(key, panel), posted) if key in DECISIONS else {}
        await admissions.decide(
            session=session,
            client=client,
            principal=principal,
            admission_id=admission_id,
            body=AdmissionDecisionCreate.model_validate({"decision": key, **fields}),
        )
    elif step == "correction":
        fields = forms.body_fields((FIELDS["materials"], ON, FIELDS["note"]), posted)
        await admissions.supply_correction(
            session=session,
            client=client,
            principal=principal,
            admission_id=admission_id,
            body=CorrectionCreate.model_validate(fields),
        )
    elif step == "withdrawal":
        await admissions.withdraw(
            session=session,
            client=client,
            principal=principal,
            admission_id=admission_id,
            body=AdmissionWithdrawalCreate.model_validate(_filled(posted, "reason", "on")),
        )
    elif step == "review":
        await admissions.review(
            session=session,
            client=client,
            principal=principal,
            admission_id=admission_id,
            body=ReviewCreate.model_validate(
                _filled(posted, "score", "recommendation", "opinion", "signature")
            ),
        )
    else:
        await admissions.recuse_self(
            session=session,
            client=client,
            principal=principal,
            admission_id=admission_id,
            body=ExpertRecusalCreate.model_validate(_filled(posted, "reason")),
        )


for _step in STEPS:
    router.add_api_route(f"/admissions/{{admission_id}}/{_step}", _step_page(_step), methods=["POST"])
