"""The issued report as a PDF in the statutory layout of 司法部《司法鉴定文书格式》(2016),
司法鉴定意见书 (and 司法鉴定意见补正书 for a correction): cover with the institution's
licence number, the declaration page, the document number, 一、基本情况 … 七、附件, the
落款 (every appraiser's name, 执业证号 and signing time, every dissent, the institution's
seal, the date) and "第 N 页 共 M 页" on every page.

`render_report_pdf(manifest)` draws it from the manifest alone (deterministic: the same
manifest gives the same bytes), in fonts that ship with the package and are embedded as
subsets (appraisal/assets/fonts, SIL OFL), as PDF/A-3b: XMP identification, an sRGB output
intent, no external reference, the manifest itself embedded as an associated file
(`appraisal-manifest.json`, AFRelationship Data; PDF/A-2 allows no such attachment, hence
part 3). The institution's PAdES seal (appraisal/report_seal.py) then covers all of it."""

import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pyhanko.pdf_utils.metadata.model import VENDOR
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from appraisal.domain.audit import report_hash as compute_report_hash
from appraisal.domain.calendar import CHINA_TZ
from appraisal.domain.report_document import DOCUMENT_TITLES, SECTIONS

FORMAT = "appraisal-report/2"
PRODUCER = VENDOR
"""The last writer of the sealed file names itself producer in /Info and in the XMP alike
(PDF/A wants the two to agree), so the rendering names it from the start."""
MANIFEST_NAME = "appraisal-manifest.json"
ASSETS = Path(__file__).parent / "assets"
SERIF, SERIF_BOLD = "AppraisalSerifSC", "AppraisalSerifSC-Bold"
SEAL_RED = colors.Color(0.80, 0.07, 0.07)
KIND_LABELS = {"sign": "签名", "dissent": "不同意见"}
DECLARATION = (
    "委托人应当向鉴定机构提供真实、完整、充分的鉴定材料，并对鉴定材料的真实性、合法性负责。",
    "司法鉴定人按照法律、法规和规章规定的方式、方法和步骤，遵守和采用相关技术标准和技术规范进行鉴定。",
    "司法鉴定实行鉴定人负责制度。司法鉴定人依法独立、客观、公正地进行鉴定，不受任何个人和组织的非法干预。",
    "使用本鉴定文书应当保持其完整性和严肃性。",
)
"""声明, the declaration the 2016 format prints on the cover's back."""
CORRECTION_KINDS = {
    "PROC-28-1": "图像、谱图、表格不清晰",
    "PROC-28-2": "签名、盖章或者编号不符合制作要求",
    "PROC-28-3": "文字表达有瑕疵或者错别字，但不影响司法鉴定意见",
}
SUPPLEMENTARY_GROUNDS = {
    "PROC-30-1": "原委托鉴定事项有遗漏",
    "PROC-30-2": "委托人就原委托鉴定事项提供新的鉴定材料",
    "PROC-30-3": "其他需要补充鉴定的情形",
}


# ---- the manifest ----


def build_manifest(
    *,
    commission_id: str,
    court_reference: str,
    case_number: str,
    institution: Mapping[str, Any],
    court: Mapping[str, Any],
    version: int,
    content: str,
    opinion: str,
    attachments: Sequence[Mapping[str, str]],
    issued_at: str,
    signatures: Sequence[Mapping[str, Any]],
    signers: Mapping[str, Mapping[str, Any]],
    sections: Mapping[str, str] | None = None,
    report_hash: str | None = None,
    kind: str = "original",
    document_number: str = "",
    previous_version: int | None = None,
    previous_document_number: str = "",
    correction: Mapping[str, str] | None = None,
    supplementary: Mapping[str, str] | None = None,
    category: str = "",
    matters: Sequence[str] = (),
    accepted_on: str = "",
    materials: Sequence[Mapping[str, str]] = (),
    audit: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What the PDF prints and embeds. `signatures` are the commission snapshot's
    (appraiser_id, kind, signed_at, statement, signature, key_fingerprint); `signers` gives,
    per appraiser id, the registry's name, licence_number and the public key of each
    fingerprint ({"keys": {fingerprint: {public_key, valid_from, valid_until}}}), so the
    appraisers' signatures check against the keys the seal vouches for. `report_hash` is
    the hash the appraisers signed, computed from the text when not given."""
    files = [{"name": str(a["name"]), "sha256": str(a["sha256"])} for a in attachments]
    given = {name: str(text) for name, text in (sections or {}).items() if text}
    rows = []
    for s in signatures:
        appraiser_id = str(s["appraiser_id"])
        signer = signers.get(appraiser_id, {})
        fingerprint = str(s.get("key_fingerprint") or "")
        key = (signer.get("keys") or {}).get(fingerprint, {})
        rows.append(
            {
                "appraiser_id": appraiser_id,
                "name": str(signer.get("name", "")),
                "licence_number": str(signer.get("licence_number", "")),
                "kind": str(s["kind"]),
                "signed_at": str(s.get("signed_at") or ""),
                "statement": str(s.get("statement") or ""),
                "signature": str(s.get("signature") or ""),
                "key_fingerprint": fingerprint,
                "public_key": str(key.get("public_key", "")),
                "key_valid_from": str(key.get("valid_from") or ""),
                "key_valid_until": str(key.get("valid_until") or ""),
            }
        )
    return {
        "format": FORMAT,
        "commission_id": commission_id,
        "court_reference": court_reference,
        "case_number": case_number,
        "kind": kind,
        "title": DOCUMENT_TITLES.get(kind, DOCUMENT_TITLES["original"]),
        "version": version,
        "document_number": document_number,
        "previous_version": previous_version,
        "previous_document_number": previous_document_number,
        "correction": dict(correction) if correction else None,
        "supplementary": dict(supplementary) if supplementary else None,
        "institution": {
            k: str(institution.get(k, "")) for k in ("id", "name", "licence_number", "address", "phone")
        },
        "court": {k: str(court.get(k, "")) for k in ("id", "name")},
        "category": category,
        "matters": [str(m) for m in matters],
        "accepted_on": accepted_on,
        "materials": [{"name": str(m["name"]), "sha256": str(m["sha256"])} for m in materials],
        "report_hash": report_hash or compute_report_hash(content, opinion, files, given),
        "content": content,
        "opinion": opinion,
        "sections": given,
        "attachments": files,
        "issued_at": issued_at,
        "audit": dict(audit or {}),
        "signatures": rows,
    }


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()


def read_manifest(pdf_bytes: bytes) -> dict[str, Any]:
    """The embedded manifest; ValueError if the PDF has none or it is not JSON."""
    try:
        attachments = PdfReader(io.BytesIO(pdf_bytes)).attachments
        contents = attachments.get(MANIFEST_NAME)
    except (PyPdfError, OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"not a readable PDF: {err}") from err
    if not contents:
        raise ValueError(f"the PDF has no embedded {MANIFEST_NAME}")
    try:
        manifest = json.loads(contents[0])
    except ValueError as err:
        raise ValueError(f"the embedded {MANIFEST_NAME} is not JSON: {err}") from err
    if not isinstance(manifest, dict):
        raise ValueError(f"the embedded {MANIFEST_NAME} is not a JSON object")
    return manifest


# ---- fonts and styles ----


@cache
def register_fonts() -> None:
    """The embedded fonts (TrueType subsets, appraisal/assets/fonts), once per process."""
    fonts = ASSETS / "fonts"
    pdfmetrics.registerFont(TTFont(SERIF, str(fonts / "AppraisalSerifSC-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(SERIF_BOLD, str(fonts / "AppraisalSerifSC-Bold.ttf")))
    pdfmetrics.registerFontFamily(SERIF, normal=SERIF, bold=SERIF_BOLD, italic=SERIF, boldItalic=SERIF_BOLD)


@cache
def _bold_covers() -> frozenset[int]:
    face = pdfmetrics.getFont(SERIF_BOLD).face
    return frozenset(face.charToGlyph)


def _bold_font(text: str) -> str:
    """The bold face when it has every character (it covers GB 2312 only), else the regular."""
    return SERIF_BOLD if all(ord(c) in _bold_covers() for c in text) else SERIF


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=SERIF, fontSize=11.5, leading=20, wordWrap="CJK")
    return {
        "cover_institution": ParagraphStyle(
            "cover_institution",
            parent=base,
            fontName=SERIF_BOLD,
            fontSize=24,
            leading=34,
            alignment=TA_CENTER,
        ),
        "cover_title": ParagraphStyle(
            "cover_title", parent=base, fontName=SERIF_BOLD, fontSize=30, leading=44, alignment=TA_CENTER
        ),
        "cover_line": ParagraphStyle("cover_line", parent=base, fontSize=15, leading=24, alignment=TA_CENTER),
        "declaration_title": ParagraphStyle(
            "declaration_title",
            parent=base,
            fontName=SERIF_BOLD,
            fontSize=20,
            leading=30,
            alignment=TA_CENTER,
        ),
        "declaration": ParagraphStyle(
            "declaration", parent=base, fontSize=14, leading=26, firstLineIndent=28, alignment=TA_JUSTIFY
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontName=SERIF_BOLD, fontSize=17, leading=26, alignment=TA_CENTER
        ),
        "number": ParagraphStyle("number", parent=base, fontSize=11, leading=18, alignment=TA_RIGHT),
        "heading": ParagraphStyle(
            "heading",
            parent=base,
            fontName=SERIF_BOLD,
            fontSize=13,
            leading=22,
            spaceBefore=8,
            spaceAfter=2,
            keepWithNext=1,
        ),
        "body": ParagraphStyle("body_text", parent=base, firstLineIndent=23, alignment=TA_JUSTIFY),
        "field": ParagraphStyle("field", parent=base, leftIndent=23, firstLineIndent=0, alignment=TA_JUSTIFY),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9.5, leading=13),
        "hash": ParagraphStyle("hash", parent=base, fontSize=6.8, leading=9),
        "note": ParagraphStyle(
            "note", parent=base, fontSize=8.5, leading=12, textColor=colors.Color(0.3, 0.3, 0.3)
        ),
        "box": ParagraphStyle("box", parent=base, fontSize=11, leading=18, alignment=TA_JUSTIFY),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
    }


def _text(value: str) -> str:
    return escape(value).replace("\n", "<br/>")


def _paragraphs(text: str, style: ParagraphStyle, *, empty: str = "无") -> list[Paragraph]:
    """One flowable per line, so a long section breaks across pages."""
    lines = [line for line in text.replace("\r\n", "\n").split("\n")]
    if not any(line.strip() for line in lines):
        return [Paragraph(empty, style)]
    return [Paragraph(_text(line.strip()) if line.strip() else "&nbsp;", style) for line in lines]


def chinese_name(name: str) -> str:
    """The Chinese part of a bilingual name ("西南司法鉴定中心 Southwest Forensic Centre")."""
    match = re.match(r"^([^A-Za-z]*[^\sA-Za-z])", name)
    return match.group(1).strip() if match else name


def chinese_date(value: str) -> str:
    """2026-12-04… → 二〇二六年十二月四日 (the 落款's date, as official documents write it)."""
    instant = _instant(value)
    if instant is None:
        return ""
    digits = "〇一二三四五六七八九"

    def number(n: int) -> str:
        if n < 10:
            return digits[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")

    year = "".join(digits[int(d)] for d in str(instant.year))
    return f"{year}年{number(instant.month)}月{number(instant.day)}日"


def _instant(value: str) -> datetime | None:
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant.astimezone(CHINA_TZ) if instant.tzinfo else instant


def shown_instant(value: str) -> str:
    instant = _instant(value)
    return instant.strftime("%Y-%m-%d %H:%M") if instant else (value or "—")


def shown_date(value: str) -> str:
    if not value:
        return "—"
    instant = _instant(value[:10] + "T00:00:00") if len(value) >= 10 else None
    return f"{instant.year}年{instant.month}月{instant.day}日" if instant else value


# ---- the seal's picture ----


class SealStamp(Flowable):  # type: ignore[misc]
    """The red round stamp of the institution (司法鉴定专用章) as the page shows it. It is a
    picture: what proves the seal is the PAdES signature over the whole file."""

    def __init__(self, institution: str, size: float = 42 * mm) -> None:
        super().__init__()
        self.institution = chinese_name(institution)
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        canvas = self.canv
        radius = self.size / 2
        canvas.saveState()
        canvas.translate(radius, radius)
        canvas.setStrokeColor(SEAL_RED)
        canvas.setFillColor(SEAL_RED)
        canvas.setLineWidth(2.2)
        canvas.circle(0, 0, radius - 1.5, stroke=1, fill=0)
        _star(canvas, radius * 0.22)
        name = self.institution[:18]
        font_size = min(12.5, 2 * 3.14159 * radius * 0.62 / max(len(name), 1))
        canvas.setFont(_bold_font(name), font_size)
        span = min(240.0, 16.0 * len(name))  # degrees of the arc the name takes
        step = span / max(len(name) - 1, 1)
        for i, char in enumerate(name):
            angle = 90 + span / 2 - i * step
            canvas.saveState()
            canvas.rotate(angle - 90)
            canvas.drawCentredString(0, radius - 5.5 - font_size, char)
            canvas.restoreState()
        label = "司法鉴定专用章"
        canvas.setFont(_bold_font(label), 8.5)
        canvas.drawCentredString(0, -radius * 0.52, label)
        canvas.restoreState()


def _star(canvas: Any, outer: float) -> None:
    from math import cos, pi, sin

    inner = outer * 0.382
    path = canvas.beginPath()
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        a = pi / 2 + i * pi / 5
        (path.moveTo if i == 0 else path.lineTo)(r * cos(a), r * sin(a))
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)


# ---- the pages ----


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Writes "第 N 页 共 M 页" at the foot of every page once the page count is known."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved)
        for state in self._saved:
            self.__dict__.update(state)
            self.setFont(SERIF, 9.5)
            self.setFillColor(colors.black)
            self.drawCentredString(A4[0] / 2, 12 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            super().showPage()
        super().save()


def _strong(text: str) -> str:
    """Bold markup for a label, in the regular face where the bold one lacks a character."""
    return f'<font name="{_bold_font(text)}">{_text(text)}</font>'


def _kv(label: str, value: str, styles: dict[str, ParagraphStyle]) -> Paragraph:
    return Paragraph(f"{_strong(label + '：')}{_text(value) if value else '无'}", styles["field"])


def _table(rows: list[list[Any]], widths: list[float], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), SERIF),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.Color(0.35, 0.35, 0.35)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.93, 0.93, 0.93)))
    table.setStyle(TableStyle(style))
    return table


def _hash_table(items: Sequence[Mapping[str, str]], styles: dict[str, ParagraphStyle]) -> Table:
    cell, hashed = styles["cell"], styles["hash"]
    rows: list[list[Any]] = [[Paragraph("序号", cell), Paragraph("名称", cell), Paragraph("SHA-256", cell)]]
    rows += [
        [Paragraph(str(i), cell), Paragraph(_text(m["name"]), cell), Paragraph(m["sha256"], hashed)]
        for i, m in enumerate(items, start=1)
    ]
    return _table(rows, [11 * mm, 46 * mm, 103 * mm])


def _story(manifest: Mapping[str, Any]) -> list[Any]:
    styles = _styles()
    institution = manifest.get("institution") or {}
    institution_name = chinese_name(str(institution.get("name", "")))
    court = manifest.get("court") or {}
    title = str(manifest.get("title") or DOCUMENT_TITLES["original"])
    kind = str(manifest.get("kind") or "original")
    number = str(manifest.get("document_number") or "")
    sections: Mapping[str, str] = manifest.get("sections") or {}
    signatures: list[Mapping[str, Any]] = list(manifest.get("signatures") or [])

    def bold(text: str, style: str) -> Paragraph:
        return Paragraph(f'<font name="{_bold_font(text)}">{_text(text)}</font>', styles[style])

    # 封面 (cover) and 封二 (the declaration)
    story: list[Any] = [
        Spacer(1, 55 * mm),
        bold(institution_name, "cover_institution"),
        Spacer(1, 12 * mm),
        bold(title, "cover_title"),
        Spacer(1, 60 * mm),
        Paragraph(
            f"司法鉴定许可证号：{_text(str(institution.get('licence_number') or '—'))}", styles["cover_line"]
        ),
        PageBreak(),
        Spacer(1, 20 * mm),
        Paragraph("声　　明", styles["declaration_title"]),
        Spacer(1, 8 * mm),
    ]
    story += [
        Paragraph(f"{i}．{_text(line)}", styles["declaration"]) for i, line in enumerate(DECLARATION, 1)
    ]
    story += [
        Spacer(1, 40 * mm),
        Paragraph(f"地　　址：{_text(str(institution.get('address') or '—'))}", styles["declaration"]),
        Paragraph(f"联系电话：{_text(str(institution.get('phone') or '—'))}", styles["declaration"]),
        PageBreak(),
    ]

    # 正文
    story += [
        bold(institution_name, "title"),
        bold(title, "title"),
        Paragraph(f"编号：{_text(number) if number else '—'}", styles["number"]),
        Spacer(1, 3 * mm),
    ]
    previous = str(manifest.get("previous_document_number") or "")
    previous_label = (
        f"{previous}（第 {manifest.get('previous_version')} 版）"
        if previous
        else (f"第 {manifest.get('previous_version')} 版")
    )
    if kind == "correction":
        correction = manifest.get("correction") or {}
        defect = CORRECTION_KINDS.get(
            str(correction.get("defect_kind", "")), str(correction.get("defect_kind", ""))
        )
        story.append(
            _boxed(
                f"本补正书对{previous_label}司法鉴定意见书予以补正（司法鉴定程序通则第三十条）。"
                f"补正事项：{defect}。补正内容：{correction.get('description', '')}"
                "补正后的全文如下，原司法鉴定意见不变。",
                styles,
            )
        )
    elif kind == "supplementary":
        supplementary = manifest.get("supplementary") or {}
        ground = SUPPLEMENTARY_GROUNDS.get(str(supplementary.get("ground", "")), "")
        reason = str(supplementary.get("reason", ""))
        story.append(
            _boxed(
                f"本意见书为补充鉴定意见书，是对{previous_label}司法鉴定意见书的补充（司法鉴定程序通则第三十条）"
                + (f"：{ground}" if ground else "")
                + (f"，{reason}" if reason else "")
                + "。",
                styles,
            )
        )
    matters = "、".join(manifest.get("matters") or []) or "—"
    story += [
        Paragraph("一、基本情况", styles["heading"]),
        _kv("委　托　人", chinese_name(str(court.get("name", ""))), styles),
        _kv("委托鉴定事项", matters, styles),
        _kv("受理日期", shown_date(str(manifest.get("accepted_on") or "")), styles),
        Paragraph(_strong("鉴定材料："), styles["field"]),
    ]
    materials = list(manifest.get("materials") or [])
    story.append(_hash_table(materials, styles) if materials else Paragraph("无", styles["field"]))
    for name in ("examination_period", "place", "present", "examinee"):
        story.append(_kv(SECTIONS[name], sections.get(name, ""), styles))
    numbered = (
        ("二、基本案情", sections.get("case_summary", "")),
        ("三、资料摘要", sections.get("materials_summary", "")),
        ("四、鉴定过程", str(manifest.get("content", ""))),
        ("五、分析说明", sections.get("analysis", "")),
    )
    for heading, text in numbered:
        story.append(Paragraph(heading, styles["heading"]))
        story += _paragraphs(text, styles["body"])
    story.append(Paragraph("六、鉴定意见", styles["heading"]))
    story += _paragraphs(str(manifest.get("opinion", "")), styles["body"])
    dissents = [s for s in signatures if s.get("kind") == "dissent"]
    for s in dissents:
        story.append(
            Paragraph(
                _strong(f"不同意见（司法鉴定人{s.get('name') or ''}）：")
                + _text(str(s.get("statement", ""))),
                styles["field"],
            )
        )
    story.append(Paragraph("七、附件", styles["heading"]))
    attachments = list(manifest.get("attachments") or [])
    story.append(_hash_table(attachments, styles) if attachments else Paragraph("无", styles["field"]))

    # 落款
    cell = styles["cell"]
    rows: list[list[Any]] = [
        [Paragraph(h, cell) for h in ("司法鉴定人", "《司法鉴定人执业证》证号", "签署", "签署时间")]
    ]
    for s in signatures:
        rows.append(
            [
                Paragraph(_text(chinese_name(str(s.get("name") or "—"))), cell),
                Paragraph(_text(str(s.get("licence_number") or "—")), cell),
                Paragraph(KIND_LABELS.get(str(s.get("kind")), str(s.get("kind"))), cell),
                Paragraph(shown_instant(str(s.get("signed_at") or "")), cell),
            ]
        )
    signers = _table(rows, [42 * mm, 48 * mm, 26 * mm, 44 * mm])
    seal_block = Table(
        [
            [Spacer(1, 1), SealStamp(str(institution.get("name", "")))],
            [Spacer(1, 1), Paragraph(f"{_text(institution_name)}（司法鉴定专用章）", styles["right"])],
            [Spacer(1, 1), Paragraph(chinese_date(str(manifest.get("issued_at") or "")), styles["right"])],
        ],
        colWidths=[70 * mm, 90 * mm],
    )
    seal_block.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), SERIF),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ]
        )
    )
    story += [
        Spacer(1, 6 * mm),
        KeepTogether([signers, Spacer(1, 2 * mm), seal_block]),
    ]

    # 核验信息 (what `appraisal verify` checks)
    audit = manifest.get("audit") or {}
    note = styles["note"]
    verification = [
        Paragraph("核验信息 Verification", styles["heading"]),
        Paragraph(f"鉴定意见书哈希（SHA-256，鉴定人签署的对象）：{manifest.get('report_hash', '')}", note),
    ]
    for s in signatures:
        verification.append(
            Paragraph(
                f"{_text(chinese_name(str(s.get('name') or '')))}（{KIND_LABELS.get(str(s.get('kind')), '')}）"
                f" Ed25519 公钥指纹：{s.get('key_fingerprint', '')}",
                note,
            )
        )
    if audit:
        verification.append(
            Paragraph(
                f"出具时审计链头：第 {audit.get('seq', '')} 条事件，{audit.get('head', '')}"
                f"（{_text(str(audit.get('workflow_id', '')))}）",
                note,
            )
        )
    verification.append(
        Paragraph(
            "本文书由司法鉴定机构以电子印章（PAdES）签章并附可信时间戳，鉴定人签名与不同意见以 Ed25519 签署。"
            f"机器可读清单作为附件 {MANIFEST_NAME} 嵌入。离线核验：appraisal verify 本文件.pdf"
            " --trust 司法行政机关根证书.pem。Sealed by the institution (PAdES, with a trusted timestamp);"
            " check offline with: appraisal verify REPORT.pdf --trust bureau-root.pem",
            note,
        )
    )
    story += [CondPageBreak(40 * mm), *verification]
    return story


def _boxed(text: str, styles: dict[str, ParagraphStyle]) -> Table:
    box = Table([[Paragraph(_text(text), styles["box"])]], colWidths=[160 * mm])
    box.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), SERIF),
                ("BOX", (0, 0), (-1, -1), 0.8, colors.Color(0.35, 0.35, 0.35)),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return box


def render_report_pdf(manifest: Mapping[str, Any]) -> bytes:
    """The report as PDF/A-3b, `manifest` embedded as appraisal-manifest.json (not sealed yet)."""
    register_fonts()
    institution = manifest.get("institution") or {}
    title = (
        f"{manifest.get('title', DOCUMENT_TITLES['original'])} {manifest.get('document_number', '')}".strip()
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=25 * mm,
        title=title,
        author=str(institution.get("name", "")),
        subject=str(manifest.get("court_reference", "")),
        creator="appraisal",
        producer=PRODUCER,
        invariant=1,
        initialFontName=SERIF,
        lang="zh-CN",
    )
    document.build(_story(manifest), canvasmaker=_NumberedCanvas)
    return _as_pdfa(buffer.getvalue(), manifest, title=title, author=str(institution.get("name", "")))


# ---- PDF/A-3b ----


def _pdf_date(instant: datetime) -> str:
    return instant.strftime("D:%Y%m%d%H%M%S+08'00'")


def _xmp(*, title: str, author: str, created: datetime, producer: str) -> bytes:
    when = created.isoformat(timespec="seconds")
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>3</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreateDate>{when}</xmp:CreateDate>
   <xmp:ModifyDate>{when}</xmp:ModifyDate>
   <xmp:MetadataDate>{when}</xmp:MetadataDate>
   <xmp:CreatorTool>appraisal</xmp:CreatorTool>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdf:Producer>{escape(producer)}</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def _as_pdfa(pdf: bytes, manifest: Mapping[str, Any], *, title: str, author: str) -> bytes:
    """reportlab's output made PDF/A-3b: XMP, output intent, the manifest as an associated file."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.pdf_header = b"%PDF-1.7"
    created = _instant(str(manifest.get("issued_at") or "")) or datetime(2000, 1, 1, tzinfo=CHINA_TZ)
    producer = PRODUCER
    writer.add_metadata(
        {
            "/Title": title,
            "/Author": author,
            "/Subject": str(manifest.get("court_reference", "")),
            "/Creator": "appraisal",
            "/Producer": producer,
            "/CreationDate": _pdf_date(created),
            "/ModDate": _pdf_date(created),
        }
    )
    root = writer.root_object
    metadata = DecodedStreamObject()
    metadata.set_data(_xmp(title=title, author=author, created=created, producer=producer))
    metadata[NameObject("/Type")] = NameObject("/Metadata")
    metadata[NameObject("/Subtype")] = NameObject("/XML")
    root[NameObject("/Metadata")] = writer._add_object(metadata)
    profile = DecodedStreamObject()
    profile.set_data((ASSETS / "sRGB.icc").read_bytes())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/DestOutputProfile"): writer._add_object(profile),
        }
    )
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    root[NameObject("/Lang")] = TextStringObject("zh-CN")
    attached = writer.add_attachment(MANIFEST_NAME, manifest_bytes(manifest))
    attached.subtype = NameObject("/application/json")
    attached.associated_file_relationship = NameObject("/Data")
    attached.description = TextStringObject(
        "machine-readable manifest: the report, its hash, every signature"
    )
    attached.modification_date = created
    filespec = attached.pdf_object
    filespec[NameObject("/UF")] = TextStringObject(MANIFEST_NAME)
    root[NameObject("/AF")] = ArrayObject([filespec.indirect_reference or writer._add_object(filespec)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_texts(pdf_bytes: bytes) -> list[str]:
    """Each page's text, as a reader extracts it (for checks that the page shows what was signed)."""
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf_bytes)).pages]


def squeezed(text: str) -> str:
    """Text without white space, for comparing what a page shows with what was signed."""
    return re.sub(r"\s+", "", text)
