"""Supervision analytics (随意退鉴, 超范围鉴定 and the like): per institution, how often its
commissions were refused, terminated, went overdue or drew a complaint, against the same rate
over the whole province (the bureau's institutions); an unusual rate raises a task for the
bureau (SUP-1). The thresholds are this product's interpretation (I): configuration."""

from dataclasses import dataclass

METRICS: dict[str, str] = {
    "refusal": "不予受理率 refused at acceptance (PROC-05), of the commissions entrusted",
    "termination": "终止率 terminated (PROC-20), of the commissions entrusted",
    "overdue": "超期率 overdue now, of the commissions entrusted",
    "complaint": "投诉率 complaints registered, per commission entrusted",
}
MIN_COMMISSIONS = 10
"""Below this many commissions an institution's rates say too little to raise anything."""
MIN_EVENTS = 3
"""Nor below this many refusals, terminations, overdue commissions or complaints."""
UNUSUAL_FACTOR = 2.0
"""Unusual: at least twice the province's rate…"""
MIN_EXCESS = 0.05
"""…and at least 5 percentage points above it."""


@dataclass(frozen=True)
class Rate:
    metric: str
    numerator: int
    denominator: int
    province_numerator: int
    province_denominator: int

    @property
    def rate(self) -> float:
        return self.numerator / self.denominator if self.denominator else 0.0

    @property
    def province_rate(self) -> float:
        return self.province_numerator / self.province_denominator if self.province_denominator else 0.0

    @property
    def unusual(self) -> bool:
        """Enough commissions and events, and well above the province (SUP-1)."""
        if self.denominator < MIN_COMMISSIONS or self.numerator < MIN_EVENTS:
            return False
        return (
            self.rate >= UNUSUAL_FACTOR * self.province_rate and self.rate - self.province_rate >= MIN_EXCESS
        )
