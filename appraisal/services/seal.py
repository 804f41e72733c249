"""The bureau's seal certificate authority as the API and the workspace offer it: its root
certificate and revocation list (to verify reports offline), the seal certificates issued
to institutions, each institution's certificate at registration and its revocation at
suspension or revocation, and the timestamp authority (RFC 3161)."""

import asyncio
from datetime import UTC, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.core.seal import SealSettings, pem
from appraisal.db import seal as seal_rows
from appraisal.db.models import Institution, SealCertificate
from appraisal.domain.calendar import local_today
from appraisal.domain.standing import exit_status


def root_pem(*, seal: SealSettings) -> str:
    return pem(seal.authority.root)


async def revocation_list(*, session: AsyncSession, seal: SealSettings) -> bytes:
    """The CRL (DER), signed now, listing every revoked seal certificate."""
    return await seal_rows.crl(session, seal.authority)


async def list_certificates(*, session: AsyncSession, institution_id: str | None) -> list[SealCertificate]:
    return await seal_rows.certificates(session, institution_id)


async def issue_for(
    *, session: AsyncSession, seal: SealSettings, institution: Institution, now: datetime | None = None
) -> SealCertificate:
    """A seal certificate for an institution in good standing; the caller commits."""
    return await seal_rows.issue_certificate(
        session, seal.authority, institution, days=seal.certificate_days, now=now or datetime.now(UTC)
    )


async def follow_status(
    *, session: AsyncSession, seal: SealSettings | None, institution: Institution, now: datetime | None = None
) -> None:
    """After an institution's status changed: out of its work (suspended, revoked, deregistered,
    licence lapsed) its seal certificates are revoked (certificate hold, privilege withdrawn);
    back in good standing it is issued a new one. The caller commits."""
    now = now or datetime.now(UTC)
    barred = exit_status(institution, local_today(now))
    if barred:
        await seal_rows.revoke_for_exit(session, institution.id, status=barred, at=now)
    elif seal is not None and await seal_rows.current_certificate(session, institution.id, now=now) is None:
        await issue_for(session=session, seal=seal, institution=institution, now=now)


async def ensure_certificates(*, session: AsyncSession, seal: SealSettings) -> int:
    """A seal certificate for every active institution that has none (the demo seed, and a
    deployment upgraded to sealing); returns how many were issued."""
    now = datetime.now(UTC)
    issued = 0
    for institution in (await session.exec(select(Institution).where(Institution.status == "active"))).all():
        if await seal_rows.current_certificate(session, institution.id, now=now) is None:
            await issue_for(session=session, seal=seal, institution=institution, now=now)
            issued += 1
    await session.commit()
    return issued


async def timestamp(*, seal: SealSettings, request: bytes) -> bytes:
    """The timestamp authority's DER TimeStampResp to a DER TimeStampReq."""
    return await asyncio.to_thread(seal.authority.respond, request)
