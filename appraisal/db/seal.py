"""The seal certificates the bureau's authority issued to institutions, the institutions'
yearly report numbers, and the sealed PDFs, in SQL (shared by the services and the
activities)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.core.seal import Revoked, SealAuthority
from appraisal.db.models import Institution, ReportNumber, SealCertificate, SealedReport
from appraisal.domain.report_document import document_number

RENEW_BEFORE = timedelta(days=30)
"""A seal certificate this close to its end is replaced by a new one at the next sealing."""


async def issue_certificate(
    session: AsyncSession, authority: SealAuthority, institution: Institution, *, days: int, now: datetime
) -> SealCertificate:
    """A new seal certificate (and key) for the institution; the caller commits."""
    issued = authority.issue_seal(
        institution_id=institution.id, institution_name=institution.name, days=days, now=now
    )
    row = SealCertificate(
        serial=issued.serial,
        institution_id=institution.id,
        subject=issued.subject,
        certificate_pem=issued.certificate_pem,
        not_before=issued.not_before,
        not_after=issued.not_after,
        issued_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def current_certificate(
    session: AsyncSession, institution_id: str, *, now: datetime
) -> SealCertificate | None:
    """The institution's newest seal certificate not revoked and not near its end."""
    return (
        await session.exec(
            select(SealCertificate)
            .where(
                SealCertificate.institution_id == institution_id,
                col(SealCertificate.revoked_at).is_(None),
                SealCertificate.not_before <= now,
                SealCertificate.not_after > now + RENEW_BEFORE,
            )
            .order_by(col(SealCertificate.not_after).desc())
            .limit(1)
        )
    ).first()


EXIT_REVOCATION = {"suspended": "suspended", "licence_lapsed": "suspended"}
"""Why an institution out of its work has its seal certificates revoked: a suspension or a lapsed
licence may end (certificate hold); a revocation or a deregistration is final (every other
exit status: privilege withdrawn, core/seal.REVOCATION_REASONS)."""


async def revoke_for_exit(
    session: AsyncSession, institution_id: str, *, status: str, at: datetime
) -> list[str]:
    """Revokes the seal certificates of an institution that may no longer act (domain/standing
    exit_status); the caller commits."""
    return await revoke_certificates(
        session, institution_id, reason=EXIT_REVOCATION.get(status, "revoked"), at=at
    )


async def revoke_certificates(
    session: AsyncSession, institution_id: str, *, reason: str, at: datetime
) -> list[str]:
    """Revokes every unrevoked seal certificate of the institution (from the next CRL on);
    returns their serials. The caller commits."""
    revoked = await session.exec(
        update(SealCertificate)
        .where(
            col(SealCertificate.institution_id) == institution_id, col(SealCertificate.revoked_at).is_(None)
        )
        .values(revoked_at=at, revocation_reason=reason)
        .returning(col(SealCertificate.serial))
    )
    return [str(serial) for serial in revoked.scalars()]


async def revocations(session: AsyncSession) -> list[Revoked]:
    rows = (
        await session.exec(
            select(SealCertificate)
            .where(col(SealCertificate.revoked_at).is_not(None))
            .order_by(col(SealCertificate.revoked_at))
        )
    ).all()
    return [
        Revoked(serial=r.serial, revoked_at=r.revoked_at or datetime.now(UTC), reason=r.revocation_reason)
        for r in rows
    ]


async def crl(session: AsyncSession, authority: SealAuthority, *, now: datetime | None = None) -> bytes:
    return authority.crl(await revocations(session), now=now)


async def certificates(session: AsyncSession, institution_id: str | None = None) -> list[SealCertificate]:
    query = select(SealCertificate).order_by(col(SealCertificate.issued_at))
    if institution_id:
        query = query.where(SealCertificate.institution_id == institution_id)
    return list((await session.exec(query)).all())


async def assign_number(
    session: AsyncSession,
    *,
    commission_id: str,
    version: int,
    institution_id: str,
    category: str,
    year: int,
    now: datetime,
) -> ReportNumber:
    """The report version's number in the institution's series of the year: the one it was
    given before if any (a retried activity), else the next. Commits."""
    found = await session.get(ReportNumber, (commission_id, version))
    if found is not None:
        return found
    await (await session.connection()).execute(
        text("select pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"report_number:{institution_id}:{year}"},
    )
    found = await session.get(ReportNumber, (commission_id, version))
    if found is not None:
        return found
    last = (
        await session.exec(
            select(func.max(ReportNumber.serial)).where(
                ReportNumber.institution_id == institution_id, ReportNumber.year == year
            )
        )
    ).one()
    serial = int(last or 0) + 1
    institution = await session.get(Institution, institution_id)
    short_name = (institution.short_name if institution else "") or (
        institution.name.split(" ")[0] if institution else ""
    )
    row = ReportNumber(
        commission_id=commission_id,
        version=version,
        institution_id=institution_id,
        year=year,
        serial=serial,
        document_number=document_number(short_name=short_name, year=year, category=category, serial=serial),
        assigned_at=now,
    )
    session.add(row)
    await session.commit()
    return row


async def sealed_report(session: AsyncSession, commission_id: str, version: int) -> SealedReport | None:
    return await session.get(SealedReport, (commission_id, version))


async def store_sealed(session: AsyncSession, row: SealedReport) -> SealedReport:
    """Keeps the first sealed PDF of a version (a retried sealing finds it, and loses its own)."""
    await session.exec(
        insert(SealedReport)
        .values(**row.model_dump())
        .on_conflict_do_nothing(index_elements=["commission_id", "version"])
    )
    await session.commit()
    stored = await session.get(SealedReport, (row.commission_id, row.version), populate_existing=True)
    assert stored is not None
    return stored
