"""The sealed report checks itself: an untouched one verifies with `appraisal verify` and with
pyHanko's own validators; each way of tampering with it is caught, with its reason."""

import asyncio
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager
from pypdf import PdfReader, PdfWriter

from appraisal.cli import main as appraisal_command
from appraisal.core.seal import Revoked as RevokedEntry
from appraisal.core.seal import SealAuthority, as_asn1, pem
from appraisal.report_pdf import MANIFEST_NAME, manifest_bytes, render_report_pdf
from appraisal.report_seal import Verification, load_crls, verify_main, verify_report_pdf
from tests.report_documents import (
    DISSENT,
    DISSENTER,
    KEYS,
    NAMES,
    NUMBER,
    OPINION,
    SIGNER,
    issue,
    key_entry,
    manifest,
    now,
    overlay,
    page_with,
    sealed,
    signature_of,
)


@pytest.fixture(scope="module")
def authority(seal_dir: Path) -> SealAuthority:
    return SealAuthority(seal_dir)


@pytest.fixture(scope="module")
def report(authority: SealAuthority) -> bytes:
    """A report with a dissent, sealed as the product seals it."""
    return sealed(authority)


def verified(authority: SealAuthority, pdf: bytes, **options: Any) -> Verification:
    return verify_report_pdf(pdf, trust=[as_asn1(authority.root)], **options)


def failed(result: Verification) -> str:
    """Every failure, Chinese and English, in one text to look for a reason in."""
    assert not result.ok, [c.line() for c in result.checks]
    return "\n".join(f"{c.zh} | {c.en}" for c in result.checks if not c.ok)


def test_an_untouched_report_verifies(authority: SealAuthority, report: bytes) -> None:
    result = verified(authority, report, keys=KEYS)
    assert result.ok, [c.line() for c in result.checks if not c.ok]
    assert result.signatures == 2 and result.document_number == NUMBER
    assert result.institution.startswith("西南司法鉴定中心") and result.timestamp is not None
    lines = [c.en for c in result.checks]
    for expected in (
        "seal valid: by 西南司法鉴定中心",
        "chains to the bureau's root",
        "timestamp ",
        "document unchanged since sealing",
        "long-term validation data embedded (DSS)",
        "document timestamp",
        f"sign by {NAMES[SIGNER]}",
        f"dissent by {NAMES[DISSENTER]}",
        "the pages show the opinion, dissents and signers the appraisers signed",
        "chain head " + "5e" * 32,
    ):
        assert any(expected in line for line in lines), expected


def test_pyhankos_own_validators_accept_it(authority: SealAuthority, report: bytes) -> None:
    roots = [as_asn1(authority.root)]
    seal = PdfFileReader(io.BytesIO(report)).embedded_signatures[0]
    status = validate_pdf_signature(
        seal, ValidationContext(trust_roots=roots), ValidationContext(trust_roots=roots)
    )
    assert status.bottom_line and status.trusted and status.docmdp_ok
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    # ETSI EN 319 102-1 long-term validation, offline: the DSS holds what it needs.
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=roots),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    result = asyncio.run(ades_lta_validation(seal, spec))
    assert result.ades_subindic == AdESPassed.OK


def _rewritten(pdf: bytes, change: Any) -> bytes:
    """The file saved again whole by a PDF editor (pypdf), after `change(writer)`."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _appended(pdf: bytes, change: Any) -> bytes:
    """The original bytes kept, and `change(writer)` appended as an incremental update."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def test_the_visible_opinion_edited_is_caught(authority: SealAuthority, report: bytes) -> None:
    """The case of the issue: 未见剪辑 becomes 可见剪辑 on the page a judge reads."""
    page = page_with(report, OPINION)
    edit = PdfReader(io.BytesIO(overlay("被鉴定人之损伤构成十级伤残，可见剪辑"))).pages[0]

    def over_the_opinion(writer: PdfWriter) -> None:
        writer.pages[page].merge_page(edit)

    whole = failed(verified(authority, _rewritten(report, over_the_opinion)))
    assert "changed after sealing" in whole or "bytes the seal covers were changed" in whole

    def whited_out(writer: IncrementalPdfFileWriter) -> None:
        target = writer.root["/Pages"]["/Kids"][page].get_object()
        cover = writer.add_object(generic.StreamObject(stream_data=b"q 1 1 1 rg 90 300 420 400 re f Q"))
        contents = target.raw_get("/Contents")
        existing = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
        target["/Contents"] = generic.ArrayObject([*existing, cover])
        writer.update_container(target)

    appended = failed(verified(authority, _appended(report, whited_out)))
    assert f"page {page + 1}'s content changed" in appended and f"第 {page + 1} 页内容被改动" in appended


def test_a_page_removed_is_caught(authority: SealAuthority, report: bytes) -> None:
    pages = len(PdfReader(io.BytesIO(report)).pages)

    def without_the_second(writer: IncrementalPdfFileWriter) -> None:
        tree = writer.root["/Pages"]
        kids = tree["/Kids"]
        del kids[1]
        tree["/Count"] = generic.NumberObject(len(kids))  # type: ignore[no-untyped-call]
        writer.update_container(tree)

    appended = failed(verified(authority, _appended(report, without_the_second)))
    assert f"pages: {pages} sealed, {pages - 1} now" in appended

    def removed(writer: PdfWriter) -> None:
        writer.remove_page(1)

    assert not verified(authority, _rewritten(report, removed)).ok


def test_an_incremental_update_after_sealing_is_caught(authority: SealAuthority, report: bytes) -> None:
    """Anything appended that is not validation data: here the manifest replaced by another."""
    forged = manifest()
    forged["opinion"] = "被鉴定人之损伤构成九级伤残"

    def other_manifest(writer: IncrementalPdfFileWriter) -> None:
        names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
        filespec = names[1].get_object()
        replacement = generic.StreamObject(stream_data=manifest_bytes(forged))
        replacement["/Type"] = generic.NameObject("/EmbeddedFile")
        filespec["/EF"]["/F"] = writer.add_object(replacement)
        writer.update_container(filespec)

    reasons = failed(verified(authority, _appended(report, other_manifest)))
    assert "changed after sealing" in reasons and "the embedded manifest changed" in reasons
    # And a bare update (a new /Info title) too.

    def retitled(writer: IncrementalPdfFileWriter) -> None:
        info = writer.trailer["/Info"].get_object()
        info["/Title"] = generic.TextStringObject("司法鉴定意见书（修改）")
        writer.update_container(info)

    assert "changed after sealing" in failed(verified(authority, _appended(report, retitled)))


def test_a_signature_row_swapped_is_caught(authority: SealAuthority) -> None:
    """The institution itself cannot move a signature to another row: each is the appraiser's,
    over the hash, checked against that appraiser's key, even under a valid seal."""
    swapped = manifest()
    first, second = swapped["signatures"]
    first["signature"], second["signature"] = second["signature"], first["signature"]
    reasons = failed(verified(authority, sealed(authority, render_report_pdf(swapped))))
    assert f"sign by {NAMES[SIGNER]}: the signature does not verify over the report" in reasons
    assert f"dissent by {NAMES[DISSENTER]}: the signature does not verify" in reasons
    # A signer moved onto another's key: the key beside the row is not the one it names.
    borrowed = signature_of(SIGNER, "sign", key_owner=DISSENTER)
    reasons = failed(
        verified(authority, sealed(authority, render_report_pdf(manifest([borrowed]))), keys=KEYS)
    )
    assert "the registry holds key" in reasons or "is not the key" in reasons


def test_a_seal_by_a_revoked_institution_is_caught(authority: SealAuthority) -> None:
    """Its certificate revoked before it sealed (the key kept and used anyway): the bureau's CRL
    says so, whatever the file's own validation data claims."""
    seal = issue(authority)
    pdf = sealed(authority, seal=seal)  # sealed with a CRL from before the revocation
    revoked = authority.crl([RevokedEntry(seal.serial, now() - timedelta(hours=1), "revoked")])
    reasons = failed(verified(authority, pdf, crls=load_crls(revoked)))
    assert "the seal certificate was revoked on" in reasons and "before the seal was made" in reasons
    # Revoked after it sealed (a later suspension): the seal was good when made.
    later = authority.crl([RevokedEntry(seal.serial, now() + timedelta(days=30), "suspended")])
    assert verified(authority, pdf, crls=load_crls(later)).ok


def test_an_expired_certificate_without_a_timestamp_is_caught(authority: SealAuthority) -> None:
    short = issue(authority, days=1)
    untimed = sealed(authority, seal=short, timestamped=False)
    reasons = failed(verified(authority, untimed, now=now() + timedelta(days=10)))
    assert "expired on" in reasons and "no timestamp proves the seal was made before" in reasons
    assert "no trusted timestamp" in reasons
    # With its timestamp and the DSS, the same certificate's seal still verifies years later, offline.
    timed = sealed(authority, seal=issue(authority, days=1))
    result = verified(authority, timed, now=now() + timedelta(days=3650))
    assert result.ok, [c.line() for c in result.checks if not c.ok]


def test_a_file_that_is_no_sealed_report_fails(authority: SealAuthority) -> None:
    unsealed = failed(verified(authority, render_report_pdf(manifest())))
    assert "carries no seal" in unsealed
    assert "not a readable PDF" in failed(verified(authority, b"not a pdf"))
    untrusted = verify_report_pdf(sealed(authority), trust=[])
    assert "no trusted root" in failed(untrusted)


def test_a_dissent_is_bound_to_its_statement(authority: SealAuthority) -> None:
    altered = signature_of(DISSENTER, "dissent", DISSENT)
    altered["statement"] = "本人同意鉴定意见。"
    reasons = failed(verified(authority, sealed(authority, render_report_pdf(manifest([altered])))))
    assert "dissent statement bound to report" in reasons


def test_a_key_not_valid_on_the_signing_day_fails(authority: SealAuthority) -> None:
    from tests.report_documents import signers

    built = manifest(signers=signers(valid_until="2026-09-29"))
    reasons = failed(verified(authority, sealed(authority, render_report_pdf(built))))
    assert "was not valid on 2026-09-30" in reasons  # 02:00 UTC is 10:00 in China


def test_verify_command(
    authority: SealAuthority, report: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, root, keys = tmp_path / "report.pdf", tmp_path / "bureau-root.pem", tmp_path / "keys.json"
    pdf.write_bytes(report)
    root.write_text(pem(authority.root))
    import json

    keys.write_text(json.dumps(KEYS), encoding="utf-8")
    assert verify_main([str(pdf), "--trust", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith("✓ 通过 ok") for line in lines[:-1])
    assert "印章有效" in lines[0] and "seal valid" in lines[0]
    assert lines[-1].startswith(f"通过 OK: 司法鉴定意见书 {NUMBER}") and "2 signatures verified" in lines[-1]

    # The product's own command; the registry's keys matched too.
    assert appraisal_command(["verify", str(pdf), "--trust", str(root), "--keys", str(keys)]) == 0
    capsys.readouterr()

    keys.write_text(json.dumps([key_entry(SIGNER)]), encoding="utf-8")
    assert appraisal_command(["verify", str(pdf), "--trust", str(root), "--keys", str(keys)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("失败 FAILED: ") and any(line.startswith("✗ 失败 FAIL") for line in out)
    assert any("is not in the registry's keys" in line for line in out)

    other = SealAuthority.create(tmp_path / "elsewhere", bureau_name="别处司法局")
    (tmp_path / "other.pem").write_text(pem(other.root))
    assert verify_main([str(pdf), "--trust", str(tmp_path / "other.pem")]) == 1
    assert "does not chain to a trusted root" in capsys.readouterr().out

    assert verify_main([str(tmp_path / "absent.pdf"), "--trust", str(root)]) == 1
    assert "cannot read the input" in capsys.readouterr().out
    assert MANIFEST_NAME  # the manifest's name, which the pages cite
