"""The checks of each commission step, alone: pure functions over a snapshot, the
request and today, as the workflow's validators call them; no Temporal here."""

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from appraisal.domain import commission_checks as checks
from appraisal.domain.calendar import CHINA_TZ, end_of_day
from appraisal.domain.commission import (
    AcceptanceDecision,
    ClockPause,
    ClockSnapshot,
    CommissionSnapshot,
    ExtensionRequest,
    MaterialRequest,
    MaterialSupply,
    ReportSnapshot,
    SignatureSnapshot,
    SignatureSubmission,
    TerminationRequest,
)
from appraisal.domain.errors import RuleViolation
from appraisal.domain.objection import ObjectionForward
from appraisal.domain.recusal import RecusalDecision, RecusalSnapshot
from appraisal.domain.report_changes import CorrectionSubmission
from appraisal.domain.roles import Actor, Role
from appraisal.domain.stages import Stage
from appraisal.domain.testimony import TestimonySummons
from tests.factories import (
    CLINICAL_APPRAISERS,
    INSTITUTION,
    RESERVE_APPRAISER,
    appraiser_actor,
    commission_input,
    court_actor,
    head_actor,
    institution_actor,
)

TODAY = date(2026, 11, 2)
TEAM = [a.id for a in CLINICAL_APPRAISERS]
FIRST, SECOND = (appraiser_actor(a) for a in TEAM)
ENTRUSTED = commission_input("2026-10-20")


def clock(rule: str, due_on: str, **state: object) -> ClockSnapshot:
    values: dict[str, object] = {
        "rule": rule,
        "name": rule,
        "unit": "working_day",
        "started_on": "2026-10-20",
        "budget_days": 30,
        "due_on": due_on,
        "due_at": end_of_day(date.fromisoformat(due_on)),
        "segment_start": "2026-10-20",
    }
    values.update(state)
    return ClockSnapshot(**values)  # type: ignore[arg-type]


def commission(stage: Stage, *clocks: ClockSnapshot, **fields: object) -> CommissionSnapshot:
    values: dict[str, object] = {
        "id": ENTRUSTED.commission_id,
        "workflow_id": "commission-x",
        "stage": stage,
        "court_id": ENTRUSTED.court_id,
        "court_reference": ENTRUSTED.court_reference,
        "case_number": ENTRUSTED.case_number,
        "institution_id": INSTITUTION.id,
        "category": "forensic_clinical",
        "received_on": "2026-10-20",
        "appraiser_ids": TEAM,
        "clocks": list(clocks),
    }
    values.update(fields)
    return CommissionSnapshot(**values)  # type: ignore[arg-type]


def refused(check: object, *args: object, **kwargs: object) -> tuple[str, str | None]:
    with pytest.raises(RuleViolation) as caught:
        check(*args, **kwargs)  # type: ignore[operator]
    return caught.value.code, caught.value.rule


AWAITING = commission(Stage.AWAITING_ACCEPTANCE, clock("PROC-03", "2026-10-29", budget_days=7))
EXAMINING = commission(
    Stage.EXAMINING,
    clock("PROC-03", "2026-10-29", stopped=True, stopped_on="2026-10-23"),
    clock("PROC-17", "2026-12-04", segment_start="2026-10-23"),
)


def test_acceptance_names_two_qualified_appraisers_and_a_date_within_the_history() -> None:
    accept = AcceptanceDecision(institution_actor, "accept", TEAM, agreement_effective_on="2026-10-23")
    checks.check_acceptance(AWAITING, accept, TODAY, entrusted=ENTRUSTED)
    by_court = replace(accept, actor=court_actor)
    assert (
        refused(checks.check_acceptance, AWAITING, by_court, TODAY, entrusted=ENTRUSTED)[0] == "wrong_actor"
    )
    alone = replace(accept, appraiser_ids=TEAM[:1])
    assert refused(checks.check_acceptance, AWAITING, alone, TODAY, entrusted=ENTRUSTED) == (
        "too_few_appraisers",
        "PROC-09",
    )
    future = replace(accept, agreement_effective_on="2026-11-03")
    assert (
        refused(checks.check_acceptance, AWAITING, future, TODAY, entrusted=ENTRUSTED)[0]
        == "date_out_of_range"
    )
    before_receipt = replace(accept, agreement_effective_on="2026-10-19")
    assert refused(checks.check_acceptance, AWAITING, before_receipt, TODAY, entrusted=ENTRUSTED)[0] == (
        "date_out_of_range"
    )
    assert (
        refused(checks.check_acceptance, EXAMINING, accept, TODAY, entrusted=ENTRUSTED)[0] == "not_in_stage"
    )


def test_who_may_pause_comes_from_the_rule_table() -> None:
    ask = MaterialRequest(FIRST, "影像资料", requested_on="2026-10-26")
    checks.check_material_request(EXAMINING, ask, TODAY)
    # Before acceptance only the institution pauses PROC-03 (PROC-04); an appraiser may not.
    assert refused(checks.check_material_request, AWAITING, ask, TODAY) == ("wrong_actor", None)
    checks.check_material_request(AWAITING, replace(ask, actor=institution_actor), TODAY)
    witness = replace(ask, actor=institution_actor, kind="witness")
    assert refused(checks.check_material_request, AWAITING, witness, TODAY) == ("not_in_stage", "PROC-15")
    late = replace(ask, requested_on="2026-12-05")
    assert refused(checks.check_material_request, EXAMINING, late, date(2026, 12, 7)) == (
        "deadline_passed",
        "PROC-17",
    )


def test_supply_dates_lie_after_the_pause() -> None:
    paused = commission(
        Stage.AWAITING_MATERIALS,
        clock("PROC-03", "2026-10-29", stopped=True),
        clock(
            "PROC-17",
            "2026-12-04",
            paused=True,
            paused_on="2026-10-26",
            pauses=[ClockPause("materials", "2026-10-26", "appraiser", 1)],
        ),
    )
    checks.check_supply(paused, MaterialSupply(court_actor, received_on="2026-10-30"), TODAY)
    early = MaterialSupply(court_actor, received_on="2026-10-25")
    assert refused(checks.check_supply, paused, early, TODAY)[0] == "date_out_of_range"


def test_the_extension_follows_the_rule_table_once_and_before_the_deadline() -> None:
    extension = ExtensionRequest(head_actor, 30, "需会诊")
    checks.check_extension(EXAMINING, extension, TODAY)
    by_desk = replace(extension, actor=institution_actor)
    assert refused(checks.check_extension, EXAMINING, by_desk, TODAY)[0] == "wrong_actor"
    other_head = replace(extension, actor=Actor(Role.INSTITUTION_HEAD, "elsewhere", "head"))
    assert refused(checks.check_extension, EXAMINING, other_head, TODAY)[0] == "wrong_actor"
    assert refused(checks.check_extension, EXAMINING, replace(extension, working_days=31), TODAY) == (
        "extension_too_long",
        "PROC-17",
    )
    extended = commission(Stage.EXAMINING, clock("PROC-17", "2026-12-04", extended=True))
    assert refused(checks.check_extension, extended, extension, TODAY)[0] == "extension_already_granted"
    # Past the last day by the date alone, before any overdue rung fired.
    assert refused(checks.check_extension, EXAMINING, extension, date(2026, 12, 5)) == (
        "deadline_passed",
        "PROC-17",
    )


def test_a_commission_not_yet_accepted_is_refused_not_terminated() -> None:
    waiting = commission(
        Stage.AWAITING_MATERIALS, clock("PROC-03", "2026-10-29", paused=True, paused_on="2026-10-22")
    )
    termination = TerminationRequest(institution_actor, "PROC-20-1", "无法鉴定")
    assert refused(checks.check_termination, waiting, termination) == ("not_in_stage", "PROC-20")
    checks.check_termination(EXAMINING, termination)


def test_a_granted_recusal_names_an_eligible_replacement_not_already_recused() -> None:
    pending = RecusalSnapshot("1", TEAM[1], "PROC-10-1", "亲属", "appraiser", "2026-10-26")
    with_recusal = replace(EXAMINING, recusals=[pending])
    grant = RecusalDecision(institution_actor, "1", True, "属实", replacement_id=RESERVE_APPRAISER.id)
    checks.check_recusal_decision(with_recusal, grant, entrusted=ENTRUSTED)
    same = replace(grant, replacement_id=TEAM[1])
    assert (
        refused(checks.check_recusal_decision, with_recusal, same, entrusted=ENTRUSTED)[0]
        == "appraiser_recused"
    )
    assert refused(
        checks.check_recusal_decision, with_recusal, replace(grant, replacement_id=""), entrusted=ENTRUSTED
    )[0] == ("replacement_required")
    assert (
        refused(checks.check_recusal_decision, EXAMINING, grant, entrusted=ENTRUSTED)[0] == "no_such_recusal"
    )


def test_the_court_sets_a_reply_period_of_1_to_90_days() -> None:
    issued = commission(Stage.ISSUED)
    forward = ObjectionForward(
        court_actor, "被告", "评定过高", reply_by=(TODAY + timedelta(days=90)).isoformat()
    )
    checks.check_objection(issued, forward, TODAY)
    too_far = replace(forward, reply_by=(TODAY + timedelta(days=91)).isoformat())
    assert refused(checks.check_objection, issued, too_far, TODAY) == ("date_out_of_range", "CRT-7")
    today = replace(forward, reply_by=TODAY.isoformat())
    assert refused(checks.check_objection, issued, today, TODAY) == ("date_out_of_range", "CRT-7")


def test_each_appraiser_signs_once_and_a_correction_keeps_the_opinion() -> None:
    submitted_at = datetime(2026, 11, 2, 9, tzinfo=CHINA_TZ)
    report = ReportSnapshot(1, "h" * 64, "十级伤残", TEAM[0], submitted_at)
    signing = commission(Stage.SIGNING, report=report)
    checks.check_signature(signing, SignatureSubmission(FIRST, "sign"))
    signed = replace(report, signatures=[SignatureSnapshot(TEAM[0], "sign", submitted_at)])
    again = commission(Stage.SIGNING, report=signed)
    assert refused(checks.check_signature, again, SignatureSubmission(FIRST, "sign")) == (
        "already_signed",
        "PROC-24",
    )
    assert refused(checks.check_signature, signing, SignatureSubmission(FIRST, "dissent")) == (
        "dissent_needs_statement",
        "PROC-24",
    )
    issued = commission(Stage.ISSUED, report=report)
    typo = CorrectionSubmission(FIRST, "PROC-28-3", "错别字", "检验所见", "十级伤残")
    checks.check_correction(issued, typo)
    assert refused(checks.check_correction, issued, replace(typo, opinion="九级伤残")) == (
        "correction_changes_opinion",
        "PROC-28",
    )


def test_a_summons_is_for_a_future_hearing_of_the_opinions_appraisers() -> None:
    issued = commission(Stage.ISSUED)
    now = datetime(2026, 11, 2, 9, tzinfo=CHINA_TZ)
    summons = TestimonySummons(court_actor, now + timedelta(days=5), "第一法庭", [TEAM[0]])
    checks.check_summons(issued, summons, now)
    assert refused(checks.check_summons, issued, replace(summons, hearing_at=now), now) == (
        "date_out_of_range",
        "TST-3",
    )
    far = replace(summons, hearing_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=CHINA_TZ))
    assert refused(checks.check_summons, issued, far, now) == ("date_out_of_range", "TST-3")
    checks.check_summons(issued, replace(summons, hearing_at=now + timedelta(days=366)), now)
    stranger = replace(summons, appraiser_ids=[RESERVE_APPRAISER.id])
    assert refused(checks.check_summons, issued, stranger, now) == ("not_assigned", "TST-8")
