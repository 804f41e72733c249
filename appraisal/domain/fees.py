"""鉴定费: the charging standard a bureau keeps per category, the institution's quote per matter
against it, the payer's answer, the payments received (each with the payer's external
reference: there is no payment gateway here) and the refund each rule computes (RULES.md CRT-1,
CRT-5, TST-4, PROC-21, PROC-35; FEE-1…3 in domain/rules.py). Messages crossing Temporal and the
pure computations; the checks of each step are in commission_checks.py.

Amounts are whole fen (分), never floats; the API speaks yuan with two decimals.

New fields always get defaults so running workflows keep replaying."""

from dataclasses import dataclass, field
from decimal import Decimal

from appraisal.domain.roles import Actor, Role

PAYER_KINDS: dict[str, str] = {
    "entruster": "the entrusting organ pays (委托机关支付)",
    "party": "a party of the commission pays (当事人预交)",
}

FEE_STATUSES = ("quoted", "accepted", "declined")


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals: 180000 → "1800.00"."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def fen_of(amount: Decimal) -> int:
    """Yuan (at most two decimals, checked by the schema) as whole fen."""
    return int((amount * 100).to_integral_value())


@dataclass
class FeeItem:
    """The fee of one matter, beside the charging standard it was quoted against."""

    matter: str
    amount: int
    """Fen."""
    standard_ceiling: int = 0
    """Fen: the most the charging standard allows for this matter (FEE-1)."""
    standard_id: str = ""
    standard_source: str = ""
    """The standard's own source (the provincial price document it comes from)."""


@dataclass
class FeeQuote:
    actor: Actor
    items: list[FeeItem] = field(default_factory=list)
    payer_kind: str = "entruster"
    payer_party_id: str = ""
    """The party who pays, when `payer_kind` is party."""
    note: str = ""


@dataclass
class FeeAnswer:
    actor: Actor
    accepted: bool
    reason: str = ""


@dataclass
class FeePayment:
    actor: Actor
    amount: int
    """Fen."""
    reference: str
    """The payer's external reference (a bank transfer, the court's payment system's receipt)."""
    paid_on: str = ""
    note: str = ""


@dataclass
class RefundRecord:
    actor: Actor
    amount: int
    """Fen paid back."""
    reference: str
    refunded_on: str = ""
    retained_reason: str = ""
    """Why less than everything paid came back (the cost of the work done, itemised)."""


@dataclass
class PaymentSnapshot:
    amount: int
    reference: str
    paid_on: str
    recorded_by_role: str
    recorded_by: str
    note: str = ""


@dataclass
class RefundSnapshot:
    rule: str
    """The rule that ordered it: CRT-5, TST-4, PROC-35, PROC-21, PROC-07 or FEE-3."""
    basis: str
    paid: int
    """Fen received when it was ordered."""
    minimum: int
    """Fen that must come back at least (everything, unless the rule lets the institution keep
    the cost of the work done)."""
    ordered_on: str
    payee_kind: str
    payee_id: str
    status: str = "ordered"
    """ordered, then refunded."""
    amount: int = 0
    """Fen paid back, once refunded."""
    reference: str = ""
    refunded_on: str | None = None
    retained_reason: str = ""
    late: bool = False


@dataclass
class FeeSnapshot:
    version: int
    items: list[FeeItem]
    total: int
    payer_kind: str
    quoted_on: str
    quoted_by: str
    payer_party_id: str = ""
    prepayment_required: bool = False
    """CRT-1: the examination may not begin before the fee is paid in full."""
    status: str = "quoted"
    note: str = ""
    answered_on: str | None = None
    answer_reason: str = ""
    payments: list[PaymentSnapshot] = field(default_factory=list)
    paid: int = 0
    refund: RefundSnapshot | None = None


def prepayment_required(*, entrusting_role: str, case_kind: str, payer_kind: str) -> bool:
    """CRT-1: in a court's civil or administrative case the party applying for the appraisal
    prepays it within the court's period; an organ paying from its own budget (a criminal case's
    investigating organ, a court appraising of its own motion) prepays nothing here (I)."""
    return (
        entrusting_role == Role.COURT and case_kind in ("civil", "administrative") and payer_kind == "party"
    )


@dataclass(frozen=True)
class RefundRule:
    rule_id: str
    trigger: str
    summary: str
    source: str
    confidence: str
    always_full: bool
    """Everything received comes back; otherwise everything before the examination began, and
    after it the institution may keep the cost of the work done, stated with its reasons."""


REFUND_RULES: dict[str, RefundRule] = {
    r.rule_id: r
    for r in (
        RefundRule(
            "CRT-5",
            "reassigned",
            "re-entrusted elsewhere after an unjustified delay: the fees received are refunded",
            "最高人民法院关于民事诉讼证据的若干规定 Art 35",
            "T",
            True,
        ),
        RefundRule(
            "TST-4",
            "refund_ruled",
            "an appraiser refused to testify and the court ordered the refund",
            "最高人民法院关于民事诉讼证据的若干规定 Art 81; 民事诉讼法 Art 81",
            "T",
            True,
        ),
        RefundRule(
            "PROC-35",
            "reappraisal",
            "a re-appraisal on an unqualified appraiser, seriously unlawful procedure or an opinion "
            "clearly without basis: the fees received are refunded",
            "最高人民法院关于民事诉讼证据的若干规定 Art 40",
            "T",
            True,
        ),
        RefundRule(
            "PROC-21",
            "terminated",
            "terminated (PROC-20): everything before the examination began, or when the bar was the "
            "institution's own (PROC-20-1); otherwise the institution refunds what the work not done "
            "is worth, keeping the cost of the work done with its reasons (酌情退还)",
            "司法鉴定程序通则 (司法部令132) Art 29; the provincial fee rules and the 委托书 (RULES.md "
            "PROC-21); the split by progress is this product's reading (I)",
            "T/I",
            False,
        ),
        RefundRule(
            "PROC-07",
            "refused",
            "not accepted (PROC-05): nothing was done, everything received comes back",
            "司法鉴定程序通则 (司法部令132) Art 17 (reasons given, materials returned); the provincial fee "
            "rules (I)",
            "I",
            True,
        ),
        RefundRule(
            "FEE-3",
            "withdrawn",
            "withdrawn by the entrusting organ: everything before the examination began; after it the "
            "institution may keep the cost of the work done, with its reasons",
            "司法鉴定程序通则 (司法部令132) Art 29(4) (the 委托人 withdraws); the provincial fee rules (I)",
            "I",
            False,
        ),
    )
}
"""The refund each ending computes (RULES.md PROC-21, CRT-5, TST-4, PROC-35)."""

FULL_REFUND_TERMINATION_GROUNDS = frozenset({"PROC-20-1"})
"""A termination on the institution's own bar (outside its scope, a matter it may not accept):
nothing of the fee is the institution's to keep (I)."""


@dataclass(frozen=True)
class RefundDue:
    rule: str
    paid: int
    minimum: int
    basis: str


def refund_due(rule_id: str, *, paid: int, examination_started: bool, ground: str = "") -> RefundDue:
    """What a refund ordered under this rule must give back at least, of `paid` fen."""
    rule = REFUND_RULES[rule_id]
    full = rule.always_full or not examination_started or ground in FULL_REFUND_TERMINATION_GROUNDS
    if full:
        why = (
            rule.summary
            if rule.always_full
            else "before the examination began, or on the institution's own bar"
        )
        return RefundDue(rule_id, paid, paid, f"{why}: everything received ({yuan(paid)} yuan)")
    return RefundDue(
        rule_id,
        paid,
        0,
        f"{rule.summary}: up to {yuan(paid)} yuan, less the stated cost of the work done",
    )
