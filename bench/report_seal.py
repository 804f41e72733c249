"""Sealing an issued report: the product's seal (its signer and timestamp authority signing
with key objects loaded once) against pyHanko's stock SimpleSigner and DummyTimeStamper,
which load and check the RSA-3072 key from its DER again at every signature. The same
rendered report, the same certificate authority (a temporary one), side by side, alternating."""

import argparse
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from appraisal.core.seal import SealAuthority, as_asn1, key_info, load_certificate
from appraisal.report_pdf import render_report_pdf
from appraisal.report_seal import seal_metadata, seal_pdf
from bench import report
from tests.report_documents import INSTITUTION, issue, manifest

NAME = "report_seal"


def stock_seal(authority: SealAuthority, pdf: bytes, serial: str, certificate_pem: str, crl: bytes) -> bytes:
    """What seal_pdf did before: pyHanko's own signer and token maker, keys as DER."""
    root = as_asn1(authority.root)
    signer = signers.SimpleSigner(
        signing_cert=as_asn1(load_certificate(certificate_pem)),
        signing_key=key_info(authority.seal_key(serial)),
        cert_registry=SimpleCertificateStore.from_certs([root]),  # type: ignore[no-untyped-call]
    )
    timestamper = DummyTimeStamper(
        tsa_cert=as_asn1(authority.tsa),
        tsa_key=key_info(authority._tsa_key),
        certs_to_embed=SimpleCertificateStore.from_certs([root]),  # type: ignore[no-untyped-call]
    )
    meta = seal_metadata(
        root=authority.root, crl=crl, institution_name=str(INSTITUTION["name"]), location="", timestamped=True
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    return bytes(signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper).getvalue())


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20, choices=range(5, 501), metavar="5..500")
    args = parser.parse_args()
    run = report.Run.now(f"bench.{NAME}")
    with tempfile.TemporaryDirectory() as folder:
        authority = SealAuthority.create(Path(folder), bureau_name="基准司法局 Bench bureau")
        seal = issue(authority)
        crl = authority.crl([])
        pdf = render_report_pdf(manifest())
        render_ms = [timed(lambda: render_report_pdf(manifest())) for _ in range(args.samples)]
        product_ms, stock_ms = [], []
        for _ in range(args.samples):
            product_ms.append(
                timed(
                    lambda: seal_pdf(
                        pdf,
                        certificate=load_certificate(seal.certificate_pem),
                        key=authority.seal_key(seal.serial),
                        root=authority.root,
                        crl=crl,
                        timestamper=authority.timestamper(),
                        institution_name=str(INSTITUTION["name"]),
                    )
                )
            )
            stock_ms.append(timed(lambda: stock_seal(authority, pdf, seal.serial, seal.certificate_pem, crl)))

    def row(label: str, ms: list[float]) -> str:
        return f"| {label} | {report.percentile(ms, 50):.0f} | {report.percentile(ms, 95):.0f} |"

    ratio = report.percentile(stock_ms, 50) / report.percentile(product_ms, 50)
    table = "\n".join(
        [
            "| step | p50 ms | p95 ms |",
            "|---|---:|---:|",
            row("render the report (reportlab, fonts subset)", render_ms),
            row("seal, the product's signer and timestamp authority", product_ms),
            row("seal, pyHanko's stock SimpleSigner and DummyTimeStamper", stock_ms),
        ]
    )
    report.update_section(
        NAME,
        "\n".join(
            [
                "## Sealing a report",
                "",
                f"One report rendered and sealed (PAdES B-LTA: the seal's signature, its RFC 3161"
                f" timestamp, the DSS with the chain and the CRL, a document timestamp) {args.samples}"
                " times each way, alternating, in one process; RSA-3072 keys. pyHanko loads the key"
                " from its DER at every signature, and cryptography checks an RSA key whenever it is"
                " loaded; the product's KeptKeySigner and BureauTimeStamper (appraisal/core/seal.py)"
                " sign with the key object loaded once.",
                "",
                *run.bullets(),
                "",
                f"**A report sealed in {report.percentile(product_ms, 50):.0f} ms at p50; with pyHanko's"
                f" stock signer {report.percentile(stock_ms, 50):.0f} ms ({ratio:.1f}× as long).**",
                "",
                table,
            ]
        ),
    )
    print(table)
    print(
        f"seal p50 {report.percentile(product_ms, 50):.0f} ms (stock pyHanko signer"
        f" {report.percentile(stock_ms, 50):.0f} ms, {ratio:.1f}×)"
    )


if __name__ == "__main__":
    main()
