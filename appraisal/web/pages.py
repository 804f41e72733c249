"""Rendering the dashboard's pages: the Jinja2 environment, display labels and
the headers every page carries."""

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from appraisal.domain.calendar import CHINA_TZ
from appraisal.web.forms import RELINKING, task_form
from appraisal.web.labels import label, labels

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

# Pages show case data: never cached, never framed, scripts and styles only from here.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}

STAGES = labels("stage")
CATEGORIES = labels("category")


def _local_time(value: datetime) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _label(context: str) -> Any:
    return lambda code: label(code, context)


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(
    local_time=_local_time,
    task_form=task_form,
    **{
        context: _label(context)
        for context in (
            "stage",
            "complaint_stage",
            "task",
            "category",
            "role",
            "event",
            "status",
            "clock",
            "rung",
            "complainant",
            "outcome",
            "penalty_stage",
            "penalty",
            "penalty_source",
            "registry_status",
            "conclusion",
            "metric",
            "organ_kind",
            "person",
            "application",
            "case_kind",
            "admission_kind",
            "admission_stage",
            "subject_kind",
            "founding_organ",
            "qualification",
            "recommendation",
            "field",
            "evaluation_stage",
            "course_kind",
            "grade_status",
            "deduction",
            "side",
        )
    },
)
environment.globals["relinking_steps"] = RELINKING
templates = Jinja2Templates(env=environment)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return templates.TemplateResponse(
        request,
        name,
        {"stages": STAGES, "csrftoken": request.scope.get("csrftoken", str), **context},
        status_code=status_code,
        headers={**PAGE_HEADERS, **(headers or {})},
    )
