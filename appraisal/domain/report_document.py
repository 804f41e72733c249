"""The issued report as a document (司法部《司法鉴定文书格式》2016, 司法鉴定意见书): its
sections, its number in the institution's own yearly series, and the messages the
commission workflow exchanges with the activities that number and seal it."""

from dataclasses import dataclass
from typing import Any

SECTIONS: dict[str, str] = {
    "examination_period": "鉴定日期",
    "place": "鉴定地点",
    "present": "在场人员",
    "examinee": "被鉴定人",
    "case_summary": "基本案情",
    "materials_summary": "资料摘要",
    "analysis": "分析说明",
}
"""The parts of the 2016 format an appraiser writes beside `content` (四、鉴定过程) and
`opinion` (六、鉴定意见): the first four are lines of 一、基本情况; each is optional text,
and a report that gives any of them has them in its hash (domain/audit.report_hash)."""

ONE_LINE_SECTIONS = ("examination_period", "place", "present", "examinee")

CATEGORY_ABBREVIATIONS: dict[str, str] = {
    "forensic_clinical": "临",
    "forensic_pathology": "病",
    "forensic_psychiatry": "精",
    "forensic_toxicology": "毒",
    "forensic_genetics": "物",
    "trace_evidence": "痕",
    "document": "文",
    "audio_visual": "声像",
    "electronic_data": "电",
    "environmental_damage": "环",
}
"""鉴定类别缩略语: what a report number says of its category (e.g. 〔2026〕临鉴字第12号)."""

DOCUMENT_TITLES = {
    "original": "司法鉴定意见书",
    "supplementary": "司法鉴定意见书",
    "correction": "司法鉴定意见补正书",
}
"""The title of each kind of report version (the 2016 formats: 意见书; 意见补正书)."""


def sections_of(values: Any) -> dict[str, str]:
    """The sections a submission gives (its non-empty SECTIONS fields), in SECTIONS' order."""
    found = {name: str(getattr(values, name, "") or "") for name in SECTIONS}
    return {name: text for name, text in found.items() if text}


def document_number(*, short_name: str, year: int, category: str, serial: int) -> str:
    """The institution's number of a report: 缩略名〔年份〕类别鉴字第序号号, the year in full,
    the serial without padding (the 2016 format's note on 编号)."""
    abbreviation = CATEGORY_ABBREVIATIONS.get(category, "")
    return f"{short_name}〔{year}〕{abbreviation}鉴字第{serial}号"


@dataclass
class DocumentNumberRequest:
    """Number a report version in the institution's series of the issue year (idempotent:
    the same commission and version keep the number they were given first)."""

    commission_id: str
    version: int
    institution_id: str
    category: str
    year: int


@dataclass
class DocumentNumber:
    document_number: str
    serial: int = 0


@dataclass
class SealRequest:
    """Render and seal the issued report version once, from what the trail and the
    registry hold; `issued_seq` is the audit event of its issue."""

    commission_id: str
    workflow_id: str
    version: int
    issued_seq: int


@dataclass
class SealedReportInfo:
    sha256: str
    size: int
    seal_serial: str
    timestamp: str
    """The RFC 3161 token's time (ISO 8601)."""
    document_number: str = ""
