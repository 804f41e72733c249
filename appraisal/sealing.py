"""Sealing an issued report version, once: its manifest gathered from what the audit trail
and the registry hold, rendered (appraisal/report_pdf.py), sealed by the institution
(appraisal/report_seal.py) and stored in `sealed_report`, where it is served from. The
commission workflow's `seal_report` activity calls it right after issue; a report issued
before sealing existed is sealed the first time someone asks for its PDF. Either way the
first stored PDF is the one every later request gets."""

import asyncio
import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.core.seal import SealSettings, load_certificate
from appraisal.db import seal as seal_rows
from appraisal.db.models import (
    Appraiser,
    AppraiserKey,
    AuditEventRow,
    Commission,
    Court,
    Institution,
    SealedReport,
)
from appraisal.domain.calendar import local_today
from appraisal.domain.standing import exit_status
from appraisal.report_pdf import build_manifest, render_report_pdf
from appraisal.report_seal import seal_pdf, signature_timestamp

SUBMISSIONS = ("report.submitted", "report.corrected")


class NotSealable(Exception):
    """The report cannot be sealed: why, for the trail (`report_not_sealable`)."""


async def _events(session: AsyncSession, commission_id: str) -> list[AuditEventRow]:
    return list(
        (
            await session.exec(
                select(AuditEventRow)
                .where(AuditEventRow.commission_id == commission_id)
                .order_by(col(AuditEventRow.seq))
            )
        ).all()
    )


def _version_of(report: dict[str, Any] | None, earlier: list[dict[str, Any]], version: int) -> dict[str, Any]:
    for candidate in [*earlier, *([report] if report else [])]:
        if int(candidate.get("version", 0)) == version:
            return candidate
    raise NotSealable(f"the commission has no report version {version}")


async def manifest_of(session: AsyncSession, commission: Commission, version: int) -> dict[str, Any]:
    """The report version's manifest from the read model, the trail and the registry."""
    snapshot = commission.snapshot
    report = _version_of(snapshot.get("report"), list(snapshot.get("earlier_reports") or []), version)
    if not report.get("issued_at"):
        raise NotSealable(f"report version {version} has not been issued")
    events = await _events(session, commission.id)
    submitted = next(
        (
            e
            for e in events
            if e.kind in SUBMISSIONS
            and int(e.data.get("version", 1)) == version
            and e.data.get("content_hash") == report["content_hash"]
        ),
        None,
    )
    if submitted is None:
        # A version-1 report submitted before events carried versions.
        submitted = next(
            (
                e
                for e in events
                if e.kind in SUBMISSIONS and e.data.get("content_hash") == report["content_hash"]
            ),
            None,
        )
    if submitted is None:
        raise NotSealable(f"the audit trail holds no submission of report {report['content_hash']}")
    issued = next(
        (
            e
            for e in events
            if e.kind == "report.issued"
            and int(e.data.get("version", 0)) == version
            and e.data.get("content_hash") == report["content_hash"]
        ),
        None,
    )
    if issued is None:
        raise NotSealable(f"the audit trail holds no issue of report version {version}")
    previous_version = report.get("previous_version")
    previous_number = ""
    if previous_version:
        earlier_issue = next(
            (
                e
                for e in events
                if e.kind == "report.issued" and int(e.data.get("version", 0)) == previous_version
            ),
            None,
        )
        previous_number = str(earlier_issue.data.get("document_number", "")) if earlier_issue else ""
    supplementary = None
    if report.get("kind") == "supplementary":
        asked = [e for e in events if e.kind == "supplementary.requested" and e.seq < submitted.seq]
        if asked:
            supplementary = {
                "ground": str(asked[-1].data.get("ground", "")),
                "reason": str(asked[-1].data.get("reason", "")),
            }
    materials: list[dict[str, str]] = []
    for event in events:
        if event.seq > issued.seq:
            break
        if event.kind in ("commission.entrusted", "clock.resumed", "supplementary.requested"):
            materials += [dict(m) for m in event.data.get("materials") or []]
    signatures = list(report.get("signatures") or [])
    appraiser_ids = sorted({str(s["appraiser_id"]) for s in signatures})
    appraisers = {
        a.id: a
        for a in (await session.exec(select(Appraiser).where(col(Appraiser.id).in_(appraiser_ids)))).all()
    }
    keys = (
        await session.exec(
            select(AppraiserKey).where(
                col(AppraiserKey.fingerprint).in_([str(s.get("key_fingerprint", "")) for s in signatures])
            )
        )
    ).all()
    signers: dict[str, dict[str, Any]] = {}
    for appraiser_id in appraiser_ids:
        appraiser = appraisers.get(appraiser_id)
        signers[appraiser_id] = {
            "name": appraiser.name if appraiser else appraiser_id,
            "licence_number": appraiser.licence_number if appraiser else "",
            "keys": {
                k.fingerprint: {
                    "public_key": k.public_key,
                    "valid_from": k.valid_from.isoformat(),
                    "valid_until": k.valid_until.isoformat() if k.valid_until else "",
                }
                for k in keys
                if k.appraiser_id == appraiser_id
            },
        }
    institution = await session.get(Institution, commission.institution_id)
    court = await session.get(Court, commission.court_id)
    data = submitted.data
    return build_manifest(
        commission_id=commission.id,
        court_reference=commission.court_reference,
        case_number=commission.case_number,
        institution=institution.model_dump() if institution else {"id": commission.institution_id},
        court=court.model_dump() if court else {"id": commission.court_id},
        version=version,
        content=str(data.get("content", "")),
        opinion=str(data.get("opinion", "")),
        attachments=list(data.get("attachments") or []),
        sections=dict(data.get("sections") or {}),
        issued_at=str(report["issued_at"]),
        signatures=signatures,
        signers=signers,
        report_hash=str(report["content_hash"]),
        kind=str(report.get("kind") or "original"),
        document_number=str(issued.data.get("document_number", "")),
        previous_version=int(previous_version) if previous_version else None,
        previous_document_number=previous_number,
        correction=report.get("correction"),
        supplementary=supplementary,
        category=commission.category,
        matters=list(snapshot.get("matters") or []),
        accepted_on=str(snapshot.get("agreement_effective_on") or ""),
        materials=materials,
        audit={"workflow_id": issued.workflow_id, "seq": issued.seq, "head": issued.hash},
    )


async def seal_issued_report(
    *, session: AsyncSession, seal: SealSettings, commission_id: str, version: int
) -> SealedReport:
    """The sealed PDF of the issued report version: the stored one, or made and stored now."""
    stored = await seal_rows.sealed_report(session, commission_id, version)
    if stored is not None:
        return stored
    commission = await session.get(Commission, commission_id)
    if commission is None:
        raise NotSealable(f"no commission {commission_id}")
    manifest = await manifest_of(session, commission, version)
    institution = await session.get(Institution, commission.institution_id)
    if institution is None:
        raise NotSealable(f"institution {commission.institution_id} is not registered")
    now = datetime.now(UTC)
    certificate = await seal_rows.current_certificate(session, institution.id, now=now)
    if certificate is None:
        barred = exit_status(institution, local_today(now))
        if barred:  # its certificates were revoked when it left its work; none is issued now
            raise NotSealable(f"institution {institution.id} is {barred}: its seal is revoked")
        certificate = await seal_rows.issue_certificate(
            session, seal.authority, institution, days=seal.certificate_days, now=now
        )
        await session.commit()
    crl = await seal_rows.crl(session, seal.authority, now=now)
    authority = seal.authority
    serial = certificate.serial
    pem = certificate.certificate_pem

    def make() -> bytes:
        rendered = render_report_pdf(manifest)
        return seal_pdf(
            rendered,
            certificate=load_certificate(pem),
            key=authority.seal_key(serial),
            root=authority.root,
            crl=crl,
            timestamper=authority.timestamper(),
            institution_name=institution.name,
        )

    sealed = await asyncio.to_thread(make)
    stamped_at = _timestamp_of(sealed) or now
    return await seal_rows.store_sealed(
        session,
        SealedReport(
            commission_id=commission_id,
            version=version,
            document_number=str(manifest.get("document_number") or ""),
            pdf=sealed,
            sha256=hashlib.sha256(sealed).hexdigest(),
            seal_serial=serial,
            timestamp=stamped_at,
            sealed_at=now,
        ),
    )


def _timestamp_of(pdf: bytes) -> datetime | None:
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    seals = [s for s in reader.embedded_signatures if s.sig_object_type == "/Sig"]
    return signature_timestamp(seals[0]) if seals else None
