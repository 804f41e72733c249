"""Issuing numbers the report in the institution's own yearly series (recorded in the issue
event) and seals it once beside the main path (the seal recorded in the trail); a correction
is numbered and sealed in turn and names the version it corrects."""

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.db import seal as seal_rows
from appraisal.db.models import AuditEventRow, Institution, SealedReport
from appraisal.domain.calendar import local_today
from appraisal.domain.commission import (
    AcceptanceDecision,
    CommissionSnapshot,
    IssueRequest,
    ReportSubmission,
    SignatureSubmission,
)
from appraisal.domain.report_changes import CorrectionSubmission
from appraisal.report_pdf import page_texts, read_manifest, squeezed
from appraisal.workflows.commission import CommissionWorkflow
from tests.factories import (
    INSTITUTION,
    appraiser_actor,
    commission_input,
    head_actor,
    institution_actor,
    signature,
)
from tests.workflows.test_commission_workflow import APPRAISER_IDS, eventually, start, today

pytestmark = pytest.mark.dated

Handle = WorkflowHandle[CommissionWorkflow, CommissionSnapshot]


async def issued(env: WorkflowEnvironment, task_queue: str, reference: str) -> Handle:
    handle, _ = await start(env, task_queue, commission_input(await today(env), court_reference=reference))
    await handle.execute_update(
        CommissionWorkflow.decide_acceptance, AcceptanceDecision(institution_actor, "accept", APPRAISER_IDS)
    )
    first = appraiser_actor(APPRAISER_IDS[0])
    submitted = await handle.execute_update(
        CommissionWorkflow.submit_report,
        ReportSubmission(
            first, "检验所见……", "构成十级伤残", place="检验室", analysis="依据……构成十级伤残。"
        ),
    )
    assert submitted.report is not None
    await sign_all(handle, submitted.report.content_hash)
    snapshot = await handle.execute_update(CommissionWorkflow.issue_report, IssueRequest(head_actor))
    assert snapshot.stage == "issued"
    return handle


async def sign_all(handle: Handle, content_hash: str) -> None:
    for actor in (appraiser_actor(a) for a in APPRAISER_IDS):
        await handle.execute_update(
            CommissionWorkflow.sign_report,
            SignatureSubmission(actor, "sign", signature=signature(actor.organisation_id, content_hash)),
        )


async def events_of(
    sessions: async_sessionmaker[AsyncSession], handle: Handle, kind: str
) -> list[AuditEventRow]:
    async with sessions() as session:
        return list(
            (
                await session.exec(
                    select(AuditEventRow)
                    .where(AuditEventRow.workflow_id == handle.id, AuditEventRow.kind == kind)
                    .order_by(col(AuditEventRow.seq))
                )
            ).all()
        )


async def recorded(
    sessions: async_sessionmaker[AsyncSession], handle: Handle, kind: str, count: int = 1
) -> list[AuditEventRow]:
    """The events of a kind once `count` of them reached the trail (they follow the step)."""

    async def found() -> list[AuditEventRow] | None:
        rows = await events_of(sessions, handle, kind)
        return rows if len(rows) >= count else None

    return await eventually(found, within=60)


async def sealed_events(
    sessions: async_sessionmaker[AsyncSession], handle: Handle, count: int
) -> list[AuditEventRow]:
    return await recorded(sessions, handle, "report.sealed", count)


async def test_issued_reports_are_numbered_in_the_institutions_year_and_sealed_once(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    year = local_today(await temporal_env.get_current_time()).year
    first = await issued(temporal_env, task_queue, "(2026)渝0103民初1号-鉴1")
    second = await issued(temporal_env, task_queue, "(2026)渝0103民初2号-鉴1")
    numbers = []
    for handle in (first, second):
        (issue_event,) = await recorded(sessions, handle, "report.issued")
        numbers.append(issue_event.data["document_number"])
        (sealed,) = await sealed_events(sessions, handle, 1)
        async with sessions() as session:
            row = await session.get(SealedReport, (handle.id.removeprefix("commission-"), 1))
        assert row is not None and sealed.data["sha256"] == hashlib.sha256(row.pdf).hexdigest()
        assert sealed.data["document_number"] == issue_event.data["document_number"]
        manifest = read_manifest(row.pdf)
        assert manifest["audit"] == {
            "workflow_id": handle.id,
            "seq": issue_event.seq,
            "head": issue_event.hash,
        }
        assert manifest["sections"] == {"place": "检验室", "analysis": "依据……构成十级伤残。"}
        snapshot = await handle.query(CommissionWorkflow.snapshot)
        assert snapshot.report is not None and snapshot.report.sealed_sha256 == sealed.data["sha256"]
        assert snapshot.report.document_number == issue_event.data["document_number"]
    assert numbers == [f"西南司鉴中心〔{year}〕临鉴字第1号", f"西南司鉴中心〔{year}〕临鉴字第2号"]

    # The number is the version's for good: asked again (a retried activity), the same one.
    async with sessions() as session:
        again = await seal_rows.assign_number(
            session,
            commission_id=first.id.removeprefix("commission-"),
            version=1,
            institution_id=INSTITUTION.id,
            category="forensic_clinical",
            year=year,
            now=datetime.now(UTC),
        )
    assert again.document_number == numbers[0]


async def test_a_correction_is_numbered_sealed_and_names_what_it_corrects(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    handle = await issued(temporal_env, task_queue, "(2026)渝0103民初3号-鉴1")
    (original,) = await recorded(sessions, handle, "report.issued")
    corrected = await handle.execute_update(
        CommissionWorkflow.submit_correction,
        CorrectionSubmission(
            appraiser_actor(APPRAISER_IDS[0]),
            "PROC-28-3",
            "“右”误写为“左”",
            "检验所见（更正）……",
            "构成十级伤残",
        ),
    )
    assert corrected.report is not None
    await sign_all(handle, corrected.report.content_hash)
    await handle.execute_update(CommissionWorkflow.issue_report, IssueRequest(head_actor))
    await sealed_events(sessions, handle, 2)
    async with sessions() as session:
        row = await session.get(SealedReport, (handle.id.removeprefix("commission-"), 2))
    assert row is not None
    manifest = read_manifest(row.pdf)
    assert manifest["kind"] == "correction" and manifest["title"] == "司法鉴定意见补正书"
    assert manifest["previous_document_number"] == original.data["document_number"]
    assert manifest["document_number"].endswith("第2号")
    shown = squeezed("".join(page_texts(row.pdf)))
    assert f"对{original.data['document_number']}（第1版）司法鉴定意见书予以补正" in shown


async def test_a_report_of_an_institution_whose_seal_is_revoked_is_not_sealed_and_the_trail_says_so(
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:  # revoked meanwhile (the API refuses its head's token from then on)
        await session.exec(
            update(Institution).where(col(Institution.id) == INSTITUTION.id).values(status="revoked")
        )
        await session.commit()
    handle = await issued(temporal_env, task_queue, "(2026)渝0103民初4号-鉴1")

    async def failure() -> list[AuditEventRow] | None:
        return await events_of(sessions, handle, "report.seal_failed") or None

    (failed,) = await eventually(failure, within=60)
    assert "is revoked" in failed.data["reason"]
    assert await events_of(sessions, handle, "report.sealed") == []
