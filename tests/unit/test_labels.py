"""The workspace's message catalogue covers every code a page shows: each stage, task kind,
audit event kind, clock, rung and status the workflows produce has a Chinese and an English
text (appraisal/web/locale), so no page falls back to a raw code."""

import re
from pathlib import Path

import pytest

from appraisal.core.settings import DEFAULT_INTEGRITY_DEDUCTIONS
from appraisal.domain.admission import (
    FOUNDING_ORGAN_KINDS,
    QUALIFICATIONS,
    RECOMMENDATIONS,
    AdmissionKind,
    AdmissionStage,
    SubjectKind,
)
from appraisal.domain.complaint import COMPLAINANT_KINDS, OUTCOMES, ComplaintStage
from appraisal.domain.evaluation import EvaluationStage
from appraisal.domain.exit import BARRING_STATUSES, RESTORED
from appraisal.domain.penalty import PENALTIES, PenaltyStage
from appraisal.domain.penalty import SOURCES as PENALTY_SOURCES
from appraisal.domain.rates import METRICS
from appraisal.domain.roles import Role
from appraisal.domain.rules import CLOCK_RULES, RungKind
from appraisal.domain.stages import Stage
from appraisal.domain.testimony import AppraiserState, TestimonyStage
from appraisal.domain.training import COURSE_KINDS
from appraisal.schemas.admission import (
    AdmissionCreate,
    AdmissionDecisionCreate,
    AdmissionWithdrawalCreate,
    AppraiserIn,
    ChangeIn,
    CorrectionCreate,
    ExpertCreate,
    ExpertRecusalCreate,
    InstitutionIn,
    ReviewCreate,
)
from appraisal.schemas.commission import (
    CalendarYearPut,
    EntrustmentCreate,
    MaterialIn,
    ReentrustmentCreate,
    Selection,
)
from appraisal.schemas.complaint import ComplainantIn, ComplaintCreate, ComplaintDecisionCreate
from appraisal.schemas.criminal import CaseTransferCreate, NotifiedPersonIn
from appraisal.schemas.evaluation import (
    EvaluationCreate,
    EvaluationStepCreate,
    GradeObjectionCreate,
    SelfAssessmentCreate,
)
from appraisal.schemas.fees import FeeItemIn, FeeStandardCreate
from appraisal.schemas.lifecycle import ReappraisalCreate
from appraisal.schemas.parties import ContactPut, DrawCreate, PartyComplaintCreate, PartyIn
from appraisal.schemas.penalty import (
    InspectionResultIn,
    InspectionResultsCreate,
    PenaltyCaseCreate,
    PenaltyStepCreate,
)
from appraisal.schemas.registry import (
    AppraiserCreate,
    AppraiserUpdate,
    InspectionCreate,
    InstitutionCreate,
    InstitutionUpdate,
    RegistryStatusCreate,
)
from appraisal.schemas.training import AttendanceCreate, AttendanceIn, CourseCreate
from appraisal.seed import INSTITUTIONS
from appraisal.services.steps import STEPS
from appraisal.web.labels import LOCALES, catalogue, label
from appraisal.web.session import field_label
from appraisal.workflows.testimony import ANSWER_STATES
from tests.conftest import ROOT

SOURCES = [*(ROOT / "appraisal" / "workflows").glob("*.py"), ROOT / "appraisal" / "db" / "registry.py"]


def recorded_event_kinds() -> set[str]:
    """Every audit event kind the workflows write: the literal ones, the clocks' rungs and a
    testimony's answers."""
    literal = set()
    for source in SOURCES:
        literal |= set(
            re.findall(
                r'"((?:commission|clock|report|materials|fee|party|supplementary|recusal|objection|testimony|complaint'
                r"|integrity|penalty|registry|interference|opinion|application|applicant|case|admission|evaluation"
                r'|training)\.[a-z_]+)"',
                source.read_text(),
            )
        )
    return literal | {f"clock.{k}" for k in RungKind} | {f"testimony.{s}" for s in ANSWER_STATES.values()}


def task_kinds() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        text = source.read_text()
        found |= set(re.findall(r'TaskSnapshot\(\s*"([a-z_]+)"', text))
        found |= set(re.findall(r'task\("([a-z_]+)"', text))
        found |= set(re.findall(r"select t\.id, '([a-z_]+)'", text))
    return found


EXPECTED: list[tuple[str, set[str]]] = [
    ("stage", {s.value for s in Stage}),
    ("complaint_stage", {s.value for s in ComplaintStage}),
    ("status", {s.value for s in TestimonyStage} | {s.value for s in AppraiserState}),
    ("role", {r.value for r in Role}),
    ("rung", {k.value for k in RungKind}),
    ("clock", {rule.name for rule in CLOCK_RULES.values()}),
    ("category", {c for i in INSTITUTIONS for c in i.categories}),
    ("complainant", set(COMPLAINANT_KINDS)),
    ("outcome", {str(o) for o in OUTCOMES}),
    ("admission_kind", {k.value for k in AdmissionKind}),
    ("admission_stage", {s.value for s in AdmissionStage}),
    ("subject_kind", {k.value for k in SubjectKind}),
    ("founding_organ", set(FOUNDING_ORGAN_KINDS)),
    ("qualification", set(QUALIFICATIONS)),
    ("recommendation", set(RECOMMENDATIONS)),
    ("evaluation_stage", {s.value for s in EvaluationStage}),
    ("course_kind", set(COURSE_KINDS)),
    ("grade_status", {"proposed", "published"}),
    ("deduction", set(DEFAULT_INTEGRITY_DEDUCTIONS)),
    ("stage", {s.value for s in AdmissionStage} | {s.value for s in EvaluationStage} | {"training_short"}),
    ("event", recorded_event_kinds()),
    ("task", task_kinds() | {"review_unusual_rate"}),
    ("penalty_stage", {s.value for s in PenaltyStage}),
    ("penalty", set(PENALTIES)),
    ("penalty_source", set(PENALTY_SOURCES)),
    ("registry_status", {"active", "suspended", "revoked", "deregistered", *BARRING_STATUSES, RESTORED}),
    ("metric", set(METRICS)),
]


@pytest.mark.parametrize(("context", "codes"), EXPECTED, ids=[context for context, _ in EXPECTED])
def test_every_code_a_page_shows_has_chinese_and_english(context: str, codes: set[str]) -> None:
    assert len(codes) >= 2, f"the scan for {context} found too little to mean anything"
    for locale in LOCALES:
        missing = sorted(c for c in codes if (context, c) not in catalogue(locale))
        assert missing == [], f"{locale} lacks {context}: {missing}"


def test_the_two_locales_hold_the_same_codes_and_a_label_puts_chinese_first() -> None:
    assert set(catalogue("zh_CN")) == set(catalogue("en"))
    assert label("examining", "stage") == "鉴定中 Examining"
    assert label("report.dissented", "event").split(" ")[0] == "签署不同意见"
    assert label("no_such_code", "stage") == "no_such_code"
    assert Path(ROOT / "appraisal" / "web" / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po").exists()


def refusal_codes() -> set[str]:
    """Every code a refused step can carry: the domain's and the services' rule violations
    and the API's own errors."""
    found: set[str] = set()
    for source in (ROOT / "appraisal").rglob("*.py"):
        text = source.read_text()
        found |= set(re.findall(r'RuleViolation\(\s*"([a-z_]+)"', text))
        found |= set(re.findall(r'ApiError\(\s*\d+,\s*"([a-z_]+)"', text))
    return found


def test_every_refusal_a_form_can_show_has_chinese_and_english() -> None:
    codes = refusal_codes()
    assert {"not_in_stage", "too_few_appraisers", "hearing_not_held"} <= codes
    for locale in LOCALES:
        assert sorted(c for c in codes if ("error", c) not in catalogue(locale)) == [], locale


def test_every_field_a_form_can_name_has_words() -> None:
    bodies = [step.body for step in STEPS.values()]
    bodies += [
        EntrustmentCreate,
        ReentrustmentCreate,
        ReappraisalCreate,
        MaterialIn,
        Selection,
        CalendarYearPut,
    ]
    bodies += [ComplaintCreate, ComplaintDecisionCreate, ComplainantIn, InstitutionCreate, AppraiserCreate]
    bodies += [AppraiserUpdate, InstitutionUpdate, RegistryStatusCreate, InspectionCreate]
    bodies += [PenaltyCaseCreate, PenaltyStepCreate, InspectionResultsCreate, InspectionResultIn]
    bodies += [CaseTransferCreate, NotifiedPersonIn]
    bodies += [AdmissionCreate, AdmissionDecisionCreate, CorrectionCreate, AdmissionWithdrawalCreate]
    bodies += [ReviewCreate, ExpertRecusalCreate, ExpertCreate, InstitutionIn, AppraiserIn, ChangeIn]
    bodies += [CourseCreate, AttendanceCreate, AttendanceIn, EvaluationCreate, SelfAssessmentCreate]
    bodies += [GradeObjectionCreate, EvaluationStepCreate]
    bodies += [PartyIn, DrawCreate, PartyComplaintCreate, ContactPut, FeeItemIn, FeeStandardCreate]
    named = {name for body in bodies for name in body.model_fields}
    for source in (ROOT / "appraisal").rglob("*.py"):  # the fields services name themselves
        named |= {f.split(".")[-1] for f in re.findall(r'InvalidInput\(\s*"([a-z_.]+)"', source.read_text())}
    for locale in LOCALES:
        assert sorted(n for n in named if ("field", n) not in catalogue(locale)) == [], locale
    assert field_label(["materials", 1, "sha256"]) == "SHA-256 hash（第 2 行 row 2）"
