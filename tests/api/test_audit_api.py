"""Tamper evidence (全程留痕) and the reverse trace (倒查), against rows edited,
deleted and reordered directly in PostgreSQL."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from appraisal.activities.anchor import (
    TRAIL_CHANGED,
    AnchorActivities,
    AnchorDeliveryRequest,
    AnchorDeliveryResult,
    AnchorOutput,
    AnchorRequest,
)
from appraisal.core.anchor_file import anchor_key
from appraisal.core.signing import public_key_b64
from appraisal.db.models import AnchorDelivery, AuditEventRow, Commission
from appraisal.domain.audit import chain_hash, hash_of_heads
from appraisal.domain.calendar import local_today
from appraisal.domain.events import chained_fields
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU, COURTS, OTHER_BUREAU
from appraisal.services.audit import AnchorFileVerdict, verify_anchor_file
from appraisal.workflows.anchor import (
    DailyAnchorInput,
    DailyAnchorWorkflow,
    delivery_workflow_id,
)
from tests.api.test_commissions_api import APPRAISER_IDS, entrust, entrustment
from tests.factories import appraiser_actor, court_actor, head_actor, institution_actor, signature
from tests.workflows.test_commission_workflow import eventually

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")


async def issued_commission(
    api: httpx.AsyncClient, auth: Auth, reference: str = "REF-AUDIT-1", **overrides: Any
) -> str:
    cid = str((await entrust(api, auth, reference=reference, **overrides))["id"])
    url = f"/v1/commissions/{cid}"
    first, second = (appraiser_actor(a) for a in APPRAISER_IDS)
    await api.post(
        f"{url}/acceptance",
        json={"decision": "accept", "appraiser_ids": APPRAISER_IDS},
        headers=auth(institution_actor),
    )
    report = await api.post(
        f"{url}/report", json={"content": "检验所见", "opinion": "十级伤残"}, headers=auth(first)
    )
    report_hash = report.json()["report"]["content_hash"]
    await api.post(
        f"{url}/signatures",
        json={"kind": "sign", "signature": signature(first.organisation_id, report_hash)},
        headers=auth(first),
    )
    statement = "应为九级"
    dissent = {
        "kind": "dissent",
        "statement": statement,
        "signature": signature(second.organisation_id, report_hash, "dissent", statement),
    }
    await api.post(f"{url}/signatures", json=dissent, headers=auth(second))
    issued = await api.post(f"{url}/issue", json={}, headers=auth(head_actor))
    assert issued.status_code == 200, issued.text
    await sealed(api, auth, cid)
    return cid


async def sealed(api: httpx.AsyncClient, auth: Auth, cid: str, versions: int = 1) -> None:
    """Returns once the institution's seal of each issued version is in the trail: it follows
    the issue beside the main path, a moment later."""

    async def recorded() -> bool | None:
        trail = (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
        return True if sum(e["kind"] == "report.sealed" for e in trail) >= versions else None

    await eventually(recorded, within=60)


async def rewrite_whole_chain(
    sessions: async_sessionmaker[AsyncSession], cid: str, edit: Callable[[AuditEventRow], None]
) -> list[AuditEventRow]:
    """What an insider with write access does: edits events, then recomputes every hash
    after them and the commission's head, so the chain links again."""
    async with sessions() as session, session.begin():
        rows = list(
            (
                await session.exec(
                    select(AuditEventRow)
                    .where(AuditEventRow.commission_id == cid)
                    .order_by(col(AuditEventRow.seq))
                )
            ).all()
        )
        prev = ""
        for row in rows:
            edit(row)
            row.prev_hash = prev
            row.hash = chain_hash(prev, chained_fields(row))
            prev = row.hash
            session.add(row)
        commission = await session.get(Commission, cid)
        assert commission is not None
        commission.snapshot = {**commission.snapshot, "last_hash": prev}
        session.add(commission)
    return rows


async def verdict(api: httpx.AsyncClient, auth: Auth, cid: str) -> dict[str, Any]:
    response = await api.get(f"/v1/commissions/{cid}/verify", headers=auth(court_actor))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_an_untouched_trail_verifies_with_every_signature(api: httpx.AsyncClient, auth: Auth) -> None:
    cid = await issued_commission(api, auth)
    result = await verdict(api, auth, cid)
    assert result["ok"] is True and result["broken_at"] is None, result
    assert result["events"] == 7 and result["signatures_checked"] == 2 and len(result["head"]) == 64


async def test_edits_deletions_and_reordering_are_caught_where_they_happen(
    api: httpx.AsyncClient, auth: Auth, engine: AsyncEngine
) -> None:
    cid = await issued_commission(api, auth)

    async def sql(statement: str) -> None:
        async with engine.begin() as conn:
            await conn.execute(text(statement), {"cid": cid})

    # An edited opinion in the report's event.
    await sql(
        "update audit_event set data = jsonb_set(data, '{opinion}', '\"九级伤残\"') where commission_id = :cid and seq = 3"
    )
    edited = await verdict(api, auth, cid)
    assert (edited["ok"], edited["broken_at"]) == (False, 3) and "edited" in edited["reason"]
    await sql(
        "update audit_event set data = jsonb_set(data, '{opinion}', '\"十级伤残\"') where commission_id = :cid and seq = 3"
    )
    assert (await verdict(api, auth, cid))["ok"] is True

    # Two events swapped.
    await sql("update audit_event set seq = -2 where commission_id = :cid and seq = 2")
    await sql("update audit_event set seq = 2 where commission_id = :cid and seq = 3")
    await sql("update audit_event set seq = 3 where commission_id = :cid and seq = -2")
    reordered = await verdict(api, auth, cid)
    assert (reordered["ok"], reordered["broken_at"]) == (False, 2) and "does not link" in reordered["reason"]
    await sql("update audit_event set seq = -2 where commission_id = :cid and seq = 2")
    await sql("update audit_event set seq = 2 where commission_id = :cid and seq = 3")
    await sql("update audit_event set seq = 3 where commission_id = :cid and seq = -2")
    assert (await verdict(api, auth, cid))["ok"] is True

    # A signature whose key disappears from the registry.
    async with engine.begin() as conn:
        fingerprint = (
            await conn.execute(
                text(
                    "select data->>'key_fingerprint' from audit_event where commission_id = :cid and seq = 4"
                ),
                {"cid": cid},
            )
        ).scalar_one()
        saved = (
            (
                await conn.execute(
                    text("select * from appraiser_key where fingerprint = :f"), {"f": fingerprint}
                )
            )
            .mappings()
            .one()
        )
        await conn.execute(text("delete from appraiser_key where fingerprint = :f"), {"f": fingerprint})
    unsigned = await verdict(api, auth, cid)
    assert (unsigned["ok"], unsigned["broken_at"]) == (False, 4) and "not registered" in unsigned["reason"]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "insert into appraiser_key values (:fingerprint, :appraiser_id, :public_key, :valid_from, :valid_until)"
            ),
            dict(saved),
        )

    # An event deleted in the middle, then the last one.
    await sql("delete from audit_event where commission_id = :cid and seq = 5")
    deleted = await verdict(api, auth, cid)
    assert (deleted["ok"], deleted["broken_at"]) == (False, 5) and "missing" in deleted["reason"]
    await sql("delete from audit_event where commission_id = :cid and seq >= 6")  # the issue, the seal
    truncated = await verdict(api, auth, cid)
    assert (truncated["ok"], truncated["broken_at"]) == (False, 5) and "ends at 4" in truncated["reason"]


async def test_reverse_trace_of_an_appraiser(api: httpx.AsyncClient, auth: Auth, engine: AsyncEngine) -> None:
    cid = await issued_commission(api, auth)
    appraiser = APPRAISER_IDS[1]
    response = await api.get(f"/v1/supervision/appraisers/{appraiser}/trace", headers=auth(supervisor))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    kinds = [i["kind"] for i in items]
    assert kinds == ["commission.accepted", "report.dissented", "report.issued"]
    assert all(i["commission_id"] == cid and i["verified"] for i in items)
    assert items[1]["details"]["statement"] == "应为九级" and items[1]["audit_event"].endswith("#seq-5")
    times = [i["at"] for i in items]
    assert times == sorted(times)

    async with engine.begin() as conn:
        await conn.execute(
            text(
                "update audit_event set data = jsonb_set(data, '{statement}', '\"同意\"') where commission_id = :cid and seq = 5"
            ),
            {"cid": cid},
        )
    tampered = (
        await api.get(f"/v1/supervision/appraisers/{appraiser}/trace", headers=auth(supervisor))
    ).json()["items"]
    assert [i["verified"] for i in tampered] == [True, False, False]

    other_bureau = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspector")
    assert (
        await api.get(f"/v1/supervision/appraisers/{appraiser}/trace", headers=auth(other_bureau))
    ).status_code == 404
    assert (
        await api.get(f"/v1/supervision/appraisers/{appraiser}/trace", headers=auth(court_actor))
    ).status_code == 403


@pytest.mark.dated
async def test_daily_anchor_covers_every_chain_head(
    api: httpx.AsyncClient,
    auth: Auth,
    engine: AsyncEngine,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    first = await issued_commission(api, auth, "REF-ANCHOR-1")
    await issued_commission(api, auth, "REF-ANCHOR-2")
    # A read given the steps' sequences: the trail holds every step before the day is anchored.
    assert (await api.get(f"/v1/commissions/{first}", headers=auth(court_actor))).status_code == 200
    day = local_today(await temporal_env.get_current_time())
    result = await temporal_env.client.execute_workflow(
        DailyAnchorWorkflow.run,
        DailyAnchorInput(day=day.isoformat()),
        id=f"anchor-{day}",
        task_queue=task_queue,
    )
    assert result.chains == 2 and len(result.heads_hash) == 64
    # The courts' copies go out from a child of their own (this worker holds no key: none sent).
    delivery = temporal_env.client.get_workflow_handle(
        delivery_workflow_id(day.isoformat()), result_type=AnchorDeliveryResult
    )
    assert await delivery.result() == AnchorDeliveryResult()
    check = await api.get(f"/v1/supervision/anchors/{day}", headers=auth(supervisor))
    assert check.status_code == 200 and check.json()["ok"] is True
    assert (await api.get(f"/v1/supervision/anchors/{day}", headers=auth(court_actor))).status_code == 403
    assert (await api.get("/v1/supervision/anchors/2001-01-01", headers=auth(supervisor))).status_code == 404

    # Rewriting a whole tail consistently still moves the head the anchor fixed.
    async with engine.begin() as conn:
        await conn.execute(
            text("delete from audit_event where commission_id = :cid and seq >= 6"), {"cid": first}
        )
    assert (await api.get(f"/v1/supervision/anchors/{day}", headers=auth(supervisor))).json()["ok"] is False


async def test_a_report_rewritten_with_its_whole_chain_recomputed_is_caught(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """An insider with write access edits the opinion and recomputes every hash after it and
    the commission's head: the chain links, but the report no longer hashes to what was signed."""
    cid = await issued_commission(api, auth, "REF-AUDIT-INSIDER")
    assert (await verdict(api, auth, cid))["ok"] is True

    def new_opinion(row: AuditEventRow) -> None:
        if row.kind == "report.submitted":
            row.data = {**row.data, "opinion": "未见伤残"}

    rows = await rewrite_whole_chain(sessions, cid, new_opinion)
    rewritten = await verdict(api, auth, cid)
    submitted = next(r.seq for r in rows if r.kind == "report.submitted")
    assert (rewritten["ok"], rewritten["broken_at"]) == (False, submitted)
    assert "no longer hashes" in rewritten["reason"]


async def test_an_event_rewritten_with_its_whole_chain_recomputed_is_caught_by_the_history(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """An insider rewrites who accepted (no report, no signature involved) and recomputes every
    hash and the head: the chain links and every signature holds, but the workflow's own
    Temporal history recorded another event under that number."""
    cid = await issued_commission(api, auth, "REF-AUDIT-HISTORY")
    untouched = await verdict(api, auth, cid)
    assert untouched["ok"] is True and untouched["history_checked"] == untouched["events"] == 7

    def someone_else_accepted(row: AuditEventRow) -> None:
        if row.kind == "commission.accepted":
            row.actor_subject = "someone-else"

    rows = await rewrite_whole_chain(sessions, cid, someone_else_accepted)
    rewritten = await verdict(api, auth, cid)
    accepted = next(r.seq for r in rows if r.kind == "commission.accepted")
    assert (rewritten["ok"], rewritten["broken_at"]) == (False, accepted)
    assert "Temporal history" in rewritten["reason"]
    assert rewritten["signatures_checked"] == 2  # the chain and signatures alone would have passed


@pytest.mark.dated
async def test_the_signed_anchor_file_catches_a_rewritten_trail_and_a_rewritten_file(
    api: httpx.AsyncClient,
    auth: Auth,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    cid = await issued_commission(api, auth, "REF-ANCHOR-FILE")
    assert (await api.get(f"/v1/commissions/{cid}", headers=auth(court_actor))).status_code == 200
    day = local_today(await temporal_env.get_current_time()).isoformat()
    key = anchor_key("")
    written = AnchorActivities(sessions, AnchorOutput(tmp_path / "anchors", key)).write_daily_anchor
    await written(AnchorRequest(day))
    doc = json.loads((tmp_path / "anchors" / f"audit-anchor-{day}.json").read_text(encoding="utf-8"))
    bureau = public_key_b64(key)

    async def verdict_of(document: dict[str, Any], public_key: str = bureau) -> AnchorFileVerdict:
        async with sessions() as session:
            return await verify_anchor_file(session=session, doc=document, public_key=public_key)

    untouched = await verdict_of(doc)
    assert (
        untouched.ok
        and untouched.chains >= 1
        and doc["heads_hash"]
        == hash_of_heads([(h["workflow_id"], h["seq"], h["hash"]) for h in doc["heads"]])
    )
    assert not (await verdict_of({**doc, "heads_hash": "0" * 64})).signed  # the file edited
    stranger = public_key_b64(Ed25519PrivateKey.generate())
    assert not (await verdict_of(doc, stranger)).signed  # another key than the bureau's

    async with engine.begin() as conn:  # the trail's tail rewritten in PostgreSQL
        await conn.execute(
            text("delete from audit_event where commission_id = :cid and seq >= 6"), {"cid": cid}
        )
    rewritten = await verdict_of(doc)
    assert rewritten.signed and not rewritten.ok
    assert [line.split(":")[0] for line in rewritten.differing] == [f"commission-{cid}"]


@pytest.mark.dated
async def test_each_court_receives_its_own_signed_share_of_the_anchor(
    api: httpx.AsyncClient,
    auth: Auth,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    mine = await issued_commission(api, auth, "REF-ANCHOR-COURT")
    other_court = Actor(Role.COURT, COURTS[1].id, "clerk")
    elsewhere = await api.post(
        "/v1/commissions", json=entrustment("REF-ANCHOR-OTHER"), headers=auth(other_court)
    )
    assert elsewhere.status_code == 201, elsewhere.text
    assert (await api.get(f"/v1/commissions/{mine}", headers=auth(court_actor))).status_code == 200
    hook = "http://court-system.test/anchors"
    assert (
        await api.put("/v1/notifications/webhook", json={"url": hook}, headers=auth(court_actor))
    ).status_code == 200
    day = local_today(await temporal_env.get_current_time()).isoformat()
    key = anchor_key("")
    output = AnchorOutput(tmp_path / "anchors", key)
    await AnchorActivities(sessions, output).write_daily_anchor(AnchorRequest(day))

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    with pytest.raises(RuntimeError, match="will retry"):
        await AnchorActivities(
            sessions, output, httpx.AsyncClient(transport=httpx.MockTransport(down))
        ).deliver_daily_anchor(AnchorDeliveryRequest(day))
    received: list[httpx.Request] = []

    def up(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    delivering = AnchorActivities(sessions, output, httpx.AsyncClient(transport=httpx.MockTransport(up)))
    assert await delivering.deliver_daily_anchor(AnchorDeliveryRequest(day)) == AnchorDeliveryResult(
        delivered=1, without_endpoint=1
    )
    async with sessions() as session:
        rows = {r.court_id: r for r in (await session.exec(select(AnchorDelivery))).all()}
    assert rows[court_actor.organisation_id].status == "delivered"
    assert rows[court_actor.organisation_id].attempts == 2
    assert rows[other_court.organisation_id].status == "no_endpoint"
    check = (await api.get(f"/v1/supervision/anchors/{day}", headers=auth(supervisor))).json()
    assert {(d["court_id"], d["status"], d["chains"]) for d in check["deliveries"]} == {
        (court_actor.organisation_id, "delivered", 1),
        (other_court.organisation_id, "no_endpoint", 1),
    }
    elsewhere_check = await api.get(
        f"/v1/supervision/anchors/{day}", headers=auth(Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "inspector"))
    )
    assert elsewhere_check.json()["deliveries"] == []  # another bureau's courts are not listed

    (sent,) = received
    assert str(sent.url) == hook
    assert sent.headers["Idempotency-Key"] == f"audit-anchor:{day}:{court_actor.organisation_id}"
    copy = json.loads(sent.content)["anchor"]
    assert copy["court_id"] == court_actor.organisation_id
    assert [h["workflow_id"] for h in copy["heads"]] == [f"commission-{mine}"]  # nothing of the other court
    bureau_file = json.loads((tmp_path / "anchors" / f"audit-anchor-{day}.json").read_text(encoding="utf-8"))
    assert copy["anchor_heads_hash"] == bureau_file["heads_hash"] and bureau_file["chains"] == 2
    async with sessions() as session:
        assert (await verify_anchor_file(session=session, doc=copy, public_key=public_key_b64(key))).ok

    # Delivered once: a retry sends nothing again.
    assert await delivering.deliver_daily_anchor(AnchorDeliveryRequest(day)) == AnchorDeliveryResult(
        without_endpoint=1
    )
    assert len(received) == 1

    # The court's copy catches its trail rewritten; and no anchor goes out for a trail that
    # no longer is the one anchored.
    async with engine.begin() as conn:
        await conn.execute(
            text("delete from audit_event where commission_id = :cid and seq >= 6"), {"cid": mine}
        )
    async with sessions() as session:
        verdict = await verify_anchor_file(session=session, doc=copy, public_key=public_key_b64(key))
    assert (
        verdict.signed and verdict.differing == [f"commission-{mine}: the file holds #7, the trail #5"]
    ) or (not verdict.ok)
    with pytest.raises(ApplicationError) as refused:
        await delivering.deliver_daily_anchor(AnchorDeliveryRequest(day))
    assert refused.value.type == TRAIL_CHANGED and refused.value.non_retryable
