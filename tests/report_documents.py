"""A report's manifest, rendered and sealed outside any workflow: what the report PDF and
seal tests build on."""

import io
from datetime import UTC, datetime
from typing import Any

from appraisal.core.seal import IssuedSeal, SealAuthority, load_certificate
from appraisal.core.signing import demo_private_key, fingerprint, public_key_b64, sign, signed_message
from appraisal.domain.audit import report_hash
from appraisal.report_pdf import build_manifest, page_texts, render_report_pdf
from appraisal.report_seal import seal_pdf

SIGNER, DISSENTER, STRANGER = "appraiser-sign", "appraiser-dissent", "appraiser-stranger"
NAMES = {SIGNER: "张明", DISSENTER: "李喆"}  # 喆: in GBK, not in GB 2312
LICENCES = {SIGNER: "500100000001", DISSENTER: "500100000002"}
CONTENT = (
    "一、检验所见：被鉴定人左胫骨骨折，<已愈合> & 功能受限。\n二、检验方法：依据《人体损伤致残程度分级》。"
)
OPINION = "被鉴定人之损伤构成十级伤残，未见剪辑"
DISSENT = "本人认为应评定为九级伤残，理由见分析说明第二段。"
ATTACHMENTS = [{"name": "照片", "sha256": "cd" * 32}]
MATERIALS = [{"name": "病历", "sha256": "ab" * 32}, {"name": "影像片", "sha256": "ef" * 32}]
SECTIONS = {
    "examination_period": "2026年9月20日至2026年9月28日",
    "place": "西南司法鉴定中心法医临床检验室",
    "present": "被鉴定人及其代理人",
    "examinee": "王某某，男，1980年5月出生",
    "case_summary": "2026年3月1日，被鉴定人在交通事故中受伤。",
    "materials_summary": "住院病历载：左胫腓骨骨折。",
    "analysis": "被鉴定人左膝关节活动受限，依据5.10.6.1条，构成十级伤残。",
}
SIGNED_AT = "2026-09-30T02:00:00+00:00"
INSTITUTION = {
    "id": "i-1",
    "name": "西南司法鉴定中心 Southwest Forensic Centre",
    "licence_number": "500001001",
    "address": "重庆市渝中区中山一路1号",
    "phone": "023-63000001",
}
NUMBER = "西南司鉴中心〔2026〕临鉴字第12号"
HEAD = "5e" * 32


def the_hash(content: str = CONTENT, opinion: str = OPINION) -> str:
    return report_hash(content, opinion, ATTACHMENTS, SECTIONS)


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
    message = signed_message(kind, hash_ or the_hash(), statement)
    return {
        "appraiser_id": appraiser_id,
        "kind": kind,
        "signed_at": SIGNED_AT,
        "statement": statement,
        "signature": sign(demo_private_key(owner), message),
        "key_fingerprint": fingerprint(public_key_b64(demo_private_key(owner))),
    }


def signers(valid_until: str = "") -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for appraiser_id in (SIGNER, DISSENTER, STRANGER):
        key = key_entry(appraiser_id)
        found[appraiser_id] = {
            "name": NAMES.get(appraiser_id, "陌生人"),
            "licence_number": LICENCES.get(appraiser_id, ""),
            "keys": {key["fingerprint"]: {**key, "valid_until": valid_until}},
        }
    return found


def manifest(
    signatures: list[dict[str, Any]] | None = None, *, content: str = CONTENT, **overrides: Any
) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "commission_id": "c-1",
        "court_reference": "(2026)渝0103民初1234号-鉴1",
        "case_number": "(2026)渝0103民初1234号",
        "institution": INSTITUTION,
        "court": {"id": "k-1", "name": "重庆市渝中区人民法院"},
        "version": 1,
        "content": content,
        "opinion": OPINION,
        "attachments": ATTACHMENTS,
        "sections": SECTIONS,
        "issued_at": "2026-09-30T03:00:00+00:00",
        "signatures": signatures
        if signatures is not None
        else [signature_of(SIGNER, "sign"), signature_of(DISSENTER, "dissent", DISSENT)],
        "signers": signers(),
        "document_number": NUMBER,
        "category": "forensic_clinical",
        "matters": ["伤残等级评定"],
        "accepted_on": "2026-09-18",
        "materials": MATERIALS,
        "audit": {"workflow_id": "commission-c-1", "seq": 9, "head": HEAD},
    }
    arguments.update(overrides)
    return build_manifest(**arguments)


def issue(authority: SealAuthority, *, days: int = 365, now: datetime | None = None) -> IssuedSeal:
    return authority.issue_seal(
        institution_id=str(INSTITUTION["id"]), institution_name=str(INSTITUTION["name"]), days=days, now=now
    )


def sealed(
    authority: SealAuthority,
    pdf: bytes | None = None,
    *,
    seal: IssuedSeal | None = None,
    crl: bytes | None = None,
    timestamped: bool = True,
) -> bytes:
    """The report sealed as the product seals it (or, without a timestamp, as a forger would)."""
    seal = seal or issue(authority)
    return seal_pdf(
        pdf if pdf is not None else render_report_pdf(manifest()),
        certificate=load_certificate(seal.certificate_pem),
        key=authority.seal_key(seal.serial),
        root=authority.root,
        crl=crl if crl is not None else authority.crl([]),
        timestamper=authority.timestamper() if timestamped else None,
        institution_name=str(INSTITUTION["name"]),
    )


def page_with(pdf: bytes, text: str) -> int:
    """The index of the first page showing the text."""
    from appraisal.report_pdf import squeezed

    return next(i for i, shown in enumerate(page_texts(pdf)) if squeezed(text) in squeezed(shown))


def now() -> datetime:
    return datetime.now(UTC)


def overlay(text: str, *, at: tuple[float, float] = (90.0, 500.0)) -> bytes:
    """One A4 page with a white box and `text` over it: what an editor puts on a page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from appraisal.report_pdf import SERIF, register_fonts

    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(at[0] - 5, at[1] - 5, 420, 30, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(SERIF, 11.5)
    canvas.drawString(at[0], at[1], text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
