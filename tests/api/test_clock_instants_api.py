"""Every rung at its true instant, through the REST API: commissions brought in from
paper (steps dated in the past) record only what happened, the ladder is planned
again after a pause, the rung instants the API shows are the timers the workflow
has set, a court-set date on a rest day shows both dates, the complaint bar's last
day rolls past a rest day, and a refusal to testify cites its own case kind's rule.

The dated cases use fixed dates of 2026 (the State Council's published schedule),
so they pass on any day; what depends on today is computed from the rules."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from appraisal.core.settings import Settings
from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar, end_of_day, local_today
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU
from appraisal.workflows.commission import workflow_id_for
from tests.api.test_audit_api import issued_commission
from tests.api.test_commission_clocks_api import clock, error
from tests.api.test_commission_followups_api import FIRST, SECOND, post, state
from tests.api.test_commissions_api import APPRAISER_IDS, entrust
from tests.api.test_complaints_api import complaint_body
from tests.factories import INSTITUTION, court_actor, institution_actor
from tests.web.test_pages import page, sign_in
from tests.workflows.test_commission_workflow import eventually

pytestmark = pytest.mark.dated

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")
RUNG_KINDS = ("clock.warning", "clock.overdue", "clock.escalation")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The fixed dates of 2026 stay within a paper commission's history for decades."""
    return settings.model_copy(update={"paper_history_days": 36500})


def instant(day: str) -> datetime:
    """The end of `day` in Beijing: the instant every rung and deadline falls on."""
    return end_of_day(date.fromisoformat(day))


def rung_at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["data"]["rung_at"])


def rungs_of(body: dict[str, Any], rule: str) -> list[tuple[str, datetime, datetime]]:
    return [
        (r["kind"], datetime.fromisoformat(r["at"]), datetime.fromisoformat(r["fires_at"]))
        for r in clock(body, rule)["next_rungs"]
    ]


async def trail(api: httpx.AsyncClient, auth: Auth, cid: str) -> list[dict[str, Any]]:
    response = await api.get(f"/v1/commissions/{cid}/audit", headers=auth(court_actor))
    assert response.status_code == 200, response.text
    return list(response.json())


async def armed_timer(temporal_env: WorkflowEnvironment, cid: str) -> datetime | None:
    """When the commission's statutory-clock timer fires, read from its Temporal history."""
    handle = temporal_env.client.get_workflow_handle(workflow_id_for(cid))
    armed: dict[str, datetime] = {}
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            attributes = event.timer_started_event_attributes
            fires = event.event_time.ToDatetime().replace(tzinfo=UTC) + (
                attributes.start_to_fire_timeout.ToTimedelta()
            )
            armed[attributes.timer_id] = fires
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            armed.pop(event.timer_fired_event_attributes.timer_id, None)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            armed.pop(event.timer_canceled_event_attributes.timer_id, None)
    return min(armed.values(), default=None)


async def timer_matches(
    temporal_env: WorkflowEnvironment, api: httpx.AsyncClient, auth: Auth, cid: str
) -> None:
    """The rung instants the API shows are the timer the workflow has set: its earliest
    `fires_at` over the running clocks (within the second a timer is rounded to)."""
    body = await state(api, auth, cid)
    expected = min(
        (datetime.fromisoformat(r["fires_at"]) for c in body["clocks"] for r in c["next_rungs"]),
        default=None,
    )

    async def armed_as_shown() -> bool | None:
        armed = await armed_timer(temporal_env, cid)
        if expected is None:
            return True if armed is None else None
        return True if armed is not None and abs(armed - expected) < timedelta(seconds=1) else None

    await eventually(armed_as_shown)


async def accept_on_paper(api: httpx.AsyncClient, auth: Auth, cid: str, effective_on: str) -> dict[str, Any]:
    """The institution records an acceptance made on paper, its agreement effective that day."""
    body = {"decision": "accept", "appraiser_ids": APPRAISER_IDS, "agreement_effective_on": effective_on}
    return await post(api, auth, institution_actor, f"/v1/commissions/{cid}/acceptance", body)


async def skip_past(temporal_env: WorkflowEnvironment, instant_: datetime) -> None:
    await temporal_env.sleep(instant_ - await temporal_env.get_current_time() + timedelta(minutes=1))


# ---- commissions brought in from paper (issue: nothing recorded that did not happen) ----


async def test_acceptance_on_paper_before_its_deadline_records_no_rung_and_no_deduction(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    commission = await entrust(api, auth, reference="REF-PAPER-1020", received_on="2026-10-20")
    cid = commission["id"]
    acceptance = clock(commission, "PROC-03")
    assert acceptance["due_on"] == "2026-10-29" and not acceptance["overdue"]
    # Every rung is already past: each waits for the catch-up window, not fired yet.
    waiting = rungs_of(commission, "PROC-03")
    assert [kind for kind, _, _ in waiting] == ["warning", "overdue", "escalation"]
    assert all(fires > at for _, at, fires in waiting)
    await timer_matches(temporal_env, api, auth, cid)

    accepted = await accept_on_paper(api, auth, cid, "2026-10-23")
    acceptance = clock(accepted, "PROC-03")
    assert acceptance["stopped_on"] == "2026-10-23" and not acceptance["overdue"]
    assert acceptance["rungs_fired"] == [] and acceptance["next_rungs"] == []
    # The examination waits for materials asked for on paper the next day: its clock
    # holds one working day spent and fires nothing, whatever the day the test runs.
    await post(
        api,
        auth,
        institution_actor,
        f"/v1/commissions/{cid}/material-requests",
        {"description": "影像资料", "requested_on": "2026-10-26"},
    )
    await skip_past(temporal_env, max(fires for _, _, fires in waiting))

    events = await trail(api, auth, cid)
    assert [e["kind"] for e in events if e["kind"].startswith("clock.")] == ["clock.paused"]
    notified = await api.get("/v1/notifications", headers=auth(supervisor))
    assert notified.status_code == 200 and notified.json() == []
    record = await api.get(
        f"/v1/supervision/integrity/institutions/{INSTITUTION.id}",
        params={"year": 2026},
        headers=auth(supervisor),
    )
    assert record.status_code == 200, record.text
    assert record.json()["counts"]["overdue_deadlines"] == 0


async def test_a_commission_registered_already_overdue_records_each_rung_once_at_its_instant(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    commission = await entrust(api, auth, reference="REF-PAPER-LATE", received_on="2026-10-20")
    cid = commission["id"]
    waiting = rungs_of(commission, "PROC-03")
    await skip_past(temporal_env, max(fires for _, _, fires in waiting))

    async def escalated() -> list[dict[str, Any]] | None:
        events = [e for e in await trail(api, auth, cid) if e["kind"] in RUNG_KINDS]
        return events if len(events) == 3 else None

    events = await eventually(escalated)
    # 10-20 + 7 working days: 10-29; the warning at day 5 (70 %), the escalation 5 working days on.
    assert [(e["kind"], rung_at(e), e["data"]["due_on"]) for e in events] == [
        ("clock.warning", instant("2026-10-27"), "2026-10-29"),
        ("clock.overdue", instant("2026-10-29"), "2026-10-29"),
        ("clock.escalation", instant("2026-11-05"), "2026-10-29"),
    ]
    body = await state(api, auth, cid)
    assert clock(body, "PROC-03")["overdue"] and clock(body, "PROC-03")["next_rungs"] == []
    # Accepting later (today) stops the clock late and fires nothing again.
    accepted = await accept_on_paper(api, auth, cid, "2026-11-10")
    assert clock(accepted, "PROC-03")["overdue"] and clock(accepted, "PROC-03")["stopped_on"] == "2026-11-10"
    assert [e["kind"] for e in await trail(api, auth, cid)].count("clock.overdue") == 1


async def test_a_late_acceptance_within_the_catch_up_window_records_the_rungs_before_it(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    commission = await entrust(api, auth, reference="REF-PAPER-LATE-ACCEPT", received_on="2026-10-20")
    cid = commission["id"]
    # Accepted on paper on 10-30, the day after the deadline: the warning and the overdue
    # came before it (dated at their instants), the escalation of 11-05 never did.
    accepted = await accept_on_paper(api, auth, cid, "2026-10-30")
    acceptance = clock(accepted, "PROC-03")
    assert acceptance["overdue"] and acceptance["rungs_fired"] == ["warning", "overdue"]
    events = [e for e in await trail(api, auth, cid) if e["kind"] in RUNG_KINDS]
    assert [(e["kind"], rung_at(e)) for e in events] == [
        ("clock.warning", instant("2026-10-27")),
        ("clock.overdue", instant("2026-10-29")),
    ]
    kinds = [e["kind"] for e in await trail(api, auth, cid)]
    assert kinds.index("clock.overdue") < kinds.index("commission.accepted")


async def test_an_acceptance_on_paper_on_the_last_day_is_in_time(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    commission = await entrust(api, auth, reference="REF-PAPER-LAST-DAY", received_on="2026-10-20")
    cid = commission["id"]
    waiting = rungs_of(commission, "PROC-03")
    # Accepted on 10-29, the deadline's own day (it ends at 24:00): the warning of 10-27
    # was due before it; the overdue and the escalation never were.
    accepted = await accept_on_paper(api, auth, cid, "2026-10-29")
    acceptance = clock(accepted, "PROC-03")
    assert not acceptance["overdue"] and acceptance["rungs_fired"] == ["warning"]
    # The examination waits for materials from the next day, so its own clock fires nothing
    # whatever the day the test runs.
    await post(
        api,
        auth,
        institution_actor,
        f"/v1/commissions/{cid}/material-requests",
        {"description": "影像资料", "requested_on": "2026-10-30"},
    )
    await skip_past(temporal_env, max(fires for _, _, fires in waiting))
    events = [e for e in await trail(api, auth, cid) if e["kind"] in RUNG_KINDS]
    assert [(e["kind"], rung_at(e)) for e in events] == [("clock.warning", instant("2026-10-27"))]
    record = await api.get(
        f"/v1/supervision/integrity/institutions/{INSTITUTION.id}",
        params={"year": 2026},
        headers=auth(supervisor),
    )
    assert record.status_code == 200 and record.json()["counts"]["overdue_deadlines"] == 0


async def test_the_ladder_is_planned_again_after_a_pause_dated_in_the_past(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    cid = (await entrust(api, auth, reference="REF-PAPER-SPRING", received_on="2026-01-28"))["id"]
    url = f"/v1/commissions/{cid}"
    accepted = await accept_on_paper(api, auth, cid, "2026-02-02")
    assert clock(accepted, "PROC-17")["due_on"] == "2026-03-20"
    await timer_matches(temporal_env, api, auth, cid)
    paused = await post(
        api, auth, FIRST, f"{url}/material-requests", {"description": "CT片", "requested_on": "2026-02-13"}
    )
    exam = clock(paused, "PROC-17")
    assert exam["paused"] and exam["used_days"] == 9 and exam["next_rungs"] == []
    await timer_matches(temporal_env, api, auth, cid)
    supplied = await post(
        api,
        auth,
        court_actor,
        f"{url}/materials",
        {"received_on": "2026-03-02", "materials": [{"name": "CT片", "sha256": "ab" * 32}]},
    )
    # 21 working days from 03-03: 03-31. The warning at day 24 (80 % of 30) is 03-23,
    # the escalation five working days after the deadline, Qingming (04-04…06) not counted.
    assert clock(supplied, "PROC-17")["due_on"] == "2026-03-31"
    planned = rungs_of(supplied, "PROC-17")
    assert [(kind, at) for kind, at, _ in planned] == [
        ("warning", instant("2026-03-23")),
        ("overdue", instant("2026-03-31")),
        ("escalation", instant("2026-04-08")),
    ]
    await timer_matches(temporal_env, api, auth, cid)
    await skip_past(temporal_env, max(fires for _, _, fires in planned))

    async def escalated() -> list[dict[str, Any]] | None:
        events = [e for e in await trail(api, auth, cid) if e["kind"] in RUNG_KINDS]
        return events if len(events) == 3 else None

    fired = await eventually(escalated)
    assert [(e["kind"], e["data"]["rule"], e["data"]["due_on"], rung_at(e)) for e in fired] == [
        ("clock.warning", "PROC-17", "2026-03-31", instant("2026-03-23")),
        ("clock.overdue", "PROC-17", "2026-03-31", instant("2026-03-31")),
        ("clock.escalation", "PROC-17", "2026-03-31", instant("2026-04-08")),
    ]
    await timer_matches(temporal_env, api, auth, cid)


async def test_the_timer_follows_the_rungs_shown_through_a_pause_a_resumption_and_an_extension(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    """Live, not from paper: every change of plan moves the one timer to the next rung shown."""
    cid = (await entrust(api, auth, reference="REF-LIVE-TIMER"))["id"]
    url = f"/v1/commissions/{cid}"
    await timer_matches(temporal_env, api, auth, cid)
    accepted = await post(
        api,
        auth,
        institution_actor,
        f"{url}/acceptance",
        {"decision": "accept", "appraiser_ids": APPRAISER_IDS},
    )
    assert all(fires == at for _, at, fires in rungs_of(accepted, "PROC-17"))
    await timer_matches(temporal_env, api, auth, cid)
    await post(api, auth, FIRST, f"{url}/material-requests", {"description": "病历"})
    await timer_matches(temporal_env, api, auth, cid)
    await temporal_env.sleep(timedelta(days=9))
    supplied = await post(
        api, auth, court_actor, f"{url}/materials", {"materials": [{"name": "病历", "sha256": "ef" * 32}]}
    )
    await timer_matches(temporal_env, api, auth, cid)
    head = Actor(Role.INSTITUTION_HEAD, INSTITUTION.id, "head")
    extended = await post(api, auth, head, f"{url}/extension", {"working_days": 10, "reason": "需会诊"})
    before, after = rungs_of(supplied, "PROC-17"), rungs_of(extended, "PROC-17")
    assert [at for _, at, _ in after] > [at for _, at, _ in before]
    await timer_matches(temporal_env, api, auth, cid)

    # The bureau loads a calendar that makes the last day a rest day: the deadline and the
    # overdue and escalation rungs move one working day on, and the timer with them.
    due_on = date.fromisoformat(clock(extended, "PROC-17")["due_on"])
    published = WorkingCalendar().schedule(due_on.year)
    schedule = {
        "rest_days": sorted(d.isoformat() for d in published.rest_days | {due_on}),
        "makeup_workdays": sorted(d.isoformat() for d in published.makeup_workdays),
        "source": "国务院办公厅关于部分节假日安排的通知（测试）",
    }
    loaded = await api.put(f"/v1/calendar/{due_on.year}", json=schedule, headers=auth(supervisor))
    assert loaded.status_code == 200, loaded.text

    async def recomputed() -> dict[str, Any] | None:
        body = await state(api, auth, cid)
        return body if clock(body, "PROC-17")["due_on"] != due_on.isoformat() else None

    moved = await eventually(recomputed)
    assert date.fromisoformat(clock(moved, "PROC-17")["due_on"]) > due_on
    await timer_matches(temporal_env, api, auth, cid)


# ---- a court-set date on a rest day (CRT-7 rolled by CAL-3) ----


def next_rest_day_after(today: date, calendar: WorkingCalendar) -> date:
    day = today + timedelta(days=1)
    while calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


async def test_a_reply_date_on_a_rest_day_shows_the_courts_date_and_the_rolled_deadline_everywhere(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment, settings: Settings
) -> None:
    cid = await issued_commission(api, auth, "REF-OBJECTION-REST-DAY")
    calendar = WorkingCalendar()
    today = local_today(await temporal_env.get_current_time())
    reply_by = next_rest_day_after(today, calendar)
    rolled = calendar.add_natural_days(today, (reply_by - today).days).due_on
    assert rolled > reply_by
    forwarded = await post(
        api,
        auth,
        court_actor,
        f"/v1/commissions/{cid}/objections",
        {"party": "被告", "content": "评定过高", "reply_by": reply_by.isoformat()},
    )
    crt7 = clock(forwarded, "CRT-7")
    assert (crt7["court_set_on"], crt7["due_on"]) == (reply_by.isoformat(), rolled.isoformat())
    tasks = (await api.get("/v1/tasks", headers=auth(FIRST))).json()
    (task,) = [t for t in tasks if t["commission_id"] == cid and t["kind"] == "answer_objection"]
    assert task["due_on"] == rolled.isoformat()
    notified = (await api.get("/v1/notifications", headers=auth(FIRST))).json()
    message = next(n["message"] for n in notified if "objects" in n["message"])
    assert rolled.isoformat() in message and reply_by.isoformat() in message
    # The court's dashboard shows the court's date under the deadline.
    await sign_in(api, settings, court_actor)
    html = await page(api, f"/ui/commissions/{cid}")
    assert f"court set {reply_by.isoformat()}" in html and rolled.isoformat() in html


async def test_a_reply_date_on_a_working_day_shows_no_court_set_date(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    cid = await issued_commission(api, auth, "REF-OBJECTION-WORKING-DAY")
    calendar = WorkingCalendar()
    today = local_today(await temporal_env.get_current_time())
    reply_by = calendar.add_working_days(today, 5).due_on
    forwarded = await post(
        api,
        auth,
        court_actor,
        f"/v1/commissions/{cid}/objections",
        {"party": "原告", "content": "评定过低", "reply_by": reply_by.isoformat()},
    )
    crt7 = clock(forwarded, "CRT-7")
    assert crt7["court_set_on"] is None and crt7["due_on"] == reply_by.isoformat()


# ---- the complaint bar's last day (CMP-1) ----


async def test_a_complaint_on_the_working_day_after_the_bars_last_day_on_a_saturday_is_accepted(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    # Known on 2023-11-21: three years end on Saturday 2026-11-21, so Monday 11-23 is in time.
    accepted = await api.post(
        "/v1/complaints",
        json=complaint_body("渝司投〔2026〕21号", knew_on="2023-11-21", received_on="2026-11-23"),
        headers=auth(supervisor),
    )
    assert accepted.status_code == 201, accepted.text
    barred = await api.post(
        "/v1/complaints",
        json=complaint_body("渝司投〔2026〕22号", knew_on="2023-11-21", received_on="2026-11-24"),
        headers=auth(supervisor),
    )
    assert error(barred) == (409, "time_barred")
    assert "2026-11-23" in barred.json()["error"]["message"]


async def test_a_complaint_accepted_on_paper_in_time_records_no_rung_of_its_acceptance_clock(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    registered = await api.post(
        "/v1/complaints",
        json=complaint_body("渝司投〔2026〕20号", knew_on="2026-10-01", received_on="2026-10-20"),
        headers=auth(supervisor),
    )
    assert registered.status_code == 201, registered.text
    complaint = registered.json()
    waiting = rungs_of(complaint, "CMP-5")
    assert waiting and all(fires > at for _, at, fires in waiting)
    url = f"/v1/complaints/{complaint['id']}"
    accepted = await api.post(
        f"{url}/decision", json={"decision": "accept", "on": "2026-10-22"}, headers=auth(supervisor)
    )
    assert accepted.status_code == 200, accepted.text
    acceptance = clock(accepted.json(), "CMP-5")
    assert acceptance["stopped_on"] == "2026-10-22" and acceptance["rungs_fired"] == []
    await skip_past(temporal_env, max(fires for _, _, fires in waiting))
    events = (await api.get(f"{url}/audit", headers=auth(supervisor))).json()
    assert [e for e in events if e["kind"] in RUNG_KINDS and e["data"]["rule"] == "CMP-5"] == []


# ---- the rule a refusal to testify is referred under ----


async def test_a_refusal_to_testify_in_a_civil_case_is_referred_under_tst_4(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment
) -> None:
    cid = await issued_commission(api, auth, "REF-TESTIMONY-CIVIL-REFUSAL")
    hearing_at = (await temporal_env.get_current_time() + timedelta(days=5)).astimezone(CHINA_TZ)
    url = f"/v1/commissions/{cid}/testimony"
    body = {
        "hearing_at": hearing_at.isoformat(),
        "place": "第一法庭",
        "appraiser_ids": [SECOND.organisation_id],
    }
    (testimony,) = (await post(api, auth, court_actor, url, body))["testimonies"]
    assert testimony["case_kind"] == "civil"
    await temporal_env.sleep(hearing_at - await temporal_env.get_current_time() + timedelta(hours=3))
    outcome = {"results": {SECOND.organisation_id: "absent_without_valid_reason"}}
    await post(api, auth, court_actor, f"{url}/{testimony['testimony_id']}/outcome", outcome)

    async def referred() -> dict[str, Any] | None:
        events = await trail(api, auth, cid)
        return next((e for e in events if e["kind"] == "testimony.penalty_referred"), None)

    assert (await eventually(referred))["data"]["rules"] == ["TST-4", "TST-9", "REG-7"]
