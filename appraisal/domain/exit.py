"""Exit that reaches running work (健全淘汰退出机制): when an institution or an appraiser
is suspended, revoked, deregistered (注销) or its licence lapses, every commission it holds
learns of it (a durable fan-out, `workflows/exit.py`); from that instant the commission's
validators refuse its steps (`check_standing`, a pure check), the court gets a task to
re-entrust or withdraw (EXIT-1), a barred appraiser is replaced through the recusal path,
and the end of a suspension restores it. The messages that cross Temporal, and the checks.

New fields always get defaults so running workflows keep replaying."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from appraisal.domain.errors import RuleViolation
from appraisal.domain.roles import Actor, Role

BARRING_STATUSES: dict[str, str] = {
    "suspended": "停业 / 停止执业 suspended",
    "revoked": "撤销登记 registration revoked",
    "deregistered": "注销 deregistered",
    "licence_lapsed": "许可证过期 licence lapsed",
}
"""What takes an institution or an appraiser out of its running work."""
RESTORED = "restored"
"""The bar is lifted: a suspension ran its term or was lifted, a licence renewed."""
FINAL_STATUSES = frozenset({"revoked", "deregistered"})
"""Registry statuses no later change undoes."""

REGISTRY_RECUSAL_GROUND = "REG-7"
"""The recusal a barred appraiser's commission opens by itself: the institution must grant it
with a qualified replacement (PROC-11 path); refusing it is not allowed."""

FAN_OUT_BATCH = 100
"""Commissions signalled per page of the fan-out (one activity reads the page)."""
FAN_OUT_PAGES_PER_RUN = 10
"""Pages before the fan-out continues as new, so its history stays short however many
commissions the institution holds."""


def exit_workflow_id(exit_id: int) -> str:
    """The fan-out of registry exit notice `exit_id`: one workflow, however often it is started."""
    return f"registry-exit-{exit_id}"


def rule_of(entity_kind: str, status: str) -> str:
    """The rule that bars: a lapsed licence REG-8, a sanction REG-6 (institution) or REG-7."""
    if status == "licence_lapsed":
        return "REG-8"
    return "REG-6" if entity_kind == "institution" else "REG-7"


@dataclass
class RegistryExit:
    """One change of an institution's or an appraiser's standing, as every commission it holds
    receives it (the `registry_status_changed` signal); `notice_id` makes a repeat a no-op."""

    notice_id: str
    entity_kind: str
    """institution or appraiser."""
    entity_id: str
    institution_id: str
    status: str
    """One of BARRING_STATUSES, or RESTORED."""
    reason: str = ""
    since: str = ""
    """The day it took effect."""
    until: str = ""
    """A suspension's last day (empty: open-ended or final)."""
    rule: str = ""
    actor: Actor | None = None


@dataclass
class ExitFanOutInput:
    """The fan-out of one registry exit notice (`registry_exit` row `exit_id`)."""

    exit_id: int
    notice: RegistryExit
    after: str = ""
    """The last commission id signalled (continue-as-new resumes after it)."""
    signalled: int = 0
    restore_on: str = ""
    """For a suspension with a last day: the day eligibility returns (a durable timer)."""
    batch: int = FAN_OUT_BATCH
    pages_per_run: int = FAN_OUT_PAGES_PER_RUN


@dataclass
class ExitFanOutResult:
    signalled: int = 0
    restored: bool = False


@dataclass
class HeldPage:
    """A page of the commissions an entity holds, in id order."""

    commissions: list[tuple[str, str]] = field(default_factory=list)
    """(commission id, workflow id)."""


@dataclass
class HeldPageRequest:
    entity_kind: str
    entity_id: str
    after: str = ""
    limit: int = FAN_OUT_BATCH


@dataclass
class ExitStarted:
    exit_id: int
    workflow_id: str


@dataclass
class SuspensionEnd:
    exit_id: int
    entity_kind: str
    entity_id: str
    until: str
    today: str = ""
    """The workflow's day when its timer fired (Asia/Shanghai)."""


@dataclass
class SuspensionEndResult:
    restored_exit_id: int = 0
    """The registry's restoration notice (0: the suspension was changed meanwhile, nothing to do)."""
    notice: RegistryExit | None = None


@dataclass
class RegistryBar:
    """A bar a commission holds, as its snapshot shows it."""

    entity_kind: str
    entity_id: str
    status: str
    rule: str
    since: str
    reason: str = ""
    until: str = ""
    notice_id: str = ""


class HasBars(Protocol):
    @property
    def registry_bars(self) -> list[RegistryBar]: ...
    @property
    def institution_id(self) -> str: ...


def barred_institution(bars: list[RegistryBar]) -> RegistryBar | None:
    return next((b for b in bars if b.entity_kind == "institution"), None)


def check_standing(commission: HasBars, actor: Actor) -> None:
    """A step by a barred institution (its desk, its head or any of its appraisers) or by a
    barred appraiser is refused from the instant the commission learned of the bar."""
    bars = commission.registry_bars
    if not bars:
        return
    institution = barred_institution(bars)
    if institution is not None and actor.role in (Role.INSTITUTION, Role.INSTITUTION_HEAD, Role.APPRAISER):
        raise RuleViolation(
            "institution_barred",
            f"the institution may not act on this commission: {BARRING_STATUSES[institution.status]} "
            f"since {institution.since}; the court re-entrusts or withdraws it",
            rule=institution.rule,
        )
    if actor.role == Role.APPRAISER:
        own = next(
            (b for b in bars if b.entity_kind == "appraiser" and b.entity_id == actor.organisation_id), None
        )
        if own is not None:
            raise RuleViolation(
                "appraiser_barred",
                f"appraiser {actor.organisation_id} may not act: {BARRING_STATUSES[own.status]} since "
                f"{own.since}; the institution replaces them (recusal)",
                rule=own.rule,
            )


def restore_day(until: str) -> str:
    """The day after a suspension's last day: eligibility returns at its start."""
    return date.fromordinal(date.fromisoformat(until).toordinal() + 1).isoformat() if until else ""


def notice_data(notice: RegistryExit) -> dict[str, Any]:
    return {
        "notice_id": notice.notice_id,
        "entity_kind": notice.entity_kind,
        "entity_id": notice.entity_id,
        "status": notice.status,
        "rule": notice.rule or rule_of(notice.entity_kind, notice.status),
        "reason": notice.reason,
        "since": notice.since,
        "until": notice.until,
    }


# ---- independence (全国人大常委会决定 §10: no one interferes with an appraisal) ----


@dataclass
class InterferenceReport:
    """An appraiser records an attempt to interfere with this commission, signed with their
    own key; it reaches the bureau at once, hidden from the institution when asked."""

    actor: Actor
    who: str
    occurred_at: str
    """When it happened (ISO 8601 with offset)."""
    what: str
    hidden_from_institution: bool = False
    signature: str = ""
    key_fingerprint: str = ""
    statement_hash: str = ""


@dataclass
class InterferenceReview:
    actor: Actor
    report_id: str
    note: str


@dataclass
class InterferenceSnapshot:
    id: str
    appraiser_id: str
    who: str
    occurred_at: str
    what: str
    reported_at: str
    hidden_from_institution: bool = False
    statement_hash: str = ""
    key_fingerprint: str = ""
    status: str = "reported"
    """reported, then reviewed by the bureau."""
    review_note: str = ""
    reviewed_on: str = ""


def check_interference(appraiser_ids: list[str], report: InterferenceReport) -> None:
    if report.actor.role != Role.APPRAISER or report.actor.organisation_id not in appraiser_ids:
        raise RuleViolation("wrong_actor", "only an appraiser assigned to this commission may", rule="IND-1")
    if not report.who.strip() or not report.what.strip() or not report.occurred_at.strip():
        raise RuleViolation(
            "interference_incomplete", "say who interfered, when, and what they did or asked", rule="IND-1"
        )
    if not report.signature or not report.key_fingerprint:
        raise RuleViolation(
            "signature_required", "the record is signed with the appraiser's key", rule="IND-1"
        )


def check_interference_review(
    reports: list[InterferenceSnapshot], review: InterferenceReview, bureau_id: str
) -> None:
    if review.actor.role != Role.SUPERVISOR or review.actor.organisation_id != bureau_id:
        raise RuleViolation("wrong_actor", "only the supervising bureau reviews it", rule="IND-1")
    found = next((r for r in reports if r.id == review.report_id), None)
    if found is None:
        raise RuleViolation("no_such_report", f"no interference report {review.report_id}", rule="IND-1")
    if found.status != "reported":
        raise RuleViolation("already_reviewed", "this report was already reviewed", rule="IND-1")
    if not review.note.strip():
        raise RuleViolation("reason_required", "the review records what the bureau did", rule="IND-1")
