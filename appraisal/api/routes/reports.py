"""The issued report as a signed PDF, and the public keys to check it offline
(`appraisal verify REPORT.pdf --keys KEYS.json`)."""

from typing import Any

from fastapi import APIRouter, Response

from appraisal.api.deps import READ_YOUR_WRITES, SessionDep
from appraisal.api.errors import ERRORS
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.registry import RegisteredKeyPublic
from appraisal.services import registry
from appraisal.services import report as service

router = APIRouter(tags=["reports"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute)

PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the issued report, with its manifest embedded as appraisal-manifest.json",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(
    "/v1/commissions/{commission_id}/report.pdf",
    response_class=Response,
    responses={**ERRORS, **PDF_RESPONSE},
)
async def report_pdf(commission_id: str, principal: AuthorizedDep, session: SessionDep) -> Response:
    """The issued report as a PDF: opinion, content, dissents, signers and their keys, the
    report hash, and a machine-readable manifest to verify offline (anyone in scope; 409 before issue)."""
    pdf = await service.issued_report_pdf(session=session, principal=principal, commission_id=commission_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="report-{commission_id}.pdf"'},
    )


@router.get("/v1/registry/keys", response_model=list[RegisteredKeyPublic], responses=ERRORS)
async def list_keys(_: AuthorizedDep, session: SessionDep) -> list[RegisteredKeyPublic]:
    """Every registered public key, current and past: what `appraisal verify --keys` takes."""
    rows = await registry.registered_keys(session=session)
    return [RegisteredKeyPublic.model_validate(k, from_attributes=True) for k in rows]
