"""The report PDF as drawn, before its seal: the statutory layout of 司法部《司法鉴定文书格式》
(2016), its fonts embedded, and what it claims of PDF/A-3b, checked with pypdf."""

import hashlib
import io
import json
import re
from typing import Any

from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject

from appraisal.domain.audit import canonical_json, report_hash
from appraisal.report_pdf import (
    MANIFEST_NAME,
    chinese_date,
    page_texts,
    read_manifest,
    register_fonts,
    render_report_pdf,
    squeezed,
)
from tests.report_documents import (
    ATTACHMENTS,
    CONTENT,
    DISSENT,
    DISSENTER,
    LICENCES,
    NAMES,
    NUMBER,
    OPINION,
    SECTIONS,
    SIGNER,
    manifest,
    signature_of,
    the_hash,
)

STANDARD_14 = re.compile(r"^/(Helvetica|Times|Courier|Symbol|ZapfDingbats)")


def test_a_report_without_sections_keeps_the_hash_it_always_had() -> None:
    """Reports submitted before the statutory sections existed still verify: their hash is
    SHA-256 over the canonical {content, opinion, attachments}, nothing more."""
    old = hashlib.sha256(
        canonical_json({"content": CONTENT, "opinion": OPINION, "attachments": ATTACHMENTS})
    ).hexdigest()
    assert report_hash(CONTENT, OPINION, ATTACHMENTS) == old
    assert report_hash(CONTENT, OPINION, ATTACHMENTS, {"place": "", "analysis": ""}) == old
    with_sections = report_hash(CONTENT, OPINION, ATTACHMENTS, SECTIONS)
    assert with_sections != old
    assert report_hash(CONTENT, OPINION, ATTACHMENTS, {**SECTIONS, "place": "别处"}) != with_sections


def test_the_manifest_carries_the_signed_hash_the_signers_and_their_keys() -> None:
    built = manifest()
    assert built["format"] == "appraisal-report/2" and built["report_hash"] == the_hash()
    assert built["title"] == "司法鉴定意见书" and built["document_number"] == NUMBER
    assert [(s["name"], s["licence_number"], s["kind"], s["signed_at"]) for s in built["signatures"]] == [
        (NAMES[SIGNER], LICENCES[SIGNER], "sign", "2026-09-30T02:00:00+00:00"),
        (NAMES[DISSENTER], LICENCES[DISSENTER], "dissent", "2026-09-30T02:00:00+00:00"),
    ]
    assert all(s["public_key"] and s["key_valid_from"] == "2020-01-01" for s in built["signatures"])


def test_the_pages_follow_the_statutory_format() -> None:
    pdf = render_report_pdf(manifest())
    pages = page_texts(pdf)
    shown = squeezed("".join(pages))
    in_order = [
        "西南司法鉴定中心",
        "司法鉴定意见书",
        "司法鉴定许可证号：500001001",
        "声明",
        "使用本鉴定文书应当保持其完整性和严肃性",
        "地址：重庆市渝中区中山一路1号",
        f"编号：{NUMBER}",
        "一、基本情况",
        "委托人：重庆市渝中区人民法院",
        "委托鉴定事项：伤残等级评定",
        "受理日期：2026年9月18日",
        "鉴定材料：",
        "病历",
        "ab" * 32,
        "鉴定日期：2026年9月20日至2026年9月28日",
        "鉴定地点：西南司法鉴定中心法医临床检验室",
        "在场人员：被鉴定人及其代理人",
        "被鉴定人：王某某",
        "二、基本案情",
        SECTIONS["case_summary"],
        "三、资料摘要",
        SECTIONS["materials_summary"],
        "四、鉴定过程",
        "<已愈合>&功能受限",
        "五、分析说明",
        SECTIONS["analysis"],
        "六、鉴定意见",
        OPINION,
        f"不同意见（司法鉴定人{NAMES[DISSENTER]}）：{DISSENT}",
        "七、附件",
        "照片",
        "《司法鉴定人执业证》证号",
        f"{NAMES[SIGNER]}{LICENCES[SIGNER]}签名2026-09-3010:00",  # signed 02:00 UTC: 10:00 in China
        f"{NAMES[DISSENTER]}{LICENCES[DISSENTER]}不同意见2026-09-3010:00",
        "司法鉴定专用章",
        "二〇二六年九月三十日",
        the_hash(),
    ]
    position = 0
    for text in in_order:
        found = shown.find(squeezed(text), position)
        assert found >= 0, f"{text!r} missing or out of order"
        position = found
    total = len(pages)
    assert total >= 4
    for number, page in enumerate(pages, start=1):  # 第 N 页 共 M 页 on every page
        assert f"第{number}页共{total}页" in squeezed(page)
    reader = PdfReader(io.BytesIO(pdf))
    assert (
        reader.pages[0].mediabox.width == 595.2756
        or abs(float(reader.pages[0].mediabox.width) - 595.28) < 0.1
    )


def test_rendering_is_deterministic_and_embeds_the_manifest() -> None:
    built = manifest()
    first, second = render_report_pdf(built), render_report_pdf(json.loads(json.dumps(built)))
    assert first == second
    assert read_manifest(first) == built


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _fonts(resources: DictionaryObject | None, seen: set[int]) -> list[DictionaryObject]:
    """Every font a page's resources use, through form XObjects too."""
    found: list[DictionaryObject] = []
    if resources is None or id(resources) in seen:
        return found
    seen.add(id(resources))
    for font in (_resolved(resources.get("/Font")) or {}).values():
        found.append(_resolved(font))
    for xobject in (_resolved(resources.get("/XObject")) or {}).values():
        xobject = _resolved(xobject)
        if xobject.get("/Subtype") == "/Form":
            found += _fonts(_resolved(xobject.get("/Resources")), seen)
    return found


def test_every_font_is_embedded_as_a_subset_of_the_shipped_font() -> None:
    pdf = render_report_pdf(manifest())
    reader = PdfReader(io.BytesIO(pdf))
    fonts = [font for page in reader.pages for font in _fonts(_resolved(page.get("/Resources")), set())]
    assert fonts
    for font in fonts:
        name = str(font["/BaseFont"])
        assert not STANDARD_14.match(name), f"{name}: a standard font, not embedded"
        assert re.match(r"^/[A-Z]{6}\+AppraisalSerifSC-(Regular|Bold)$", name), name
        descriptor = _resolved(font["/FontDescriptor"])
        assert "/FontFile2" in descriptor, f"{name}: no embedded TrueType program"
        program = TTFont(io.BytesIO(_resolved(descriptor["/FontFile2"]).get_data()))
        # PDF/A (ISO 19005-2/3, 6.2.11.6): a symbolic TrueType font has no /Encoding and its
        # program's cmap holds exactly one encoding.
        assert int(descriptor["/Flags"]) & 4 and "/Encoding" not in font
        assert len(program["cmap"].tables) == 1
        assert "/ToUnicode" in font  # the text can be searched and read back
    # 喆 (GBK, not GB 2312) of the dissenter's name is printed from the regular font.
    assert NAMES[DISSENTER] in "".join(page_texts(pdf))


def _walk(value: Any, seen: set[int]) -> list[DictionaryObject]:
    value = _resolved(value)
    if id(value) in seen:
        return []
    seen.add(id(value))
    found: list[DictionaryObject] = []
    if isinstance(value, DictionaryObject):
        found.append(value)
        for key, item in value.items():
            if key not in ("/Parent", "/P"):
                found += _walk(item, seen)
    elif isinstance(value, list):
        for item in value:
            found += _walk(item, seen)
    return found


def test_what_it_claims_of_pdf_a_3b() -> None:
    pdf = render_report_pdf(manifest())
    assert pdf.startswith(b"%PDF-1.7")
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.is_encrypted and reader.trailer.get("/ID")
    root: Any = reader.root_object
    xmp = _resolved(root["/Metadata"]).get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    (intent,) = [_resolved(i) for i in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    profile = _resolved(intent["/DestOutputProfile"])
    assert profile["/N"] == 3 and profile.get_data()[36:40] == b"acsp"  # an ICC profile
    assert root["/Lang"] == "zh-CN"
    assert reader.metadata is not None and reader.metadata.title and NUMBER in reader.metadata.title
    # The manifest is an associated file (PDF/A-3), listed in the catalogue's /AF.
    (associated,) = [_resolved(f) for f in root["/AF"]]
    assert associated["/F"] == MANIFEST_NAME and associated["/AFRelationship"] == "/Data"
    assert _resolved(associated["/EF"]["/F"])["/Subtype"] == "/application/json"
    # No external reference anywhere: no URI or launch action, no remote go-to, no external
    # stream, no JavaScript.
    for dictionary in _walk(root, set()):
        assert dictionary.get("/S") not in ("/URI", "/Launch", "/GoToR", "/JavaScript", "/ImportData")
        assert "/JS" not in dictionary and "/AA" not in dictionary and "/URI" not in dictionary
        if "/Length" in dictionary:  # a stream: its data is in the file
            assert "/F" not in dictionary and "/FFilter" not in dictionary


def test_a_supplementary_report_and_a_correction_say_which_version_they_follow() -> None:
    supplementary = render_report_pdf(
        manifest(
            kind="supplementary",
            version=2,
            previous_version=1,
            previous_document_number="西南司鉴中心〔2026〕临鉴字第3号",
            supplementary={"ground": "PROC-30-2", "reason": "法院提供新的病历"},
        )
    )
    shown = squeezed("".join(page_texts(supplementary)))
    assert (
        "补充鉴定意见书" in shown
        and "西南司鉴中心〔2026〕临鉴字第3号(第1版)".replace("(", "（").replace(")", "）") in shown
    )
    assert "委托人就原委托鉴定事项提供新的鉴定材料" in shown and "法院提供新的病历" in shown
    correction = render_report_pdf(
        manifest(
            kind="correction",
            version=2,
            previous_version=1,
            previous_document_number="西南司鉴中心〔2026〕临鉴字第3号",
            correction={"defect_kind": "PROC-28-3", "description": "第二段“左”误写为“右”，予以更正。"},
        )
    )
    shown = squeezed("".join(page_texts(correction)))
    assert shown.count("司法鉴定意见补正书") >= 2  # cover and title
    assert "文字表达有瑕疵或者错别字" in shown and "第二段“左”误写为“右”" in shown
    assert "原司法鉴定意见不变" in shown


def test_long_content_runs_over_several_pages() -> None:
    long_content = "\n".join(f"第{i}条 检验所见：" + "被鉴定人左胫骨骨折愈合良好。" * 8 for i in range(150))
    hash_ = report_hash(long_content, OPINION, ATTACHMENTS, SECTIONS)
    pdf = render_report_pdf(manifest([signature_of(SIGNER, "sign", hash_=hash_)], content=long_content))
    pages = page_texts(pdf)
    assert len(pages) > 8 and "第149条" in "".join(pages)
    assert f"第{len(pages)}页共{len(pages)}页" in squeezed(pages[-1])


def test_the_date_of_the_signature_block_is_written_in_chinese_numerals() -> None:
    assert chinese_date("2026-12-04T16:30:00+00:00") == "二〇二六年十二月五日"  # 00:30 in China
    assert chinese_date("2027-10-20T02:00:00+00:00") == "二〇二七年十月二十日"
    assert chinese_date("") == ""
    register_fonts()  # twice is fine
    register_fonts()
