"""A criminal case in the workspace, by its forms (ENT-1…4, PROC-36): the bureau makes a police
organ's first administrator; the police organ's officer entrusts in its own case-number format,
tells the suspect and the victim of the opinion, decides an application in custody and tells the
applicant in writing, and hands the case to the procuratorate, which reads the linked record and
hands it on to the court. The same services and Updates as the API's."""

import re
from collections.abc import Callable

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.domain.roles import Actor
from appraisal.seed import DEMO_PASSWORD, POLICE, PROCURATORATES, seed_demo_accounts
from tests.api.test_criminal_api import COURT_CASE, POLICE_CASE, PROCURATORATE_CASE, issue, police
from tests.factories import COURT, INSTITUTION
from tests.web.test_accounts import PASSWORD, sign_in
from tests.web.test_pages import HTML, page, post_form, rows

Auth = Callable[[Actor], dict[str, str]]


def entrusted(reference: str, case_number: str) -> dict[str, str | list[str]]:
    return {
        "court_reference": reference,
        "case_number": case_number,
        "category": "forensic_clinical",
        "matters": "损伤程度鉴定",
        "mode": "designated",
        "institution_id": INSTITUTION.id,
    }


async def test_a_criminal_case_by_form_from_the_police_to_the_court(
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
) -> None:
    await seed_demo_accounts(sessions, now=await temporal_env.get_current_time())
    # The bureau creates the first administrator of a police organ, as it does a court's.
    assert (await sign_in(api, "supervisor", DEMO_PASSWORD)).status_code == 303
    accounts_page = await page(api, "/ui/accounts")
    assert f'value="public_security|{POLICE[1].id}"' in accounts_page
    assert f'value="procuratorate|{PROCURATORATES[0].id}"' in accounts_page
    first_admin = {
        "username": "jiangbei-police-admin",
        "display_name": "江北分局管理员",
        "place": f"public_security|{POLICE[1].id}",
        "password": PASSWORD,
        "is_admin": "true",
    }
    assert (await post_form(api, "/ui/accounts", first_admin)).status_code == 303
    # An institution the police organ set up for its investigations is registered as such (ENT-3).
    lab: dict[str, str | list[str]] = {
        "name": "渝中分局物证鉴定室",
        "categories": ["trace_evidence"],
        "founded_by_organ_id": POLICE[0].id,
    }
    assert (await post_form(api, "/ui/registry/institutions", lab)).status_code == 303
    registry_page = await page(api, "/ui/registry")
    assert (
        "渝中分局物证鉴定室" in registry_page
        and "不接受社会委托 set up by it: no outside commission (ENT-3)" in registry_page
    )
    signed_in = await sign_in(api, "jiangbei-police-admin")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/ui/overview"
    home = await page(api, "/ui/overview")
    assert "公安机关 Public security organ" in home and ">委托鉴定 Entrust</a>" in home

    # The police organ's officer entrusts in its own case-number format (ENT-2).
    assert (await sign_in(api, "public-security-1", DEMO_PASSWORD)).status_code == 303
    form = await page(api, "/ui/commissions/new")
    assert 'id="case-format"' in form and "ENT-2-3" in form
    wrong = await post_form(api, "/ui/commissions", entrusted("渝公渝中鉴委〔2026〕21号", COURT_CASE))
    assert wrong.status_code == 422 and "ENT-2-3" in wrong.text and 'id="step-error"' in wrong.text
    made = await post_form(api, "/ui/commissions", entrusted("渝公渝中鉴委〔2026〕21号", POLICE_CASE))
    assert made.status_code == 303, made.text[:2000]
    cid = re.search(r"/ui/commissions/([0-9a-f-]{36})", made.headers["location"]).group(1)  # type: ignore[union-attr]
    commission = await page(api, made.headers["location"])
    assert "刑事 Criminal" in commission and "公安机关 Public security organ" in commission
    issued = await issue(api, auth, cid)

    # PROC-36: the suspect and the victim told; an application refused in custody, told in writing.
    commission = await page(api, f"/ui/commissions/{cid}?seq={issued['last_event_seq']}")
    assert 'id="do-notify_opinion"' in commission
    told = await post_form(
        api,
        f"/ui/commissions/{cid}/opinion-notices",
        {"persons.role": ["suspect", "victim", "suspect"], "persons.name": ["张某", "李某", ""]},
    )
    assert told.status_code == 303, told.text[:2000]
    applied = await post_form(
        api,
        f"/ui/commissions/{cid}/applications",
        {
            "applicant_role": "suspect",
            "applicant_name": "张某",
            "kind": "reappraisal",
            "reason": "鉴定依据不足",
        },
    )
    assert applied.status_code == 303, applied.text[:2000]
    commission = await page(api, applied.headers["location"])
    decision = f"/ui/commissions/{cid}/applications/1/decision"
    assert f'action="{decision}"' in commission and "犯罪嫌疑人 Suspect 张某" in commission
    refused = await post_form(
        api, decision, {"granted": "false", "ground": "", "in_custody": "true", "reason": "鉴定依据充分"}
    )
    assert refused.status_code == 303, refused.text[:2000]
    commission = await page(api, refused.headers["location"])
    assert 'action="/ui/commissions/' + cid + '/applications/1/notice"' in commission
    assert "PROC-36-CAL-4" in commission, "the written notice's clock, counted under CAL-4"
    noticed = await post_form(api, f"/ui/commissions/{cid}/applications/1/notice", {"note": "已送达"})
    assert noticed.status_code == 303
    commission = await page(api, noticed.headers["location"])
    criminal = " ".join(rows(commission, "criminal"))
    assert (
        "犯罪嫌疑人 Suspect 张某；被害人 Victim 李某" in criminal and "已书面通知 Told in writing" in criminal
    )

    # ENT-4: the case to the procuratorate, with its record.
    assert 'id="step-case-transfer"' in commission
    handed = await post_form(
        api,
        f"/ui/commissions/{cid}/case-transfer",
        {
            "case_number": POLICE_CASE,
            "to_organ_id": PROCURATORATES[0].id,
            "to_case_number": PROCURATORATE_CASE,
        },
    )
    assert handed.status_code == 303 and handed.headers["location"].endswith("#case"), handed.text[:2000]
    commission = await page(api, f"/ui/commissions/{cid}")
    assert 'id="step-case-transfer"' not in commission, "the case is the procuratorate's now"

    assert (await sign_in(api, "procuratorate-1", DEMO_PASSWORD)).status_code == 303
    seen = await page(api, f"/ui/commissions/{cid}")
    assert POLICE_CASE in seen and PROCURATORATE_CASE in seen
    assert 'id="steps"' not in seen, "it reads the police commission; it takes no step on it"
    assert "案件移送 Case handed over" in " ".join(rows(seen, "audit-trail"))
    wrong_court = await post_form(
        api,
        f"/ui/commissions/{cid}/case-transfer",
        {"case_number": PROCURATORATE_CASE, "to_organ_id": COURT.id, "to_case_number": "12号"},
    )
    assert wrong_court.status_code == 422 and "to_case_number" in wrong_court.text
    prosecuted = await post_form(
        api,
        f"/ui/commissions/{cid}/case-transfer",
        {"case_number": PROCURATORATE_CASE, "to_organ_id": COURT.id, "to_case_number": COURT_CASE},
    )
    assert prosecuted.status_code == 303, prosecuted.text[:2000]

    assert (await sign_in(api, "court-1", DEMO_PASSWORD)).status_code == 303
    at_court = await page(api, f"/ui/commissions/{cid}")
    case_numbers = re.search(r'<ol id="case-numbers"[^>]*>(.*?)</ol>', at_court, re.S)
    assert case_numbers, "the case's numbers, organ by organ"
    numbers = re.findall(r'<span class="mono">([^<]+)</span></li>', case_numbers.group(1))
    assert numbers == [POLICE_CASE, PROCURATORATE_CASE, COURT_CASE]
    assert len(rows(at_court, "case-transfers")) == 2
    listed = await page(api, "/ui/commissions")
    assert "渝公渝中鉴委〔2026〕21号" in listed, "the court's list holds the commission the case brought"
    assert (await sign_in(api, "procuratorate-2", DEMO_PASSWORD)).status_code == 303
    assert (await api.get(f"/ui/commissions/{cid}", headers=HTML)).status_code == 404
    assert police.organisation_id == POLICE[0].id
