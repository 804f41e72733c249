"""The issued report as a signed PDF, and the public keys to check it offline
(`appraisal verify REPORT.pdf --keys KEYS.json`)."""

import asyncio
from datetime import date
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlmodel import col, select

from appraisal.api.deps import SessionDep
from appraisal.api.errors import ApiError
from appraisal.api.policy import AuthorizedDep
from appraisal.api.routes.commissions import ERRORS
from appraisal.db.models import Appraiser, AppraiserKey, AuditEventRow, Institution
from appraisal.domain.errors import RuleViolation
from appraisal.report_pdf import build_manifest, render_report_pdf
from appraisal.services.commission import load_in_scope

router = APIRouter(tags=["reports"])

PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the issued report, with its manifest embedded as appraisal-manifest.json",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class RegisteredKeyPublic(BaseModel):
    """An appraiser's registered Ed25519 public key (base64 of the raw 32 bytes)."""

    fingerprint: str
    appraiser_id: str
    public_key: str
    valid_from: date
    valid_until: date | None = None


@router.get(
    "/v1/commissions/{commission_id}/report.pdf",
    response_class=Response,
    responses={**ERRORS, **PDF_RESPONSE},
)
async def report_pdf(commission_id: str, principal: AuthorizedDep, session: SessionDep) -> Response:
    """The issued report as a PDF: opinion, content, dissents, signers and their keys, the
    report hash, and a machine-readable manifest to verify offline (anyone in scope; 409 before issue)."""
    commission = await load_in_scope(session=session, principal=principal, commission_id=commission_id)
    report: dict[str, Any] | None = commission.snapshot.get("report")
    if not report or not report.get("issued_at"):
        raise RuleViolation(
            "not_in_stage", f"the commission is {commission.stage}; its report has not been issued"
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
        raise ApiError(
            409,
            "report_content_missing",
            f"the audit trail holds no submission of report {report['content_hash']}",
        )
    signatures: list[dict[str, Any]] = list(report.get("signatures") or [])
    appraiser_ids = sorted({str(s["appraiser_id"]) for s in signatures})
    names = {
        a.id: a.name
        for a in (await session.exec(select(Appraiser).where(col(Appraiser.id).in_(appraiser_ids)))).all()
    }
    institution = await session.get(Institution, commission.institution_id)
    manifest = build_manifest(
        commission_id=commission.id,
        court_reference=commission.court_reference,
        case_number=commission.case_number,
        institution_id=commission.institution_id,
        institution_name=institution.name if institution else "",
        version=int(report.get("version", submitted.get("version", 1))),
        content=str(submitted.get("content", "")),
        opinion=str(submitted.get("opinion", "")),
        attachments=list(submitted.get("attachments") or []),
        issued_at=str(report["issued_at"]),
        signatures=signatures,
        appraiser_names=names,
        report_hash=str(report["content_hash"]),
    )
    pdf = await asyncio.to_thread(render_report_pdf, manifest)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="report-{commission.id}.pdf"'},
    )


@router.get("/v1/registry/keys", response_model=list[RegisteredKeyPublic], responses=ERRORS)
async def list_keys(_: AuthorizedDep, session: SessionDep) -> list[RegisteredKeyPublic]:
    """Every registered public key, current and past: what `appraisal verify --keys` takes."""
    rows = (
        await session.exec(
            select(AppraiserKey).order_by(col(AppraiserKey.appraiser_id), col(AppraiserKey.valid_from))
        )
    ).all()
    return [RegisteredKeyPublic.model_validate(k, from_attributes=True) for k in rows]
