"""The institution's seal on the issued report, and its check by anyone, offline, years later.

`seal_pdf` signs the rendered report (appraisal/report_pdf.py) with pyHanko as a PAdES
baseline B-LTA signature (ETSI EN 319 142-1): a certification signature of the institution
(its seal certificate from the bureau's authority, appraisal/core/seal.py) allowing no
change, an RFC 3161 timestamp from the product's own timestamp authority, the chain and
the CRL in the document security store (DSS), then a document timestamp over all of it.

`verify_report_pdf` is what `appraisal verify REPORT.pdf [--trust ROOT.pem]` runs: the
seal (intact, whose, chaining to the bureau's root, not revoked, in its validity when the
timestamp says it was made), the timestamps, whether anything changed after sealing (and
what), every appraiser's Ed25519 signature and dissent over the report hash against the
keys the seal vouches for (and the registry's, given `--keys`), that the pages show the
opinion the appraisers signed, and the audit chain head the report was issued at. Every
line in Chinese and English; any failure gives exit code 1."""

import argparse
import io
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from appraisal.core.seal import KeptKeySigner, as_asn1
from appraisal.core.signing import fingerprint, signed_message, verify
from appraisal.domain.audit import report_hash as compute_report_hash
from appraisal.domain.calendar import local_today
from appraisal.report_pdf import FORMAT, chinese_name, page_texts, read_manifest, squeezed

logging.getLogger("pyhanko.sign.signers.pdf_signer").setLevel(
    logging.ERROR
)  # "fetching not allowed": on purpose

SEAL_FIELD = "InstitutionSeal"
CRL_REQUIRED = RevocationCheckingPolicy(
    RevocationCheckingRule.CRL_REQUIRED, RevocationCheckingRule.CRL_REQUIRED
)
ALLOWED_AFTER_SEALING = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
"""What may follow the seal: the document security store and document timestamps."""
INFO_KEPT = ("/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/CreationDate")
"""Document information an LTA update never changes (it touches /ModDate and /Producer only)."""


# ---- sealing ----


def seal_pdf(
    pdf: bytes,
    *,
    certificate: x509.Certificate,
    key: Any,
    root: x509.Certificate,
    crl: bytes,
    timestamper: Any | None,
    institution_name: str,
    location: str = "",
) -> bytes:
    """The PDF sealed by the institution: PAdES B-LTA, no change permitted after it (without
    a timestamper, B-B with the validation data: what a forger without the authority makes)."""
    signer = KeptKeySigner(
        key=key,
        signing_cert=as_asn1(certificate),
        cert_registry=SimpleCertificateStore.from_certs([as_asn1(root)]),  # type: ignore[no-untyped-call]
    )
    meta = seal_metadata(
        root=root,
        crl=crl,
        institution_name=institution_name,
        location=location,
        timestamped=timestamper is not None,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper)
    return bytes(out.getvalue())


def seal_metadata(
    *, root: x509.Certificate, crl: bytes, institution_name: str, location: str, timestamped: bool
) -> signers.PdfSignatureMetadata:
    """What the seal's signature says and embeds: a certification allowing no change, with
    the chain and the CRL to the bureau's root (B-LTA when timestamped)."""
    context = ValidationContext(
        trust_roots=[as_asn1(root)],
        crls=[asn1_crl.CertificateList.load(crl)],
        allow_fetching=False,
        revinfo_policy=CertRevTrustPolicy(CRL_REQUIRED),
    )
    return signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        name=chinese_name(institution_name),
        reason="司法鉴定意见书出具（司法鉴定专用章）",
        location=location or None,
        embed_validation_info=True,
        use_pades_lta=timestamped,
        validation_context=context,
    )


def signature_timestamp(sig: EmbeddedPdfSignature) -> datetime | None:
    """The time of the RFC 3161 token on the signature value, as the token states it."""
    attributes = sig.signer_info["unsigned_attrs"]
    if attributes.native is None:
        return None
    for attribute in attributes:
        if attribute["type"].native == "signature_time_stamp_token":
            token: cms.ContentInfo = attribute["values"][0]
            gen_time: datetime = token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
            return gen_time
    return None


# ---- verifying ----


@dataclass
class Check:
    ok: bool
    zh: str
    en: str

    def line(self) -> str:
        return f"{'✓ 通过 ok  ' if self.ok else '✗ 失败 FAIL'}  {self.zh} | {self.en}"


@dataclass
class Verification:
    checks: list[Check] = field(default_factory=list)
    institution: str = ""
    timestamp: datetime | None = None
    report_hash: str = ""
    document_number: str = ""
    signatures: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def problems(self) -> list[str]:
        return [c.en for c in self.checks if not c.ok]

    def add(self, ok: bool, zh: str, en: str) -> bool:
        self.checks.append(Check(ok, zh, en))
        return ok


def load_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """Certificates from PEM (one or more) or DER."""
    if asn1_pem.detect(data):
        return [asn1_x509.Certificate.load(der) for _, _, der in asn1_pem.unarmor(data, multiple=True)]
    return [asn1_x509.Certificate.load(data)]


def load_crls(data: bytes) -> list[asn1_crl.CertificateList]:
    if asn1_pem.detect(data):
        return [asn1_crl.CertificateList.load(der) for _, _, der in asn1_pem.unarmor(data, multiple=True)]
    return [asn1_crl.CertificateList.load(data)]


def _subject(certificate: asn1_x509.Certificate) -> dict[str, str]:
    return {str(k): str(v) for k, v in certificate.subject.native.items()}


def _dss_crls(reader: PdfFileReader) -> list[asn1_crl.CertificateList]:
    dss = DocumentSecurityStore.read_dss(reader) if "/DSS" in reader.root else None
    if dss is None:
        return []
    return [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls]


def _context(
    roots: Sequence[asn1_x509.Certificate], crls: Sequence[asn1_crl.CertificateList], moment: datetime
) -> ValidationContext:
    return ValidationContext(
        trust_roots=list(roots),
        crls=list(crls),
        moment=moment,
        allow_fetching=False,
        revinfo_policy=CertRevTrustPolicy(CRL_REQUIRED, retroactive_revinfo=True),
    )


def _changes_after_sealing(pdf: bytes, signed_until: int) -> list[str]:
    """What differs between the revision the seal covers and the file as it is: pages,
    their content, the embedded manifest (pypdf reads each)."""
    found: list[str] = []
    try:
        sealed, current = PdfReader(io.BytesIO(pdf[:signed_until])), PdfReader(io.BytesIO(pdf))
        if len(sealed.pages) != len(current.pages):
            found.append(
                f"pages: {len(sealed.pages)} sealed, {len(current.pages)} now (页数由 {len(sealed.pages)} 变为 {len(current.pages)})"
            )
        for number, (before, after) in enumerate(zip(sealed.pages, current.pages, strict=False), start=1):
            if before.get_contents() is None or after.get_contents() is None:
                continue
            if before.get_contents().get_data() != after.get_contents().get_data():  # type: ignore[union-attr]
                found.append(f"page {number}'s content changed (第 {number} 页内容被改动)")
        before_info: Mapping[str, Any] = sealed.metadata or {}
        after_info: Mapping[str, Any] = current.metadata or {}
        for key in INFO_KEPT:
            if before_info.get(key) != after_info.get(key):
                found.append(f"the document information's {key[1:]} changed (文档信息 {key[1:]} 被改动)")
        try:
            manifest_before, manifest_after = read_manifest(pdf[:signed_until]), read_manifest(pdf)
            if manifest_before != manifest_after:
                found.append("the embedded manifest changed (嵌入的清单被改动)")
        except ValueError:
            found.append("the embedded manifest is missing or unreadable now (嵌入的清单缺失或不可读)")
    except (PyPdfError, OSError, ValueError, KeyError, TypeError) as err:
        found.append(f"the sealed revision cannot be compared: {err}")
    return found


def _check_seal(
    result: Verification,
    reader: PdfFileReader,
    pdf: bytes,
    *,
    roots: Sequence[asn1_x509.Certificate],
    crls: Sequence[asn1_crl.CertificateList],
    now: datetime,
) -> None:
    seals = [s for s in reader.embedded_signatures if s.sig_object_type == "/Sig"]
    if not seals:
        result.add(False, "文件没有司法鉴定机构的电子印章", "the file carries no seal (no PAdES signature)")
        return
    if len(seals) > 1:
        result.add(
            False,
            "文件有不止一个签章",
            f"the file carries {len(seals)} signatures where one seal is expected",
        )
    seal = seals[0]
    certificate = seal.signer_cert
    subject = _subject(certificate)
    who = subject.get("common_name", "?")
    result.institution = who
    serial = f"{certificate.serial_number:x}"
    stamped_at = signature_timestamp(seal)
    result.timestamp = stamped_at
    all_crls = [*crls, *_dss_crls(reader)]
    moment = stamped_at or now
    status: PdfSignatureStatus = validate_pdf_signature(
        seal, _context(roots, all_crls, moment), _context(roots, all_crls, moment)
    )
    if not status.intact:
        result.add(
            False,
            "印章所覆盖的内容在盖章后被改动（摘要不符）",
            "the bytes the seal covers were changed after sealing (their digest does not match the seal's)",
        )
    elif not status.valid:
        result.add(False, "印章的签名值无效", "the seal's signature value does not verify")
    else:
        result.add(
            True,
            f"印章有效：{who} 加盖（证书序列号 {serial}）",
            f"seal valid: by {who} (institution {subject.get('serial_number', '?')}, certificate {serial})",
        )
    root_names = ", ".join(_subject(r).get("common_name", "?") for r in roots)
    not_after = certificate["tbs_certificate"]["validity"]["not_after"].native
    if status.trusted:
        result.add(
            True,
            f"证书链至司法行政机关根证书：{root_names}；盖章时未吊销、在有效期内",
            f"chains to the bureau's root ({root_names}); not revoked and within its validity when sealed",
        )
    elif status.revoked:
        details = status.revocation_details
        when = details.revocation_date.isoformat() if details else "?"
        reason = details.revocation_reason.native if details else "?"
        result.add(
            False,
            f"印章证书已于 {when} 吊销（{reason}），早于盖章时间：该机构被暂停或吊销后所盖",
            f"the seal certificate was revoked on {when} ({reason}), before the seal was made: "
            "sealed by a suspended or revoked institution",
        )
    elif stamped_at is None and not_after < now:
        result.add(
            False,
            f"印章证书已于 {not_after.isoformat()} 过期，且印章没有时间戳证明盖章早于过期",
            f"the seal certificate expired on {not_after.isoformat()} and no timestamp proves the seal "
            "was made before",
        )
    else:
        indication = status.trust_problem_indic
        result.add(
            False,
            f"印章证书不能链至受信任的根证书（{root_names}）或缺少吊销信息：{indication}",
            f"the seal certificate does not chain to a trusted root ({root_names}) with revocation data: "
            f"{indication}",
        )
    stamp = status.timestamp_validity
    if stamp is None:
        result.add(
            False,
            "印章没有可信时间戳：盖章时间只是盖章者的自述",
            "the seal carries no trusted timestamp: the time of sealing rests on the sealer's word",
        )
    elif stamp.intact and stamp.valid and stamp.trusted:
        tsa = _subject(stamp.signing_cert).get("common_name", "?")
        result.add(
            True,
            f"时间戳：{stamp.timestamp.isoformat()}，由 {tsa} 签发",
            f"timestamp {stamp.timestamp.isoformat()} by {tsa} (RFC 3161), trusted",
        )
    else:
        result.add(
            False, "印章的时间戳无效或不受信任", "the seal's timestamp does not verify or is not trusted"
        )
    coverage, level = status.coverage, status.modification_level
    end = int(seal.byte_range[2]) + int(seal.byte_range[3])
    what = _changes_after_sealing(pdf, end) if status.intact else []
    if (
        not what
        and level in ALLOWED_AFTER_SEALING
        and coverage in (SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION)
    ):
        after = "" if level == ModificationLevel.NONE else "（其后仅有长期验证数据与文档时间戳）"
        after_en = (
            ""
            if level == ModificationLevel.NONE
            else " (followed only by validation data and document timestamps)"
        )
        result.add(True, f"盖章后文件未被改动{after}", f"document unchanged since sealing{after_en}")
    else:
        if not what:
            what = [
                f"modification level {level.name if level else '?'}, coverage {coverage.name if coverage else '?'}"
            ]
        result.add(
            False,
            "盖章后文件被改动：" + "；".join(what),
            "changed after sealing: " + "; ".join(what),
        )
    dss = DocumentSecurityStore.read_dss(reader) if "/DSS" in reader.root else None
    if dss is not None:
        result.add(
            True,
            f"长期验证数据已嵌入：{len(list(dss.certs))} 张证书，{len(list(dss.crls))} 份吊销列表",
            f"long-term validation data embedded (DSS): {len(list(dss.certs))} certificates, "
            f"{len(list(dss.crls))} CRLs",
        )
    for stamp_sig in (s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"):
        doc_time = signature_time_of_token(stamp_sig)
        doc_status = validate_pdf_timestamp(stamp_sig, _context(roots, all_crls, doc_time or now))
        good = bool(doc_status.intact and doc_status.valid and doc_status.trusted)
        result.add(
            good,
            f"文档时间戳 {doc_status.timestamp.isoformat()}" + ("有效" if good else "无效"),
            f"document timestamp {doc_status.timestamp.isoformat()}"
            + (" valid" if good else " does NOT verify"),
        )
        if not status.intact:
            break


def signature_time_of_token(sig: EmbeddedPdfSignature) -> datetime | None:
    """A document timestamp's own time (its signed data is the token)."""
    try:
        parsed: datetime = sig.signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    except (KeyError, ValueError, AttributeError):
        return None
    return parsed


def _key_date(value: str) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _check_signatures(
    result: Verification, manifest: Mapping[str, Any], keys: Sequence[Mapping[str, Any]] | None
) -> None:
    try:
        attachments = [{"name": str(a["name"]), "sha256": str(a["sha256"])} for a in manifest["attachments"]]
        recomputed = compute_report_hash(
            str(manifest["content"]),
            str(manifest["opinion"]),
            attachments,
            dict(manifest.get("sections") or {}),
        )
        signatures = list(manifest["signatures"])
    except (KeyError, TypeError) as err:
        result.add(False, f"清单缺少或损坏了 {err}", f"the manifest lacks or mangles {err}")
        return
    result.report_hash = recomputed
    stated = str(manifest.get("report_hash", ""))
    result.add(
        recomputed == stated,
        "鉴定意见书哈希与正文、意见、附件相符" if recomputed == stated else "鉴定意见书哈希与其正文不符",
        f"report hash {stated} matches the content, opinion, sections and attachments"
        if recomputed == stated
        else f"report hash mismatch: the manifest states {stated}, its text hashes to {recomputed}",
    )
    if not signatures:
        result.add(False, "没有任何鉴定人签名", "the report carries no appraiser's signature")
    registry = {str(k.get("fingerprint")): k for k in keys} if keys is not None else None
    for s in signatures:
        name = str(s.get("name") or s.get("appraiser_id") or "?")
        kind = str(s.get("kind", ""))
        what_zh = "签名" if kind == "sign" else "不同意见"
        problem = _signature_problem(s, recomputed, registry)
        if problem:
            result.add(False, f"鉴定人 {name} 的{what_zh}无效：{problem}", f"{kind} by {name}: {problem}")
        else:
            result.signatures += 1
            result.add(
                True,
                f"鉴定人 {name}（执业证号 {s.get('licence_number') or '—'}）的{what_zh}有效",
                f"{kind} by {name} (licence {s.get('licence_number') or '—'}) verifies with key "
                f"{str(s.get('key_fingerprint', ''))[:16]}…",
            )


def _signature_problem(
    s: Mapping[str, Any], report_hash: str, registry: Mapping[str, Mapping[str, Any]] | None
) -> str | None:
    kind = str(s.get("kind", ""))
    if kind not in ("sign", "dissent"):
        return f"unknown kind {kind!r}"
    public_key, key_fingerprint = str(s.get("public_key", "")), str(s.get("key_fingerprint", ""))
    try:
        if not public_key or fingerprint(public_key) != key_fingerprint:
            return f"the public key beside it is not the key {key_fingerprint or '(none)'}"
    except ValueError:
        return "its public key is not base64"
    if registry is not None:
        registered = registry.get(key_fingerprint)
        if registered is None:
            return f"key {key_fingerprint} is not in the registry's keys"
        if (
            str(registered.get("appraiser_id")) != str(s.get("appraiser_id"))
            or str(registered.get("public_key")) != public_key
        ):
            return f"the registry holds key {key_fingerprint} for appraiser {registered.get('appraiser_id')}"
    signed_at = str(s.get("signed_at") or "")
    try:
        instant = datetime.fromisoformat(signed_at)
        signed_on = local_today(instant) if instant.tzinfo else instant.date()
        valid_from, valid_until = (
            _key_date(str(s.get("key_valid_from") or "")),
            _key_date(str(s.get("key_valid_until") or "")),
        )
    except ValueError:
        return "its signing time or its key's validity is unreadable"
    if (valid_from and signed_on < valid_from) or (valid_until and signed_on > valid_until):
        return f"key {key_fingerprint[:16]}… was not valid on {signed_on}"
    message = signed_message(kind, report_hash, str(s.get("statement", "")))
    if not verify(public_key, message, str(s.get("signature", ""))):
        what = "report" if kind == "sign" else "dissent statement bound to report"
        return f"the signature does not verify over the {what} {report_hash}"
    return None


def _check_pages(result: Verification, pdf: bytes, manifest: Mapping[str, Any]) -> None:
    """The pages show what the appraisers signed: the opinion, each dissent, each signer."""
    shown = squeezed("".join(page_texts(pdf)))
    shown = shown.replace("（", "(").replace("）", ")")
    missing = []
    wanted = [("opinion", str(manifest.get("opinion", "")))]
    wanted += [
        (f"dissent of {s.get('name')}", str(s.get("statement", "")))
        for s in manifest.get("signatures") or []
        if s.get("kind") == "dissent"
    ]
    wanted += [
        (f"signer {s.get('name')}", chinese_name(str(s.get("name", ""))))
        for s in manifest.get("signatures") or []
    ]
    for label, text in wanted:
        lines = [squeezed(line).replace("（", "(").replace("）", ")") for line in text.split("\n")]
        if not all(line in shown for line in lines if line):
            missing.append(label)
    result.add(
        not missing,
        "页面显示的鉴定意见、不同意见与鉴定人，与鉴定人签署的一致"
        if not missing
        else "页面未显示鉴定人签署的内容：" + "、".join(missing),
        "the pages show the opinion, dissents and signers the appraisers signed"
        if not missing
        else "the pages do not show what was signed: " + ", ".join(missing),
    )


def verify_report_pdf(
    pdf: bytes,
    *,
    trust: Sequence[asn1_x509.Certificate],
    crls: Sequence[asn1_crl.CertificateList] = (),
    keys: Sequence[Mapping[str, Any]] | None = None,
    now: datetime | None = None,
) -> Verification:
    """Every check of the sealed report; see the module's docstring."""
    result = Verification()
    now = now or datetime.now(UTC)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        reader.embedded_signatures  # noqa: B018 - reads the signature fields
    except (PdfError, ValueError, KeyError, TypeError, OSError) as err:
        result.add(False, f"不是可读的 PDF：{err}", f"not a readable PDF: {err}")
        return result
    if not trust:
        result.add(
            False, "没有受信任的根证书：请用 --trust 指定", "no trusted root: give --trust bureau-root.pem"
        )
    else:
        try:
            _check_seal(result, reader, pdf, roots=trust, crls=crls, now=now)
        except (PdfError, ValueError, KeyError, TypeError) as err:
            result.add(False, f"无法检查印章：{err}", f"the seal cannot be checked: {err}")
    try:
        manifest = read_manifest(pdf)
    except ValueError as err:
        result.add(False, f"无法读取嵌入的清单：{err}", str(err))
        return result
    if manifest.get("format") != FORMAT:
        result.add(
            False,
            f"清单格式为 {manifest.get('format')!r}（盖章前出具的旧格式）",
            f"manifest format is {manifest.get('format')!r}, expected {FORMAT!r} (a report from before sealing)",
        )
        return result
    result.document_number = str(manifest.get("document_number") or "")
    _check_signatures(result, manifest, keys)
    _check_pages(result, pdf, manifest)
    audit = manifest.get("audit") or {}
    if audit:
        result.add(
            True,
            f"出具时委托审计链头：第 {audit.get('seq')} 条事件 {audit.get('head')}（{audit.get('workflow_id')}），"
            "可与 GET /v1/commissions/{id}/verify 或每日锚定文件对照",
            f"issued at audit event {audit.get('seq')} of {audit.get('workflow_id')}, chain head "
            f"{audit.get('head')} (compare with GET /v1/commissions/{{id}}/verify or the daily anchor)",
        )
    return result


def verify_main(argv: Sequence[str], *, default_trust: Path | None = None) -> int:
    """`appraisal verify REPORT.pdf [--trust ROOT.pem] [--crl FILE] [--keys KEYS.json]`:
    0 if the report verifies, else 1. `default_trust` is this deployment's root, used when
    no --trust is given."""
    parser = argparse.ArgumentParser(
        prog="appraisal verify",
        description="Check a sealed report PDF offline: its seal, timestamp, integrity and every signature.",
    )
    parser.add_argument("report", type=Path, help="the report PDF (GET /v1/commissions/{id}/report.pdf)")
    parser.add_argument(
        "--trust",
        type=Path,
        action="append",
        help="the bureau's root certificate, PEM or DER (GET /v1/registry/seal/root.pem); default: this deployment's",
    )
    parser.add_argument(
        "--crl",
        type=Path,
        action="append",
        default=[],
        help="a newer revocation list (GET /v1/registry/seal/crl)",
    )
    parser.add_argument(
        "--keys",
        type=Path,
        help="also match the appraisers' keys against the registry's (GET /v1/registry/keys)",
    )
    args = parser.parse_args(list(argv))
    trust_files = args.trust or ([default_trust] if default_trust and default_trust.exists() else [])
    try:
        pdf = args.report.read_bytes()
        roots = [c for path in trust_files for c in load_certificates(path.read_bytes())]
        crls = [c for path in args.crl for c in load_crls(path.read_bytes())]
        keys = json.loads(args.keys.read_text(encoding="utf-8")) if args.keys else None
    except (OSError, ValueError) as err:
        print(f"✗ 失败 FAIL  无法读取输入 | cannot read the input: {err}")
        return 1
    if isinstance(keys, dict) and isinstance(keys.get("keys"), list):
        keys = keys["keys"]
    if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys)):
        print(f"✗ 失败 FAIL  {args.keys} 不是公钥列表 | is not a JSON list of keys")
        return 1
    result = verify_report_pdf(pdf, trust=roots, crls=crls, keys=keys)
    for check in result.checks:
        print(check.line())
    number = f" {result.document_number}" if result.document_number else ""
    if result.ok:
        print(
            f"通过 OK: 司法鉴定意见书{number} 由 {result.institution} 盖章，{result.signatures} 个鉴定人签署均有效"
            f" | report{number} sealed by {result.institution}, {result.signatures} signatures verified"
        )
        return 0
    print(f"失败 FAILED: {'; '.join(result.problems)}")
    return 1
