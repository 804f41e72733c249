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

STAGES = {
    "awaiting_acceptance": "待受理 Awaiting acceptance",
    "awaiting_materials": "补充材料中 Awaiting materials",
    "examining": "鉴定中 Examining",
    "signing": "签名中 Signing",
    "awaiting_issue": "待签发 Awaiting issue",
    "issued": "已出具 Issued",
    "in_testimony": "出庭作证 In testimony",
    "closed": "已结案 Closed",
    "refused": "不予受理 Refused",
    "terminated": "已终止 Terminated",
    "withdrawn": "已撤回 Withdrawn",
    "reassigned": "另行委托 Reassigned",
}
TASKS = {
    "decide_acceptance": "决定是否受理 Decide acceptance",
    "supply_materials": "补充材料 Supply materials",
    "submit_report": "提交鉴定意见 Submit the report",
    "sign_report": "签署鉴定意见 Sign the report",
    "issue_report": "签发鉴定意见书 Issue the report",
    "close_commission": "结案 Close the commission",
    "overdue_escalation": "逾期督办 Overdue escalation",
    "overdue_remedy": "逾期处置 Overdue remedy",
}
COMPLAINT_STAGES = {
    "awaiting_acceptance": "待受理 Awaiting acceptance",
    "awaiting_supplement": "待补充材料 Awaiting a supplement",
    "handling": "处理中 Handling",
    "decided": "已决定 Decided",
    "declined": "不予受理 Declined",
    "closed": "已结案 Closed",
}
CATEGORIES = {
    "forensic_clinical": "法医临床 Forensic clinical",
    "forensic_pathology": "法医病理 Forensic pathology",
    "trace_evidence": "痕迹 Trace evidence",
    "audio_visual": "声像资料 Audio-visual",
}
ROLES = {
    "court": "法院 Court",
    "institution": "鉴定机构 Institution",
    "institution_head": "机构负责人 Institution head",
    "appraiser": "鉴定人 Appraiser",
    "supervisor": "司法行政机关 Supervisor",
}


def _local_time(value: datetime) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _label(table: dict[str, str]) -> Any:
    return lambda key: table.get(str(key), str(key))


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(
    local_time=_local_time,
    stage=_label(STAGES),
    complaint_stage=_label(COMPLAINT_STAGES),
    task=_label(TASKS),
    category=_label(CATEGORIES),
    role=_label(ROLES),
)
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
