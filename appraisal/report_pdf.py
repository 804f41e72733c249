"""The issued report as a PDF anyone can check offline (鉴定人负责制).

`render_report_pdf` prints the report (opinion, content, dissents, who signed
with which key, the report hash) and embeds a machine-readable manifest as
the attachment `appraisal-manifest.json`. `verify_report_pdf` (and
`appraisal verify REPORT.pdf --keys KEYS.json`) reads that manifest back,
recomputes the report hash and checks every appraiser's Ed25519 signature
against the registry's public keys (`GET /v1/registry/keys`): no network, no
database. What is verified is the embedded manifest; the printed pages are a
rendering of it.

Chinese text uses reportlab's built-in CID font STSong-Light: nothing is
embedded or fetched; PDF viewers supply the font (Adobe-GB1 collection)."""

import argparse
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from appraisal.core.signing import fingerprint, signed_message, verify
from appraisal.domain.audit import report_hash as compute_report_hash
from appraisal.domain.calendar import CHINA_TZ, local_today

FORMAT = "appraisal-report/1"
MANIFEST_NAME = "appraisal-manifest.json"
FONT = "STSong-Light"
KIND_LABELS = {"sign": "签名 sign", "dissent": "不同意见 dissent"}


def build_manifest(
    *,
    commission_id: str,
    court_reference: str,
    case_number: str,
    institution_id: str,
    institution_name: str,
    version: int,
    content: str,
    opinion: str,
    attachments: Sequence[Mapping[str, str]],
    issued_at: str,
    signatures: Sequence[Mapping[str, Any]],
    appraiser_names: Mapping[str, str],
    report_hash: str | None = None,
) -> dict[str, Any]:
    """The manifest embedded in the PDF. `signatures` are the commission
    snapshot's (appraiser_id, kind, signed_at, statement, signature,
    key_fingerprint); `report_hash` is the hash the appraisers signed (the
    snapshot's content_hash), computed from the content when not given."""
    files = [{"name": str(a["name"]), "sha256": str(a["sha256"])} for a in attachments]
    return {
        "format": FORMAT,
        "commission_id": commission_id,
        "court_reference": court_reference,
        "case_number": case_number,
        "institution": {"id": institution_id, "name": institution_name},
        "version": version,
        "report_hash": report_hash or compute_report_hash(content, opinion, files),
        "content": content,
        "opinion": opinion,
        "attachments": files,
        "issued_at": issued_at,
        "signatures": [
            {
                "appraiser_id": str(s["appraiser_id"]),
                "name": appraiser_names.get(str(s["appraiser_id"]), ""),
                "kind": str(s["kind"]),
                "signed_at": str(s.get("signed_at") or ""),
                "statement": str(s.get("statement") or ""),
                "signature": str(s.get("signature") or ""),
                "key_fingerprint": str(s.get("key_fingerprint") or ""),
            }
            for s in signatures
        ],
    }


# ---- rendering ----


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=1),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, alignment=1, textColor=colors.grey),
        "heading": ParagraphStyle(
            "heading", parent=base, fontSize=13, leading=20, spaceBefore=10, spaceAfter=4
        ),
        "body": ParagraphStyle("body-indented", parent=base, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
        "mono": ParagraphStyle("mono", parent=base, fontName="Courier", fontSize=8, leading=11),
    }


def _text(value: str) -> str:
    return escape(value).replace("\n", "<br/>")


def _paragraphs(text: str, style: ParagraphStyle) -> list[Paragraph]:
    """One flowable per line, so a long content breaks across pages."""
    lines = text.replace("\r\n", "\n").split("\n")
    return [Paragraph(_text(line) if line.strip() else "&nbsp;", style) for line in lines]


def _shown_instant(value: str) -> str:
    if not value:
        return "—"
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return value
    if instant.tzinfo is None:
        return instant.strftime("%Y-%m-%d %H:%M")
    return instant.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M (UTC+8)")


def render_report_pdf(manifest: Mapping[str, Any]) -> bytes:
    """An A4 PDF of the report with `manifest` embedded as appraisal-manifest.json."""
    _register_font()
    styles = _styles()
    cell, mono = styles["cell"], styles["mono"]
    institution = manifest.get("institution") or {}
    story: list[Any] = [
        Paragraph("司法鉴定意见书", styles["title"]),
        Paragraph("Appraisal report", styles["subtitle"]),
        Spacer(1, 6 * mm),
    ]
    facts = [
        ("委托书编号 Court reference", manifest.get("court_reference", "")),
        ("案号 Case number", manifest.get("case_number", "")),
        ("鉴定机构 Institution", institution.get("name", "")),
        ("版本 Version", str(manifest.get("version", ""))),
        ("出具时间 Issued at", _shown_instant(str(manifest.get("issued_at") or ""))),
    ]
    facts_table = Table(
        [[Paragraph(_text(k), cell), Paragraph(_text(str(v)), cell)] for k, v in facts],
        colWidths=[45 * mm, 125 * mm],
    )
    facts_table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [facts_table, Paragraph("鉴定意见 Opinion", styles["heading"])]
    story += _paragraphs(str(manifest.get("opinion", "")), styles["body"])
    story.append(Paragraph("鉴定内容 Content", styles["heading"]))
    story += _paragraphs(str(manifest.get("content", "")), styles["body"])

    attachments = manifest.get("attachments") or []
    if attachments:
        story.append(Paragraph("附件 Attachments", styles["heading"]))
        rows = [[Paragraph("名称 Name", cell), Paragraph("SHA-256", cell)]]
        rows += [[Paragraph(_text(a["name"]), cell), Paragraph(a["sha256"], mono)] for a in attachments]
        table = Table(rows, colWidths=[60 * mm, 110 * mm], repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey)]))
        story.append(table)

    signatures = manifest.get("signatures") or []
    for s in (s for s in signatures if s.get("kind") == "dissent"):
        story.append(
            Paragraph(_text(f"不同意见 Dissent — {s.get('name') or s['appraiser_id']}"), styles["heading"])
        )
        story += _paragraphs(str(s.get("statement", "")), styles["body"])

    story.append(Paragraph("鉴定人签名 Signers", styles["heading"]))
    rows = [
        [Paragraph(h, cell) for h in ("鉴定人 Name", "鉴定人编号 Appraiser id", "类型 Kind", "公钥指纹 Key")]
    ]
    for s in signatures:
        rows.append(
            [
                Paragraph(_text(str(s.get("name", ""))), cell),
                Paragraph(_text(str(s["appraiser_id"])), mono),
                Paragraph(_text(KIND_LABELS.get(str(s["kind"]), str(s["kind"]))), cell),
                Paragraph(_text(str(s.get("key_fingerprint", ""))), mono),
            ]
        )
    signers = Table(rows, colWidths=[30 * mm, 50 * mm, 30 * mm, 60 * mm], repeatRows=1)
    signers.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [
        signers,
        Paragraph("报告哈希 Report hash (SHA-256)", styles["heading"]),
        Paragraph(_text(str(manifest.get("report_hash", ""))), mono),
        Spacer(1, 4 * mm),
        Paragraph(
            _text(
                f"本意见书的机器可读清单作为附件 {MANIFEST_NAME} 嵌入；"
                "用 `appraisal verify 本文件.pdf --keys 公钥.json` 离线核验签名。"
                f" The manifest is embedded as {MANIFEST_NAME}; check the signatures offline with"
                " `appraisal verify REPORT.pdf --keys KEYS.json`."
            ),
            cell,
        ),
    ]

    buffer = io.BytesIO()
    title = f"司法鉴定意见书 {manifest.get('court_reference', '')}".strip()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=str(institution.get("name", "")),
        subject="Appraisal report",
        invariant=1,
    )
    document.build(story, onFirstPage=_footer, onLaterPages=_footer)

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    issued = _pdf_date(str(manifest.get("issued_at") or ""))
    if issued:  # reportlab's invariant mode stamps 2000-01-01; the issue date is the truthful one
        writer.add_metadata({"/CreationDate": issued, "/ModDate": issued})
    writer.add_attachment(MANIFEST_NAME, manifest_bytes(manifest))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_date(value: str) -> str:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return ""
    if instant.tzinfo is None:
        return instant.strftime("D:%Y%m%d%H%M%S")
    return instant.astimezone(CHINA_TZ).strftime("D:%Y%m%d%H%M%S+08'00'")


def _footer(canvas: Any, document: Any) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.drawCentredString(A4[0] / 2, 10 * mm, f"— {document.page} —")
    canvas.restoreState()


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


# ---- verification ----


@dataclass
class VerificationResult:
    ok: bool
    findings: list[str] = field(default_factory=list)
    """Every check, in order, as a line: `ok: …` or `FAIL: …`."""
    problems: list[str] = field(default_factory=list)
    """The failed checks only."""
    report_hash: str = ""
    signatures: int = 0


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _signing_date(signature: Mapping[str, Any], issued_at: str) -> date | None:
    """The signature's day in China time (what the API checked the key against)."""
    for value in (signature.get("signed_at"), issued_at):
        if value:
            try:
                instant = datetime.fromisoformat(str(value))
            except ValueError:
                continue
            return local_today(instant) if instant.tzinfo else instant.date()
    return None


def _check_signature(
    signature: Mapping[str, Any], *, report_hash: str, issued_at: str, keys: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """None if the signature holds, else why not."""
    kind = str(signature.get("kind", ""))
    if kind not in KIND_LABELS:
        return f"unknown kind {kind!r}"
    key_fingerprint = str(signature.get("key_fingerprint", ""))
    key = keys.get(key_fingerprint)
    if key is None:
        return f"key {key_fingerprint or '(none)'} is not in the keys file"
    appraiser_id = str(signature.get("appraiser_id", ""))
    if str(key.get("appraiser_id")) != appraiser_id:
        return f"key {key_fingerprint} belongs to appraiser {key.get('appraiser_id')}, not {appraiser_id}"
    public_key = str(key.get("public_key", ""))
    try:
        if fingerprint(public_key) != key_fingerprint:
            return f"the keys file's public key for {key_fingerprint} does not have that fingerprint"
    except ValueError:
        return f"the keys file's public key for {key_fingerprint} is not base64"
    signed_on = _signing_date(signature, issued_at)
    try:
        valid_from, valid_until = _as_date(key.get("valid_from")), _as_date(key.get("valid_until"))
    except ValueError:
        return f"key {key_fingerprint} has an unreadable validity period"
    if signed_on is None:
        return "the signature has no signing date (signed_at) to check the key's validity against"
    if (valid_from and signed_on < valid_from) or (valid_until and signed_on > valid_until):
        return (
            f"key {key_fingerprint} was not valid on {signed_on} "
            f"(valid from {valid_from or '—'} until {valid_until or '—'})"
        )
    message = signed_message(kind, report_hash, str(signature.get("statement", "")))
    if not verify(public_key, message, str(signature.get("signature", ""))):
        what = "report" if kind == "sign" else "dissent statement bound to report"
        return f"the signature does not verify over the {what} {report_hash}"
    return None


def verify_report_pdf(pdf_bytes: bytes, keys: Sequence[Mapping[str, Any]]) -> VerificationResult:
    """Checks the embedded manifest: the report hash against its content, and
    each signature against `keys` ({fingerprint, appraiser_id, public_key,
    valid_from, valid_until}, as `GET /v1/registry/keys` returns them)."""
    result = VerificationResult(ok=True)

    def passed(line: str) -> None:
        result.findings.append(f"ok: {line}")

    def failed(line: str) -> None:
        result.ok = False
        result.findings.append(f"FAIL: {line}")
        result.problems.append(line)

    try:
        manifest = read_manifest(pdf_bytes)
    except ValueError as err:
        failed(str(err))
        return result
    if manifest.get("format") != FORMAT:
        failed(f"manifest format is {manifest.get('format')!r}, expected {FORMAT!r}")
        return result
    try:
        attachments = [{"name": str(a["name"]), "sha256": str(a["sha256"])} for a in manifest["attachments"]]
        recomputed = compute_report_hash(str(manifest["content"]), str(manifest["opinion"]), attachments)
        signatures = list(manifest["signatures"])
    except (KeyError, TypeError) as err:
        failed(f"the manifest lacks or mangles {err}")
        return result
    stated = str(manifest.get("report_hash", ""))
    result.report_hash = recomputed
    if recomputed == stated:
        passed(f"report hash {stated} matches the content, opinion and attachments")
    else:
        failed(
            f"report hash mismatch: the manifest states {stated} but its content, opinion and "
            f"attachments hash to {recomputed} (altered after signing)"
        )
    if not signatures:
        failed("the report carries no signatures")
    by_fingerprint = {str(k.get("fingerprint")): k for k in keys}
    issued_at = str(manifest.get("issued_at") or "")
    for signature in signatures:
        who = f"{signature.get('name') or '?'} ({signature.get('appraiser_id')})"
        kind = str(signature.get("kind", ""))
        problem = _check_signature(
            signature, report_hash=recomputed, issued_at=issued_at, keys=by_fingerprint
        )
        if problem:
            failed(f"{kind} by {who}: {problem}")
        else:
            result.signatures += 1
            passed(f"{kind} by {who} verified with key {signature.get('key_fingerprint')}")
    return result


def verify_main(argv: Sequence[str]) -> int:
    """`appraisal verify REPORT.pdf --keys KEYS.json`: 0 if the report verifies, else 1.
    `argv` is what follows `verify` (a leading `verify` is ignored)."""
    args_in = list(argv)
    if args_in[:1] == ["verify"]:
        args_in = args_in[1:]
    parser = argparse.ArgumentParser(
        prog="appraisal verify",
        description="Check an issued report PDF's hash and every appraiser's signature, offline.",
    )
    parser.add_argument("report", type=Path, help="the report PDF (GET /v1/commissions/{id}/report.pdf)")
    parser.add_argument(
        "--keys", type=Path, required=True, help="registered public keys as JSON (GET /v1/registry/keys)"
    )
    args = parser.parse_args(args_in)
    try:
        pdf_bytes = args.report.read_bytes()
        keys = json.loads(args.keys.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        print(f"FAILED: cannot read the input: {err}")
        return 1
    if isinstance(keys, dict) and isinstance(keys.get("keys"), list):
        keys = keys["keys"]
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        print(f"FAILED: {args.keys} is not a JSON list of keys")
        return 1
    result = verify_report_pdf(pdf_bytes, keys)
    for finding in result.findings:
        print(finding)
    if result.ok:
        print(f"OK: report {result.report_hash} verified, {result.signatures} signatures")
        return 0
    print(f"FAILED: {'; '.join(result.problems)}")
    return 1
