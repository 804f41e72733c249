"""Every entrusting organ's own rules, alone (ENT-1…4, PROC-36, CAL-4): the roles by kind, the
case-number formats and the kind of case they tell, the institution an investigative organ set
up, where a case goes next, the 3-day written notice counted with and without custody, and the
checks of the PROC-36 steps and of a hand-over over a commission's snapshot."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from appraisal.domain import commission_checks as checks
from appraisal.domain.calendar import WorkingCalendar, end_of_day
from appraisal.domain.clock import ClockPlanRequest, plan_clock
from appraisal.domain.commission import ClosureRequest, CommissionSnapshot, ReportSnapshot
from appraisal.domain.criminal import (
    ApplicantNotice,
    ApplicationDecision,
    ApplicationReceipt,
    ApplicationSnapshot,
    CaseTransferRecord,
    NotifiedPerson,
    OpinionNotice,
    OpinionNoticeSnapshot,
    TransferSnapshot,
)
from appraisal.domain.errors import InvalidInput, RuleViolation
from appraisal.domain.organs import (
    ORGAN_KINDS,
    OrganKind,
    case_kind,
    check_case_number,
    check_criminal_case_number,
    check_transfer,
    institution_closed_to,
    role_of,
)
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import CASE_NUMBER_FORMATS, INVESTIGATIVE_KINDS, STEP_RULES
from appraisal.domain.stages import Stage
from appraisal.domain.testimony import CaseKind

POLICE = Actor(Role.PUBLIC_SECURITY, "police-1", "officer")
PROCURATOR = Actor(Role.PROCURATORATE, "proc-1", "procurator")
COURT = Actor(Role.COURT, "court-1", "clerk")
ISSUED_AT = end_of_day(date(2026, 11, 2)) - timedelta(hours=10)
TODAY = date(2026, 11, 10)


def test_every_kind_of_organ_acts_with_one_role_and_has_its_case_number_rule() -> None:
    assert {k.value for k in OrganKind} == {"court", "procuratorate", "public_security", *INVESTIGATIVE_KINDS}
    assert role_of("court") is Role.COURT and role_of("procuratorate") is Role.PROCURATORATE
    assert {role_of(k) for k in INVESTIGATIVE_KINDS} == {Role.INVESTIGATIVE_ORGAN}
    with pytest.raises(InvalidInput):
        role_of("bureau")
    for kind in ("court", *ORGAN_KINDS):
        (rule,) = [f for f in CASE_NUMBER_FORMATS if kind in f.organ_kinds]
        assert rule.matches(rule.example), rule.rule_id
        assert rule.source and rule.confidence in ("T", "M", "I")
    for rule_id in ("ENT-1", "ENT-3", "ENT-4", "PROC-36"):
        assert STEP_RULES[rule_id].source


@pytest.mark.parametrize(
    ("number", "kind", "expected"),
    [
        ("(2026)渝0103刑初12号", "court", CaseKind.CRIMINAL),
        ("（2026）渝0103行初3号", "court", CaseKind.ADMINISTRATIVE),
        ("(2026)渝0103民初1234号", "court", CaseKind.CIVIL),
        ("REF-anything", "court", CaseKind.CIVIL),  # a court's number is taken as it comes, as before
        ("渝渝中检刑诉〔2026〕12号", "procuratorate", CaseKind.CRIMINAL),
        ("A5001035000002026010001", "public_security", CaseKind.CRIMINAL),
        ("渝缉私刑立字〔2026〕8号", "customs_anti_smuggling", CaseKind.CRIMINAL),
    ],
)
def test_the_case_number_tells_the_kind_of_case(number: str, kind: str, expected: CaseKind) -> None:
    check_case_number(number, kind=kind)
    assert case_kind(number, kind=kind) == expected


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("(2026)渝0103刑初12号", "public_security"),
        ("A500103", "public_security"),
        ("渝公渝中〔2026〕12号", "procuratorate"),
        ("12号", "state_security"),
    ],
)
def test_an_organ_other_than_a_court_numbers_its_cases_its_own_way(number: str, kind: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_case_number(number, kind=kind)
    assert refused.value.field == "case_number" and "ENT-2" in refused.value.message


def test_a_case_reaches_a_court_under_a_criminal_number_of_the_court() -> None:
    check_criminal_case_number("(2026)渝0103刑初12号", kind="court", field="to_case_number")
    for number in ("(2026)渝0103民初12号", "12号"):
        with pytest.raises(InvalidInput):
            check_criminal_case_number(number, kind="court", field="to_case_number")


def test_an_institution_an_investigative_organ_set_up_serves_only_its_own_system() -> None:
    def closed(kind: str, organ_id: str) -> bool:
        return bool(
            institution_closed_to(
                founded_by_kind="public_security",
                founded_by_id="police-1",
                organ_kind=kind,
                organ_id=organ_id,
            )
        )

    assert not closed("public_security", "police-1") and not closed("public_security", "police-2")
    assert closed("court", "court-1") and closed("procuratorate", "proc-1") and closed("state_security", "x")
    assert not institution_closed_to(
        founded_by_kind=None, founded_by_id=None, organ_kind="court", organ_id="c"
    )


def test_a_case_moves_from_investigation_to_the_procuratorate_to_the_court() -> None:
    for kind in ("public_security", *INVESTIGATIVE_KINDS):
        check_transfer(from_kind=kind, to_kind="procuratorate")
    check_transfer(from_kind="procuratorate", to_kind="court")
    for from_kind, to_kind in (
        ("public_security", "court"),
        ("court", "procuratorate"),
        ("procuratorate", "public_security"),
    ):
        with pytest.raises(RuleViolation) as refused:
            check_transfer(from_kind=from_kind, to_kind=to_kind)
        assert refused.value.rule == "ENT-4"


def test_the_written_notice_period_in_custody_ends_on_its_last_day_even_a_holiday() -> None:
    decided = date(2026, 9, 28)  # a Monday; the 3rd day, 10-01, is National Day
    calendar = WorkingCalendar()
    free = plan_clock(calendar, ClockPlanRequest("PROC-36", decided.isoformat(), 3))
    custody = plan_clock(calendar, ClockPlanRequest("PROC-36-CAL-4", decided.isoformat(), 3))
    assert custody.due_on == "2026-10-01", "CAL-4: a holiday does not extend it in custody"
    assert free.due_on == "2026-10-08", "CAL-3: out of custody it rolls past the holidays"
    assert calendar.add_natural_days(decided, 3, roll=False).due_on == date(2026, 10, 1)


def criminal(stage: Stage = Stage.ISSUED, **fields: object) -> CommissionSnapshot:
    values: dict[str, object] = {
        "id": "c1",
        "workflow_id": "commission-c1",
        "stage": stage,
        "court_id": POLICE.organisation_id,
        "court_reference": "渝公鉴〔2026〕1号",
        "case_number": "A5001035000002026010001",
        "institution_id": "inst-1",
        "category": "forensic_clinical",
        "received_on": "2026-10-20",
        "entrusting_role": Role.PUBLIC_SECURITY,
        "entrusting_kind": "public_security",
        "case_kind": "criminal",
        "report": ReportSnapshot(1, "h" * 64, "轻伤二级", "a1", ISSUED_AT, issued_at=ISSUED_AT),
    }
    values.update(fields)
    return CommissionSnapshot(**values)  # type: ignore[arg-type]


def refused(code: str, check: object) -> None:
    with pytest.raises(RuleViolation) as raised:
        check()  # type: ignore[operator]
    assert raised.value.code == code, raised.value


def test_only_the_investigating_organ_that_entrusted_tells_and_decides() -> None:
    notice = OpinionNotice(POLICE, [NotifiedPerson("suspect", "张某"), NotifiedPerson("victim", "李某")])
    checks.check_opinion_notice(criminal(), notice, TODAY)
    refused(
        "wrong_actor",
        lambda: checks.check_opinion_notice(criminal(), replace(notice, actor=PROCURATOR), TODAY),
    )
    court_commission = criminal(
        court_id=COURT.organisation_id, entrusting_role=Role.COURT, entrusting_kind="court"
    )
    refused(
        "not_investigating_organ",
        lambda: checks.check_opinion_notice(court_commission, replace(notice, actor=COURT), TODAY),
    )
    refused(
        "nobody_notified", lambda: checks.check_opinion_notice(criminal(), replace(notice, persons=[]), TODAY)
    )
    refused(
        "date_out_of_range",
        lambda: checks.check_opinion_notice(criminal(), replace(notice, notified_on="2026-10-30"), TODAY),
    )
    refused("not_in_stage", lambda: checks.check_opinion_notice(criminal(Stage.EXAMINING), notice, TODAY))


def test_an_application_follows_the_notice_of_the_opinion_in_force_and_is_decided_once() -> None:
    receipt = ApplicationReceipt(POLICE, "suspect", "张某", "reappraisal", "依据不足")
    refused("opinion_not_notified", lambda: checks.check_application_receipt(criminal(), receipt, TODAY))
    told = [OpinionNoticeSnapshot(1, [NotifiedPerson("suspect", "张某")], "2026-11-03", "officer")]
    checks.check_application_receipt(criminal(opinion_notices=told), receipt, TODAY)
    older = [OpinionNoticeSnapshot(0, [], "2026-11-03", "officer")]
    refused(
        "opinion_not_notified",
        lambda: checks.check_application_receipt(criminal(opinion_notices=older), receipt, TODAY),
    )
    pending = ApplicationSnapshot("1", "suspect", "张某", "reappraisal", "x", "2026-11-04", 1)
    refused(
        "application_pending",
        lambda: checks.check_application_receipt(
            criminal(opinion_notices=told, applications=[pending]), receipt, TODAY
        ),
    )
    with_one = criminal(opinion_notices=told, applications=[pending])
    decision = ApplicationDecision(POLICE, "1", True, "依据明显不足", "PROC-36-R4")
    checks.check_application_decision(with_one, decision)
    refused(
        "unknown_ground",
        lambda: checks.check_application_decision(with_one, replace(decision, ground="PROC-36-S1")),
    )
    refused(
        "no_such_application",
        lambda: checks.check_application_decision(with_one, replace(decision, application_id="9")),
    )
    decided = criminal(applications=[replace(pending, status="refused", decided_on="2026-11-05")])
    refused("application_decided", lambda: checks.check_application_decision(decided, decision))
    checks.check_applicant_notice(decided, ApplicantNotice(POLICE, "1"), TODAY)
    refused(
        "not_refused", lambda: checks.check_applicant_notice(with_one, ApplicantNotice(POLICE, "1"), TODAY)
    )
    refused("application_open", lambda: checks.check_closure(decided, ClosureRequest(POLICE)))


def test_only_the_organ_handling_the_case_now_hands_it_on() -> None:
    record = CaseTransferRecord(
        POLICE,
        "t1",
        POLICE.organisation_id,
        "A1",
        PROCURATOR.organisation_id,
        "procuratorate",
        "procuratorate",
        "P1",
        "2026-11-05",
    )
    checks.check_transfer_record(criminal(), record)
    handed = criminal(
        transfers=[
            TransferSnapshot(
                "t1",
                POLICE.organisation_id,
                "A1",
                PROCURATOR.organisation_id,
                "procuratorate",
                "procuratorate",
                "P1",
                "2026-11-05",
            )
        ]
    )
    refused("wrong_actor", lambda: checks.check_transfer_record(handed, replace(record, transfer_id="t2")))
    onward = CaseTransferRecord(
        PROCURATOR,
        "t2",
        PROCURATOR.organisation_id,
        "P1",
        COURT.organisation_id,
        "court",
        "court",
        "C1",
        "2026-11-08",
    )
    checks.check_transfer_record(handed, onward)
    with pytest.raises(RuleViolation) as wrong_way:
        checks.check_transfer_record(
            handed, replace(onward, to_kind="public_security", to_role="public_security")
        )
    assert wrong_way.value.rule == "ENT-4"
