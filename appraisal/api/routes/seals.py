"""The bureau's seal certificate authority, for anyone verifying a report offline (its root
certificate, its revocation list, the seal certificates it issued), and the timestamp
authority the product runs itself (RFC 3161 over HTTP)."""

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from appraisal.api.deps import READ_YOUR_WRITES, SealDep, SessionDep
from appraisal.api.errors import ERRORS
from appraisal.api.policy import AuthorizedDep
from appraisal.db.models import SealCertificate
from appraisal.schemas.registry import RegisteredKeyPublic, SealCertificatePublic
from appraisal.services import registry
from appraisal.services import seal as service

router = APIRouter(tags=["seal"], dependencies=[READ_YOUR_WRITES])
"""No UTF-8 check of bodies here: a timestamp request is DER."""
public_router = APIRouter(tags=["seal"])
"""What anyone verifying a report needs, without an account: the bureau's root, its revocation
list, the appraisers' public keys."""

TIMESTAMP_QUERY = "application/timestamp-query"
TIMESTAMP_REPLY = "application/timestamp-reply"


def _binary(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}}


@public_router.get(
    "/v1/registry/seal/root.pem",
    response_class=Response,
    responses={**ERRORS, **_binary("application/x-pem-file", "the bureau's root certificate (PEM)")},
)
async def root_certificate(seal: SealDep) -> Response:
    """The bureau's root certificate: what `appraisal verify REPORT.pdf --trust` takes. Public: a
    judge, a party or an archive verifies a report without an account."""
    return Response(
        service.root_pem(seal=seal),
        media_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="bureau-root.pem"'},
    )


@public_router.get(
    "/v1/registry/seal/crl",
    response_class=Response,
    responses={**ERRORS, **_binary("application/pkix-crl", "the revocation list (DER), signed now")},
)
async def revocation_list(session: SessionDep, seal: SealDep) -> Response:
    """Every seal certificate revoked so far (an institution suspended or revoked), signed by the
    root now: what `appraisal verify --crl` takes to see revocations after a report was sealed."""
    return Response(
        await service.revocation_list(session=session, seal=seal),
        media_type="application/pkix-crl",
        headers={"Content-Disposition": 'attachment; filename="bureau.crl"'},
    )


@router.get("/v1/registry/seal/certificates", response_model=list[SealCertificatePublic], responses=ERRORS)
async def list_certificates(
    _: AuthorizedDep,
    session: SessionDep,
    institution_id: str | None = Query(default=None, max_length=36),
) -> list[SealCertificate]:
    """The seal certificates issued to institutions, with their revocations."""
    return await service.list_certificates(session=session, institution_id=institution_id)


@router.post(
    "/v1/timestamp",
    response_class=Response,
    responses={
        **ERRORS,
        **_binary(TIMESTAMP_REPLY, "a TimeStampResp (RFC 3161): a token, or a rejection saying why"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {TIMESTAMP_QUERY: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def timestamp(request: Request, _: AuthorizedDep, seal: SealDep) -> Response:
    """The product's own timestamp authority (RFC 3161 §3.4): POST a DER TimeStampReq as
    application/timestamp-query (`openssl ts -query`), get a token signed by the authority's
    certificate from the bureau's root. Whatever is posted gets a TimeStampResp: a body that
    is no TimeStampReq, or asks for an unsupported hash or policy, a rejection saying why
    (the protocol's own answer). Sealing uses the same authority."""
    reply = await service.timestamp(seal=seal, request=await request.body())
    return Response(reply, media_type=TIMESTAMP_REPLY)


@public_router.get("/v1/registry/keys", response_model=list[RegisteredKeyPublic], responses=ERRORS)
async def list_keys(session: SessionDep) -> list[RegisteredKeyPublic]:
    """Every registered public key, current and past: what `appraisal verify --keys` takes. Public,
    as public keys are: anyone holding a report checks it without an account."""
    rows = await registry.registered_keys(session=session)
    return [RegisteredKeyPublic.model_validate(k, from_attributes=True) for k in rows]
