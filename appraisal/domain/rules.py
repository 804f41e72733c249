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


CATCH_UP_WORKING_DAYS = 1
"""A rung whose instant has already passed when its clock is planned (a commission
brought in from paper, or a resumption dated in the past) waits until the end of this
many working days after the planning day before it fires, so the steps taken on paper
(an acceptance, a pause) can be recorded first: a clock stopped or paused before a
rung's instant never fires it. A step recorded later still settles the rungs that
came due before it, dated at their own instants (I: the law has no paper regime)."""

LICENCE_ALERT_DAYS = 60
"""REG-8: a licence expiring within this many days raises a task for the bureau."""


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

# ---- after acceptance: recusal, objections, supplementary appraisal ----

RECUSAL_DECISION = ClockRule(
    rule_id="PROC-11",
    name="recusal_decision",
    limit=3,
    unit=DayUnit.WORKING,
    starts_on="the appraiser's declaration or the court's recusal request",
    source="司法鉴定程序通则 (司法部令132) Art 21: no statutory limit; suggested SLA 3 wd (I)",
    confidence="I",
    assignee_role=Role.INSTITUTION,
)

OBJECTION_REPLY = ClockRule(
    rule_id="CRT-7",
    name="objection_reply",
    limit=15,
    unit=DayUnit.NATURAL,
    starts_on="the court forwarding a party's objection; the period is the court's (15 d if unset)",
    source="最高人民法院关于民事诉讼证据的若干规定 Art 37",
    confidence="T",
    assignee_role=Role.APPRAISER,
)

SUPPLEMENTARY_EXAMINATION = ClockRule(
    rule_id="PROC-30",
    name="supplementary_examination",
    limit=30,
    unit=DayUnit.WORKING,
    starts_on="the court's request for a supplementary appraisal",
    source="司法鉴定程序通则 (司法部令132) Art 30: part of the original appraisal; its limit (I) "
    "follows PROC-17",
    confidence="I",
    assignee_role=Role.APPRAISER,
    pausable_by=(Role.INSTITUTION, Role.APPRAISER),
    extension_max=30,
    extension_by=(Role.INSTITUTION_HEAD,),
)

# ---- court testimony (RULES.md section 8): TestimonyWorkflow ----

TESTIMONY_CONFIRMATION = ClockRule(
    rule_id="TST-7",
    name="testimony_confirmation",
    limit=2,
    unit=DayUnit.WORKING,
    starts_on="the court's notice to appear reaching the institution",
    source="司法鉴定程序通则 (司法部令132) Arts 43-45: confirm promptly (及时确认); 2 wd is an SLA (I)",
    confidence="M",
    assignee_role=Role.APPRAISER,
    # One reminder when the SLA passes: to the appraisers who have not answered and their head.
    ladder=(
        Rung(
            RungKind.OVERDUE, (Audience.ASSIGNEES, Audience.INSTITUTION_HEAD), working_days_after_deadline=0
        ),
    ),
)

TESTIMONY_REFUND_RULING = ClockRule(
    rule_id="TST-4",
    name="testimony_refund_ruling",
    limit=3,
    unit=DayUnit.NATURAL,
    starts_on="the court recording that an appraiser refused to testify (the refund request, I)",
    source="最高人民法院关于民事诉讼证据的若干规定 Art 81: the court rules on the refund within 3 d",
    confidence="T",
    assignee_role=Role.COURT,
    # The court is told it is late, and the bureau 5 wd on. No warning: with a 3-day budget
    # rolled past rest days (CAL-3) it would often fall on the deadline itself.
    ladder=(
        Rung(RungKind.OVERDUE, (Audience.ASSIGNEES,), working_days_after_deadline=0),
        Rung(RungKind.ESCALATION, (Audience.ASSIGNEES, Audience.SUPERVISOR), working_days_after_deadline=5),
    ),
)

# ---- registration: admission, renewal and change of an institution's or an appraiser's
# registration (行政许可法; 司法部令95/96; RULES.md REG-2, REG-8). The bureau decides, so the
# ladder warns and escalates there (AdmissionWorkflow maps every audience to the bureau but the
# experts' own review clock, whose assignees are the panel). ----

REGISTRATION_LADDER: tuple[Rung, ...] = COMPLAINT_LADDER

ADMISSION_ACCEPTANCE = ClockRule(
    rule_id="ADM-1",
    name="admission_acceptance",
    limit=5,
    unit=DayUnit.WORKING,
    starts_on="receipt of the application and its materials",
    source="行政许可法 Art 32(4): 当场或者在五日内一次告知申请人需要补正的全部内容，逾期不告知的，"
    "自收到申请材料之日起即为受理; Art 82: 期限以工作日计算. While the applicant corrects, the period is "
    "paused and its rest counts again from the receipt of the correction; run out, the application "
    "is deemed accepted on that receipt (I: the law says only 应当受理)",
    confidence="T",
    assignee_role=Role.SUPERVISOR,
    pausable_by=(Role.SUPERVISOR,),
    # At the deadline the application is deemed accepted (the overdue rung does it).
    ladder=REGISTRATION_LADDER[:2],
)

ADMISSION_DECISION = ClockRule(
    rule_id="ADM-3",
    name="admission_decision",
    limit=20,
    unit=DayUnit.WORKING,
    starts_on="the application's acceptance (deemed acceptance: the receipt of the materials)",
    source="行政许可法 Art 42: 自受理之日起二十日内作出决定；经本行政机关负责人批准，可以延长十日，"
    "并应当将延长期限的理由告知申请人; Art 45: 专家评审所需时间不计算在期限内，书面告知申请人; Art 82; "
    "司法鉴定机构登记管理办法 (司法部令95) Art 22 and 司法鉴定人登记管理办法 (令96): the same 20 + 10 (M)",
    confidence="T",
    assignee_role=Role.SUPERVISOR,
    pausable_by=(Role.SUPERVISOR,),
    extension_max=10,
    extension_by=(Role.SUPERVISOR,),
    ladder=REGISTRATION_LADDER,
)

EXPERT_REVIEW = ClockRule(
    rule_id="ADM-4",
    name="expert_review",
    limit=15,
    unit=DayUnit.WORKING,
    starts_on="the expert panel drawn: the time the applicant is told in writing it will take",
    source="行政许可法 Art 45: the bureau tells the applicant in writing the time the expert review "
    "needs; its length is the bureau's to set, 15 wd when it names none (I)",
    confidence="I",
    assignee_role=Role.EXPERT,
    ladder=(
        Rung(RungKind.WARNING, (Audience.ASSIGNEES,), percent_used=80),
        Rung(RungKind.OVERDUE, (Audience.SUPERVISOR,), working_days_after_deadline=0),
    ),
)

# ---- the annual integrity evaluation (年度诚信执业评价, RULES.md REG-9, REG-10): one
# workflow per bureau and year. The periods are the product's (I): 司规〔2021〕4号 sets the
# steps (self-assessment, the bureau's assessment, 公示, objections, confirmation), not days. ----

SELF_ASSESSMENT = ClockRule(
    rule_id="EVL-2",
    name="self_assessment",
    limit=15,
    unit=DayUnit.WORKING,
    starts_on="the evaluated year's last day (or the evaluation's start, when run later)",
    source="司法鉴定机构诚信等级评估办法（试行）(司规〔2021〕4号): 机构自评; the period is I",
    confidence="I",
    assignee_role=Role.INSTITUTION,
    # At the deadline the window closes: who has not assessed itself is assessed without it.
    ladder=(
        Rung(RungKind.WARNING, (Audience.ASSIGNEES,), percent_used=80),
        Rung(RungKind.OVERDUE, (Audience.SUPERVISOR,), working_days_after_deadline=0),
    ),
)

ASSESSMENT_REVIEW = ClockRule(
    rule_id="EVL-3",
    name="assessment_review",
    limit=10,
    unit=DayUnit.WORKING,
    starts_on="the proposed grades computed from the year's record",
    source="司规〔2021〕4号: the bureau's assessment (司法行政机关评估); the period is I",
    confidence="I",
    assignee_role=Role.SUPERVISOR,
    ladder=REGISTRATION_LADDER,
)

GRADE_OBJECTIONS = ClockRule(
    rule_id="EVL-4",
    name="grade_objection_period",
    limit=10,
    unit=DayUnit.WORKING,
    starts_on="the proposed grades published for objection (公示)",
    source="司规〔2021〕4号: 评估结果公示, objections by the assessed; the period is I",
    confidence="I",
    assignee_role=Role.INSTITUTION,
    # At the deadline the period closes (no warning: nobody has to object).
    ladder=(Rung(RungKind.OVERDUE, (Audience.SUPERVISOR,), working_days_after_deadline=0),),
)

OBJECTION_DECISIONS = ClockRule(
    rule_id="EVL-5",
    name="grade_objection_decision",
    limit=10,
    unit=DayUnit.WORKING,
    starts_on="the objection period's end",
    source="司规〔2021〕4号: objections reviewed before the grades are confirmed; the period is I",
    confidence="I",
    assignee_role=Role.SUPERVISOR,
    ladder=REGISTRATION_LADDER,
)

TRAINING_WARNING_DAYS = 60
"""TRN-3: this many days before the year's end, every appraiser still short of the year's
in-service hours gets a task, and their institution sees it (I)."""

LICENCE_YEARS = 5
"""REG-8: a 许可证 or 执业证 is valid five years (M)."""

RENEWAL_LEAD_DAYS = 30
"""ADM-7: a renewal is applied for at least this many days before the licence expires
(行政许可法 Art 50)."""

GRADE_INSPECTION_WEIGHTS: dict[str, int] = {"A": 1, "B": 2, "C": 3, "D": 4}
"""EVL-7: how many times more likely an institution of each published grade is drawn for a
random inspection than one graded A (差异化监管, I); an institution never graded weighs
UNGRADED_INSPECTION_WEIGHT."""
UNGRADED_INSPECTION_WEIGHT = 2

CLOCK_RULES: dict[str, ClockRule] = {
    r.rule_id: r
    for r in (
        ADMISSION_ACCEPTANCE,
        ADMISSION_DECISION,
        EXPERT_REVIEW,
        SELF_ASSESSMENT,
        ASSESSMENT_REVIEW,
        GRADE_OBJECTIONS,
        OBJECTION_DECISIONS,
        ACCEPTANCE,
        EXAMINATION,
        COMPLAINT_ACCEPTANCE,
        COMPLAINT_HANDLING,
        COMPLAINT_NOTICE,
        RECUSAL_DECISION,
        OBJECTION_REPLY,
        SUPPLEMENTARY_EXAMINATION,
        TESTIMONY_CONFIRMATION,
        TESTIMONY_REFUND_RULING,
    )
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
        StepRule(
            "REG-2",
            "qualifications: an appraiser holds a senior title, or a licence or a bachelor's degree "
            "and 5 years in the field, or 10 years' experience; none after an intentional crime or "
            "negligence in office, a dismissal from public office or a revoked registration; an "
            "institution has at least 3 appraisers per category, the equipment and an accredited "
            "laboratory, and is not set up by a court or a judicial administration; an appraiser "
            "practises in one institution only",
            "全国人大常委会关于司法鉴定管理问题的决定 §§4-9",
        ),
        StepRule(
            "REG-11",
            "an institution set up by an investigative organ (侦查机关) for its own investigations may "
            "not take commissions from outside: it is never drawn, designated or negotiated",
            "全国人大常委会关于司法鉴定管理问题的决定 §7 (number M)",
        ),
        StepRule(
            "ADM-2",
            "what is missing is asked for once, all of it (一次告知); refusing to accept an application "
            "(不予受理) names its ground and is told in writing",
            "行政许可法 Arts 32, 72(4), 72(7)",
        ),
        StepRule(
            "ADM-5",
            "every admission, and every change that adds categories, is reviewed by a panel of at least "
            "3 experts drawn at random from the bureau's expert pool, those with a conflict left out or "
            "recused; each signs a score and an opinion (全面实行专家评审; panel size I)",
            "行政许可法 Art 45; the bureau's reply on lifelong responsibility",
        ),
        StepRule(
            "ADM-6",
            "a refusal states its reasons and tells the applicant of 行政复议 and 行政诉讼; an approval "
            "issues the licence (5 years, REG-8) and the registry entry",
            "行政许可法 Arts 38, 39, 44",
        ),
        StepRule(
            "ADM-7",
            "a renewal is applied for at least 30 days before the licence expires; not decided before "
            "it expires, it is deemed granted (视为准予延续)",
            "行政许可法 Art 50",
        ),
        StepRule(
            "TRN-1",
            "an appraiser first trains before practising (先培训后上岗): one admitted here is assigned "
            "to no commission until a pre-service course is recorded as completed",
            "司法鉴定教育培训工作管理办法 (司规〔2021〕1号) Art 3",
        ),
        StepRule(
            "TRN-2",
            "in-service training hours each year at least TRAINING_MIN_HOURS (40, M); a shortfall is "
            "entered in the integrity record when the year is evaluated",
            "司法鉴定教育培训工作管理办法 (司规〔2021〕1号) (hours M)",
        ),
        StepRule(
            "EVL-1",
            "the bureau evaluates each institution and appraiser every year from the year's record "
            "(overdue deadlines, refusals to testify, upheld complaints, training shortfalls), with a "
            "self-assessment, 公示 and objections, then confirms and publishes the grades (I: the "
            "points and floors are INTEGRITY_DEDUCTIONS and INTEGRITY_GRADE_FLOORS)",
            "司法鉴定机构诚信等级评估办法（试行）(司规〔2021〕4号); RULES.md REG-9, REG-10",
        ),
        StepRule(
            "EVL-7",
            "the published grade weighs the monthly random inspection draw: lower grades are drawn "
            "more often (差异化监管, GRADE_INSPECTION_WEIGHTS, I)",
            "RULES.md REG-9",
        ),
        StepRule(
            "CMP-1",
            "a complaint within 3 years of knowing of the conduct; a last day on a rest day rolls to "
            "the next working day (the reading taken: 民法典 Art 203, 民诉法 Art 85 by analogy, CAL-3)",
            "司法鉴定执业活动投诉处理办法 (司法部令144) Arts 3-4",
        ),
    )
}
