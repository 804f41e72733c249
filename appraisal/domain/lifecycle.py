"""Each workflow's lifecycle as a table of transitions. The commission
workflow's validators ask this table whether a step is allowed in the current
stage, and docs/lifecycle.md is generated from it (a test keeps them equal),
so the diagram cannot drift from the code."""

from dataclasses import dataclass

from appraisal.domain.admission import AdmissionStage
from appraisal.domain.complaint import ComplaintStage
from appraisal.domain.errors import RuleViolation
from appraisal.domain.evaluation import EvaluationStage
from appraisal.domain.penalty import PenaltyStage
from appraisal.domain.stages import Stage
from appraisal.domain.testimony import TestimonyStage

START = "[*]"


@dataclass(frozen=True)
class Transition:
    source: str
    step: str
    target: str
    note: str = ""


def _each(sources: tuple[str, ...], step: str, target: str | None = None, note: str = "") -> list[Transition]:
    """The step from every source stage; without a target it stays in that stage."""
    return [Transition(s, step, target or s, note) for s in sources]


S = Stage
BEFORE_ISSUE = (S.AWAITING_ACCEPTANCE, S.AWAITING_MATERIALS, S.EXAMINING, S.SIGNING, S.AWAITING_ISSUE)
ASSIGNED_BEFORE_REPORT = (S.AWAITING_MATERIALS, S.EXAMINING)
RUNNING = (*BEFORE_ISSUE, S.ISSUED, S.IN_TESTIMONY)
ENDED = (S.CLOSED, S.REFUSED, S.TERMINATED, S.WITHDRAWN, S.REASSIGNED)
"""Stages a commission ends in that can still owe a refund: its workflow waits for it."""

COMMISSION_TRANSITIONS: tuple[Transition, ...] = (
    Transition(START, "entrust", S.AWAITING_ACCEPTANCE, "entrusting organ (ENT-1), PROC-03 clock starts"),
    Transition(S.AWAITING_ACCEPTANCE, "decide_acceptance", S.EXAMINING, "accept, PROC-17 clock starts"),
    Transition(S.AWAITING_ACCEPTANCE, "decide_acceptance", S.REFUSED, "refuse (PROC-05)"),
    *_each((S.AWAITING_ACCEPTANCE, S.EXAMINING), "request_materials", S.AWAITING_MATERIALS, "clock paused"),
    Transition(S.AWAITING_MATERIALS, "supply_materials", S.AWAITING_ACCEPTANCE, "clock resumes"),
    Transition(S.AWAITING_MATERIALS, "supply_materials", S.EXAMINING, "clock resumes"),
    Transition(S.EXAMINING, "extend_examination", S.EXAMINING, "once, ≤30 wd (PROC-17)"),
    *_each(ASSIGNED_BEFORE_REPORT, "request_recusal", note="PROC-10, PROC-11 clock"),
    *_each(ASSIGNED_BEFORE_REPORT, "decide_recusal", note="replacement qualified"),
    Transition(S.EXAMINING, "submit_report", S.SIGNING),
    Transition(S.SIGNING, "sign_report", S.SIGNING),
    Transition(S.SIGNING, "sign_report", S.AWAITING_ISSUE, "last signature"),
    Transition(S.AWAITING_ISSUE, "issue_report", S.ISSUED),
    Transition(S.ISSUED, "forward_objection", S.ISSUED, "CRT-7 clock, court-set days"),
    Transition(S.ISSUED, "answer_objection", S.ISSUED),
    Transition(S.ISSUED, "resolve_objection", S.ISSUED, "withdrawn, maintained or waived (CRT-8)"),
    Transition(S.ISSUED, "summon_testimony", S.IN_TESTIMONY, "child workflow (TST-2…9)"),
    Transition(S.IN_TESTIMONY, "testimony_event", S.ISSUED, "testimony concluded"),
    Transition(S.ISSUED, "request_supplementary", S.EXAMINING, "PROC-30 clock"),
    Transition(S.ISSUED, "submit_correction", S.SIGNING, "PROC-28, new version, signed again"),
    *_each((S.ISSUED, S.IN_TESTIMONY), "order_reappraisal", note="PROC-31, a new linked commission"),
    Transition(S.ISSUED, "notify_opinion", S.ISSUED, "criminal: the suspect and the victim told (PROC-36)"),
    Transition(S.ISSUED, "receive_application", S.ISSUED, "supplementary or re-appraisal applied for"),
    Transition(S.ISSUED, "decide_application", S.EXAMINING, "supplementary granted, PROC-30 clock"),
    Transition(
        S.ISSUED, "decide_application", S.ISSUED, "re-appraisal granted, or refused: PROC-36 clock (CAL-4)"
    ),
    *_each(RUNNING, "notify_applicant", note="the refusal told in writing (PROC-36)"),
    *_each(RUNNING, "record_transfer", note="the case moves on with its record (ENT-4)"),
    Transition(S.ISSUED, "close", S.CLOSED),
    *_each(BEFORE_ISSUE, "withdraw", S.WITHDRAWN),
    *_each(BEFORE_ISSUE[1:], "terminate", S.TERMINATED, "PROC-20, refund"),
    *_each(BEFORE_ISSUE[:3], "reassign", S.REASSIGNED, "overdue, CRT-5, refund"),
    *_each(BEFORE_ISSUE[3:], "reassign", S.REASSIGNED, "institution barred, EXIT-1, refund"),
    *_each(RUNNING, "registry_status_changed", note="barred or restored (REG-6/7/8, EXIT-1)"),
    *_each(RUNNING, "report_interference", note="signed by the appraiser, to the bureau (IND-1)"),
    *_each(RUNNING, "review_interference", note="the bureau reviews it"),
    *_each(RUNNING, "register_parties", note="the entrusting organ registers the parties (PTY-1)"),
    *_each(RUNNING, "submit_party_request", note="a party offers materials or an objection (PTY-1)"),
    *_each(RUNNING, "decline_party_request", note="the entrusting organ declines it, with reasons"),
    *_each((S.ISSUED, S.IN_TESTIMONY), "release_report", note="the parties see the report (PTY-1)"),
    *_each(BEFORE_ISSUE, "quote_fee", note="per matter, within the charging standard (FEE-1)"),
    *_each(BEFORE_ISSUE, "answer_fee_quote", note="the payer accepts or declines"),
    *_each(RUNNING, "record_payment", note="with its external reference; prepaid before accepting (CRT-1)"),
    *_each((*RUNNING, *ENDED), "record_refund", note="the refund ordered paid back (FEE-2)"),
    *(
        Transition(s, "end", START, "once no refund is owed (FEE-2)" if s in ENDED else "")
        for s in (S.CLOSED, S.REFUSED, S.TERMINATED, S.WITHDRAWN, S.REASSIGNED)
    ),
)

C = ComplaintStage
COMPLAINT_TRANSITIONS: tuple[Transition, ...] = (
    Transition(START, "register", C.AWAITING_ACCEPTANCE, "supervisor, CMP-5 clock"),
    Transition(C.AWAITING_ACCEPTANCE, "accept", C.HANDLING, "CMP-6 clock"),
    Transition(C.AWAITING_ACCEPTANCE, "decline", C.DECLINED, "older than 3 years or a listed ground"),
    Transition(C.AWAITING_ACCEPTANCE, "request_supplement", C.AWAITING_SUPPLEMENT, "CMP-5 paused"),
    Transition(C.HANDLING, "request_supplement", C.AWAITING_SUPPLEMENT, "CMP-6 paused"),
    Transition(C.AWAITING_SUPPLEMENT, "receive_supplement", C.AWAITING_ACCEPTANCE),
    Transition(C.AWAITING_SUPPLEMENT, "receive_supplement", C.HANDLING),
    Transition(C.AWAITING_ACCEPTANCE, "extend_acceptance", C.AWAITING_ACCEPTANCE, "once, ≤15 wd"),
    Transition(C.HANDLING, "extend_handling", C.HANDLING, "once, ≤30 d, complainant told"),
    Transition(C.HANDLING, "decide", C.DECIDED, "CMP-7 clock, integrity record"),
    Transition(C.DECIDED, "notify_parties", C.CLOSED),
    *(Transition(s, "end", START) for s in (C.CLOSED, C.DECLINED)),
)


T = TestimonyStage
TESTIMONY_TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        START, "summon_testimony", T.AWAITING_HEARING, "child of the commission, short notice recorded"
    ),
    Transition(T.AWAITING_HEARING, "confirm", T.AWAITING_HEARING, "confirm, decline (TST-8) or remote"),
    Transition(T.AWAITING_HEARING, "rule_on_request", T.AWAITING_HEARING, "the court allows or refuses"),
    Transition(T.AWAITING_HEARING, "record_outcome", T.CONCLUDED, "everyone appeared or was excused"),
    Transition(
        T.AWAITING_HEARING,
        "record_outcome",
        T.AWAITING_REFUND_RULING,
        "absent without valid reason, opinion excluded, TST-4 clock, penalty referral",
    ),
    Transition(T.AWAITING_REFUND_RULING, "rule_on_refund", T.CONCLUDED),
    Transition(T.CONCLUDED, "end", START, "the commission returns to issued"),
)

P = PenaltyStage
BEFORE_DECISION = (P.INVESTIGATING, P.NOTIFIED, P.HEARING, P.DECIDING)
PENALTY_TRANSITIONS: tuple[Transition, ...] = (
    Transition(START, "register", P.INVESTIGATING, "立案 by the bureau, CMP-9 clock (90 d)"),
    Transition(P.INVESTIGATING, "record_investigation", P.INVESTIGATING, "findings and evidence"),
    Transition(
        P.INVESTIGATING, "notify_proposal", P.NOTIFIED, "facts, basis, rights (Arts 44-45), PEN-2 clock"
    ),
    Transition(P.NOTIFIED, "record_statement", P.NOTIFIED, "陈述、申辩"),
    Transition(P.NOTIFIED, "record_statement", P.HEARING, "a hearing asked for within 5 d (Art 64)"),
    Transition(P.NOTIFIED, "record_statement", P.DECIDING, "the hearing waived"),
    Transition(P.NOTIFIED, "window_closed", P.DECIDING, "PEN-2 ended without a hearing asked for"),
    Transition(P.HEARING, "schedule_hearing", P.HEARING, "noticed ≥7 d ahead (PEN-3)"),
    Transition(P.HEARING, "record_hearing", P.DECIDING),
    *_each(BEFORE_DECISION, "extend_decision", note="once, approved by the head (Art 60)"),
    Transition(P.DECIDING, "decide", P.DECIDED, "REG-3…REG-7, PEN-4 clock"),
    *_each(BEFORE_DECISION[:3], "decide", P.DECIDED, "no_penalty only"),
    Transition(P.DECIDED, "serve", P.CLOSED, "integrity record, published (Art 48), registry sanction"),
    Transition(P.CLOSED, "end", START),
)

A = AdmissionStage
ADMISSION_OPEN = (A.AWAITING_ACCEPTANCE, A.AWAITING_CORRECTION, A.DECIDING, A.EXPERT_REVIEW)
ADMISSION_TRANSITIONS: tuple[Transition, ...] = (
    Transition(START, "register", A.AWAITING_ACCEPTANCE, "applicant or bureau, ADM-1 clock: 5 wd"),
    Transition(A.AWAITING_ACCEPTANCE, "accept", A.DECIDING, "ADM-3 clock: 20 wd"),
    Transition(A.AWAITING_ACCEPTANCE, "deemed_acceptance", A.DECIDING, "no answer within ADM-1"),
    Transition(
        A.AWAITING_ACCEPTANCE, "request_correction", A.AWAITING_CORRECTION, "once (ADM-2), ADM-1 paused"
    ),
    Transition(A.AWAITING_CORRECTION, "supply_correction", A.AWAITING_ACCEPTANCE, "ADM-1 resumes"),
    *_each(
        (A.AWAITING_ACCEPTANCE, A.AWAITING_CORRECTION), "decline_acceptance", A.NOT_ACCEPTED, "ADM-2 ground"
    ),
    Transition(A.DECIDING, "draw_panel", A.EXPERT_REVIEW, "seeded draw, ADM-3 paused, ADM-4 clock"),
    Transition(A.EXPERT_REVIEW, "recuse_expert", A.EXPERT_REVIEW, "a replacement drawn"),
    Transition(A.EXPERT_REVIEW, "submit_review", A.EXPERT_REVIEW, "signed score and opinion"),
    Transition(A.EXPERT_REVIEW, "submit_review", A.DECIDING, "the last review: ADM-3 resumes"),
    Transition(A.DECIDING, "extend_decision", A.DECIDING, "once, ≤10 wd, the head's approval"),
    Transition(A.DECIDING, "approve", A.APPROVED, "licence (5 years) and registry entry"),
    Transition(A.DECIDING, "refuse", A.REFUSED, "reasons and remedies (ADM-6)"),
    *_each((A.AWAITING_ACCEPTANCE, A.DECIDING, A.EXPERT_REVIEW), "deemed_renewal", A.APPROVED, "ADM-7"),
    *_each(ADMISSION_OPEN, "withdraw", A.WITHDRAWN),
    *(Transition(s, "end", START) for s in (A.APPROVED, A.REFUSED, A.NOT_ACCEPTED, A.WITHDRAWN)),
)

E = EvaluationStage
EVALUATION_TRANSITIONS: tuple[Transition, ...] = (
    Transition(START, "register", E.IN_YEAR, "the yearly schedule or the bureau, for the year begun"),
    Transition(START, "register", E.SELF_ASSESSMENT, "a year already over"),
    Transition(
        E.IN_YEAR, "year_end", E.SELF_ASSESSMENT, "timers: TRN-3 training warning, then the year's end"
    ),
    Transition(E.SELF_ASSESSMENT, "self_assess", E.SELF_ASSESSMENT, "EVL-2 clock"),
    Transition(
        E.SELF_ASSESSMENT, "self_assess", E.REVIEWING, "the last one: shortfalls entered, grades proposed"
    ),
    Transition(E.SELF_ASSESSMENT, "window_closed", E.REVIEWING, "EVL-2 ended: grades proposed"),
    Transition(E.REVIEWING, "adjust_grade", E.REVIEWING, "EVL-3 clock, with reasons"),
    Transition(E.REVIEWING, "publish_proposed", E.OBJECTION_PERIOD, "公示, EVL-4 clock"),
    Transition(E.OBJECTION_PERIOD, "file_objection", E.OBJECTION_PERIOD, "one per grade"),
    Transition(E.OBJECTION_PERIOD, "period_closed", E.DECIDING_OBJECTIONS, "EVL-4 ended, EVL-5 clock"),
    Transition(E.OBJECTION_PERIOD, "period_closed", E.AWAITING_CONFIRMATION, "EVL-4 ended, no objection"),
    Transition(E.DECIDING_OBJECTIONS, "decide_objection", E.DECIDING_OBJECTIONS),
    Transition(E.DECIDING_OBJECTIONS, "decide_objection", E.AWAITING_CONFIRMATION, "the last one"),
    Transition(E.AWAITING_CONFIRMATION, "confirm", E.PUBLISHED, "grades published"),
    Transition(E.PUBLISHED, "end", START),
)

WORKFLOWS: dict[str, tuple[Transition, ...]] = {
    "CommissionWorkflow": COMMISSION_TRANSITIONS,
    "TestimonyWorkflow": TESTIMONY_TRANSITIONS,
    "ComplaintWorkflow": COMPLAINT_TRANSITIONS,
    "PenaltyWorkflow": PENALTY_TRANSITIONS,
    "AdmissionWorkflow": ADMISSION_TRANSITIONS,
    "IntegrityEvaluationWorkflow": EVALUATION_TRANSITIONS,
}


def stages_for(transitions: tuple[Transition, ...], step: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.source for t in transitions if t.step == step))


def require_step(stage: str, step: str) -> None:
    """The commission's stage must allow this step (COMMISSION_TRANSITIONS)."""
    allowed = stages_for(COMMISSION_TRANSITIONS, step)
    if stage not in allowed:
        raise RuleViolation("not_in_stage", f"the commission is {stage}; {step} needs {', '.join(allowed)}")


def mermaid(transitions: tuple[Transition, ...]) -> str:
    lines = ["stateDiagram-v2"]
    for t in transitions:
        label = t.step + (f" — {t.note}" if t.note else "")
        lines.append(f"    {t.source} --> {t.target}: {label}")
    return "\n".join(lines)


def lifecycle_document() -> str:
    """docs/lifecycle.md, generated: `python -m appraisal.domain.lifecycle > docs/lifecycle.md`."""
    parts = [
        "# Lifecycles",
        "",
        "Generated from `appraisal/domain/lifecycle.py` (`python -m appraisal.domain.lifecycle >",
        "docs/lifecycle.md`); a test fails when this file and the code disagree. The commission",
        "workflow's validators ask the same table whether a step is allowed in the current stage;",
        "a test checks that every Update and Signal of each workflow is in its table.",
    ]
    for name, transitions in WORKFLOWS.items():
        parts += ["", f"## {name}", "", "```mermaid", mermaid(transitions), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(lifecycle_document(), end="")
