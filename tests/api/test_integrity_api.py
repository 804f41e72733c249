"""The integrity record (诚信档案, REG-9) through the REST API: overdue deadlines
driven on the time-skipping server, complaint outcomes and refusals to testify
from the integrity entries, signed reports and dissents as context, the
provisional grade, who may see it, and complaints in the appraiser trace."""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.api.deps import get_today
from appraisal.app import create_app
from appraisal.core.settings import DEFAULT_INTEGRITY_DEDUCTIONS, DEFAULT_INTEGRITY_GRADE_FLOORS, Settings
from appraisal.db.models import AuditEventRow, Commission, IntegrityEntryRow
from appraisal.domain.calendar import CHINA_TZ, local_today
from appraisal.domain.roles import Actor, Role
from appraisal.schemas.integrity import IntegrityCounts, SanctionCounts
from appraisal.seed import BUREAU, OTHER_BUREAU
from appraisal.services.integrity import GradingRule, evaluate
from tests.api.client import api_client
from tests.api.test_audit_api import issued_commission
from tests.api.test_commission_clocks_api import accepted
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.api.test_complaints_api import register
from tests.factories import (
    INSTITUTION,
    OTHER_INSTITUTION,
    PATHOLOGY_ONLY,
    appraiser_actor,
    court_actor,
    head_actor,
    institution_actor,
)
from tests.workflows.test_commission_workflow import eventually

pytestmark = pytest.mark.dated

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")
other_bureau = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspector")
FIRST, SECOND = APPRAISER_IDS


def appraiser_url(appraiser_id: str) -> str:
    return f"/v1/supervision/integrity/appraisers/{appraiser_id}"


def institution_url(institution_id: str) -> str:
    return f"/v1/supervision/integrity/institutions/{institution_id}"


async def record(api: httpx.AsyncClient, auth: Auth, url: str, year: int) -> dict[str, Any]:
    response = await api.get(url, params={"year": year}, headers=auth(supervisor))
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
async def api_on_server_time(
    settings: Settings, temporal_env: WorkflowEnvironment, engine: AsyncEngine, worker: Worker
) -> AsyncIterator[httpx.AsyncClient]:
    """The app whose today follows the time-skipping server's clock, so a year the
    test skips into has begun for the API too."""
    app = create_app(settings, temporal=temporal_env.client, engine=engine)

    async def today() -> date:
        return local_today(await temporal_env.get_current_time())

    app.dependency_overrides[get_today] = today
    async with app.router.lifespan_context(app), api_client(app) as client:
        yield client


async def test_an_examination_gone_overdue_counts_for_its_appraisers_and_institution(
    api_on_server_time: httpx.AsyncClient,
    auth: Auth,
    temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    api = api_on_server_time
    cid = await accepted(api, auth)
    # 30 working days of examination (PROC-17), then 5 more to the escalation.
    await temporal_env.sleep(timedelta(days=70))

    async def overdue_event() -> AuditEventRow | None:
        async with sessions() as session:
            return (
                await session.exec(
                    select(AuditEventRow).where(
                        AuditEventRow.commission_id == cid, AuditEventRow.kind == "clock.overdue"
                    )
                )
            ).first()

    event = await eventually(overdue_event)
    assert event.data["rule"] == "PROC-17"
    year = event.occurred_at.astimezone(CHINA_TZ).year

    for appraiser_id in APPRAISER_IDS:
        body = await record(api, auth, appraiser_url(appraiser_id), year)
        assert body["subject_kind"] == "appraiser" and body["institution_id"] == INSTITUTION.id
        assert body["counts"]["overdue_deadlines"] == 1
        evaluation = body["evaluation"]
        assert evaluation["provisional"] is True and evaluation["year"] == year
        assert (evaluation["score"], evaluation["grade"]) == (98, "A")
        assert evaluation["deductions"][0] == {
            "item": "overdue_deadline",
            "count": 1,
            "points_each": 2,
            "points": 2,
        }
    institution = await record(api, auth, institution_url(INSTITUTION.id), year)
    assert institution["counts"]["overdue_deadlines"] == 1 and institution["name"] == INSTITUTION.name
    # Not assigned, another institution, another year: nothing.
    assert (await record(api, auth, appraiser_url(PATHOLOGY_ONLY.id), year))["counts"][
        "overdue_deadlines"
    ] == 0
    other = await record(api, auth, institution_url(OTHER_INSTITUTION.id), year)
    assert other["counts"]["overdue_deadlines"] == 0
    assert (await record(api, auth, appraiser_url(FIRST), year - 1))["counts"]["overdue_deadlines"] == 0


async def test_each_subject_counts_only_the_clocks_it_answers_for(
    api: httpx.AsyncClient,
    auth: Auth,
    temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    today: date,
) -> None:
    """PROC-03 is the institution's clock: once it accepts late, the appraisers it
    names do not answer for it; each counts the clocks the rule table gives it."""
    late = await entrust(api, auth, received_on=(today - timedelta(days=30)).isoformat())
    # Brought in from paper already late: the rungs fire when the catch-up window ends.
    waiting = next(c for c in late["clocks"] if c["rule"] == "PROC-03")["next_rungs"]
    caught_up = max(datetime.fromisoformat(r["fires_at"]) for r in waiting)
    await temporal_env.sleep(caught_up - await temporal_env.get_current_time() + timedelta(minutes=1))

    async def escalated() -> AuditEventRow | None:
        async with sessions() as session:
            events = (
                await session.exec(select(AuditEventRow).where(AuditEventRow.commission_id == late["id"]))
            ).all()
        if "clock.escalation" not in {e.kind for e in events}:
            return None
        return next(e for e in events if e.kind == "clock.overdue")

    # Counted in the year the deadline passed (at its rung's instant), which on a day in
    # early January is the year before today.
    overdue_at = datetime.fromisoformat((await eventually(escalated)).data["rung_at"])
    response = await api.post(
        f"/v1/commissions/{late['id']}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert response.status_code == 200, response.text
    year = overdue_at.astimezone(CHINA_TZ).year
    assert (await record(api, auth, institution_url(INSTITUTION.id), year))["counts"][
        "overdue_deadlines"
    ] == 1
    assert (await record(api, auth, appraiser_url(FIRST), year))["counts"]["overdue_deadlines"] == 0

    # Rows as later rungs would write them: PROC-03 re-fired after a recomputation
    # (still one deadline), the appraisers' objection reply (CRT-7), the court's
    # refund ruling (TST-4, nobody's here); their clocks say overdue, as they would.
    recorded_at = overdue_at
    async with sessions() as session, session.begin():
        row = await session.get(Commission, late["id"])
        assert row is not None
        late_clocks = [{"rule": rule, "overdue": True} for rule in ("CRT-7", "TST-4")]
        row.snapshot = {**row.snapshot, "clocks": [*row.snapshot["clocks"], *late_clocks]}
        for seq, rule in enumerate(("PROC-03", "CRT-7", "TST-4"), start=1000):
            session.add(
                AuditEventRow(
                    workflow_id=f"commission-{late['id']}",
                    commission_id=late["id"],
                    seq=seq,
                    kind="clock.overdue",
                    actor_role="system",
                    actor_organisation_id="",
                    actor_subject="statutory-clock",
                    occurred_at=recorded_at,
                    data={"rule": rule},
                    prev_hash="",
                    hash="",
                )
            )
    assert (await record(api, auth, institution_url(INSTITUTION.id), year))["counts"][
        "overdue_deadlines"
    ] == 2
    for appraiser_id in APPRAISER_IDS:
        assert (await record(api, auth, appraiser_url(appraiser_id), year))["counts"][
            "overdue_deadlines"
        ] == 1


async def add_entries(sessions: async_sessionmaker[AsyncSession], *rows: tuple[str, str, str, date]) -> None:
    """(subject kind, subject id, kind, decided on): entries as a complaint's decision
    or a testimony's outcome writes them."""
    async with sessions() as session, session.begin():
        for number, (subject_kind, subject_id, kind, decided_on) in enumerate(rows):
            session.add(
                IntegrityEntryRow(
                    subject_kind=subject_kind,
                    subject_id=subject_id,
                    complaint_id=f"source-{number}",
                    bureau_id=BUREAU.id,
                    rule="TST-9" if kind == "refused_to_testify" else "CMP-8",
                    outcome=kind,
                    findings=f"findings {number}",
                    decided_on=decided_on,
                    recorded_at=datetime.now(UTC),
                )
            )


async def test_sanctions_refusals_and_reports_with_the_grade(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession], today: date
) -> None:
    year = today.year
    await issued_commission(api, auth)  # FIRST signs, SECOND dissents, the head issues
    await add_entries(
        sessions,
        ("appraiser", FIRST, "criticism_or_correction_order", date(year, 3, 1)),
        ("appraiser", FIRST, "industry_discipline", date(year, 1, 1)),
        ("appraiser", FIRST, "refused_to_testify", date(year, 12, 31)),
        ("appraiser", FIRST, "administrative_penalty_referral", date(year - 1, 12, 31)),
        ("institution", INSTITUTION.id, "criticism_or_correction_order", date(year, 3, 1)),
        ("appraiser", SECOND, "no_such_kind_counts_nowhere", date(year, 3, 1)),
    )

    first = await record(api, auth, appraiser_url(FIRST), year)
    assert first["counts"] == {
        "overdue_deadlines": 0,
        "refusals_to_testify": 1,
        "upheld_complaints": 2,
        "sanctions": {
            "criticism_or_correction_order": 1,
            "industry_discipline": 1,
            "administrative_penalty_referral": 0,
        },
        "administrative_penalties": 0,
        "training_shortfalls": 0,
        "inspection_findings": 0,
        "fee_violations": 0,
        "signed_reports": 1,
        "dissents": 0,
        "reports_issued": 1,
    }
    assert [(e["kind"], e["decided_on"]) for e in first["entries"]] == [
        ("industry_discipline", f"{year}-01-01"),
        ("criticism_or_correction_order", f"{year}-03-01"),
        ("refused_to_testify", f"{year}-12-31"),
    ]
    assert first["entries"][0]["link"] == "/v1/complaints/source-1" and first["entries"][2]["link"] is None
    # 100 - 5 - 15 - 20 = 60: the floor of C.
    assert (first["evaluation"]["score"], first["evaluation"]["grade"]) == (60, "C")

    second = await record(api, auth, appraiser_url(SECOND), year)
    assert (second["counts"]["signed_reports"], second["counts"]["dissents"]) == (0, 1)
    assert second["counts"]["upheld_complaints"] == 0 and second["evaluation"]["grade"] == "A"

    institution = await record(api, auth, institution_url(INSTITUTION.id), year)
    counts = institution["counts"]
    assert (counts["signed_reports"], counts["dissents"], counts["reports_issued"]) == (1, 1, 1)
    assert counts["upheld_complaints"] == 1 and counts["refusals_to_testify"] == 0
    assert (institution["evaluation"]["score"], institution["evaluation"]["grade"]) == (95, "A")

    previous = await record(api, auth, appraiser_url(FIRST), year - 1)
    assert previous["counts"]["sanctions"]["administrative_penalty_referral"] == 1
    assert previous["counts"]["signed_reports"] == 0
    assert (previous["evaluation"]["score"], previous["evaluation"]["grade"]) == (70, "C")


def test_the_grade_rule_follows_its_settings() -> None:
    counts = IntegrityCounts(
        overdue_deadlines=3,
        refusals_to_testify=0,
        upheld_complaints=1,
        sanctions=SanctionCounts(industry_discipline=1),
        signed_reports=9,
        dissents=1,
        reports_issued=9,
    )
    default = evaluate(
        counts, year=2026, rule=GradingRule(DEFAULT_INTEGRITY_DEDUCTIONS, DEFAULT_INTEGRITY_GRADE_FLOORS)
    )
    assert (default.score, default.grade) == (79, "B")  # 100 - 3 × 2 - 15
    strict = GradingRule({**DEFAULT_INTEGRITY_DEDUCTIONS, "overdue_deadline": 40}, {"A": 95, "B": 50})
    evaluation = evaluate(counts, year=2026, rule=strict)
    assert (evaluation.score, evaluation.grade) == (0, "D")  # never below zero
    assert evaluation.grade_floors == {"A": 95, "B": 50} and "provisional" in evaluation.rule
    with pytest.raises(ValueError, match="INTEGRITY_GRADE_FLOORS"):
        Settings(integrity_grade_floors={"A": 60, "B": 90})
    with pytest.raises(ValueError, match="INTEGRITY_DEDUCTIONS"):
        Settings(integrity_deductions={"overdue_deadline": 1})


async def test_who_may_read_it_and_bad_years(api: httpx.AsyncClient, auth: Auth, today: date) -> None:
    year = today.year
    for url in (appraiser_url(FIRST), institution_url(INSTITUTION.id)):
        for actor in (court_actor, institution_actor, head_actor, appraiser_actor(FIRST)):
            response = await api.get(url, headers=auth(actor))
            assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
        assert (await api.get(url, headers=auth(other_bureau))).status_code == 404
        assert (await api.get(url)).status_code == 401
        default_year = await api.get(url, headers=auth(supervisor))
        assert default_year.status_code == 200 and default_year.json()["year"] == year
        for bad, field in (("abc", "query.year"), ("1999", "query.year"), (str(year + 1), "year")):
            response = await api.get(url, params={"year": bad}, headers=auth(supervisor))
            assert response.status_code == 422, response.text
            assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    for unknown in (appraiser_url("no-such-appraiser"), institution_url("no-such-institution")):
        assert (await api.get(unknown, headers=auth(supervisor))).status_code == 404


async def test_complaints_naming_an_appraiser_appear_in_the_trace_and_the_record(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession], today: date
) -> None:
    cid = await issued_commission(api, auth)
    complaint = await register(api, auth, appraiser_id=FIRST, commission_id=cid)
    url = f"/v1/complaints/{complaint['id']}/decision"
    for step in (
        {"decision": "accept"},
        {"decision": "decide", "findings": "未按规定回避", "outcome": "criticism_or_correction_order"},
    ):
        response = await api.post(url, json=step, headers=auth(supervisor))
        assert response.status_code == 200, response.text
    # A complaint against the institution alone names no appraiser.
    await register(api, auth, reference="渝司投〔2026〕2号", appraiser_id=None)

    trace = await api.get(f"/v1/supervision/appraisers/{FIRST}/trace", headers=auth(supervisor))
    assert trace.status_code == 200, trace.text
    items = trace.json()["items"]
    instants = [datetime.fromisoformat(i["at"]) for i in items]  # not the text: "…02Z" sorts after "…02.08Z"
    assert instants == sorted(instants)
    commission_kinds = [i["kind"] for i in items if i["complaint_id"] is None]
    assert commission_kinds == ["commission.accepted", "report.submitted", "report.signed", "report.issued"]
    complaint_items = [i for i in items if i["complaint_id"] is not None]
    assert [i["kind"] for i in complaint_items] == [
        "complaint.registered",
        "complaint.accepted",
        "complaint.decided",
        "integrity.recorded",
    ]
    for item in complaint_items:
        assert (
            item["complaint_id"] == complaint["id"] and item["complaint_reference"] == complaint["reference"]
        )
        assert item["commission_id"] == cid and item["court_reference"] == "REF-AUDIT-1"
        assert item["audit_event"] == f"/v1/complaints/{complaint['id']}/audit#seq-{item['seq']}"
        assert item["verified"] is True
        assert "complainant" not in item["details"]
    assert complaint_items[2]["details"]["outcome"] == "criticism_or_correction_order"
    second = (await api.get(f"/v1/supervision/appraisers/{SECOND}/trace", headers=auth(supervisor))).json()
    assert all(i["complaint_id"] is None for i in second["items"])

    # A complaint event edited in the database: the trace says so from that event on.
    async with sessions() as session, session.begin():
        decided = (
            await session.exec(
                select(AuditEventRow).where(
                    col(AuditEventRow.commission_id) == complaint["id"],
                    AuditEventRow.kind == "complaint.decided",
                )
            )
        ).one()
        decided.data = {**decided.data, "outcome": "no_action"}
        session.add(decided)
    tampered = (await api.get(f"/v1/supervision/appraisers/{FIRST}/trace", headers=auth(supervisor))).json()
    verified = [i["verified"] for i in tampered["items"] if i["complaint_id"] is not None]
    assert verified == [True, True, False, False]

    body = await record(api, auth, appraiser_url(FIRST), today.year)  # the day of the decision
    assert body["counts"]["upheld_complaints"] == 1
    assert [(e["kind"], e["source_id"], e["link"]) for e in body["entries"]] == [
        ("criticism_or_correction_order", complaint["id"], f"/v1/complaints/{complaint['id']}")
    ]
    assert body["evaluation"]["score"] == 95
