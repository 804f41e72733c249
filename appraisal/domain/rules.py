"""The rule table: every statutory time limit the product enforces, once,
with its id and legal source (RULES.md), so an auditor can trace any
deadline back to its article. Values marked M or I in RULES.md are
configuration a jurisdiction may change."""

import re
from dataclasses import dataclass
from enum import StrEnum

from appraisal.domain.roles import Role


class DayUnit(StrEnum):
    WORKING = "working_day"
    NATURAL = "natural_day"
    NATURAL_IN_CUSTODY = "natural_day_in_custody"
    """Natural days of a criminal period while the person is in custody: a last day on a
    rest day does not roll to the next working day (CAL-4, CPL Art 105)."""


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
    """The entrusting organ (委托人): a court, or the procuratorate or investigative organ that
    entrusted the commission (the name is the one the rule table always had)."""


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

# ---- administrative penalties (RULES.md CMP-9, REG-3…REG-7; 行政处罚法 2021) ----

PENALTY_LADDER: tuple[Rung, ...] = COMPLAINT_LADDER
"""The bureau runs the penalty case: its own clocks warn and escalate there."""

PENALTY_DECISION = ClockRule(
    rule_id="CMP-9",
    name="penalty_decision",
    limit=90,
    unit=DayUnit.NATURAL,
    starts_on="the filing of the case (立案)",
    source="行政处罚法 (2021) Art 60: decided within 90 days of filing; an extension where the law, "
    "a regulation or a rule provides, approved by the head of the bureau (recorded); ≤30 d here (I)",
    confidence="T",
    assignee_role=Role.SUPERVISOR,
    extension_max=30,
    extension_by=(Role.SUPERVISOR,),
    ladder=PENALTY_LADDER,
)

PENALTY_HEARING_REQUEST = ClockRule(
    rule_id="PEN-2",
    name="penalty_hearing_request",
    limit=5,
    unit=DayUnit.NATURAL,
    starts_on="the party being told of the proposed penalty and of the right to a hearing",
    source="行政处罚法 (2021) Art 64(1): a hearing is asked for within 5 days of being told; "
    "Arts 44-45: the facts, reasons, basis and the right to state and defend",
    confidence="T",
    assignee_role=Role.SUPERVISOR,
    # The party's window: when it closes the bureau is told it may decide (no warning).
    ladder=(Rung(RungKind.OVERDUE, (Audience.SUPERVISOR,), working_days_after_deadline=0),),
)

PENALTY_HEARING_NOTICE_DAYS = 7
"""行政处罚法 Art 64(2): the party is told of the hearing's time and place 7 days before it."""

PENALTY_SERVICE = ClockRule(
    rule_id="PEN-4",
    name="penalty_service",
    limit=7,
    unit=DayUnit.NATURAL,
    starts_on="the penalty decision",
    source="行政处罚法 (2021) Art 61: handed over on the spot, or served within 7 days",
    confidence="T",
    assignee_role=Role.SUPERVISOR,
    ladder=COMPLAINT_LADDER[:2],
)

PENALTY_TIME_BAR_YEARS = 2
PENALTY_TIME_BAR_HARM_YEARS = 5
"""行政处罚法 Art 36: no penalty for a breach undiscovered for 2 years; 5 years when it harms
life, health or financial security (CMP-9)."""

# ---- exit: a suspension, revocation, deregistration or lapsed licence reaching the work ----

REGISTRY_EXIT_REMEDY = ClockRule(
    rule_id="EXIT-1",
    name="registry_exit_remedy",
    limit=10,
    unit=DayUnit.WORKING,
    starts_on="the commission learning that its institution (or all of it) may no longer act",
    source="机构办法 (令95) Art 40, 人办法 Arts 29-30 (a sanctioned institution or appraiser may not "
    "practise); 法〔2020〕202号 §14 (SEL-4): the court re-entrusts (CRT-5 path) or withdraws; "
    "10 wd is this product's interpretation (I)",
    confidence="I",
    assignee_role=Role.COURT,
    ladder=(
        Rung(RungKind.OVERDUE, (Audience.COURT,), working_days_after_deadline=0),
        Rung(RungKind.ESCALATION, (Audience.COURT, Audience.SUPERVISOR), working_days_after_deadline=5),
    ),
)

# ---- criminal procedure (RULES.md PROC-36): the investigating organ's written notice ----

APPLICANT_NOTICE = ClockRule(
    rule_id="PROC-36",
    name="applicant_notice",
    limit=3,
    unit=DayUnit.NATURAL,
    starts_on="the decision not to allow the supplementary or re-appraisal a suspect or victim applied for",
    source="刑事诉讼法 Art 148 (S4); 公安机关办理刑事案件程序规定 (公安部令159) Arts 254-255: the applicant "
    "is told in writing within 3 days of the decision not to allow it; 人民检察院刑事诉讼规则 Art 221 "
    "(the same period for a procuratorate: I)",
    confidence="T",
    # Whichever investigating organ entrusted the commission (police, procuratorate, another
    # investigative organ): the workflow sends this clock's tasks and rungs to the entrusting organ.
    assignee_role=Role.PUBLIC_SECURITY,
    # The organ is told it is late; no bureau oversees an investigating organ here.
    ladder=(Rung(RungKind.OVERDUE, (Audience.COURT,), working_days_after_deadline=0),),
)
"""A criminal period in natural days: a last day on a rest day rolls (CAL-3 as CAL-4 allows)."""

APPLICANT_NOTICE_IN_CUSTODY = ClockRule(
    rule_id="PROC-36-CAL-4",
    name="applicant_notice_in_custody",
    limit=3,
    unit=DayUnit.NATURAL_IN_CUSTODY,
    starts_on="the same decision, while the suspect is in custody",
    source="PROC-36 as above; counted by 刑事诉讼法 Art 105 (S4): while the person is in custody a "
    "holiday does not extend the period (CAL-4)",
    confidence="T",
    assignee_role=Role.PUBLIC_SECURITY,
    ladder=APPLICANT_NOTICE.ladder,
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

# ---- the fee (鉴定费): a refund ordered is paid back within a time (RULES.md PROC-21, REG-5) ----

FEE_REFUND = ClockRule(
    rule_id="FEE-2",
    name="fee_refund",
    limit=10,
    unit=DayUnit.WORKING,
    starts_on="a refund ordered (terminated, withdrawn, re-entrusted after a delay, a refusal to testify, "
    "a re-appraisal that refunds)",
    source="司法鉴定程序通则 (司法部令132) Art 29 (PROC-21); 证据规定 Arts 35, 40, 81 (CRT-5, PROC-35, "
    "TST-4): the law orders the refund but sets no period; 10 wd is this product's interpretation (I). "
    "A refund kept back past it is a fee violation in the integrity record (机构办法 Art 39, REG-5)",
    confidence="I",
    assignee_role=Role.INSTITUTION,
    ladder=(
        Rung(RungKind.WARNING, (Audience.ASSIGNEES,), percent_used=80),
        Rung(
            RungKind.OVERDUE,
            (Audience.ASSIGNEES, Audience.INSTITUTION_HEAD, Audience.COURT),
            working_days_after_deadline=0,
        ),
        Rung(RungKind.ESCALATION, (Audience.SUPERVISOR,), working_days_after_deadline=5),
    ),
)

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
        PENALTY_DECISION,
        PENALTY_HEARING_REQUEST,
        PENALTY_SERVICE,
        REGISTRY_EXIT_REMEDY,
        APPLICANT_NOTICE,
        APPLICANT_NOTICE_IN_CUSTODY,
        FEE_REFUND,
    )
}


@dataclass(frozen=True)
class StepRule:
    rule_id: str
    summary: str
    source: str
    confidence: str = "T"


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
        StepRule(
            "PEN-1",
            "a penalty case is filed for a breach discovered within 2 years (5 where life, health or "
            "financial security was harmed)",
            "行政处罚法 (2021) Art 36",
        ),
        StepRule(
            "PEN-3",
            "a hearing asked for is held, its notice given at least 7 days before",
            "行政处罚法 (2021) Art 64(2)",
        ),
        StepRule(
            "PEN-5",
            "a decision with a certain social impact is made public",
            "行政处罚法 (2021) Art 48",
        ),
        StepRule(
            "SUP-1",
            "an institution's refusal, termination, overdue or complaint rate well above the province's "
            "raises a task for the bureau (thresholds: domain/rates.py, I)",
            "司法鉴定管理 supervision (随意退鉴, 超范围鉴定); 司规〔2021〕4号 (I)",
        ),
        StepRule(
            "IND-1",
            "no one interferes with an appraisal or instructs an appraiser to reach an opinion; an "
            "attempt is recorded, signed, and reaches the bureau",
            "全国人大常委会关于司法鉴定管理问题的决定 §10; 通则 Art 5",
        ),
        # ---- every entrusting organ, not only courts (公检法) ----
        StepRule(
            "ENT-1",
            "the entrusting party (委托人) is a case-handling organ: a people's court, a people's "
            "procuratorate, a public security organ or another investigative organ, each with its own "
            "users and seeing only what it entrusted (and what a case hand-over linked to it)",
            "司法鉴定程序通则 (司法部令132) Art 11 (办案机关); 刑事诉讼法 Art 146 (S4); 刑事诉讼法 Art 4, "
            "Art 308 (state security, the army's security departments, the coast guard, prisons)",
        ),
        StepRule(
            "ENT-3",
            "an institution an investigative organ set up for its investigations takes no commission from "
            "outside: only its founding organ and organs of the same investigative system entrust it "
            "(what counts as the same system: I); a court never sets one up",
            "全国人大常委会关于司法鉴定管理问题的决定 §7 (P9)",
            "T/I",
        ),
        StepRule(
            "ENT-4",
            "a case moves on with its record: the investigating organ transfers it to the procuratorate "
            "for review for prosecution, the procuratorate to the court with the indictment; the later "
            "organ sees the earlier commissions of the case, linked, without entrusting them again, and "
            "the hand-over is recorded in each running commission's audit chain",
            "刑事诉讼法 Arts 162, 176 (S4); 公安机关办理刑事案件程序规定 (公安部令159) Art 289; "
            "人民检察院刑事诉讼规则 Arts 238, 428 (the file handed over)",
            "T",
        ),
        # ---- the parties and the money ----
        StepRule(
            "CRT-1",
            "in a court's civil or administrative case the party applying for the appraisal prepays the fee "
            "within the court's period, otherwise the application is deemed waived: an institution does "
            "not begin the examination (accept) before a fee quoted to a party is paid in full",
            "最高人民法院关于民事诉讼证据的若干规定 Arts 30-31; 最高人民法院关于适用《民事诉讼法》的解释 "
            "Art 121",
        ),
        StepRule(
            "FEE-1",
            "the institution quotes the fee per matter within the charging standard of the category that "
            "the bureau keeps (with its source); a quote above it is refused; the payer accepts it before "
            "any payment, and no more than the accepted quote is received",
            "司法鉴定收费管理办法 (发改价格〔2009〕2264号) and the province's 司法鉴定收费标准; charging "
            "beyond it is a fee violation (司法鉴定机构登记管理办法 (令95) Art 39, REG-5)",
            "M",
        ),
        StepRule(
            "FEE-3",
            "a commission withdrawn by the entrusting organ: everything paid comes back before the "
            "examination began; after it the institution may keep the cost of the work done, with reasons",
            "司法鉴定程序通则 (司法部令132) Art 29(4); the provincial fee rules",
            "I",
        ),
        StepRule(
            "PTY-1",
            "the parties (当事人) of a commission see its stage, clocks, materials, the institution and how "
            "it was chosen (the draw re-run from its seed), and the report once the entrusting organ "
            "releases it; they act through the organ (materials, an objection) and complain to the bureau "
            "themselves",
            "人民法院对外委托司法鉴定管理规定 Art 10; 人民法院委托鉴定系统 (SEL-3, P17): parties watch the "
            "draw, pay and supply materials online; 司法鉴定执业活动投诉处理办法 (司法部令144) Art 3",
            "T/I",
        ),
        StepRule(
            "PROC-36",
            "the investigating organ tells the suspect and the victim (or their legal representative or "
            "near relative) of an opinion used as evidence; on their application it decides whether a "
            "supplementary or a re-appraisal follows, and tells an applicant refused in writing within "
            "3 days (clock PROC-36)",
            "刑事诉讼法 Art 148 (S4); 公安机关办理刑事案件程序规定 (公安部令159) Arts 252-255; "
            "人民检察院刑事诉讼规则 Art 221",
        ),
    )
}


# ---- the case numbers of each entrusting organ (ENT-2) ----

YEAR_IN_BRACKETS = r"[〔\[［(（]\d{4}[〕\]］)）]"
"""A document number's year: 〔2026〕 (GB/T 9704), or in square or round brackets as typed."""


@dataclass(frozen=True)
class CaseNumberFormat:
    """How an organ of these kinds numbers its cases: what its number looks like, which kind of
    case it is (None: the court's number says, by its type character), whether a number in
    another shape is refused (`strict`), and the rule's source."""

    rule_id: str
    organ_kinds: tuple[str, ...]
    patterns: tuple[str, ...]
    example: str
    case_kind: str | None
    strict: bool
    summary: str
    source: str
    confidence: str

    def matches(self, case_number: str) -> bool:
        return any(re.fullmatch(p, case_number) for p in self.patterns)


INVESTIGATIVE_KINDS = (
    "state_security",
    "customs_anti_smuggling",
    "coast_guard",
    "prison",
    "military_security",
)
"""The other investigative organs (role investigative_organ), by their kind in the registry."""

CASE_NUMBER_FORMATS: tuple[CaseNumberFormat, ...] = (
    CaseNumberFormat(
        "ENT-2-1",
        ("court",),
        (r"[(（]\d{4}[)）]\S+号",),
        "(2026)渝0103刑初12号",
        None,
        False,
        "a court's case number: (year) court code, type characters, serial, 号; the type character "
        "after the court code tells the kind (刑 criminal, 行 administrative, otherwise civil). A number "
        "in another shape is taken as civil, as it always was (courts keep what they had)",
        "最高人民法院关于人民法院案件案号的若干规定 (法〔2015〕137号) Arts 2-5 and its 案件类型代字标准",
        "M",
    ),
    CaseNumberFormat(
        "ENT-2-2",
        ("procuratorate",),
        (rf"\S*检\S*{YEAR_IN_BRACKETS}\S*\d+号",),
        "渝渝中检刑诉〔2026〕12号",
        "criminal",
        True,
        "a procuratorate's document number: its code with 检, the business code (刑诉 review for "
        "prosecution, 刑捕 arrest, …), 〔year〕, serial, 号; a criminal case",
        "人民检察院刑事诉讼法律文书格式样本 (2020): 文书编号 ××检××刑诉〔年度〕×号",
        "M",
    ),
    CaseNumberFormat(
        "ENT-2-3",
        ("public_security",),
        (r"A\d{22}", rf"\S*公\S*{YEAR_IN_BRACKETS}\S*\d+号"),
        "A5001035000002026010001",
        "criminal",
        True,
        "a public security organ's case number: A, the 12-digit unit code, year and month, a 4-digit "
        "serial (the case system's 案件编号), or its document number ×公（×）×字〔year〕×号; a criminal case",
        "公安机关刑事法律文书式样 (2012版): 文书文号; 公安机关执法办案信息系统 案件编号",
        "M",
    ),
    CaseNumberFormat(
        "ENT-2-4",
        INVESTIGATIVE_KINDS,
        (rf"\S+{YEAR_IN_BRACKETS}\S*\d+号",),
        "渝缉私刑立字〔2026〕8号",
        "criminal",
        True,
        "another investigative organ's document number: its code, 〔year〕, serial, 号; a criminal case",
        "刑事诉讼法 Art 4, Art 308 (S4): these organs investigate under the CPL; the number's shape is "
        "each organ's own (I)",
        "I",
    ),
)
"""ENT-2: one row per kind of entrusting organ."""
