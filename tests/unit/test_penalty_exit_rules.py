"""The pure rules of penalties, exit, independence and the analytics, without Temporal: the
penalties REG-3…REG-7 allow, Art 36's time bar, Art 64's notice, a suspension's last day,
the standing check every commission validator runs, the interference record's checks, and
when a rate is unusual (SUP-1)."""

from datetime import date
from typing import Any

import pytest

from appraisal.domain.errors import RuleViolation
from appraisal.domain.exit import (
    InterferenceReport,
    InterferenceReview,
    InterferenceSnapshot,
    RegistryBar,
    check_interference,
    check_interference_review,
    check_standing,
    restore_day,
    rule_of,
)
from appraisal.domain.penalty import (
    PenaltyInput,
    check_filing,
    check_hearing_notice,
    check_penalties,
    months_after,
    should_publish,
    time_bar_date,
)
from appraisal.domain.rates import Rate
from appraisal.domain.roles import Actor, Role


def refused(check: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(RuleViolation) as caught:
        check(*args, **kwargs)  # type: ignore[operator]
    return caught.value.code


def test_the_penalties_the_rules_allow() -> None:
    ok: dict[str, Any] = {
        "subject_kind": "institution",
        "suspension_months": 0,
        "fine_yuan": 0,
        "illegal_gains_yuan": 0,
    }
    check_penalties(["warning", "correction_order"], **ok)
    check_penalties(["suspension"], **{**ok, "suspension_months": 3})
    check_penalties(["fine"], **{**ok, "fine_yuan": 30_000, "illegal_gains_yuan": 10_000})
    assert refused(check_penalties, [], **ok) == "penalty_required"
    assert refused(check_penalties, ["detention"], **ok) == "unknown_penalty"
    assert refused(check_penalties, ["no_penalty", "warning"], **ok) == "unknown_penalty"
    assert refused(check_penalties, ["suspension", "revocation"], **{**ok, "suspension_months": 3}) == (
        "unknown_penalty"
    )
    for months in (2, 13):
        assert refused(check_penalties, ["suspension"], **{**ok, "suspension_months": months}) == (
            "suspension_out_of_range"
        )
    # REG-4: at most 3 times the illegal gains, and at most ¥30,000.
    assert refused(
        check_penalties, ["fine"], **{**ok, "fine_yuan": 30_001, "illegal_gains_yuan": 50_000}
    ) == ("fine_out_of_range")
    assert refused(check_penalties, ["fine"], **{**ok, "fine_yuan": 3_001, "illegal_gains_yuan": 1_000}) == (
        "fine_out_of_range"
    )
    assert refused(check_penalties, ["warning"], **{**ok, "fine_yuan": 10}) == "fine_out_of_range"
    assert should_publish(["warning"], None) is False and should_publish(["warning", "fine"], None) is True
    assert should_publish(["warning"], True) is True and should_publish(["suspension"], False) is False


def test_art_36_time_bar_and_art_64_notice() -> None:
    assert time_bar_date(date(2024, 2, 29), harm=False) == date(2026, 2, 28)
    assert time_bar_date(date(2021, 6, 1), harm=True) == date(2026, 6, 1)
    actor = Actor(Role.SUPERVISOR, "b", "x")
    inp = PenaltyInput(
        "c", "b", "r", "institution", "i", "i", "bureau", "2026-06-02", "2024-06-01", "s", actor
    )
    assert refused(check_filing, inp) == "time_barred"
    inp.breach_on = "2024-06-02"
    check_filing(inp)
    inp.filed_by = Actor(Role.SUPERVISOR, "other", "x")
    assert refused(check_filing, inp) == "wrong_actor"
    check_hearing_notice(hearing_on="2026-12-11", notified_on="2026-12-04")
    assert refused(check_hearing_notice, hearing_on="2026-12-10", notified_on="2026-12-04") == (
        "hearing_notice_too_short"
    )


def test_a_suspension_of_months_ends_on_the_corresponding_day() -> None:
    assert months_after(date(2026, 12, 4), 3) == date(2027, 3, 4)
    assert months_after(date(2026, 11, 30), 3) == date(2027, 2, 28)  # no 30 February: the month's end
    assert months_after(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert months_after(date(2026, 1, 1), 12) == date(2027, 1, 1)
    assert restore_day("2027-03-04") == "2027-03-05" and restore_day("") == ""


def test_the_standing_check_refuses_a_barred_party_and_nobody_else() -> None:
    class Commission:
        institution_id = "inst"

        def __init__(self, bars: list[RegistryBar]) -> None:
            self.registry_bars = bars

    institution = RegistryBar("institution", "inst", "suspended", "REG-6", "2026-12-04")
    appraiser = RegistryBar("appraiser", "a1", "revoked", "REG-7", "2026-12-04")
    check_standing(Commission([]), Actor(Role.INSTITUTION, "inst", "desk"))
    for role, org in ((Role.INSTITUTION, "inst"), (Role.INSTITUTION_HEAD, "inst"), (Role.APPRAISER, "a2")):
        assert (
            refused(check_standing, Commission([institution]), Actor(role, org, "x")) == "institution_barred"
        )
    check_standing(Commission([institution]), Actor(Role.COURT, "court", "clerk"))  # the court acts on
    check_standing(Commission([appraiser]), Actor(Role.APPRAISER, "a2", "x"))  # the other appraiser works on
    check_standing(Commission([appraiser]), Actor(Role.INSTITUTION, "inst", "desk"))  # and the desk replaces
    assert (
        refused(check_standing, Commission([appraiser]), Actor(Role.APPRAISER, "a1", "x"))
        == "appraiser_barred"
    )
    assert (rule_of("institution", "suspended"), rule_of("appraiser", "revoked")) == ("REG-6", "REG-7")
    assert rule_of("institution", "licence_lapsed") == "REG-8"


def test_an_interference_record_names_who_when_what_and_is_signed() -> None:
    appraiser = Actor(Role.APPRAISER, "a1", "x")
    report = InterferenceReport(
        appraiser, "李某", "2026-12-01T10:30:00+08:00", "要求某种意见", False, "sig", "fp"
    )
    check_interference(["a1", "a2"], report)
    assert refused(check_interference, ["a2"], report) == "wrong_actor"
    report.what = " "
    assert refused(check_interference, ["a1"], report) == "interference_incomplete"
    report.what, report.signature = "要求某种意见", ""
    assert refused(check_interference, ["a1"], report) == "signature_required"
    reports = [InterferenceSnapshot("1", "a1", "李某", "…", "…", "…")]
    bureau = Actor(Role.SUPERVISOR, "b", "x")
    check_interference_review(reports, InterferenceReview(bureau, "1", "已约谈"), "b")
    assert (
        refused(check_interference_review, reports, InterferenceReview(bureau, "2", "…"), "b")
        == "no_such_report"
    )
    assert (
        refused(check_interference_review, reports, InterferenceReview(bureau, "1", "…"), "other")
        == "wrong_actor"
    )
    reports[0].status = "reviewed"
    assert refused(check_interference_review, reports, InterferenceReview(bureau, "1", "…"), "b") == (
        "already_reviewed"
    )


@pytest.mark.parametrize(
    ("numerator", "denominator", "province", "unusual"),
    [
        (4, 10, (4, 20), True),  # 40 % against 20 %
        (4, 10, (8, 20), False),  # 40 % is the province's own
        (2, 10, (2, 40), False),  # too few events
        (3, 9, (3, 40), False),  # too few commissions
        (30, 100, (60, 400), True),  # 30 % against 15 %
        (3, 100, (3, 300), False),  # 3 % against 1 %: under 5 points above
    ],
)
def test_an_unusual_rate(numerator: int, denominator: int, province: tuple[int, int], unusual: bool) -> None:
    assert Rate("refusal", numerator, denominator, *province).unusual is unusual
