"""The fee (鉴定费) in the REST contract: the charging standard the bureau keeps, a quote per
matter, the payer's answer, payments and refunds. Amounts are yuan with at most two decimals
(JSON strings such as "1800.00" in answers; a number or a string in requests); the workflow
keeps whole fen."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from appraisal.schemas.common import Id, ShortText, Strict

Yuan = Annotated[
    Decimal, Field(gt=0, max_digits=11, decimal_places=2, description="yuan, two decimals at most")
]
YuanOrNothing = Annotated[Decimal, Field(ge=0, max_digits=11, decimal_places=2)]
FEN_FIELDS = ("amount", "total", "paid", "minimum", "standard_ceiling", "ceiling")


def as_yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def _fen_to_yuan(data: Any) -> Any:
    """A snapshot's whole fen as yuan (only ints: a value already in yuan passes)."""
    if not isinstance(data, dict):
        return data
    return {
        k: as_yuan(v) if k in FEN_FIELDS and isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in data.items()
    }


class FromFen(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def yuan_from_fen(cls, data: Any) -> Any:
        return _fen_to_yuan(data)


class FeeItemIn(Strict):
    matter: ShortText = Field(description="one of the commission's matters")
    amount: Yuan


class FeeQuoteCreate(Strict):
    items: list[FeeItemIn] = Field(min_length=1, max_length=50, description="the fee of each matter")
    payer: Literal["entruster", "party"] = Field(
        default="entruster",
        description="who pays: the entrusting organ, or a party (then `payer_party_id`); a party of a court's "
        "civil or administrative case prepays before the examination begins (CRT-1)",
    )
    payer_party_id: Id | None = None
    note: str = Field(default="", max_length=4000)


class FeeAnswerCreate(Strict):
    accepted: bool
    reason: str = Field(default="", max_length=4000, description="why not, when declined")


class FeePaymentCreate(Strict):
    amount: Yuan
    reference: ShortText = Field(
        description="the external reference: a bank transfer, a payment system's receipt"
    )
    paid_on: date | None = Field(default=None, description="default today")
    note: str = Field(default="", max_length=4000)


class RefundCreate(Strict):
    amount: YuanOrNothing = Field(
        description="paid back: at least what the rule requires (`fee.refund.minimum`)"
    )
    reference: ShortText = Field(description="the external reference of the refund")
    refunded_on: date | None = Field(default=None, description="default today")
    retained_reason: str = Field(
        default="", max_length=4000, description="what is kept back and why (the cost of the work done)"
    )


class FeeItemPublic(FromFen):
    matter: str
    amount: Decimal
    standard_ceiling: Decimal = Decimal(0)
    standard_id: str = ""
    standard_source: str = ""


class PaymentPublic(FromFen):
    amount: Decimal
    reference: str
    paid_on: date
    recorded_by_role: str
    recorded_by: str
    note: str = ""


class RefundPublic(FromFen):
    rule: str = Field(description="CRT-5, TST-4, PROC-35, PROC-21, PROC-07 or FEE-3")
    basis: str
    paid: Decimal
    minimum: Decimal = Field(description="what must come back at least")
    ordered_on: date
    payee_kind: str
    payee_id: str
    status: str = Field(description="ordered, or refunded")
    amount: Decimal = Field(default=Decimal(0), description="paid back, once refunded")
    reference: str = ""
    refunded_on: date | None = None
    retained_reason: str = ""
    late: bool = False


class FeePublic(FromFen):
    version: int
    items: list[FeeItemPublic]
    total: Decimal
    payer_kind: str = Field(description="entruster or party")
    payer_party_id: str = ""
    prepayment_required: bool = Field(description="CRT-1: paid in full before the examination begins")
    status: str = Field(description="quoted, accepted or declined")
    quoted_on: date
    quoted_by: str
    note: str = ""
    answered_on: date | None = None
    answer_reason: str = ""
    payments: list[PaymentPublic] = Field(default_factory=list)
    paid: Decimal = Decimal(0)
    refund: RefundPublic | None = None


class FeeStandardCreate(Strict):
    category: ShortText = Field(description="the category (执业类别) it charges, e.g. forensic_clinical")
    matter: str = Field(
        default="",
        max_length=200,
        description="one matter of the category (e.g. 伤残等级评定); empty: any matter",
    )
    ceiling: Yuan = Field(description="the most one matter may be charged")
    source: ShortText = Field(description="the price document it comes from (e.g. 渝发改价格〔2017〕…号)")
    effective_from: date | None = Field(default=None, description="default today")
    reason: str = Field(default="", max_length=4000)


class FeeStandardPublic(FromFen):
    id: str
    bureau_id: str
    category: str
    matter: str
    ceiling: Decimal
    unit: str
    source: str
    effective_from: date
    created_by: str
    created_at: datetime
    superseded_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def ceiling_from_row(cls, data: Any) -> Any:
        if not isinstance(data, dict) and hasattr(data, "ceiling_fen"):
            return {**data.model_dump(), "ceiling": as_yuan(data.ceiling_fen)}
        return data
