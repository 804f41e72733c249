"""Court testimony's rows of the rule table and the pure checks its
validators run (RULES.md TST-2…TST-9)."""

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

# A module alias: pytest would try to collect the Test-prefixed names as test classes.
from appraisal.domain import testimony as tm
from appraisal.domain.calendar import CHINA_TZ, WorkingCalendar
from appraisal.domain.clock import ClockPlanRequest, plan_clock
from appraisal.domain.errors import RuleViolation
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import CLOCK_RULES, DayUnit, RungKind

COURT = Actor(Role.COURT, "court-1", "clerk")
HEARING = datetime(2026, 12, 10, 9, 30, tzinfo=CHINA_TZ)


def appraiser(appraiser_id: str) -> Actor:
    return Actor(Role.APPRAISER, appraiser_id, appraiser_id)


def summons_input(**overrides: object) -> tm.TestimonyInput:
    values: dict[str, object] = {
        "commission_id": "c",
        "parent_workflow_id": "commission-c",
        "testimony_id": str(uuid.uuid4()),
        "court_id": COURT.organisation_id,
        "institution_id": "i",
        "bureau_id": "b",
        "court_reference": "(2026)渝0103民初1号",
        "appraiser_ids": ["a1", "a2"],
        "hearing_at": HEARING,
        "place": "第三法庭",
        "summoned_at": datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ),
    }
    values.update(overrides)
    return tm.TestimonyInput(**values)  # type: ignore[arg-type]


def snapshot(
    *, notice_days: int = 9, states: dict[str, str] | None = None, **overrides: object
) -> tm.TestimonySnapshot:
    states = states or {"a1": "summoned", "a2": "summoned"}
    values: dict[str, object] = {
        "testimony_id": str(uuid.uuid4()),
        "commission_id": "c",
        "workflow_id": "testimony-c-t",
        "court_id": COURT.organisation_id,
        "institution_id": "i",
        "bureau_id": "b",
        "court_reference": "(2026)渝0103民初1号",
        "hearing_at": HEARING,
        "place": "第三法庭",
        "summoned_at": HEARING - timedelta(days=notice_days),
        "notice_days": notice_days,
        "short_notice": notice_days < tm.MINIMUM_NOTICE_DAYS,
        "appraisers": [tm.AppraiserTestimony(a, state) for a, state in states.items()],
    }
    values.update(overrides)
    return tm.TestimonySnapshot(**values)  # type: ignore[arg-type]


def code_of(check: object, *args: object) -> str | None:
    try:
        check(*args)  # type: ignore[operator]
    except RuleViolation as err:
        return err.code
    return None


BEFORE = HEARING - timedelta(hours=1)
AFTER = HEARING + timedelta(hours=2)


def test_the_rule_table_holds_the_testimony_clocks() -> None:
    confirmation, refund = CLOCK_RULES["TST-7"], CLOCK_RULES["TST-4"]
    assert (confirmation.limit, confirmation.unit, confirmation.assignee_role) == (
        2,
        DayUnit.WORKING,
        Role.APPRAISER,
    )
    assert [r.kind for r in confirmation.ladder] == [RungKind.OVERDUE]
    assert (refund.limit, refund.unit, refund.assignee_role) == (3, DayUnit.NATURAL, Role.COURT)
    assert [r.kind for r in refund.ladder] == [RungKind.OVERDUE, RungKind.ESCALATION]
    assert "Art 81" in refund.source


def test_the_refund_ruling_period_rolls_over_rest_days() -> None:
    calendar = WorkingCalendar()
    # Refusal recorded Thu 2026-09-24: day 3 is Sun 9/27 (after Mid-Autumn) → Mon 9/28.
    plan = plan_clock(calendar, ClockPlanRequest("TST-4", "2026-09-24", 3))
    assert plan.due_on == "2026-09-28"
    assert [r.kind for r in plan.rungs] == ["overdue", "escalation"]
    # Summoned Fri 2026-12-04: the 2 working days are Mon 12/7 and Tue 12/8.
    assert plan_clock(calendar, ClockPlanRequest("TST-7", "2026-12-04", 2)).due_on == "2026-12-08"


@pytest.mark.parametrize(
    ("summoned_at", "days"),
    [
        (datetime(2026, 12, 7, 18, 0, tzinfo=CHINA_TZ), 3),
        (datetime(2026, 12, 8, 8, 0, tzinfo=CHINA_TZ), 2),
        # 17:00 UTC on the 7th is already the 8th in Chongqing.
        (datetime(2026, 12, 7, 17, 0, tzinfo=UTC), 2),
        (datetime(2026, 12, 10, 8, 0, tzinfo=CHINA_TZ), 0),
    ],
)
def test_notice_days_count_local_dates(summoned_at: datetime, days: int) -> None:
    assert tm.notice_days(summoned_at, HEARING) == days


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({}, None),
        ({"testimony_id": "7"}, "invalid_input"),
        ({"hearing_at": HEARING.replace(tzinfo=None)}, "invalid_input"),
        ({"appraiser_ids": []}, "invalid_input"),
        ({"appraiser_ids": ["a1", "a1"]}, "invalid_input"),
        ({"summoned_at": HEARING + timedelta(minutes=1)}, "invalid_input"),
        ({"place": " "}, "invalid_input"),
    ],
)
def test_the_input_is_checked(overrides: dict[str, object], code: str | None) -> None:
    assert code_of(tm.check_input, summons_input(**overrides)) == code


@pytest.mark.parametrize(
    ("actor", "response", "ground", "reason", "notice", "code"),
    [
        (appraiser("a1"), "confirm", "", "", 9, None),
        (appraiser("a1"), "remote", "", "异地", 9, None),
        (appraiser("a1"), "decline", "TST-8-2", "住院", 9, None),
        (appraiser("a1"), "decline", "TST-8-1", "通知过晚", 2, None),
        (appraiser("a1"), "decline", "TST-8-1", "通知过晚", 3, "notice_not_late"),
        (appraiser("a1"), "decline", "TST-8-6", "其他", 9, "unknown_ground"),
        (appraiser("a1"), "decline", "TST-8-2", "", 9, "reason_required"),
        (appraiser("a1"), "remote", "", " ", 9, "reason_required"),
        (appraiser("a1"), "confirm", "TST-8-2", "", 9, "ground_not_applicable"),
        (appraiser("a1"), "later", "", "", 9, "unknown_response"),
        (appraiser("a9"), "confirm", "", "", 9, "wrong_actor"),
        (Actor(Role.INSTITUTION, "a1", "desk"), "confirm", "", "", 9, "wrong_actor"),
    ],
)
def test_an_answer_is_checked(
    actor: Actor, response: str, ground: str, reason: str, notice: int, code: str | None
) -> None:
    request = tm.TestimonyConfirmation(actor, response, ground, reason)
    assert code_of(tm.check_confirmation, snapshot(notice_days=notice), request, BEFORE) == code


def test_an_appraiser_answers_once_and_before_the_hearing() -> None:
    answered = snapshot(states={"a1": "confirmed", "a2": "summoned"})
    confirm = tm.TestimonyConfirmation(appraiser("a1"), "confirm")
    assert code_of(tm.check_confirmation, answered, confirm, BEFORE) == "already_answered"
    late = tm.TestimonyConfirmation(appraiser("a2"), "confirm")
    assert code_of(tm.check_confirmation, answered, late, HEARING) == "hearing_passed"
    concluded = replace(answered, stage=tm.TestimonyStage.CONCLUDED)
    assert code_of(tm.check_confirmation, concluded, late, BEFORE) == "not_in_stage"


@pytest.mark.parametrize(
    ("actor", "appraiser_id", "state", "code"),
    [
        (COURT, "a1", "decline_requested", None),
        (COURT, "a1", "remote_requested", None),
        (COURT, "a1", "confirmed", "no_pending_request"),
        (COURT, "a1", "excused", "no_pending_request"),
        (COURT, "a9", "decline_requested", "unknown_appraiser"),
        (Actor(Role.COURT, "court-2", "clerk"), "a1", "decline_requested", "wrong_actor"),
        (appraiser("a1"), "a1", "decline_requested", "wrong_actor"),
    ],
)
def test_a_ruling_on_a_request_is_checked(
    actor: Actor, appraiser_id: str, state: str, code: str | None
) -> None:
    request = tm.TestimonyRuling(actor, appraiser_id, allow=True)
    assert code_of(tm.check_ruling, snapshot(states={"a1": state, "a2": "confirmed"}), request) == code


def test_a_ruling_leads_to_the_allowed_or_refused_state() -> None:
    assert tm.REQUEST_STATES[tm.AppraiserState.DECLINE_REQUESTED] == ("excused", "appearance_required")
    assert tm.REQUEST_STATES[tm.AppraiserState.REMOTE_REQUESTED] == ("remote_allowed", "appearance_required")


@pytest.mark.parametrize(
    ("results", "now", "code"),
    [
        ({"a1": "appeared", "a2": "absent_without_valid_reason"}, AFTER, None),
        ({"a1": "written_reply", "a2": "appeared_remotely"}, HEARING, None),
        ({"a1": "appeared", "a2": "appeared"}, BEFORE, "hearing_not_held"),
        ({"a1": "appeared"}, AFTER, "results_incomplete"),
        ({"a1": "appeared", "a2": "appeared", "a9": "appeared"}, AFTER, "unknown_appraiser"),
        ({"a1": "appeared", "a2": "asleep"}, AFTER, "unknown_result"),
    ],
)
def test_the_outcome_is_checked(results: dict[str, str], now: datetime, code: str | None) -> None:
    request = tm.TestimonyOutcome(COURT, results)
    assert code_of(tm.check_outcome, snapshot(), request, now) == code


def test_an_appraiser_the_court_excused_cannot_be_recorded_absent_without_reason() -> None:
    excused = snapshot(states={"a1": "excused", "a2": "confirmed"})
    absent = tm.TestimonyOutcome(COURT, {"a1": "absent_without_valid_reason", "a2": "appeared"})
    assert code_of(tm.check_outcome, excused, absent, AFTER) == "excused_by_ruling"
    other_court = tm.TestimonyOutcome(
        Actor(Role.COURT, "court-2", "clerk"), {"a1": "excused", "a2": "appeared"}
    )
    assert code_of(tm.check_outcome, excused, other_court, AFTER) == "wrong_actor"


def test_a_refund_ruling_is_due_only_after_a_refusal() -> None:
    ruling = tm.RefundRuling(COURT, ordered=True)
    assert code_of(tm.check_refund_ruling, snapshot(), ruling) == "no_refund_ruling_due"
    due = snapshot(stage=tm.TestimonyStage.AWAITING_REFUND_RULING)
    assert code_of(tm.check_refund_ruling, due, ruling) is None
    assert (
        code_of(tm.check_refund_ruling, due, tm.RefundRuling(appraiser("a1"), ordered=False)) == "wrong_actor"
    )


def test_refusals_and_their_integrity_entries() -> None:
    results = {"a1": "appeared", "a2": "absent_without_valid_reason"}
    assert tm.refused_to_testify(results) == ["a2"]
    state = snapshot(outcome_note="经传唤无正当理由拒不出庭" * 400)
    entries = tm.integrity_entries(state, ["a2"], "2026-12-10")
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.subject_kind, entry.subject_id, entry.complaint_id, entry.rule, entry.outcome) == (
        "appraiser",
        "a2",
        state.testimony_id,
        "TST-9",
        tm.REFUSED_TO_TESTIFY,
    )
    assert len(entry.findings) == tm.FINDINGS_MAX and state.court_reference in entry.findings
    assert entry.decided_on == "2026-12-10" and entry.bureau_id == "b"
    assert date.fromisoformat(entry.decided_on) == HEARING.date()


def test_the_workflow_id_names_the_commission_and_the_testimony() -> None:
    assert tm.testimony_workflow_id("c1", "t1") == "testimony-c1-t1"


@pytest.mark.parametrize(
    ("case_number", "kind"),
    [
        ("(2026)渝0103刑初123号", "criminal"),
        ("（2026）渝01刑终45号", "criminal"),
        ("(2026)渝0103民初1234号", "civil"),
        ("(2026)渝0105行初7号", "administrative"),
        ("(2026)渝0103执456号", "civil"),
        ("no type character", "civil"),
    ],
)
def test_the_case_kind_comes_from_the_case_numbers_type_character(case_number: str, kind: str) -> None:
    assert tm.case_kind_of(case_number) == kind
