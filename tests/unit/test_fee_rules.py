"""The fee's and the parties' rules alone, as the workflow's validators ask them (no Temporal): a
quote within the charging standard (FEE-1), who answers and who pays, the prepayment a party owes
before the examination (CRT-1), the refund each ending computes (PROC-21, PROC-07, CRT-5, TST-4,
PROC-35, FEE-3) and what may be recorded paid back; a party's requests."""

from dataclasses import replace

import pytest

from appraisal.domain import commission_checks as checks
from appraisal.domain.commission import AcceptanceDecision, Material
from appraisal.domain.fees import (
    REFUND_RULES,
    FeeAnswer,
    FeeItem,
    FeePayment,
    FeeQuote,
    FeeSnapshot,
    RefundRecord,
    RefundSnapshot,
    fen_of,
    prepayment_required,
    refund_due,
    yuan,
)
from appraisal.domain.parties import (
    PartyRecord,
    PartyRegistration,
    PartyRequest,
    PartySnapshot,
    ReportRelease,
)
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import STEP_RULES
from appraisal.domain.stages import Stage
from tests.factories import court_actor, institution_actor
from tests.unit.test_commission_checks import AWAITING, ENTRUSTED, TEAM, TODAY, refused

PARTY = Actor(Role.PARTY, "party-1", "party-1")
STRANGER = Actor(Role.PARTY, "party-2", "party-2")
WITH_PARTY = replace(
    AWAITING, matters=["伤残等级评定"], parties=[PartySnapshot("party-1", "张三", "plaintiff", "2026-10-20")]
)
ITEM = FeeItem("伤残等级评定", 150000, 180000, "standard-1", "渝价 test")


def fee(**fields: object) -> FeeSnapshot:
    values: dict[str, object] = {
        "version": 1,
        "items": [ITEM],
        "total": 150000,
        "payer_kind": "party",
        "payer_party_id": "party-1",
        "quoted_on": "2026-10-21",
        "quoted_by": "desk",
        "prepayment_required": True,
    }
    values.update(fields)
    return FeeSnapshot(**values)  # type: ignore[arg-type]


def test_money_is_whole_fen() -> None:
    from decimal import Decimal

    assert fen_of(Decimal("1800.05")) == 180005 and yuan(180005) == "1800.05" and yuan(7) == "0.07"


def test_a_quote_keeps_within_the_standard_and_names_a_registered_payer() -> None:
    quote = FeeQuote(institution_actor, [ITEM], "party", "party-1")
    checks.check_fee_quote(WITH_PARTY, quote)
    above = replace(quote, items=[replace(ITEM, amount=180001)])
    assert refused(checks.check_fee_quote, WITH_PARTY, above) == ("fee_above_standard", "FEE-1")
    uncovered = replace(quote, items=[replace(ITEM, standard_id="", standard_ceiling=0)])
    assert refused(checks.check_fee_quote, WITH_PARTY, uncovered) == ("no_fee_standard", "FEE-1")
    twice = replace(quote, items=[ITEM, ITEM])
    assert refused(checks.check_fee_quote, WITH_PARTY, twice)[0] == "duplicate_matter"
    assert refused(checks.check_fee_quote, WITH_PARTY, replace(quote, payer_party_id="party-9"))[0] == (
        "unknown_party"
    )
    assert refused(checks.check_fee_quote, WITH_PARTY, replace(quote, actor=court_actor))[0] == "wrong_actor"
    agreed = replace(WITH_PARTY, fee=fee(status="accepted"))
    assert refused(checks.check_fee_quote, agreed, quote)[0] == "fee_already_agreed"
    declined = replace(WITH_PARTY, fee=fee(status="declined"))
    checks.check_fee_quote(declined, quote)  # quoted again after a refusal


def test_the_payer_answers_and_nobody_pays_beyond_the_quote() -> None:
    quoted = replace(WITH_PARTY, fee=fee())
    checks.check_fee_answer(quoted, FeeAnswer(PARTY, True))
    assert refused(checks.check_fee_answer, quoted, FeeAnswer(STRANGER, True))[0] == "wrong_actor"
    assert refused(checks.check_fee_answer, quoted, FeeAnswer(court_actor, True))[0] == "wrong_actor"
    assert refused(checks.check_fee_answer, quoted, FeeAnswer(PARTY, False))[0] == "reason_required"
    organ_pays = replace(WITH_PARTY, fee=fee(payer_kind="entruster", payer_party_id=""))
    checks.check_fee_answer(organ_pays, FeeAnswer(court_actor, True))
    accepted = replace(WITH_PARTY, fee=fee(status="accepted", paid=100000))
    checks.check_payment(accepted, FeePayment(institution_actor, 50000, "BANK-1"), TODAY)
    checks.check_payment(accepted, FeePayment(court_actor, 50000, "COURT-1"), TODAY)
    assert refused(checks.check_payment, accepted, FeePayment(institution_actor, 50001, "B"), TODAY)[0] == (
        "overpayment"
    )
    assert refused(checks.check_payment, accepted, FeePayment(PARTY, 1, "B"), TODAY)[0] == "wrong_actor"
    assert refused(checks.check_payment, accepted, FeePayment(institution_actor, 1, " "), TODAY)[0] == (
        "reference_required"
    )
    assert refused(checks.check_payment, quoted, FeePayment(institution_actor, 1, "B"), TODAY)[0] == (
        "fee_not_agreed"
    )


def test_crt_1_a_party_prepays_before_the_examination_in_a_courts_civil_case() -> None:
    assert prepayment_required(entrusting_role="court", case_kind="civil", payer_kind="party")
    assert prepayment_required(entrusting_role="court", case_kind="administrative", payer_kind="party")
    assert not prepayment_required(entrusting_role="court", case_kind="civil", payer_kind="entruster")
    assert not prepayment_required(entrusting_role="court", case_kind="criminal", payer_kind="party")
    assert not prepayment_required(
        entrusting_role="public_security", case_kind="criminal", payer_kind="party"
    )
    accept = AcceptanceDecision(institution_actor, "accept", TEAM)
    unpaid = replace(WITH_PARTY, fee=fee(status="accepted", paid=100000))
    assert refused(checks.check_acceptance, unpaid, accept, TODAY, entrusted=ENTRUSTED) == (
        "fee_not_prepaid",
        "CRT-1",
    )
    paid = replace(WITH_PARTY, fee=fee(status="accepted", paid=150000))
    checks.check_acceptance(paid, accept, TODAY, entrusted=ENTRUSTED)
    refusal = AcceptanceDecision(institution_actor, "refuse", ground="PROC-05-5")
    checks.check_acceptance(unpaid, refusal, TODAY, entrusted=ENTRUSTED)  # refusing owes nothing
    assert "CRT-1" in STEP_RULES and STEP_RULES["CRT-1"].source


@pytest.mark.parametrize(
    ("rule", "started", "ground", "minimum"),
    [
        ("CRT-5", True, "", 150000),
        ("TST-4", True, "", 150000),
        ("PROC-35", True, "", 150000),
        ("PROC-07", False, "", 150000),
        ("PROC-21", False, "PROC-20-5", 150000),
        ("PROC-21", True, "PROC-20-1", 150000),
        ("PROC-21", True, "PROC-20-5", 0),
        ("FEE-3", False, "", 150000),
        ("FEE-3", True, "", 0),
    ],
)
def test_each_ending_computes_its_refund(rule: str, started: bool, ground: str, minimum: int) -> None:
    due = refund_due(rule, paid=150000, examination_started=started, ground=ground)
    assert (due.rule, due.paid, due.minimum) == (rule, 150000, minimum)
    assert REFUND_RULES[rule].source and due.basis


def test_a_refund_recorded_gives_back_at_least_what_the_rule_requires() -> None:
    refund = RefundSnapshot("PROC-21", "…", 150000, 0, "2026-10-25", "party", "party-1")
    owed = replace(WITH_PARTY, stage=Stage.TERMINATED, fee=fee(status="accepted", paid=150000, refund=refund))
    kept = RefundRecord(institution_actor, 100000, "R-1", retained_reason="检验已完成")
    checks.check_refund_record(owed, kept, TODAY)
    checks.check_refund_record(owed, replace(kept, actor=court_actor), TODAY)  # the organ confirms it
    assert refused(checks.check_refund_record, owed, replace(kept, actor=PARTY), TODAY)[0] == "wrong_actor"
    assert refused(checks.check_refund_record, owed, replace(kept, retained_reason=""), TODAY)[0] == (
        "reason_required"
    )
    assert (
        refused(checks.check_refund_record, owed, replace(kept, amount=150001), TODAY)[0] == "invalid_amount"
    )
    full = replace(owed, fee=fee(status="accepted", paid=150000, refund=replace(refund, minimum=150000)))
    assert refused(checks.check_refund_record, full, kept, TODAY)[0] == "refund_too_small"
    done = replace(owed, fee=fee(status="accepted", paid=150000, refund=replace(refund, status="refunded")))
    assert refused(checks.check_refund_record, done, kept, TODAY)[0] == "no_refund_due"
    checks.check_refund_record(replace(owed, stage=Stage.REFUSED), kept, TODAY)  # ended, still owing


def test_parties_are_registered_by_the_entrusting_organ_and_ask_through_it() -> None:
    registration = PartyRegistration(court_actor, [PartyRecord("party-9", "李四", "defendant")])
    checks.check_party_registration(WITH_PARTY, registration)
    assert refused(
        checks.check_party_registration, WITH_PARTY, replace(registration, actor=institution_actor)
    )[0] == ("wrong_actor")
    again = PartyRegistration(court_actor, [PartyRecord("party-1", "张三", "plaintiff")])
    assert refused(checks.check_party_registration, WITH_PARTY, again)[0] == "duplicate_party"
    odd = PartyRegistration(court_actor, [PartyRecord("party-9", "李四", "judge")])
    assert refused(checks.check_party_registration, WITH_PARTY, odd)[0] == "unknown_side"

    offer = PartyRequest(PARTY, "materials", materials=[Material("病历", "ab" * 32)])
    checks.check_party_request(WITH_PARTY, offer)
    assert refused(checks.check_party_request, WITH_PARTY, replace(offer, actor=STRANGER))[0] == "wrong_actor"
    assert (
        refused(checks.check_party_request, WITH_PARTY, replace(offer, materials=[]))[0]
        == "materials_required"
    )
    objection = PartyRequest(PARTY, "objection", content="等级偏高")
    assert refused(checks.check_party_request, WITH_PARTY, objection)[0] == "not_in_stage"
    issued = replace(WITH_PARTY, stage=Stage.ISSUED)
    checks.check_party_request(issued, objection)
    by_police = replace(issued, entrusting_role=Role.PUBLIC_SECURITY)
    assert refused(checks.check_party_request, by_police, objection) == ("objection_court_only", "CRT-7")
    assert refused(checks.check_report_release, issued, ReportRelease(court_actor))[0] == "report_not_issued"
