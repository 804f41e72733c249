"""Court testimony (出庭作证, RULES.md TST-2…TST-9): the messages that cross
Temporal between the court, the summoned appraisers, the testimony child
workflow and its parent commission, and the pure checks the child's
validators run.

New fields always get defaults so running workflows keep replaying."""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from appraisal.domain.calendar import local_today
from appraisal.domain.commission import ClockSnapshot, TaskSnapshot
from appraisal.domain.complaint import IntegrityEntry
from appraisal.domain.errors import RuleViolation
from appraisal.domain.events import Receiver
from appraisal.domain.roles import Actor, Role

MINIMUM_NOTICE_DAYS = 3
"""TST-3: the notice reaches the appraiser at least 3 days before the hearing."""

MAX_HEARING_AHEAD = timedelta(days=366)
"""How far ahead a hearing may be summoned (I: courts set hearings weeks or months ahead).
Bounded so that no instant the testimony plans from it (reminders, rungs) leaves the
calendar's range: an unbounded date once jammed a commission's testimony for good."""

HEARING_REMINDERS: tuple[tuple[str, int], ...] = (("hearing_in_3_days", 3), ("hearing_in_1_day", 1))
"""Reminders to the appraisers expected in court: (name, days before the hearing)."""
OUTCOME_REMINDER = "record_outcome"
OUTCOME_REMINDER_AFTER = timedelta(days=1)
"""The court is reminded to record the hearing's outcome this long after the hearing
began, unless it has (a product reminder: the commission waits on that step)."""


class TestimonyStage(StrEnum):
    AWAITING_HEARING = "awaiting_hearing"
    """Summoned; answers, rulings and the hearing's outcome are awaited."""
    AWAITING_REFUND_RULING = "awaiting_refund_ruling"
    """An appraiser refused to testify: the court rules on the refund (TST-4)."""
    CONCLUDED = "concluded"


class Response(StrEnum):
    CONFIRM = "confirm"
    """The appraiser will appear (TST-7: confirmed promptly)."""
    DECLINE = "decline"
    """A written request not to appear, on a TST-8 ground."""
    REMOTE = "remote"
    """A proposal to testify remotely, which needs the court's permission."""


class AppraiserState(StrEnum):
    SUMMONED = "summoned"
    CONFIRMED = "confirmed"
    DECLINE_REQUESTED = "decline_requested"
    REMOTE_REQUESTED = "remote_requested"
    EXCUSED = "excused"
    """The court allowed the request not to appear."""
    REMOTE_ALLOWED = "remote_allowed"
    APPEARANCE_REQUIRED = "appearance_required"
    """The court refused a request: the appraiser must appear in person."""
    # After the hearing, each appraiser's state is the result the court recorded.
    APPEARED = "appeared"
    APPEARED_REMOTELY = "appeared_remotely"
    WRITTEN_REPLY = "written_reply"
    """TST-5: a written reply after the hearing, with the court's permission."""
    ABSENT_WITHOUT_VALID_REASON = "absent_without_valid_reason"
    """TST-2, TST-4, TST-9: refused to testify after notice."""


RESULTS: dict[str, str] = {
    AppraiserState.APPEARED: "appeared in court and testified",
    AppraiserState.APPEARED_REMOTELY: "testified remotely with the court's permission",
    AppraiserState.WRITTEN_REPLY: "replied in writing with the court's permission (TST-5)",
    AppraiserState.EXCUSED: "excused by the court",
    AppraiserState.ABSENT_WITHOUT_VALID_REASON: "did not appear without a valid reason (TST-2)",
}
"""What the court may record for each summoned appraiser once the hearing is held."""

LATE_NOTICE_GROUND = "TST-8-1"
DECLINE_GROUNDS: dict[str, str] = {
    LATE_NOTICE_GROUND: "the notice came less than 3 days before the hearing (TST-3)",
    "TST-8-2": "health",
    "TST-8-3": "distance: the appraiser cannot reach the court in time",
    "TST-8-4": "force majeure",
    "TST-8-5": "another justified reason",
}
"""TST-8 (司规〔2020〕2号): the grounds of a written request not to appear."""

REQUEST_STATES = {
    AppraiserState.DECLINE_REQUESTED: (AppraiserState.EXCUSED, AppraiserState.APPEARANCE_REQUIRED),
    AppraiserState.REMOTE_REQUESTED: (AppraiserState.REMOTE_ALLOWED, AppraiserState.APPEARANCE_REQUIRED),
}
"""A pending request and the states the court's ruling leads to: (allowed, refused)."""

EXPECTED_IN_COURT = frozenset(
    {
        AppraiserState.SUMMONED,
        AppraiserState.CONFIRMED,
        AppraiserState.DECLINE_REQUESTED,
        AppraiserState.REMOTE_REQUESTED,
        AppraiserState.REMOTE_ALLOWED,
        AppraiserState.APPEARANCE_REQUIRED,
    }
)
"""Before the hearing: whoever the court has not excused is reminded of it."""

REFUSED_TO_TESTIFY = "refused_to_testify"
"""The integrity-record outcome of an appraiser absent without a valid reason (REG-7, TST-9)."""
FINDINGS_MAX = 4000
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class CaseKind(StrEnum):
    CIVIL = "civil"
    CRIMINAL = "criminal"
    ADMINISTRATIVE = "administrative"


CASE_TYPE_CHARACTER = re.compile(r"[)）][^刑民行]*?(刑|民|行)")
"""The case type character after the year and court code of a case number, e.g. (2026)渝0103刑初12号."""


def case_kind_of(case_number: str) -> CaseKind:
    """Criminal (刑) or administrative (行) by the case number's type character; civil otherwise."""
    found = CASE_TYPE_CHARACTER.search(case_number)
    kind = found.group(1) if found else "民"
    return {"刑": CaseKind.CRIMINAL, "行": CaseKind.ADMINISTRATIVE}.get(kind, CaseKind.CIVIL)


def refusal_rule(case_kind: str) -> str:
    """The rule a refusal to testify is referred under: the criminal-case rule (TST-6,
    no basis for conviction) or the civil one (TST-4, which administrative cases follow)."""
    return "TST-6" if case_kind == CaseKind.CRIMINAL else "TST-4"


TESTIMONY_WORKFLOW = "TestimonyWorkflow"
"""The child's workflow type, by which the commission starts it."""


def testimony_workflow_id(commission_id: str, testimony_id: str) -> str:
    return f"testimony-{commission_id}-{testimony_id}"


@dataclass
class TestimonyInput:
    commission_id: str
    parent_workflow_id: str
    """The commission workflow: every step is signalled there and recorded in its one hash chain."""
    testimony_id: str
    """A UUID, unique across commissions (it keys the integrity record)."""
    court_id: str
    institution_id: str
    bureau_id: str
    """The judicial bureau supervising the institution: penalty referrals go there (TST-6, TST-9)."""
    court_reference: str
    appraiser_ids: list[str]
    hearing_at: datetime
    """Aware (+08:00): when the hearing starts."""
    place: str
    summoned_at: datetime
    """When the notice reached the institution (TST-3 counts from its local date)."""
    requirements: str = ""
    reason: str = ""
    """Why the court summons (a party's objection, CRT-8, or the court deems it necessary, TST-2)."""
    summoned_by: Actor | None = None
    """The court's principal who summoned; the court itself when not given."""
    case_kind: str = CaseKind.CIVIL
    """TST-6: in a criminal case a refusal makes the opinion no basis for conviction and
    there is no refund ruling (TST-4 is a civil rule); summonses before this field: civil."""


@dataclass
class TestimonyConfirmation:
    actor: Actor
    """The summoned appraiser answers for themselves."""
    response: str
    """confirm, decline or remote."""
    ground: str = ""
    """A DECLINE_GROUNDS key, for a decline."""
    reason: str = ""


@dataclass
class TestimonyRuling:
    """The court allows or refuses an appraiser's request not to appear or to testify remotely."""

    actor: Actor
    appraiser_id: str
    allow: bool
    note: str = ""


@dataclass
class TestimonyOutcome:
    actor: Actor
    results: dict[str, str] = field(default_factory=dict)
    """Every summoned appraiser's id → a RESULTS key."""
    note: str = ""


@dataclass
class RefundRuling:
    """TST-4: the court's ruling on the refund after an appraiser refused to testify."""

    actor: Actor
    ordered: bool
    note: str = ""


@dataclass
class AppraiserTestimony:
    appraiser_id: str
    state: str = AppraiserState.SUMMONED
    response: str = ""
    ground: str = ""
    reason: str = ""
    answered_at: datetime | None = None
    ruling_note: str = ""
    ruled_at: datetime | None = None


@dataclass
class TestimonySnapshot:
    testimony_id: str
    commission_id: str
    workflow_id: str
    court_id: str
    institution_id: str
    bureau_id: str
    court_reference: str
    hearing_at: datetime
    place: str
    summoned_at: datetime
    requirements: str = ""
    reason: str = ""
    stage: str = TestimonyStage.AWAITING_HEARING
    notice_days: int = 0
    """Days from the notice's local date to the hearing's."""
    short_notice: bool = False
    """TST-3 not met: late notice is then a valid ground to decline (TST-8-1)."""
    appraisers: list[AppraiserTestimony] = field(default_factory=list)
    outcome_note: str = ""
    outcome_recorded_at: datetime | None = None
    excluded_from_fact_finding: bool = False
    """TST-2: an appraiser refused to testify; the opinion is no basis for fact-finding
    (TST-6, a criminal case: no basis for conviction)."""
    penalty_referred: list[str] = field(default_factory=list)
    """Appraisers referred to the supervising bureau (TST-6, TST-9)."""
    refund_ruling: dict[str, Any] | None = None
    clocks: list[ClockSnapshot] = field(default_factory=list)
    open_tasks: list[TaskSnapshot] = field(default_factory=list)
    last_event_seq: int = 0
    case_kind: str = CaseKind.CIVIL

    def appraiser(self, appraiser_id: str) -> AppraiserTestimony | None:
        return next((a for a in self.appraisers if a.appraiser_id == appraiser_id), None)

    def clock(self, rule_id: str) -> ClockSnapshot | None:
        return next((c for c in self.clocks if c.rule == rule_id), None)

    @property
    def results(self) -> dict[str, str]:
        return {a.appraiser_id: a.state for a in self.appraisers} if self.outcome_recorded_at else {}


@dataclass
class TestimonyEvent:
    """One step of a testimony, signalled to the parent commission, which
    appends it to its hash chain and projects its read model from `snapshot`."""

    testimony_id: str
    kind: str
    actor: Actor
    data: dict[str, Any]
    notify: list[Receiver]
    message: str
    snapshot: TestimonySnapshot
    seq: int = 0
    """1, 2, 3… per testimony: the parent can tell a duplicate or a gap."""
    occurred_at: datetime | None = None


@dataclass
class TestimonyResult:
    snapshot: TestimonySnapshot


# ---- pure checks ----


def notice_days(summoned_at: datetime, hearing_at: datetime) -> int:
    """Whole local days from the notice to the hearing: notice on the 7th for
    a hearing on the 10th gives 3 (TST-3 met; I: 开庭审理三日前)."""
    return (local_today(hearing_at) - local_today(summoned_at)).days


def check_input(inp: TestimonyInput) -> None:
    """What the workflow checks of its own input (the commission checked it first)."""
    if not UUID_PATTERN.fullmatch(inp.testimony_id):
        raise RuleViolation("invalid_input", "testimony_id must be a UUID")
    if inp.hearing_at.tzinfo is None or inp.summoned_at.tzinfo is None:
        raise RuleViolation("invalid_input", "hearing_at and summoned_at must carry their UTC offset")
    if not inp.summoned_at < inp.hearing_at <= inp.summoned_at + MAX_HEARING_AHEAD:
        raise RuleViolation("invalid_input", "the hearing is after the summons and within a year of it")
    if not inp.appraiser_ids or len(set(inp.appraiser_ids)) != len(inp.appraiser_ids):
        raise RuleViolation("invalid_input", "summon at least one appraiser, each once", rule="TST-2")
    if inp.summoned_at > inp.hearing_at:
        raise RuleViolation("invalid_input", "the notice cannot come after the hearing", rule="TST-3")
    if not inp.place.strip():
        raise RuleViolation("invalid_input", "the notice states the place of the hearing", rule="TST-3")


def require_court(actor: Actor, court_id: str) -> None:
    if actor.role != Role.COURT or actor.organisation_id != court_id:
        raise RuleViolation("wrong_actor", "only the court of this commission may take this step")


def _require_awaiting_hearing(snapshot: TestimonySnapshot) -> None:
    if snapshot.stage != TestimonyStage.AWAITING_HEARING:
        raise RuleViolation(
            "not_in_stage", f"the testimony is {snapshot.stage}; this step needs awaiting_hearing"
        )


def check_confirmation(snapshot: TestimonySnapshot, request: TestimonyConfirmation, now: datetime) -> None:
    _require_awaiting_hearing(snapshot)
    actor = request.actor
    appraiser = snapshot.appraiser(actor.organisation_id) if actor.role == Role.APPRAISER else None
    if appraiser is None:
        raise RuleViolation(
            "wrong_actor", "only an appraiser summoned to this hearing may answer", rule="TST-7"
        )
    if appraiser.state != AppraiserState.SUMMONED:
        raise RuleViolation("already_answered", f"the appraiser already answered ({appraiser.state})")
    if now >= snapshot.hearing_at:
        raise RuleViolation("hearing_passed", "the hearing has begun; the court records what happened")
    if request.response not in tuple(Response):
        raise RuleViolation("unknown_response", f"{request.response} is not confirm, decline or remote")
    if request.response != Response.DECLINE:
        if request.ground:
            raise RuleViolation("ground_not_applicable", "only a request not to appear names a ground")
        if request.response == Response.REMOTE and not request.reason.strip():
            raise RuleViolation("reason_required", "say why testifying in court is hard", rule="TST-5")
        return
    if request.ground not in DECLINE_GROUNDS:
        raise RuleViolation("unknown_ground", f"{request.ground} is not a TST-8 ground", rule="TST-8")
    if request.ground == LATE_NOTICE_GROUND and not snapshot.short_notice:
        raise RuleViolation(
            "notice_not_late",
            f"the notice came {snapshot.notice_days} days before the hearing, "
            f"not less than {MINIMUM_NOTICE_DAYS}",
            rule="TST-3",
        )
    if not request.reason.strip():
        raise RuleViolation(
            "reason_required", "a request not to appear is made in writing, with reasons", rule="TST-8"
        )


def check_ruling(snapshot: TestimonySnapshot, request: TestimonyRuling) -> None:
    _require_awaiting_hearing(snapshot)
    require_court(request.actor, snapshot.court_id)
    appraiser = snapshot.appraiser(request.appraiser_id)
    if appraiser is None:
        raise RuleViolation("unknown_appraiser", f"appraiser {request.appraiser_id} was not summoned")
    if appraiser.state not in REQUEST_STATES:
        raise RuleViolation(
            "no_pending_request",
            f"appraiser {request.appraiser_id} has no request to rule on ({appraiser.state})",
        )


def check_outcome(snapshot: TestimonySnapshot, request: TestimonyOutcome, now: datetime) -> None:
    _require_awaiting_hearing(snapshot)
    require_court(request.actor, snapshot.court_id)
    if now < snapshot.hearing_at:
        raise RuleViolation(
            "hearing_not_held", f"the hearing is at {snapshot.hearing_at.isoformat()}; record it afterwards"
        )
    summoned = {a.appraiser_id for a in snapshot.appraisers}
    unknown = sorted(set(request.results) - summoned)
    if unknown:
        raise RuleViolation("unknown_appraiser", f"not summoned: {', '.join(unknown)}")
    missing = sorted(summoned - set(request.results))
    if missing:
        raise RuleViolation("results_incomplete", f"no result for: {', '.join(missing)}")
    for appraiser_id, result in request.results.items():
        if result not in RESULTS:
            raise RuleViolation("unknown_result", f"{result} is not one of {', '.join(RESULTS)}")
        appraiser = snapshot.appraiser(appraiser_id)
        if (
            result == AppraiserState.ABSENT_WITHOUT_VALID_REASON
            and appraiser is not None
            and appraiser.state == AppraiserState.EXCUSED
        ):
            raise RuleViolation(
                "excused_by_ruling",
                f"the court excused appraiser {appraiser_id} before the hearing",
                rule="TST-8",
            )


def check_refund_ruling(snapshot: TestimonySnapshot, request: RefundRuling) -> None:
    if snapshot.stage != TestimonyStage.AWAITING_REFUND_RULING:
        raise RuleViolation(
            "no_refund_ruling_due", "no appraiser refused to testify here, or it was ruled on"
        )
    require_court(request.actor, snapshot.court_id)


def refused_to_testify(results: dict[str, str]) -> list[str]:
    return [a for a, result in results.items() if result == AppraiserState.ABSENT_WITHOUT_VALID_REASON]


def integrity_entries(
    snapshot: TestimonySnapshot, appraiser_ids: list[str], decided_on: str
) -> list[IntegrityEntry]:
    """One integrity-record line per appraiser who refused to testify (REG-7,
    TST-9), keyed by the testimony id so a retry writes nothing twice."""
    findings = (
        f"did not appear at the hearing of {snapshot.hearing_at.isoformat()} ({snapshot.court_reference}, "
        f"{snapshot.place}) after notice, without a valid reason; {snapshot.outcome_note}"
    )
    return [
        IntegrityEntry(
            subject_kind="appraiser",
            subject_id=appraiser_id,
            complaint_id=snapshot.testimony_id,
            outcome=REFUSED_TO_TESTIFY,
            findings=findings[:FINDINGS_MAX],
            decided_on=decided_on,
            bureau_id=snapshot.bureau_id,
            rule="TST-9",
        )
        for appraiser_id in appraiser_ids
    ]


@dataclass
class TestimonySummons:
    """The court summons appraisers of an issued opinion to a hearing (TST-2, TST-3);
    the commission workflow starts a TestimonyWorkflow for it."""

    actor: Actor
    hearing_at: datetime
    place: str
    appraiser_ids: list[str] = field(default_factory=list)
    requirements: str = ""
    reason: str = ""
