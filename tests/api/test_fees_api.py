"""The fee (鉴定费) through the REST API: the bureau's charging standard, a quote above it refused,
the paying party's answer, the prepayment a court's civil case requires before the examination
(CRT-1), a payment with its external reference, the refund a withdrawal computes (FEE-3) paid
back after the commission ended; every money movement an event of the commission's chain."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.core.settings import Settings
from appraisal.db.models import Notification
from appraisal.domain.calendar import CHINA_TZ
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU
from appraisal.services import integrity
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.factories import appraiser_actor, court_actor, head_actor, institution_actor, signature
from tests.workflows.test_commission_workflow import eventually

Auth = Callable[[Actor], dict[str, str]]
SUPERVISOR = Actor(Role.SUPERVISOR, BUREAU.id, "fees-officer")
MATTER = "伤残等级评定"
STANDARD = {
    "category": "forensic_clinical",
    "matter": MATTER,
    "ceiling": "1800.00",
    "source": "重庆市司法鉴定收费标准 法医临床 伤残等级评定 (test)",
}


async def set_standard(api: httpx.AsyncClient, auth: Auth, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/v1/fee-standards", json=STANDARD | overrides, headers=auth(SUPERVISOR))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def register_party(
    api: httpx.AsyncClient, auth: Auth, commission_id: str, organ: Actor = court_actor, **person: Any
) -> tuple[str, dict[str, str]]:
    """A party registered by the organ, signed in by its one-time link: (its id, its headers)."""
    body = {"name": "张三", "side": "plaintiff", "phone": "13800000000"} | person
    registered = await api.post(
        f"/v1/commissions/{commission_id}/parties", json={"parties": [body]}, headers=auth(organ)
    )
    assert registered.status_code == 201, registered.text
    (entry,) = registered.json()["parties"]
    token = entry["sign_in_link"].rsplit("/", 1)[1]
    signed = await api.post("/v1/party-sign-in", json={"token": token})
    assert signed.status_code == 200, signed.text
    return entry["party"]["id"], {"Authorization": f"Bearer {signed.json()['access_token']}"}


async def issue(api: httpx.AsyncClient, auth: Auth, cid: str) -> str:
    """Accepted, examined, signed by both appraisers and issued: the issue's sequence."""
    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200, accepted.text
    first = appraiser_actor(APPRAISER_IDS[0])
    report = await api.post(
        f"/v1/commissions/{cid}/report",
        json={"content": "检验所见", "opinion": "构成十级伤残"},
        headers=auth(first),
    )
    assert report.status_code == 200, report.text
    content_hash = report.json()["report"]["content_hash"]
    for appraiser_id in APPRAISER_IDS:
        signed = await api.post(
            f"/v1/commissions/{cid}/signatures",
            json={"kind": "sign", "signature": signature(appraiser_id, content_hash)},
            headers=auth(appraiser_actor(appraiser_id)),
        )
        assert signed.status_code == 200, signed.text
    issued = await api.post(f"/v1/commissions/{cid}/issue", json={}, headers=auth(head_actor))
    assert issued.status_code == 200, issued.text
    return issued.headers["X-Seq"]


def refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == code, response.text


async def test_quote_prepayment_and_refund_on_withdrawal(
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
) -> None:
    standard = await set_standard(api, auth)
    assert standard["ceiling"] == "1800.00" and standard["source"].startswith("重庆市")
    listed = await api.get(
        "/v1/fee-standards", params={"category": "forensic_clinical"}, headers=auth(court_actor)
    )
    assert [s["id"] for s in listed.json()] == [standard["id"]]

    commission = await entrust(api, auth, court_reference="(2026)渝0103民初77号-鉴1")
    cid = commission["id"]
    party_id, party = await register_party(api, auth, cid)
    quote_path = f"/v1/commissions/{cid}/fee/quote"

    # Above the charging standard: refused by the workflow's validator, nothing recorded.
    above = {"items": [{"matter": MATTER, "amount": "1800.01"}], "payer": "party", "payer_party_id": party_id}
    refused(await api.post(quote_path, json=above, headers=auth(institution_actor)), "fee_above_standard")
    stranger = {"items": [{"matter": "亲子鉴定", "amount": "100"}], "payer": "entruster"}
    refused(await api.post(quote_path, json=stranger, headers=auth(institution_actor)), "unknown_matter")

    quote = {"items": [{"matter": MATTER, "amount": "1500.00"}], "payer": "party", "payer_party_id": party_id}
    quoted = await api.post(quote_path, json=quote, headers=auth(institution_actor))
    assert quoted.status_code == 200, quoted.text
    fee = quoted.json()["fee"]
    assert fee["total"] == "1500.00" and fee["status"] == "quoted" and fee["prepayment_required"] is True
    assert (
        fee["items"][0]["standard_ceiling"] == "1800.00" and fee["items"][0]["standard_id"] == standard["id"]
    )

    # CRT-1: the examination does not begin before the party prepaid.
    acceptance = {"decision": "accept", "appraiser_ids": APPRAISER_IDS}
    accept_path = f"/v1/commissions/{cid}/acceptance"
    refused(await api.post(accept_path, json=acceptance, headers=auth(institution_actor)), "fee_not_prepaid")

    # Only the party named answers; the court may not, nor may anything be paid before.
    answer_path = f"/v1/commissions/{cid}/fee/answer"
    refused(await api.post(answer_path, json={"accepted": True}, headers=auth(court_actor)), "wrong_actor")
    pay_path = f"/v1/commissions/{cid}/fee/payments"
    payment = {"amount": "1500.00", "reference": "ICBC-20261201-0042"}
    refused(await api.post(pay_path, json=payment, headers=auth(institution_actor)), "fee_not_agreed")
    answered = await api.post(answer_path, json={"accepted": True}, headers=party)
    assert answered.status_code == 200, answered.text
    assert answered.json()["fee"]["status"] == "accepted"
    assert answered.json()["interference"] == [] and answered.json()["open_tasks"] == []

    over = {"amount": "1500.01", "reference": "ICBC-X"}
    refused(await api.post(pay_path, json=over, headers=auth(institution_actor)), "overpayment")
    paid = await api.post(pay_path, json=payment, headers=auth(institution_actor))
    assert paid.status_code == 200, paid.text
    assert paid.json()["fee"]["paid"] == "1500.00"

    # Withdrawn before the examination began: everything paid comes back (FEE-3).
    withdrawn = await api.post(
        f"/v1/commissions/{cid}/withdrawal", json={"reason": "当事人和解"}, headers=auth(court_actor)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    body = withdrawn.json()
    assert body["stage"] == "withdrawn"
    refund = body["fee"]["refund"]
    assert refund["rule"] == "FEE-3" and refund["minimum"] == "1500.00" and refund["status"] == "ordered"
    assert refund["payee_kind"] == "party" and refund["payee_id"] == party_id
    assert any(c["rule"] == "FEE-2" and not c["stopped"] for c in body["clocks"])

    refund_path = f"/v1/commissions/{cid}/fee/refund"
    short = {"amount": "1000.00", "reference": "ICBC-R1", "retained_reason": "已做的工作"}
    refused(await api.post(refund_path, json=short, headers=auth(institution_actor)), "refund_too_small")
    back = await api.post(
        refund_path, json={"amount": "1500.00", "reference": "ICBC-R-0007"}, headers=auth(institution_actor)
    )
    assert back.status_code == 200, back.text
    assert back.json()["fee"]["refund"]["status"] == "refunded"
    assert back.json()["fee"]["refund"]["amount"] == "1500.00"

    # The workflow waited for the refund, and ends now; nothing more reaches it.
    final = await temporal_env.client.get_workflow_handle(commission["workflow_id"]).result()
    assert final["stage"] == "withdrawn" and final["fee"]["refund"]["status"] == "refunded"
    refused(
        await api.post(
            refund_path, json={"amount": "1", "reference": "again"}, headers=auth(institution_actor)
        ),
        "not_in_stage",
    )

    # Every money movement is a link of the commission's chain, and the chain verifies.
    trail = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
    kinds = [e["kind"] for e in trail]
    money = [k for k in kinds if k.startswith("fee.")]
    assert money == ["fee.quoted", "fee.accepted", "fee.paid", "fee.refund_ordered", "fee.refunded"]
    paid_event = next(e for e in trail if e["kind"] == "fee.paid")
    assert paid_event["data"]["amount"] == 150000 and paid_event["data"]["reference"] == "ICBC-20261201-0042"
    verdict = (await api.get(f"/v1/commissions/{cid}/verify", headers=auth(court_actor))).json()
    assert verdict["ok"] is True, verdict

    # The paying party was told by SMS (the log channel in tests): each delivery recorded.
    async with sessions() as session:
        rows = (
            await session.exec(
                select(Notification).where(
                    Notification.receiver_role == Role.PARTY, Notification.receiver_id == party_id
                )
            )
        ).all()
    kinds_told = {n.kind for n in rows}
    assert {"party.registered", "fee.quoted", "fee.paid", "fee.refund_ordered", "fee.refunded"} <= kinds_told
    assert all(n.channel == "sms" for n in rows)
    assert all("payload" not in n.payload or True for n in rows)
    assert all(set(n.payload) == {"kind", "seq", "occurred_at"} for n in rows), "a party never gets the event"


async def test_an_organ_pays_a_termination_refunds_what_the_work_left(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    await set_standard(api, auth, matter="", ceiling="3000")
    commission = await entrust(api, auth, court_reference="(2026)渝0103民初78号-鉴1")
    cid = commission["id"]
    quoted = await api.post(
        f"/v1/commissions/{cid}/fee/quote",
        json={"items": [{"matter": MATTER, "amount": "2000"}]},
        headers=auth(institution_actor),
    )
    assert quoted.status_code == 200, quoted.text
    assert quoted.json()["fee"]["prepayment_required"] is False, "the court pays: nothing to prepay (CRT-1)"
    assert (
        await api.post(
            f"/v1/commissions/{cid}/fee/answer", json={"accepted": True}, headers=auth(court_actor)
        )
    ).status_code == 200
    accepted = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    assert accepted.status_code == 200, accepted.text
    paid = await api.post(
        f"/v1/commissions/{cid}/fee/payments",
        json={"amount": "2000", "reference": "法院代管款-1"},
        headers=auth(court_actor),
    )
    assert paid.status_code == 200, paid.text
    terminated = await api.post(
        f"/v1/commissions/{cid}/termination",
        json={"ground": "PROC-20-5", "reason": "不可抗力"},
        headers=auth(institution_actor),
    )
    refund = terminated.json()["fee"]["refund"]
    # After the examination began, on a ground not the institution's own: it may keep the cost of
    # the work done, with reasons (PROC-21); the legacy refund fields stay as they were.
    assert refund["rule"] == "PROC-21" and refund["minimum"] == "0.00" and refund["paid"] == "2000.00"
    assert terminated.json()["refund"]["rule"] == "PROC-21"
    path = f"/v1/commissions/{cid}/fee/refund"
    no_reason = await api.post(
        path, json={"amount": "1200", "reference": "R-1"}, headers=auth(institution_actor)
    )
    assert no_reason.status_code == 409 and no_reason.json()["error"]["code"] == "reason_required"
    kept = await api.post(
        path,
        json={"amount": "1200", "reference": "R-1", "retained_reason": "已完成检验 800 元"},
        headers=auth(institution_actor),
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["fee"]["refund"]["retained_reason"] == "已完成检验 800 元"


async def test_a_standard_replaced_and_a_quote_without_one(api: httpx.AsyncClient, auth: Auth) -> None:
    commission = await entrust(api, auth, court_reference="(2026)渝0103民初79号-鉴1")
    cid = commission["id"]
    quote = {"items": [{"matter": MATTER, "amount": "100"}]}
    refused(
        await api.post(f"/v1/commissions/{cid}/fee/quote", json=quote, headers=auth(institution_actor)),
        "no_fee_standard",
    )
    first = await set_standard(api, auth)
    second = await set_standard(api, auth, ceiling="2000.00", source="新标准 (test)")
    history = (
        await api.get("/v1/fee-standards", params={"history": "true"}, headers=auth(SUPERVISOR))
    ).json()
    superseded = {s["id"]: s["superseded_at"] for s in history}
    assert superseded[first["id"]] is not None and superseded[second["id"]] is None
    changes = (await api.get("/v1/registry/changes", headers=auth(SUPERVISOR))).json()
    assert [c["entity_kind"] for c in changes if c["entity_id"] in superseded] == [
        "fee_standard",
        "fee_standard",
    ]
    ok = await api.post(
        f"/v1/commissions/{cid}/fee/quote",
        json={"items": [{"matter": MATTER, "amount": "1999.99"}]},
        headers=auth(institution_actor),
    )
    assert ok.status_code == 200, ok.text
    not_a_supervisor = await api.post("/v1/fee-standards", json=STANDARD, headers=auth(court_actor))
    assert not_a_supervisor.status_code == 403


@pytest.mark.dated
async def test_a_refund_paid_back_late_is_a_fee_violation(
    api: httpx.AsyncClient,
    auth: Auth,
    temporal_env: WorkflowEnvironment,
    today: date,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await set_standard(api, auth)
    commission = await entrust(api, auth, court_reference="(2026)渝0103民初80号-鉴1")
    cid = commission["id"]
    quote = {"items": [{"matter": MATTER, "amount": "1000"}]}
    assert (
        await api.post(f"/v1/commissions/{cid}/fee/quote", json=quote, headers=auth(institution_actor))
    ).status_code == 200
    assert (
        await api.post(
            f"/v1/commissions/{cid}/fee/answer", json={"accepted": True}, headers=auth(court_actor)
        )
    ).status_code == 200
    paid = await api.post(
        f"/v1/commissions/{cid}/fee/payments",
        json={"amount": "1000", "reference": "P-1"},
        headers=auth(court_actor),
    )
    assert paid.status_code == 200, paid.text
    refused_here = await api.post(
        f"/v1/commissions/{cid}/acceptance",
        json={"decision": "refuse", "ground": "PROC-05-5", "reason": "超出技术能力"},
        headers=auth(institution_actor),
    )
    assert refused_here.status_code == 200, refused_here.text
    refund = refused_here.json()["fee"]["refund"]
    assert refund["rule"] == "PROC-07" and refund["minimum"] == "1000.00"
    due_on = next(c["due_on"] for c in refused_here.json()["clocks"] if c["rule"] == "FEE-2")
    assert (await api.get("/v1/tasks", headers=auth(institution_actor))).json()[0]["kind"] == "record_refund"

    # Past FEE-2's 10 working days and the escalation's 5 more: the rungs fire, the bureau is told;
    # the institution's record of that year counts a fee violation, not an overdue deadline. (Read
    # through the service: the API's today stays the test's first day, and the rung may fall in the
    # next year.)
    await temporal_env.sleep(timedelta(days=40))

    async def escalated() -> list[str] | None:
        trail = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
        kinds = [e["kind"] for e in trail]
        return kinds if "clock.escalation" in kinds else None

    assert "clock.overdue" in await eventually(escalated)
    async with sessions() as session:
        record = await integrity.institution_record(
            session=session,
            institution_id=commission["institution_id"],
            bureau_id=BUREAU.id,
            year=date.fromisoformat(due_on).year,
            rule=integrity.GradingRule.of(settings),
        )
    assert record.counts.fee_violations == 1 and record.counts.overdue_deadlines == 0, record.counts
    back = await api.post(
        f"/v1/commissions/{cid}/fee/refund",
        json={"amount": "1000", "reference": "R-late"},
        headers=auth(institution_actor),
    )
    assert back.status_code == 200, back.text
    assert back.json()["fee"]["refund"]["late"] is True
    trail = [
        e["kind"] for e in (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
    ]
    assert "clock.overdue" in trail and "clock.escalation" in trail and trail[-1] == "fee.refunded"
    assert today.isoformat() <= due_on


@pytest.mark.dated
async def test_a_refusal_to_testify_refunds_what_the_court_paid(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    await set_standard(api, auth)
    commission = await entrust(api, auth, court_reference="(2026)渝0103民初81号-鉴1")
    cid = commission["id"]
    for path, body, actor in (
        ("fee/quote", {"items": [{"matter": MATTER, "amount": "1200"}]}, institution_actor),
        ("fee/answer", {"accepted": True}, court_actor),
        ("fee/payments", {"amount": "1200", "reference": "P-TST"}, court_actor),
    ):
        taken = await api.post(f"/v1/commissions/{cid}/{path}", json=body, headers=auth(actor))
        assert taken.status_code == 200, taken.text
    await issue(api, auth, cid)
    appraiser = APPRAISER_IDS[0]
    hearing_at = (await temporal_env.get_current_time() + timedelta(days=5)).astimezone(CHINA_TZ)
    summoned = await api.post(
        f"/v1/commissions/{cid}/testimony",
        json={"hearing_at": hearing_at.isoformat(), "place": "第一法庭", "appraiser_ids": [appraiser]},
        headers=auth(court_actor),
    )
    assert summoned.status_code == 200, summoned.text
    tid = summoned.json()["testimonies"][0]["testimony_id"]
    await temporal_env.sleep(hearing_at - await temporal_env.get_current_time() + timedelta(hours=3))
    url = f"/v1/commissions/{cid}/testimony/{tid}"
    absent = {"results": {appraiser: "absent_without_valid_reason"}}
    assert (await api.post(f"{url}/outcome", json=absent, headers=auth(court_actor))).status_code == 200
    ruled = await api.post(f"{url}/refund-ruling", json={"ordered": True}, headers=auth(court_actor))
    assert ruled.status_code == 200, ruled.text

    async def refund_ordered() -> dict[str, Any] | None:
        current = (await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))).json()
        fee = current["fee"]
        return fee["refund"] if fee and fee["refund"] else None

    refund = await eventually(refund_ordered)
    assert refund["rule"] == "TST-4" and refund["minimum"] == "1200.00" and refund["payee_kind"] == "court"
    back = await api.post(
        f"/v1/commissions/{cid}/fee/refund",
        json={"amount": "1200", "reference": "R-TST"},
        headers=auth(institution_actor),
    )
    assert back.status_code == 200, back.text
