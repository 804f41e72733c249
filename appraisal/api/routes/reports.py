"""The issued report as a sealed PDF (the appraisers' public keys and the seal's root, which verify
it, are public: routes/seals.py)."""

from typing import Any

from fastapi import APIRouter, Response

from appraisal.api.deps import READ_YOUR_WRITES, SealDep, SessionDep, SettingsDep
from appraisal.api.errors import ERRORS
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.services import report as service

router = APIRouter(tags=["reports"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute)

PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the sealed report, its manifest embedded as appraisal-manifest.json",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(
    "/v1/commissions/{commission_id}/report.pdf",
    response_class=Response,
    responses={**ERRORS, **PDF_RESPONSE},
)
async def report_pdf(
    commission_id: str, principal: AuthorizedDep, session: SessionDep, seal: SealDep, settings: SettingsDep
) -> Response:
    """The issued report as sealed at issue: 司法鉴定意见书 in the 2016 statutory layout, fonts
    embedded (PDF/A-3b), sealed by the institution (PAdES B-LTA, timestamped, validation data
    embedded), every appraiser's signature and dissent and a machine-readable manifest inside;
    `appraisal verify report.pdf --trust bureau-root.pem` checks it offline. The same bytes
    every time; 409 before issue; 503 for the moment it takes to seal."""
    pdf = await service.issued_report_pdf(
        session=session,
        principal=principal,
        commission_id=commission_id,
        seal=seal,
        within_seconds=settings.read_your_writes_seconds,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="report-{commission_id}.pdf"'},
    )
