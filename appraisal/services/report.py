"""The issued report as a signed PDF: its manifest built from the read model, the
audit trail's submission and the registry."""

import asyncio
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import AuditEventRow
from appraisal.domain.errors import RuleViolation
from appraisal.domain.roles import Actor, Role
from appraisal.report_pdf import build_manifest, render_report_pdf
from appraisal.services.commission import load_in_scope
from appraisal.services.registry import names, organisation_name


async def issued_report_pdf(*, session: AsyncSession, principal: Actor, commission_id: str) -> bytes:
    """The PDF of the commission's issued report (RuleViolation before issue)."""
    commission = await load_in_scope(session=session, principal=principal, commission_id=commission_id)
    report: dict[str, Any] | None = commission.snapshot.get("report")
    if not report or not report.get("issued_at"):
        raise RuleViolation(
            "not_in_stage", f"the commission is {commission.stage}; its report has not been issued"
        )
    if principal.role == Role.PARTY and commission.snapshot.get("report_released", 0) != report.get(
        "version"
    ):
        raise RuleViolation(
            "report_not_released",
            "the entrusting organ has not released this report to the parties",
            rule="PTY-1",
        )
    submissions = (
        await session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.commission_id == commission.id, AuditEventRow.kind == "report.submitted")
            .order_by(col(AuditEventRow.seq).desc())
        )
    ).all()
    submitted = next(
        (e.data for e in submissions if e.data.get("content_hash") == report["content_hash"]), None
    )
    if submitted is None:
        raise RuleViolation(
            "report_content_missing",
            f"the audit trail holds no submission of report {report['content_hash']}",
        )
    signatures: list[dict[str, Any]] = list(report.get("signatures") or [])
    appraiser_ids = sorted({str(s["appraiser_id"]) for s in signatures})
    institution_name = await organisation_name(
        session=session, kind="institution", id_=commission.institution_id
    )
    manifest = build_manifest(
        commission_id=commission.id,
        court_reference=commission.court_reference,
        case_number=commission.case_number,
        institution_id=commission.institution_id,
        institution_name=institution_name,
        version=int(report.get("version", submitted.get("version", 1))),
        content=str(submitted.get("content", "")),
        opinion=str(submitted.get("opinion", "")),
        attachments=list(submitted.get("attachments") or []),
        issued_at=str(report["issued_at"]),
        signatures=signatures,
        appraiser_names=await names(session=session, ids=appraiser_ids),
        report_hash=str(report["content_hash"]),
    )
    return await asyncio.to_thread(render_report_pdf, manifest)
