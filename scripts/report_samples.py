"""Makes the sample reports of docs/reports/: a 司法鉴定意见书 with a dissent and its
司法鉴定意见补正书, rendered and sealed as the product does (under a throw-away demo
authority whose root is written beside them), and their pages as PNG (pdftoppm, from
Debian's poppler-utils). A maintainer's tool: run it again when the layout changes.

    .venv/bin/python scripts/report_samples.py
    .venv/bin/appraisal verify docs/reports/report-with-dissent.pdf --trust docs/reports/demo-bureau-root.pem
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from appraisal.core.seal import SealAuthority, load_certificate, pem
from appraisal.core.signing import demo_private_key, fingerprint, public_key_b64, sign, signed_message
from appraisal.domain.audit import report_hash
from appraisal.report_pdf import build_manifest, render_report_pdf
from appraisal.report_seal import seal_pdf
from appraisal.seed import APPRAISERS, COURTS, INSTITUTIONS

OUT = Path(__file__).resolve().parent.parent / "docs" / "reports"
INSTITUTION, COURT = INSTITUTIONS[0], COURTS[0]
FIRST, SECOND = APPRAISERS[0], APPRAISERS[1]
SECTIONS = {
    "examination_period": "2026年11月2日至2026年11月20日",
    "place": "西南司法鉴定中心法医临床检验室",
    "present": "被鉴定人张某某及其代理人李某",
    "examinee": "张某某，男，1980年5月12日出生",
    "case_summary": "据委托书载：2026年3月1日，被鉴定人张某某在重庆市渝中区某路段发生交通事故受伤。"
    "现委托对其伤残等级进行评定。",
    "materials_summary": "重庆市某医院住院病历（住院号123456）载：入院诊断左胫腓骨开放性骨折；"
    "2026年3月2日行切开复位内固定术；2026年3月20日出院。",
    "analysis": "被鉴定人因交通事故致左胫腓骨骨折，经手术治疗后遗留左膝关节活动受限（屈曲90°），"
    "依据《人体损伤致残程度分级》5.10.6.1条之规定，构成十级伤残。",
}
CONTENT = (
    "1．检验方法：依据《人体损伤致残程度分级》、GB/T 42430—2023《法医学 关节活动度检验规范》。\n"
    "2．检验所见：被鉴定人神志清楚，步入检查室。左胫骨中段前内侧可见纵行手术瘢痕，长约12cm；"
    "左膝关节活动度：屈曲90°，伸直0°（健侧屈曲140°）。"
)
OPINION = "被鉴定人张某某之损伤构成十级伤残。"
DISSENT = "本人认为左膝关节功能丧失已达50%以上，应评定为九级伤残。"
ATTACHMENTS = [{"name": "检验照片（12张）", "sha256": "3f" * 32}]
MATERIALS = [{"name": "住院病历", "sha256": "a1" * 32}, {"name": "影像片（6张）", "sha256": "b2" * 32}]


def _signers() -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for appraiser in (FIRST, SECOND):
        key = public_key_b64(demo_private_key(appraiser.id))
        found[appraiser.id] = {
            "name": appraiser.name,
            "licence_number": appraiser.licence_number,
            "keys": {fingerprint(key): {"public_key": key, "valid_from": "2026-01-01"}},
        }
    return found


def _signature(appraiser_id: str, hash_: str, kind: str, statement: str, at: str) -> dict[str, str]:
    return {
        "appraiser_id": appraiser_id,
        "kind": kind,
        "signed_at": at,
        "statement": statement,
        "signature": sign(demo_private_key(appraiser_id), signed_message(kind, hash_, statement)),
        "key_fingerprint": fingerprint(public_key_b64(demo_private_key(appraiser_id))),
    }


def _manifest(*, content: str, version: int, issued_at: str, seq: int, **extra: object) -> dict[str, object]:
    hash_ = report_hash(content, OPINION, ATTACHMENTS, SECTIONS)
    signatures = [
        _signature(FIRST.id, hash_, "sign", "", issued_at.replace("T06", "T02")),
        _signature(SECOND.id, hash_, "dissent", DISSENT, issued_at.replace("T06", "T03")),
    ]
    return build_manifest(
        commission_id="0b3e6f0c-demo",
        court_reference="(2026)渝0103民初1234号-鉴1",
        case_number="(2026)渝0103民初1234号",
        institution=INSTITUTION.model_dump(),
        court=COURT.model_dump(),
        version=version,
        content=content,
        opinion=OPINION,
        attachments=ATTACHMENTS,
        sections=SECTIONS,
        issued_at=issued_at,
        signatures=signatures,
        signers=_signers(),
        category="forensic_clinical",
        matters=["伤残等级评定"],
        accepted_on="2026-10-30",
        materials=MATERIALS,
        audit={"workflow_id": "commission-0b3e6f0c-demo", "seq": seq, "head": f"{seq:02d}" * 32},
        **extra,  # type: ignore[arg-type]
    )


def main() -> None:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is missing: apt-get install poppler-utils")
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        authority = SealAuthority.create(Path(folder) / "ca", bureau_name="演示司法局 Demo bureau")
        issued = authority.issue_seal(
            institution_id=INSTITUTION.id, institution_name=INSTITUTION.name, days=1095
        )
        (OUT / "demo-bureau-root.pem").write_text(pem(authority.root))
        reports = {
            "report-with-dissent": _manifest(
                content=CONTENT,
                version=1,
                issued_at="2026-11-22T06:00:00+00:00",
                seq=9,
                document_number="西南司鉴中心〔2026〕临鉴字第12号",
            ),
            "correction": _manifest(
                content=CONTENT.replace("前内侧", "前外侧"),
                version=2,
                issued_at="2026-12-03T06:00:00+00:00",
                seq=15,
                kind="correction",
                document_number="西南司鉴中心〔2026〕临鉴字第15号",
                previous_version=1,
                previous_document_number="西南司鉴中心〔2026〕临鉴字第12号",
                correction={
                    "defect_kind": "PROC-28-3",
                    "description": "检验所见中“前内侧”系“前外侧”之误，予以更正。",
                },
            ),
        }
        for name, manifest in reports.items():
            sealed = seal_pdf(
                render_report_pdf(manifest),
                certificate=load_certificate(issued.certificate_pem),
                key=authority.seal_key(issued.serial),
                root=authority.root,
                crl=authority.crl([]),
                timestamper=authority.timestamper(),
                institution_name=INSTITUTION.name,
            )
            pdf = OUT / f"{name}.pdf"
            pdf.write_bytes(sealed)
            subprocess.run(["pdftoppm", "-r", "72", "-png", str(pdf), str(OUT / name)], check=True)
            print(f"{pdf.name}: {len(sealed):,} bytes, {len(list(OUT.glob(name + '-*.png')))} pages")


if __name__ == "__main__":
    main()
