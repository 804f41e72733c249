"""The rule table: every statutory time limit the product enforces, once,
with its id and legal source (RULES.md), so an auditor can trace any
deadline back to its article. Values marked M or I in RULES.md are
configuration a jurisdiction may change."""

from dataclasses import dataclass
from enum import StrEnum

from appraisal.domain.roles import Role


class DayUnit(StrEnum):
    WORKING = "working_day"
    NATURAL = "natural_day"


class RungKind(StrEnum):
    WARNING = "warning"
    """Most of the budget is used: the assignees are warned."""
    OVERDUE = "overdue"
    """The deadline has passed: first-level escalation."""
    ESCALATION = "escalation"
    """Still overdue some working days later: the bureau and the court are told."""


class Audience(StrEnum):
    ASSIGNEES = "assignees"
    INSTITUTION_HEAD = "institution_head"
    SUPERVISOR = "supervisor"
    COURT = "court"


@dataclass(frozen=True)
class Rung:
    kind: RungKind
    notify: tuple[Audience, ...]
    percent_used: int | None = None
    """Fires when this share of the budget is used (the end of that working day)."""
    working_days_after_deadline: int | None = None
    """Fires this many working days after the deadline (0: at the deadline)."""


DEFAULT_LADDER: tuple[Rung, ...] = (
    Rung(RungKind.WARNING, (Audience.ASSIGNEES,), percent_used=80),
    Rung(RungKind.OVERDUE, (Audience.INSTITUTION_HEAD,), working_days_after_deadline=0),
    Rung(
        RungKind.ESCALATION,
        (Audience.SUPERVISOR, Audience.COURT),
        working_days_after_deadline=5,
    ),
)


@dataclass(frozen=True)
class ClockRule:
    rule_id: str
    name: str
    limit: int
    unit: DayUnit
    starts_on: str
    source: str
    confidence: str
    assignee_role: Role
    pausable_by: tuple[Role, ...] = ()
    extension_max: int = 0
    extension_by: tuple[Role, ...] = ()
    ladder: tuple[Rung, ...] = DEFAULT_LADDER


ACCEPTANCE = ClockRule(
    rule_id="PROC-03",
    name="acceptance",
    limit=7,
    unit=DayUnit.WORKING,
    starts_on="receipt of the commission and its materials",
    source="司法鉴定程序通则 (司法部令132) Art 13; pause for supplements: Art 14 (I)",
    confidence="T",
    assignee_role=Role.INSTITUTION,
    pausable_by=(Role.INSTITUTION,),
    ladder=(
        # RULES.md: alert the head at day 5 of 7 (I).
        Rung(
            RungKind.WARNING,
            (Audience.ASSIGNEES, Audience.INSTITUTION_HEAD),
            percent_used=70,
        ),
        *DEFAULT_LADDER[1:],
    ),
)

EXAMINATION = ClockRule(
    rule_id="PROC-17",
    name="examination",
    limit=30,
    unit=DayUnit.WORKING,
    starts_on="the commission agreement (委托书) taking effect",
    source="司法鉴定程序通则 (司法部令132) Art 28; court cap: 证据规定 Art 32, 法〔2020〕202号 §13",
    confidence="T",
    assignee_role=Role.APPRAISER,
    pausable_by=(Role.INSTITUTION, Role.APPRAISER),
    extension_max=30,
    extension_by=(Role.INSTITUTION_HEAD,),
)

# ---- complaints (RULES.md section 10): the bureau handles them, so the ladder
# warns and escalates there (ComplaintWorkflow maps both audiences to the bureau) ----

COMPLAINT_LADDER: tuple[Rung, ...] = (
    Rung(RungKind.WARNING, (Audience.ASSIGNEES,), percent_used=80),
    Rung(RungKind.OVERDUE, (Audience.SUPERVISOR,), working_days_after_deadline=0),
    Rung(RungKind.ESCALATION, (Audience.SUPERVISOR,), working_days_after_deadline=5),
)

COMPLAINT_ACCEPTANCE = ClockRule(
    rule_id="CMP-5",
    name="complaint_acceptance",
    limit=7,
    unit=DayUnit.WORKING,
    starts_on="receipt of the complaint and its materials",
    source="司法鉴定执业活动投诉处理办法 (司法部令144) ~Art 15: ≤15 wd extension for complex cases; "
    "time to supplement materials not counted",
    confidence="M",
    assignee_role=Role.SUPERVISOR,
    pausable_by=(Role.SUPERVISOR,),
    extension_max=15,
    extension_by=(Role.SUPERVISOR,),
    ladder=COMPLAINT_LADDER,
)

COMPLAINT_HANDLING = ClockRule(
    rule_id="CMP-6",
    name="complaint_handling",
    limit=60,
    unit=DayUnit.NATURAL,
    starts_on="the complaint's acceptance",
    source="司法鉴定执业活动投诉处理办法 (司法部令144) ~Art 24: ≤30 d extension with the head's approval, "
    "the complainant told in writing",
    confidence="M",
    assignee_role=Role.SUPERVISOR,
    extension_max=30,
    extension_by=(Role.SUPERVISOR,),
    ladder=COMPLAINT_LADDER,
)

COMPLAINT_NOTICE = ClockRule(
    rule_id="CMP-7",
    name="complaint_notice",
    limit=7,
    unit=DayUnit.WORKING,
    starts_on="the handling decision",
    source="司法鉴定执业活动投诉处理办法 (司法部令144): complainant and respondent told in writing, "
    "with the remedies (复议 / 诉讼) and their deadlines",
    confidence="T",
    assignee_role=Role.SUPERVISOR,
    ladder=COMPLAINT_LADDER[:2],
)

CLOCK_RULES: dict[str, ClockRule] = {
    r.rule_id: r
    for r in (ACCEPTANCE, EXAMINATION, COMPLAINT_ACCEPTANCE, COMPLAINT_HANDLING, COMPLAINT_NOTICE)
}


@dataclass(frozen=True)
class StepRule:
    rule_id: str
    summary: str
    source: str


STEP_RULES: dict[str, StepRule] = {
    r.rule_id: r
    for r in (
        StepRule("PROC-01", "the institution accepts commissions as a unit", "通则 Art 11"),
        StepRule("PROC-08", "the institution designates qualified appraisers", "通则 Art 18"),
        StepRule("PROC-09", "at least two appraisers per matter", "通则 Art 19"),
        StepRule(
            "REG-1",
            "each appraiser is registered for the commission's category",
            "全国人大常委会关于司法鉴定管理问题的决定 §2",
        ),
        StepRule(
            "PROC-24",
            "every appraiser signs personally; dissent is noted",
            "通则 Art 37",
        ),
        StepRule(
            "PROC-25",
            "the institution issues the report to the commissioning party",
            "通则 Arts 36-39",
        ),
    )
}
