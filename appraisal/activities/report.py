"""Side effects of issuing a report: its number in the institution's yearly series, and
its sealed PDF (appraisal/sealing.py), each idempotent on (commission, version)."""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from appraisal.core.seal import SealAuthorityMissing, SealSettings
from appraisal.db import seal as seal_rows
from appraisal.domain.report_document import (
    DocumentNumber,
    DocumentNumberRequest,
    SealedReportInfo,
    SealRequest,
)
from appraisal.sealing import NotSealable, seal_issued_report


class ReportActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], seal: Callable[[], SealSettings] | None = None
    ) -> None:
        self.sessions = sessions
        self.seal = seal
        """Opens the seal authority (its key folder) when a report is first sealed."""

    @activity.defn(name="assign_document_number")
    async def assign_document_number(self, request: DocumentNumberRequest) -> DocumentNumber:
        """The number the version was given, or the next of the institution's year."""
        async with self.sessions() as session:
            row = await seal_rows.assign_number(
                session,
                commission_id=request.commission_id,
                version=request.version,
                institution_id=request.institution_id,
                category=request.category,
                year=request.year,
                now=datetime.now(UTC),
            )
        return DocumentNumber(document_number=row.document_number, serial=row.serial)

    @activity.defn(name="seal_report")
    async def seal_report(self, request: SealRequest) -> SealedReportInfo:
        """Renders and seals the issued version once; a retry finds the PDF stored."""
        if self.seal is None:
            raise ApplicationError("this worker has no seal authority", type="seal_authority_missing")
        try:
            settings = self.seal()
        except SealAuthorityMissing as err:  # retried: the operator may still run `appraisal seal init`
            raise ApplicationError(str(err), type="seal_authority_missing") from err
        async with self.sessions() as session:
            try:
                row = await seal_issued_report(
                    session=session,
                    seal=settings,
                    commission_id=request.commission_id,
                    version=request.version,
                )
            except NotSealable as err:
                raise ApplicationError(str(err), type="report_not_sealable", non_retryable=True) from err
        return SealedReportInfo(
            sha256=row.sha256,
            size=len(row.pdf),
            seal_serial=row.seal_serial,
            timestamp=row.timestamp.isoformat(),
            document_number=row.document_number,
        )
