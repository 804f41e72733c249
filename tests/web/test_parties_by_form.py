"""The parties and the money by form, through the same services and Updates as the REST API:
the bureau sets a charging standard, the court registers a party (its one-time link shown once),
the institution quotes (above the standard refused), the party accepts on its own page, the
institution may not begin before the party prepaid (CRT-1), records the payment, the court
withdraws and the refund the rule computes is recorded paid back; a party's materials taken in by
the organ's supply of materials, another request declined."""

import re
from collections.abc import Callable

import httpx

from appraisal.core.settings import Settings
from appraisal.domain.roles import Actor, Role
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.api.test_fees_api import MATTER, SUPERVISOR
from tests.factories import court_actor, institution_actor
from tests.web.test_pages import HTML, page, post_form, sign_in
from tests.web.test_steps_by_form import read_after, step_error

Auth = Callable[[Actor], dict[str, str]]
MATERIAL = "cd" * 32


def link_of(html: str) -> str:
    found = re.search(r'<code class="party-link">(/ui/party/sign-in/[^<]+)</code>', html)
    assert found, "the page shows the one-time link once"
    return found.group(1)


async def test_fee_quote_payment_and_refund_on_withdrawal_by_form(
    api: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await sign_in(api, settings, SUPERVISOR)
    standard = await post_form(
        api,
        "/ui/fee-standards",
        {"category": "forensic_clinical", "matter": MATTER, "ceiling": "1800", "source": "渝价 test 1 号"},
    )
    assert standard.status_code == 303, standard.text[:2000]
    assert "渝价 test 1 号" in await page(api, "/ui/fee-standards")

    cid = (await entrust(api, auth, court_reference="(2026)渝0103民初91号-鉴1"))["id"]
    await sign_in(api, settings, court_actor)
    registered = await post_form(
        api,
        f"/ui/commissions/{cid}/parties",
        {
            "party.name": ["周七", ""],
            "party.side": ["plaintiff", "defendant"],
            "party.phone": ["13700000000", ""],
        },
    )
    assert registered.status_code == 200, registered.text[:2000]
    link = link_of(registered.text)
    assert "周七" in registered.text and 'id="party-list"' in registered.text
    again = await page(api, f"/ui/commissions/{cid}")
    assert link not in again, "a link is shown once, never again"

    # The party signs in by its link (a page first: opening the link uses nothing).
    api.cookies.clear()
    asked = await page(api, link)
    assert 'id="party-login"' in asked
    signed = await post_form(api, link, {})
    assert signed.status_code == 303 and signed.headers["location"] == "/ui/party", signed.text[:500]
    home = await page(api, "/ui/party")
    assert "周七" in home and "(2026)渝0103民初1234号" in home
    assert 'id="step-fee-quote"' not in home and "审计轨迹" not in home, "nothing of the staff's"
    used = await post_form(api, link, {})
    assert "链接已使用" in used.text, "a link works once"

    # The institution quotes: above the standard refused on the form, then within it.
    await sign_in(api, settings, institution_actor)
    html = await page(api, f"/ui/commissions/{cid}")
    assert 'id="step-fee-quote"' in html
    payer = re.search(r'<option value="(party:[^"]+)">当事人 Party: 周七', html)
    assert payer, "the paying party is one of the commission's"
    quote_path = f"/ui/commissions/{cid}/fee/quote"
    above = await post_form(
        api, quote_path, {"items.matter": MATTER, "items.amount": "1900", "payer": payer.group(1)}
    )
    assert above.status_code == 409 and "报价高于收费标准" in step_error(above.text)
    quoted = await post_form(
        api, quote_path, {"items.matter": MATTER, "items.amount": "1500", "payer": payer.group(1)}
    )
    assert quoted.status_code == 303, quoted.text[:2000]

    # The party answers on its own page; the institution may not begin before it prepaid.
    party_actor = Actor(Role.PARTY, payer.group(1).removeprefix("party:"), "party")
    await sign_in(api, settings, party_actor)
    quoted_seq = quoted.headers["location"].rpartition("seq=")[2]
    mine = await page(api, f"/ui/party?seq={quoted_seq}")  # the quote's effect, read back
    assert 'id="step-fee-answer"' in mine and "1500.00" in mine
    answered = await post_form(api, f"/ui/commissions/{cid}/fee/answer", {"accepted": "true"})
    assert answered.status_code == 303 and answered.headers["location"].startswith("/ui/party?seq=")
    await sign_in(api, settings, institution_actor)
    early = await post_form(
        api, f"/ui/commissions/{cid}/acceptance", {"decision": "accept", "appraiser_ids": APPRAISER_IDS}
    )
    assert early.status_code == 409 and "CRT-1" in step_error(early.text)
    paid = await post_form(
        api, f"/ui/commissions/{cid}/fee/payments", {"amount": "1500", "reference": "ABC-0001"}
    )
    assert paid.status_code == 303, paid.text[:2000]

    # The court withdraws; the refund FEE-3 computes is recorded paid back.
    await sign_in(api, settings, court_actor)
    withdrawn = await post_form(api, f"/ui/commissions/{cid}/withdrawal", {"reason": "双方和解"})
    assert withdrawn.status_code == 303, withdrawn.text[:2000]
    html = await page(api, withdrawn.headers["location"])
    refund = re.search(r'id="fee-refund">(.*?)</dd>', html, re.S)
    assert refund and "FEE-3" in refund.group(1) and "1500.00" in refund.group(1)
    await sign_in(api, settings, institution_actor)
    html = await page(api, f"/ui/commissions/{cid}")
    assert 'id="step-fee-refund"' in html
    back = await post_form(
        api, f"/ui/commissions/{cid}/fee/refund", {"amount": "1500", "reference": "ABC-R-1"}
    )
    assert back.status_code == 303, back.text[:2000]
    html = await page(api, back.headers["location"])
    assert "已退还 Refunded" in html and 'id="step-fee-refund"' not in html
    money = [
        e["kind"]
        for e in (await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))).json()
        if e["kind"].startswith("fee.")
    ]
    assert money == ["fee.quoted", "fee.accepted", "fee.paid", "fee.refund_ordered", "fee.refunded"]
    await sign_in(api, settings, party_actor)
    assert "已退还 Refunded" in await page(api, "/ui/party")


async def test_a_partys_materials_taken_in_and_another_request_declined_by_form(
    api: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    cid = (await entrust(api, auth, court_reference="(2026)渝0103民初92号-鉴1"))["id"]
    registered = await api.post(
        f"/v1/commissions/{cid}/parties",
        json={"parties": [{"name": "吴八", "side": "defendant"}]},
        headers=auth(court_actor),
    )
    party = Actor(Role.PARTY, registered.json()["parties"][0]["party"]["id"], "party")
    await sign_in(api, settings, party)
    for note in ("门诊记录", "与本案无关的材料"):
        offered = await post_form(
            api,
            f"/ui/commissions/{cid}/party-requests",
            {"kind": "materials", "content": note, "materials.name": note, "materials.sha256": MATERIAL},
        )
        assert offered.status_code == 303, offered.text[:2000]
    nothing = await post_form(api, f"/ui/commissions/{cid}/party-requests", {"kind": "materials"})
    assert nothing.status_code == 409 and "须列明材料" in step_error(nothing.text)
    assert "须列明材料" in nothing.text and 'id="materials-form"' in nothing.text, (
        "the party's own page, refused"
    )

    asked = await api.post(
        f"/v1/commissions/{cid}/material-requests",
        json={"description": "门诊记录"},
        headers=auth(institution_actor),
    )
    assert asked.status_code == 200, asked.text
    await sign_in(api, settings, court_actor)
    html = await page(api, f"/ui/commissions/{cid}?seq={asked.headers['X-Seq']}")
    assert 'id="step-materials-party-1"' in html and 'id="step-party-requests-2-decline"' in html
    supplied = await post_form(api, f"/ui/commissions/{cid}/materials", {"party_request_id": "1"})
    assert supplied.status_code == 303, supplied.text[:2000]
    declined = await post_form(
        api, f"/ui/commissions/{cid}/party-requests/2/decline", {"reason": "与鉴定事项无关"}
    )
    assert declined.status_code == 303, declined.text[:2000]
    commission = await read_after(api, auth, cid, declined)
    assert [r["status"] for r in commission["party_requests"]] == ["accepted", "declined"]
    assert commission["stage"] == "awaiting_acceptance"
    await sign_in(api, settings, party)
    mine = await page(api, "/ui/party")
    assert "与鉴定事项无关" in mine and "门诊记录" in mine
    assert (await api.get(f"/ui/commissions/{cid}", headers=HTML)).status_code == 403
