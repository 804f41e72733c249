"""The issued report's sealed PDF, as it was sealed once at issue (appraisal/sealing.py):
served from `sealed_report`; while the seal is being made, waited for (bounded); a report
issued before sealing existed is sealed now, once."""

import asyncio
import time
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.core.seal import SealSettings
from appraisal.db import seal as seal_rows
from appraisal.db.models import AuditEventRow
from appraisal.domain.errors import RuleViolation, Unavailable
from appraisal.domain.roles import Actor, Role
from appraisal.sealing import NotSealable, seal_issued_report
from appraisal.services.commission import load_in_scope

FIRST_LOOK_SECONDS, LAST_LOOK_SECONDS = 0.05, 0.5


async def issued_report_pdf(
    *, session: AsyncSession, principal: Actor, commission_id: str, seal: SealSettings, within_seconds: float
) -> bytes:
    """The sealed PDF of the commission's issued report (RuleViolation before issue)."""
    commission = await load_in_scope(session=session, principal=principal, commission_id=commission_id)
    report: dict[str, Any] | None = commission.snapshot.get("report")
    issued = report if report and report.get("issued_at") else None
    if issued is None:  # a correction or supplementary report in the making: the last issued one
        earlier = [r for r in commission.snapshot.get("earlier_reports") or [] if r.get("issued_at")]
        issued = earlier[-1] if earlier else None
    if issued is None:
        raise RuleViolation(
            "not_in_stage", f"the commission is {commission.stage}; its report has not been issued"
        )
    version = int(issued["version"])
    if principal.role == Role.PARTY and commission.snapshot.get("report_released", 0) != version:
        raise RuleViolation(
            "report_not_released",
            "the entrusting organ has not released this report to the parties",
            rule="PTY-1",
        )
    stored = await seal_rows.sealed_report(session, commission.id, version)
    if stored is not None:
        return stored.pdf
    if await _being_sealed(session, commission.id, version):
        return await _wait_for_seal(session, commission.id, version, within_seconds)
    # Issued before sealing existed, or its sealed PDF lost with the database (a restore, a
    # rebuild from the histories): sealed now, once, and kept.
    try:
        return (
            await seal_issued_report(session=session, seal=seal, commission_id=commission.id, version=version)
        ).pdf
    except NotSealable as err:
        raise RuleViolation("report_not_sealable", str(err)) from err


async def _being_sealed(session: AsyncSession, commission_id: str, version: int) -> bool:
    """Whether the version's workflow is sealing it now: issued with a number (the sealing
    path), its seal not yet recorded in the trail either way."""
    events = (
        await session.exec(
            select(AuditEventRow).where(
                AuditEventRow.commission_id == commission_id,
                col(AuditEventRow.kind).in_(["report.issued", "report.sealed", "report.seal_failed"]),
            )
        )
    ).all()
    of_version = {e.kind: e for e in events if int(e.data.get("version", 0)) == version}
    issued = of_version.get("report.issued")
    numbered = issued is not None and "document_number" in issued.data
    return numbered and "report.sealed" not in of_version and "report.seal_failed" not in of_version


async def _wait_for_seal(
    session: AsyncSession, commission_id: str, version: int, within_seconds: float
) -> bytes:
    deadline = time.monotonic() + within_seconds
    pause = FIRST_LOOK_SECONDS
    while True:
        session.expire_all()
        stored = await seal_rows.sealed_report(session, commission_id, version)
        if stored is not None:
            return stored.pdf
        if time.monotonic() + pause > deadline:
            raise Unavailable("report seal", "the report is being sealed; retry in a moment")
        await asyncio.sleep(pause)
        pause = min(pause * 2, LAST_LOOK_SECONDS)
