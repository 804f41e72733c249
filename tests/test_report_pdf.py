"""The report PDF on its own: build the manifest, render it, verify it offline."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from appraisal.cli import main as appraisal_command
from appraisal.core.signing import demo_private_key, fingerprint, public_key_b64, sign, signed_message
from appraisal.domain.audit import report_hash
from appraisal.report_pdf import (
    MANIFEST_NAME,
    build_manifest,
    read_manifest,
    render_report_pdf,
    verify_main,
    verify_report_pdf,
)

SIGNER, DISSENTER, STRANGER = "appraiser-sign", "appraiser-dissent", "appraiser-stranger"
NAMES = {SIGNER: "张明", DISSENTER: "李华"}
CONTENT = (
    "一、检验所见：被鉴定人左胫骨骨折，<已愈合> & 功能受限。\n二、分析说明：依据《人体损伤致残程度分级》。"
)
OPINION = "被鉴定人之损伤构成十级伤残"
DISSENT = "本人认为应评定为九级伤残，理由见分析说明第二段。"
ATTACHMENTS = [{"name": "照片", "sha256": "cd" * 32}]
SIGNED_AT = "2026-09-30T02:00:00+00:00"


def key_entry(appraiser_id: str, **overrides: Any) -> dict[str, Any]:
    public_key = public_key_b64(demo_private_key(appraiser_id))
    entry: dict[str, Any] = {
        "fingerprint": fingerprint(public_key),
        "appraiser_id": appraiser_id,
        "public_key": public_key,
        "valid_from": "2020-01-01",
        "valid_until": None,
    }
    entry.update(overrides)
    return entry


KEYS = [key_entry(SIGNER), key_entry(DISSENTER), key_entry(STRANGER)]


def signature_of(
    appraiser_id: str, kind: str, statement: str = "", *, key_owner: str | None = None, hash_: str = ""
) -> dict[str, Any]:
    """What the snapshot holds for one signature; `key_owner` signs in someone else's stead."""
    owner = key_owner or appraiser_id
    message = signed_message(kind, hash_ or report_hash(CONTENT, OPINION, ATTACHMENTS), statement)
    return {
        "appraiser_id": appraiser_id,
        "kind": kind,
        "signed_at": SIGNED_AT,
        "statement": statement,
        "signature": sign(demo_private_key(owner), message),
        "key_fingerprint": fingerprint(public_key_b64(demo_private_key(owner))),
    }


def manifest(signatures: list[dict[str, Any]] | None = None, content: str = CONTENT) -> dict[str, Any]:
    return build_manifest(
        commission_id="c-1",
        court_reference="(2026)渝0103民初1234号-鉴1",
        case_number="(2026)渝0103民初1234号",
        institution_id="i-1",
        institution_name="西南司法鉴定中心",
        version=1,
        content=content,
        opinion=OPINION,
        attachments=ATTACHMENTS,
        issued_at="2026-09-30T03:00:00+00:00",
        signatures=signatures
        if signatures is not None
        else [signature_of(SIGNER, "sign"), signature_of(DISSENTER, "dissent", DISSENT)],
        appraiser_names=NAMES,
    )


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_manifest_carries_the_signed_hash_and_the_signers() -> None:
    built = manifest()
    assert built["format"] == "appraisal-report/1"
    assert built["report_hash"] == report_hash(CONTENT, OPINION, ATTACHMENTS)
    assert built["institution"] == {"id": "i-1", "name": "西南司法鉴定中心"}
    assert [(s["name"], s["kind"], s["signed_at"]) for s in built["signatures"]] == [
        ("张明", "sign", SIGNED_AT),
        ("李华", "dissent", SIGNED_AT),
    ]


def test_a_valid_report_verifies() -> None:
    built = manifest()
    pdf = render_report_pdf(built)
    assert pdf.startswith(b"%PDF-")
    assert read_manifest(pdf) == built
    result = verify_report_pdf(pdf, KEYS)
    assert result.ok, result.findings
    assert result.signatures == 2 and result.problems == []
    assert result.report_hash == built["report_hash"]
    assert len(result.findings) == 3 and all(f.startswith("ok: ") for f in result.findings)


def test_the_pdf_shows_the_report_in_chinese() -> None:
    pdf = render_report_pdf(manifest())
    text = text_of(pdf)
    for shown in (
        "司法鉴定意见书",
        "Appraisal report",
        OPINION,
        "(2026)渝0103民初1234号-鉴1",
        "西南司法鉴定中心",
        DISSENT,
        "张明",
        "不同意见",
        report_hash(CONTENT, OPINION, ATTACHMENTS),
        "<已愈合> & 功能受限",
    ):
        assert shown in text, shown
    reader = PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == [MANIFEST_NAME]
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4


def test_long_content_runs_over_several_pages() -> None:
    long_content = "\n".join(f"第{i}条 检验所见：" + "被鉴定人左胫骨骨折愈合良好。" * 8 for i in range(150))
    hash_ = report_hash(long_content, OPINION, ATTACHMENTS)
    built = manifest([signature_of(SIGNER, "sign", hash_=hash_)], content=long_content)
    pdf = render_report_pdf(built)
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 3
    assert "第149条" in text_of(pdf)
    assert verify_report_pdf(pdf, KEYS).ok


def test_tampered_content_fails_naming_the_hash() -> None:
    built = manifest()
    built["content"] = built["content"].replace("十级", "九级") + "。"
    result = verify_report_pdf(render_report_pdf(built), KEYS)
    assert not result.ok
    recomputed = report_hash(built["content"], OPINION, ATTACHMENTS)
    mismatch = result.problems[0]
    assert "report hash mismatch" in mismatch
    assert built["report_hash"] in mismatch and recomputed in mismatch
    # The signatures do not cover the altered content either.
    assert sum("does not verify" in p for p in result.problems) == 2


def test_a_signature_by_another_key_fails() -> None:
    # The stranger's key signed, but the signature claims the signer's key.
    forged = signature_of(SIGNER, "sign")
    forged["signature"] = signature_of(STRANGER, "sign")["signature"]
    result = verify_report_pdf(render_report_pdf(manifest([forged])), KEYS)
    assert not result.ok
    assert "does not verify over the report" in result.problems[0]
    # The stranger's key, and saying so: the key is not the appraiser's.
    borrowed = signature_of(SIGNER, "sign", key_owner=STRANGER)
    result = verify_report_pdf(render_report_pdf(manifest([borrowed])), KEYS)
    assert not result.ok
    assert f"belongs to appraiser {STRANGER}, not {SIGNER}" in result.problems[0]


def test_a_dissent_is_bound_to_its_statement() -> None:
    altered = signature_of(DISSENTER, "dissent", DISSENT)
    altered["statement"] = "本人同意鉴定意见。"
    result = verify_report_pdf(render_report_pdf(manifest([altered])), KEYS)
    assert not result.ok and "dissent statement" in result.problems[0]


def test_a_missing_key_fails() -> None:
    result = verify_report_pdf(render_report_pdf(manifest()), [key_entry(SIGNER)])
    assert not result.ok and result.signatures == 1
    (problem,) = result.problems
    assert problem.startswith(f"dissent by 李华 ({DISSENTER}): key ") and "not in the keys file" in problem


def test_a_key_not_valid_on_the_signing_day_fails() -> None:
    expired = [key_entry(SIGNER, valid_until="2026-09-29"), key_entry(DISSENTER)]
    result = verify_report_pdf(render_report_pdf(manifest()), expired)
    assert not result.ok
    # 02:00 UTC is 10:00 in China: the signing day is 2026-09-30.
    assert "was not valid on 2026-09-30" in result.problems[0]
    future = [key_entry(SIGNER), key_entry(DISSENTER, valid_from="2026-10-01")]
    assert not verify_report_pdf(render_report_pdf(manifest()), future).ok


def test_a_key_file_entry_must_match_its_fingerprint() -> None:
    swapped = key_entry(SIGNER, public_key=key_entry(STRANGER)["public_key"])
    result = verify_report_pdf(render_report_pdf(manifest()), [swapped, key_entry(DISSENTER)])
    assert not result.ok and "does not have that fingerprint" in result.problems[0]


def test_a_pdf_without_a_manifest_fails() -> None:
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(100, 700, "not a report")
    canvas.save()
    result = verify_report_pdf(buffer.getvalue(), KEYS)
    assert not result.ok and MANIFEST_NAME in result.problems[0]
    assert not verify_report_pdf(b"not a pdf", KEYS).ok


def test_no_signatures_fails() -> None:
    result = verify_report_pdf(render_report_pdf(manifest([])), KEYS)
    assert not result.ok and "no signatures" in result.problems[0]


def test_verify_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, keys = tmp_path / "report.pdf", tmp_path / "keys.json"
    report.write_bytes(render_report_pdf(manifest()))
    keys.write_text(json.dumps(KEYS), encoding="utf-8")
    assert verify_main([str(report), "--keys", str(keys)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"OK: report {report_hash(CONTENT, OPINION, ATTACHMENTS)} verified, 2 signatures"
    assert len(lines) == 4

    # The same through the product's own command, `appraisal verify`.
    assert appraisal_command(["verify", str(report), "--keys", str(keys)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("OK: report ")

    keys.write_text(json.dumps(KEYS[:1]), encoding="utf-8")
    assert verify_main(["verify", str(report), "--keys", str(keys)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("FAILED: dissent by 李华") and any(line.startswith("FAIL: ") for line in out)

    assert verify_main([str(tmp_path / "absent.pdf"), "--keys", str(keys)]) == 1
    assert capsys.readouterr().out.startswith("FAILED: cannot read")
