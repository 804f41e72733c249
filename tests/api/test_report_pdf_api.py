"""The signed report PDF over REST, verified offline with the registry's keys."""

import io
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.api.deps import get_today
from appraisal.api.routes import reports
from appraisal.app import create_app
from appraisal.core.settings import Settings
from appraisal.core.signing import demo_private_key, fingerprint, public_key_b64
from appraisal.domain.calendar import local_today
from appraisal.domain.roles import Actor, Role
from appraisal.report_pdf import read_manifest, render_report_pdf, verify_main
from appraisal.seed import APPRAISERS
from tests.api.client import api_client
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.factories import (
    INSTITUTION,
    OTHER_COURT,
    appraiser_actor,
    court_actor,
    head_actor,
    institution_actor,
    signature,
)

pytestmark = pytest.mark.dated

Auth = Callable[[Actor], dict[str, str]]
CONTENT = "一、案情摘要：2026年3月1日被鉴定人因交通事故受伤。\n二、检验所见：左胫骨骨折，已愈合。"
OPINION = "被鉴定人之损伤构成十级伤残"
DISSENT = "本人认为应评定为九级伤残。"


@pytest.fixture
async def reports_api(
    settings: Settings, temporal_env: WorkflowEnvironment, engine: AsyncEngine, worker: Worker
) -> AsyncIterator[httpx.AsyncClient]:
    """The `api` fixture of tests/api/conftest.py, with the reports router included."""
    app = create_app(settings, temporal=temporal_env.client, engine=engine)
    if not any(getattr(r, "path", "") == "/v1/registry/keys" for r in app.routes):
        app.include_router(reports.router)
    env_today = local_today(await temporal_env.get_current_time())

    def today() -> date:
        return env_today

    app.dependency_overrides[get_today] = today
    async with app.router.lifespan_context(app), api_client(app) as client:
        yield client


async def test_issued_report_pdf_verifies_offline(
    reports_api: httpx.AsyncClient, auth: Auth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = reports_api
    cid = (await entrust(api, auth))["id"]
    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200, accepted.text
    first, second = (appraiser_actor(a) for a in APPRAISER_IDS)
    submitted = await api.post(
        f"/v1/commissions/{cid}/report",
        json={"content": CONTENT, "opinion": OPINION, "attachments": [{"name": "照片", "sha256": "cd" * 32}]},
        headers=auth(first),
    )
    assert submitted.status_code == 200, submitted.text
    report_hash = submitted.json()["report"]["content_hash"]

    early = await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(court_actor))
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_in_stage"

    signs = [
        (first, {"kind": "sign", "signature": signature(first.organisation_id, report_hash)}),
        (
            second,
            {
                "kind": "dissent",
                "statement": DISSENT,
                "signature": signature(second.organisation_id, report_hash, "dissent", DISSENT),
            },
        ),
    ]
    for appraiser, body in signs:
        signed = await api.post(f"/v1/commissions/{cid}/signatures", json=body, headers=auth(appraiser))
        assert signed.status_code == 200, signed.text
    before_issue = await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(head_actor))
    assert before_issue.status_code == 409 and before_issue.json()["error"]["code"] == "not_in_stage"
    issued = await api.post(f"/v1/commissions/{cid}/issue", json={}, headers=auth(head_actor))
    assert issued.status_code == 200 and issued.json()["stage"] == "issued", issued.text

    response = await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(court_actor))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    for actor in (first, head_actor):  # anyone in scope
        assert (await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(actor))).status_code == 200
    other_court = Actor(Role.COURT, OTHER_COURT.id, "clerk")
    hidden = await api.get(f"/v1/commissions/{cid}/report.pdf", headers=auth(other_court))
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    assert (await api.get(f"/v1/commissions/{cid}/report.pdf")).status_code == 401

    manifest = read_manifest(pdf)
    names = {a.id: a.name for a in APPRAISERS}
    assert manifest["report_hash"] == report_hash and manifest["commission_id"] == cid
    assert manifest["content"] == CONTENT and manifest["opinion"] == OPINION
    assert manifest["institution"] == {"id": INSTITUTION.id, "name": INSTITUTION.name}
    assert [(s["appraiser_id"], s["name"], s["kind"], s["statement"]) for s in manifest["signatures"]] == [
        (first.organisation_id, names[first.organisation_id], "sign", ""),
        (second.organisation_id, names[second.organisation_id], "dissent", DISSENT),
    ]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert OPINION in text and DISSENT in text and report_hash in text

    keys = await api.get("/v1/registry/keys", headers=auth(other_court))
    assert keys.status_code == 200, keys.text
    registered = {k["fingerprint"]: k for k in keys.json()}
    for appraiser_id in APPRAISER_IDS:
        public_key = public_key_b64(demo_private_key(appraiser_id))
        assert registered[fingerprint(public_key)]["appraiser_id"] == appraiser_id
    assert set(keys.json()[0]) == {"fingerprint", "appraiser_id", "public_key", "valid_from", "valid_until"}
    assert (await api.get("/v1/registry/keys")).status_code == 401

    report_file, keys_file = tmp_path / "report.pdf", tmp_path / "keys.json"
    report_file.write_bytes(pdf)
    keys_file.write_text(keys.text, encoding="utf-8")
    assert verify_main([str(report_file), "--keys", str(keys_file)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"OK: report {report_hash} verified, 2 signatures"

    # The same signatures under an altered opinion: the hash no longer matches.
    altered = {**manifest, "opinion": "被鉴定人之损伤构成九级伤残"}
    report_file.write_bytes(render_report_pdf(altered))
    assert verify_main([str(report_file), "--keys", str(keys_file)]) == 1
    out = capsys.readouterr().out
    assert "FAILED: report hash mismatch" in out and report_hash in out
