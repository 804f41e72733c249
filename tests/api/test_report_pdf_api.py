"""The sealed report PDF over REST: numbered and sealed at issue, served as it was sealed,
and verified offline with nothing but the bureau's root certificate."""

import asyncio
import hashlib
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from asn1crypto import tsp
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import PdfSignatureStatus, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.core.seal import TSA_POLICY, TimestampRejection
from appraisal.db.models import SealedReport
from appraisal.domain.calendar import local_today
from appraisal.domain.roles import Actor, Role
from appraisal.report_pdf import page_texts, read_manifest, squeezed
from appraisal.report_seal import load_certificates, verify_main
from appraisal.seed import APPRAISERS, BUREAU
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.factories import (
    INSTITUTION,
    OTHER_COURT,
    appraiser_actor,
    court_actor,
    head_actor,
    institution_actor,
    signature,
)

Auth = Callable[[Actor], dict[str, str]]
SUPERVISOR = Actor(Role.SUPERVISOR, BUREAU.id, "registrar")
CONTENT = "检验所见：左胫骨中段可见手术瘢痕，长约12cm；左膝关节屈曲90°。"
OPINION = "被鉴定人之损伤构成十级伤残"
DISSENT = "本人认为应评定为九级伤残。"
SECTIONS = {
    "examination_period": "2026年11月2日至2026年11月20日",
    "place": "本中心法医临床检验室",
    "present": "被鉴定人及其代理人",
    "examinee": "张某某，男，1980年5月出生",
    "case_summary": "2026年3月1日，被鉴定人在交通事故中受伤。",
    "materials_summary": "住院病历载：左胫腓骨骨折。",
    "analysis": "依据《人体损伤致残程度分级》5.10.6.1条，构成十级伤残。",
}


async def issued_commission(api: httpx.AsyncClient, auth: Auth) -> tuple[str, str]:
    """A commission whose report (with every statutory section, one dissent) was issued."""
    cid = (await entrust(api, auth))["id"]
    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200, accepted.text
    first, second = (appraiser_actor(a) for a in APPRAISER_IDS)
    submitted = await api.post(
        f"/v1/commissions/{cid}/report",
        json={
            "content": CONTENT,
            "opinion": OPINION,
            "attachments": [{"name": "照片", "sha256": "cd" * 32}],
            **SECTIONS,
        },
        headers=auth(first),
    )
    assert submitted.status_code == 200, submitted.text
    report_hash = submitted.json()["report"]["content_hash"]
    early = await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(court_actor))
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_in_stage"
    for appraiser, body in [
        (first, {"kind": "sign", "signature": signature(first.organisation_id, report_hash)}),
        (
            second,
            {
                "kind": "dissent",
                "statement": DISSENT,
                "signature": signature(second.organisation_id, report_hash, "dissent", DISSENT),
            },
        ),
    ]:
        signed = await api.post(f"/v1/commissions/{cid}/signatures", json=body, headers=auth(appraiser))
        assert signed.status_code == 200, signed.text
    issued = await api.post(f"/v1/commissions/{cid}/issue", json={}, headers=auth(head_actor))
    assert issued.status_code == 200 and issued.json()["stage"] == "issued", issued.text
    return cid, report_hash


@pytest.mark.dated
async def test_the_issued_report_is_numbered_sealed_and_verifies_offline(
    api: httpx.AsyncClient,
    auth: Auth,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cid, report_hash = await issued_commission(api, auth)

    response = await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(court_actor))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    for actor in (appraiser_actor(APPRAISER_IDS[0]), head_actor):  # anyone in scope, the same bytes
        again = await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(actor))
        assert again.status_code == 200 and again.content == pdf
    hidden = await api.get(
        f"/v1/commissions/{cid}/report.pdf", headers=auth(Actor(Role.COURT, OTHER_COURT.id, "x"))
    )
    assert hidden.status_code == 404
    assert (await api.get(f"/v1/commissions/{cid}/report.pdf")).status_code == 401

    # The number of the institution's yearly series, recorded at issue; the seal in the trail.
    year = local_today(
        datetime.fromisoformat(
            (await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))).json()["report"]["issued_at"]
        )
    ).year
    number = f"西南司鉴中心〔{year}〕临鉴字第1号"
    events = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
    issued = next(e for e in events if e["kind"] == "report.issued")
    assert issued["data"]["document_number"] == number
    sealed = next(e for e in events if e["kind"] == "report.sealed")
    assert sealed["data"]["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert sealed["data"]["document_number"] == number
    report = (await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))).json()["report"]
    assert report["document_number"] == number and report["sealed_sha256"] == sealed["data"]["sha256"]

    # What it carries: the statutory sections, the court, the licence numbers, the chain head.
    manifest = read_manifest(pdf)
    names = {a.id: a for a in APPRAISERS}
    assert manifest["report_hash"] == report_hash and manifest["document_number"] == number
    assert manifest["sections"] == SECTIONS and manifest["content"] == CONTENT
    assert manifest["institution"]["licence_number"] == INSTITUTION.licence_number
    assert manifest["court"]["name"].startswith("重庆市渝中区人民法院")
    assert manifest["audit"] == {
        "workflow_id": f"commission-{cid}",
        "seq": issued["seq"],
        "head": issued["hash"],
    }
    assert [(s["name"], s["licence_number"], s["kind"]) for s in manifest["signatures"]] == [
        (names[APPRAISER_IDS[0]].name, names[APPRAISER_IDS[0]].licence_number, "sign"),
        (names[APPRAISER_IDS[1]].name, names[APPRAISER_IDS[1]].licence_number, "dissent"),
    ]
    shown = squeezed("".join(page_texts(pdf)))
    for text in (number, "一、基本情况", "五、分析说明", "七、附件", squeezed(SECTIONS["analysis"]), OPINION):
        assert squeezed(text) in shown, text
    assert "第1页共" in shown and names[APPRAISER_IDS[0]].licence_number in shown

    # Offline: the bureau's root (and its CRL) are all `appraisal verify` needs.
    root = await api.get("/v1/registry/seal/root.pem")  # public: anyone verifies without an account
    crl = await api.get("/v1/registry/seal/crl")
    assert root.status_code == 200 and crl.status_code == 200
    assert crl.headers["content-type"] == "application/pkix-crl"
    x509.load_der_x509_crl(crl.content)  # a CRL signed by the root
    report_file, root_file, crl_file = tmp_path / "report.pdf", tmp_path / "root.pem", tmp_path / "bureau.crl"
    report_file.write_bytes(pdf)
    root_file.write_bytes(root.content)
    crl_file.write_bytes(crl.content)
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(
        (await api.get("/v1/registry/keys", headers=auth(court_actor))).text, encoding="utf-8"
    )
    argv = [str(report_file), "--trust", str(root_file), "--crl", str(crl_file), "--keys", str(keys_file)]
    assert await asyncio.to_thread(verify_main, argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith(f"通过 OK: 司法鉴定意见书 {number} 由 ")
    assert (
        "seal valid: by 西南司法鉴定中心" in out
        and "timestamp" in out
        and "document unchanged since sealing" in out
    )
    assert f"chain head {issued['hash']}" in out

    # pyHanko's own validator agrees, with the root alone.
    def pyhanko_validates() -> PdfSignatureStatus:
        seal = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
        roots = load_certificates(root.content)
        return validate_pdf_signature(
            seal, ValidationContext(trust_roots=roots), ValidationContext(trust_roots=roots)
        )

    status = await asyncio.to_thread(pyhanko_validates)
    assert status.bottom_line and status.trusted and status.timestamp_validity is not None

    # The stored PDF lost with the database (a restore, a rebuild from the histories): sealed
    # again on the next request, from the same trail, and kept.
    async with sessions() as session:
        await session.exec(delete(SealedReport))
        await session.commit()
    again = await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(court_actor))
    assert again.status_code == 200 and again.content != pdf
    assert read_manifest(again.content) == manifest
    assert (
        await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(court_actor))
    ).content == again.content


async def test_the_seal_authority_serves_timestamps_and_follows_the_registry(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    """RFC 3161 over HTTP; an institution's seal certificate is issued at registration and
    revoked at suspension, which the next CRL lists."""
    digest = hashlib.sha256(b"anything").digest()
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest},
            "nonce": 42,
            "cert_req": True,
        }
    )
    answer = await api.post(
        "/v1/timestamp",
        content=request.dump(),
        headers={**auth(court_actor), "content-type": "application/timestamp-query"},
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/timestamp-reply"
    reply = tsp.TimeStampResp.load(answer.content)
    assert reply["status"]["status"].native == "granted"
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest and info["nonce"].native == 42
    assert info["policy"].dotted == TSA_POLICY
    garbage = await api.post(
        "/v1/timestamp",
        content=b"not DER",
        headers={**auth(court_actor), "content-type": "application/timestamp-query"},
    )
    refused = TimestampRejection.load(garbage.content)["status"]
    assert refused["status"].native == "rejection" and refused["fail_info"].native == {"bad_data_format"}

    created = await api.post(
        "/v1/registry/institutions",
        json={
            "name": "新设司法鉴定所",
            "categories": ["forensic_clinical"],
            "licence_number": "500009009",
            "short_name": "新设司鉴所",
        },
        headers=auth(SUPERVISOR),
    )
    assert created.status_code == 201, created.text
    institution_id = created.json()["id"]
    certificates = await api.get(
        "/v1/registry/seal/certificates", params={"institution_id": institution_id}, headers=auth(court_actor)
    )
    (certificate,) = certificates.json()
    assert certificate["revoked_at"] is None and "新设司法鉴定所" in certificate["subject"]
    suspended = await api.post(
        f"/v1/registry/institutions/{institution_id}/status",
        json={"status": "suspended", "reason": "REG-6 整改"},
        headers=auth(SUPERVISOR),
    )
    assert suspended.status_code == 200, suspended.text
    (held,) = (
        await api.get(
            "/v1/registry/seal/certificates",
            params={"institution_id": institution_id},
            headers=auth(court_actor),
        )
    ).json()
    assert held["revoked_at"] is not None and held["revocation_reason"] == "suspended"
    crl = x509.load_der_x509_crl((await api.get("/v1/registry/seal/crl", headers=auth(court_actor))).content)
    listed = crl.get_revoked_certificate_by_serial_number(int(certificate["serial"], 16))
    assert listed is not None
    assert (
        listed.extensions.get_extension_for_class(x509.CRLReason).value.reason
        == x509.ReasonFlags.certificate_hold
    )
    reinstated = await api.post(
        f"/v1/registry/institutions/{institution_id}/status",
        json={"status": "active", "reason": "整改完毕"},
        headers=auth(SUPERVISOR),
    )
    assert reinstated.status_code == 200
    after = (
        await api.get(
            "/v1/registry/seal/certificates",
            params={"institution_id": institution_id},
            headers=auth(court_actor),
        )
    ).json()
    assert len(after) == 2 and after[1]["revoked_at"] is None  # a new certificate; the held one stays listed
