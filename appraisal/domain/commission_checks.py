"""Whether a commission step is allowed now: one pure function per step of the
commission workflow, over the commission as it stands (its snapshot), the request
and today, reading limits and who may act from the rule table. The workflow's
validators call them (so a refused step never reaches history); they are tested
without Temporal. A refusal is a `RuleViolation` with the rule's code."""

from datetime import date, datetime

from appraisal.domain.calendar import local_today
from appraisal.domain.commission import (
    REFUSAL_GROUNDS,
    TERMINATION_GROUNDS,
    AcceptanceDecision,
    ClockSnapshot,
    ClosureRequest,
    CommissionInput,
    CommissionSnapshot,
    ExtensionRequest,
    IssueRequest,
    MaterialRequest,
    MaterialSupply,
    ReassignmentRequest,
    RegistrationRequest,
    ReportSnapshot,
    ReportSubmission,
    SignatureSubmission,
    TerminationRequest,
    WithdrawalRequest,
    check_appraisers,
    check_date_within_history,
    require_actor,
    require_entruster,
)
from appraisal.domain.criminal import (
    APPLICATION_KINDS,
    PERSON_ROLES,
    REAPPRAISAL_APPLICATION_GROUNDS,
    SUPPLEMENTARY_APPLICATION_GROUNDS,
    ApplicantNotice,
    ApplicationDecision,
    ApplicationReceipt,
    ApplicationSnapshot,
    CaseTransferRecord,
    OpinionNotice,
)
from appraisal.domain.errors import RuleViolation
from appraisal.domain.exit import REGISTRY_RECUSAL_GROUND
from appraisal.domain.fees import (
    PAYER_KINDS,
    FeeAnswer,
    FeePayment,
    FeeQuote,
    FeeSnapshot,
    RefundRecord,
    yuan,
)
from appraisal.domain.lifecycle import require_step
from appraisal.domain.objection import (
    MAX_REPLY_DAYS,
    RESOLUTIONS,
    ObjectionForward,
    ObjectionReply,
    ObjectionResolution,
    ObjectionSnapshot,
)
from appraisal.domain.organs import check_transfer
from appraisal.domain.parties import (
    MAX_PARTIES,
    REQUEST_KINDS,
    SIDES,
    PartyRegistration,
    PartyRequest,
    PartyRequestDecline,
    PartyRequestSnapshot,
    PartySnapshot,
    ReportRelease,
)
from appraisal.domain.reappraisal import (
    REAPPRAISAL_GROUNDS,
    ReappraisalOrder,
    check_not_previously_appraised,
    check_senior_title,
)
from appraisal.domain.recusal import RECUSAL_GROUNDS, RecusalDecision, RecusalRequest, RecusalSnapshot
from appraisal.domain.report_changes import (
    CORRECTION_KINDS,
    SUPPLEMENTARY_GROUNDS,
    CorrectionSubmission,
    SupplementaryRequest,
)
from appraisal.domain.roles import INVESTIGATING_ROLES, Actor, Role
from appraisal.domain.rules import (
    ACCEPTANCE,
    CLOCK_RULES,
    EXAMINATION,
    SUPPLEMENTARY_EXAMINATION,
)
from appraisal.domain.stages import Stage
from appraisal.domain.testimony import MAX_HEARING_AHEAD, TestimonySummons

PAUSE_KINDS = ("materials", "witness")
"""What a pause waits for: materials (PROC-04 before acceptance, PROC-17 or PROC-30 during
examination) or an absent witness (PROC-15); the paused clock names its own rule."""

# ---- what the checks read of a commission ----


def clock_of(commission: CommissionSnapshot, rule_id: str) -> ClockSnapshot:
    return next(c for c in commission.clocks if c.rule == rule_id)


def exam_clock(commission: CommissionSnapshot) -> ClockSnapshot:
    """The examination clock that runs now: PROC-17, or PROC-30 during a supplementary appraisal."""
    if commission.supplementary is not None:
        return clock_of(commission, SUPPLEMENTARY_EXAMINATION.rule_id)
    return clock_of(commission, EXAMINATION.rule_id)


def running_clock(commission: CommissionSnapshot) -> ClockSnapshot:
    """The clock a pause would stop: acceptance before it, examination after."""
    if commission.stage == Stage.AWAITING_ACCEPTANCE:
        return clock_of(commission, ACCEPTANCE.rule_id)
    return exam_clock(commission)


def paused_clock(commission: CommissionSnapshot) -> ClockSnapshot:
    """The clock waiting for materials (only one clock is paused at a time)."""
    return next(c for c in commission.clocks if c.paused and not c.stopped)


def pending_recusal(recusals: list[RecusalSnapshot]) -> RecusalSnapshot | None:
    return next((r for r in recusals if r.status == "pending"), None)


def objection_of(objections: list[ObjectionSnapshot], objection_id: str) -> ObjectionSnapshot:
    found = next((o for o in objections if o.id == objection_id), None)
    if found is None:
        raise RuleViolation("no_such_objection", f"no objection {objection_id}", rule="CRT-7")
    return found


def unsigned_appraisers(report: ReportSnapshot | None, appraiser_ids: list[str]) -> list[str]:
    signed = {s.appraiser_id for s in report.signatures} if report else set()
    return [a for a in appraiser_ids if a not in signed]


def require_assigned_appraiser(commission: CommissionSnapshot, actor: Actor) -> None:
    if actor.role != Role.APPRAISER or actor.organisation_id not in commission.appraiser_ids:
        raise RuleViolation("wrong_actor", "only an appraiser assigned to this commission may")


def require_not_overdue(clock: ClockSnapshot, today: date) -> None:
    # By the date too: an overdue rung of a commission brought in from paper may still
    # wait for its catch-up window, yet the deadline has passed all the same.
    if clock.overdue or today.isoformat() > clock.due_on:
        raise RuleViolation(
            "deadline_passed",
            f"the {clock.name} time limit ended on {clock.due_on}",
            rule=clock.rule,
        )


# ---- entrustment and acceptance ----


def check_registration(commission: CommissionSnapshot, request: RegistrationRequest) -> None:
    require_entruster(request.actor, commission)


def check_acceptance(
    commission: CommissionSnapshot, decision: AcceptanceDecision, today: date, *, entrusted: CommissionInput
) -> None:
    require_step(commission.stage, "decide_acceptance")
    require_actor(decision.actor, Role.INSTITUTION, commission.institution_id)
    if decision.decision not in ("accept", "refuse"):
        raise RuleViolation("unknown_decision", "decision is accept or refuse")
    if decision.decision == "refuse":
        if decision.ground not in REFUSAL_GROUNDS:
            raise RuleViolation("unknown_ground", f"{decision.ground} is not a PROC-05 ground")
        return
    check_prepaid(commission)
    check_appraisers(decision.appraiser_ids, entrusted.eligible_appraisers)
    check_not_previously_appraised(decision.appraiser_ids, entrusted.excluded_appraiser_ids)
    if commission.reappraisal_of:
        check_senior_title(decision.appraiser_ids, entrusted.eligible_appraisers)
    if decision.agreement_effective_on:
        check_date_within_history(
            decision.agreement_effective_on,
            earliest=commission.received_on,
            today=today,
            name="agreement_effective_on",
        )


# ---- pauses: materials (PROC-04, PROC-17) and witnesses (PROC-15) ----


def check_material_request(commission: CommissionSnapshot, request: MaterialRequest, today: date) -> None:
    require_step(commission.stage, "request_materials")
    if request.kind not in PAUSE_KINDS:
        raise RuleViolation("unknown_pause_kind", "kind is materials or witness")
    if request.kind == "witness" and commission.stage != Stage.EXAMINING:
        raise RuleViolation("not_in_stage", "a witness is awaited only during examination", rule="PROC-15")
    clock = running_clock(commission)
    if request.actor.role not in CLOCK_RULES[clock.rule].pausable_by:
        raise RuleViolation("wrong_actor", f"{request.actor.role} may not pause {clock.rule}")
    if request.actor.role == Role.APPRAISER:
        require_assigned_appraiser(commission, request.actor)
    else:
        require_actor(request.actor, Role(request.actor.role), commission.institution_id)
    on = today.isoformat()
    if request.requested_on:
        on = check_date_within_history(
            request.requested_on, earliest=clock.segment_start, today=today, name="requested_on"
        ).isoformat()
    if on > clock.due_on:
        raise RuleViolation(
            "deadline_passed",
            f"the {clock.name} time limit ended on {clock.due_on}, before {on}",
            rule=clock.rule,
        )


def check_supply(commission: CommissionSnapshot, supply: MaterialSupply, today: date) -> None:
    require_step(commission.stage, "supply_materials")
    require_entruster(supply.actor, commission)
    if supply.party_request_id:
        party_request_of(commission, supply.party_request_id, kind="materials")
    if supply.received_on:
        check_date_within_history(
            supply.received_on,
            earliest=paused_clock(commission).paused_on or commission.received_on,
            today=today,
            name="received_on",
        )


# ---- extension (PROC-17, PROC-30): limit and who grants it from the rule table ----


def check_extension(commission: CommissionSnapshot, request: ExtensionRequest, today: date) -> None:
    require_step(commission.stage, "extend_examination")
    clock = exam_clock(commission)
    rule = CLOCK_RULES[clock.rule]
    # PROC-17 (通则 Art 28) grants the one extension, of the supplementary examination too.
    granted_by = EXAMINATION.rule_id
    if (
        request.actor.role not in rule.extension_by
        or request.actor.organisation_id != commission.institution_id
    ):
        raise RuleViolation(
            "wrong_actor", f"only the {' or '.join(rule.extension_by)} of this commission may take this step"
        )
    if clock.extended:
        raise RuleViolation(
            "extension_already_granted", "the examination limit was already extended once", rule=granted_by
        )
    if not 1 <= request.working_days <= rule.extension_max:
        raise RuleViolation(
            "extension_too_long", f"an extension is 1 to {rule.extension_max} working days", rule=granted_by
        )
    if not request.reason.strip():
        raise RuleViolation("reason_required", "an extension states its reason", rule=granted_by)
    require_not_overdue(clock, today)


# ---- the court's remedy for an overdue commission (CRT-5), withdrawal and termination ----


def check_reassignment(commission: CommissionSnapshot, request: ReassignmentRequest) -> None:
    require_actor(request.actor, Role.COURT, commission.court_id)
    require_step(commission.stage, "reassign")
    if not any(c.overdue and not c.stopped for c in commission.clocks) and not commission.registry_bars:
        raise RuleViolation(
            "not_overdue",
            "only an overdue commission, or one whose institution or appraiser may no longer act "
            "(EXIT-1), may be re-entrusted elsewhere",
            rule="CRT-5",
        )
    if request.new_institution_id == commission.institution_id:
        raise RuleViolation("same_institution", "re-entrust to another institution", rule="CRT-5")


def check_withdrawal(commission: CommissionSnapshot, request: WithdrawalRequest) -> None:
    require_entruster(request.actor, commission)
    require_step(commission.stage, "withdraw")
    if not request.reason.strip():
        raise RuleViolation("reason_required", "a withdrawal states its reason")


def check_termination(commission: CommissionSnapshot, request: TerminationRequest) -> None:
    require_actor(request.actor, Role.INSTITUTION, commission.institution_id)
    require_step(commission.stage, "terminate")
    if commission.stage == Stage.AWAITING_MATERIALS and paused_clock(commission).rule == ACCEPTANCE.rule_id:
        raise RuleViolation("not_in_stage", "not yet accepted: refuse it instead (PROC-05)", rule="PROC-20")
    if request.ground not in TERMINATION_GROUNDS:
        raise RuleViolation("unknown_ground", f"{request.ground} is not a PROC-20 ground", rule="PROC-20")
    if not request.reason.strip():
        raise RuleViolation("reason_required", "a termination gives written reasons", rule="PROC-20")


# ---- recusal (PROC-10, PROC-11) ----


def check_recusal_request(commission: CommissionSnapshot, request: RecusalRequest) -> None:
    require_step(commission.stage, "request_recusal")
    if request.appraiser_id not in commission.appraiser_ids:
        raise RuleViolation("not_assigned", f"appraiser {request.appraiser_id} is not assigned here")
    if request.actor.role == Role.APPRAISER:
        if request.actor.organisation_id != request.appraiser_id:
            raise RuleViolation("wrong_actor", "an appraiser declares only their own conflict")
    else:
        require_entruster(request.actor, commission)
    if request.ground not in RECUSAL_GROUNDS:
        raise RuleViolation("unknown_ground", f"{request.ground} is not a PROC-10 ground", rule="PROC-10")
    if not request.reason.strip():
        raise RuleViolation("reason_required", "a recusal states its reason", rule="PROC-10")
    if pending_recusal(commission.recusals) is not None:
        raise RuleViolation(
            "recusal_pending", "the institution has not yet decided the open recusal", rule="PROC-11"
        )


def check_recusal_decision(
    commission: CommissionSnapshot, decision: RecusalDecision, *, entrusted: CommissionInput
) -> None:
    require_step(commission.stage, "decide_recusal")
    require_actor(decision.actor, Role.INSTITUTION, commission.institution_id)
    recusal = pending_recusal(commission.recusals)
    if recusal is None or recusal.id != decision.recusal_id:
        raise RuleViolation("no_such_recusal", f"no open recusal {decision.recusal_id}", rule="PROC-11")
    if not decision.reason.strip():
        raise RuleViolation("reason_required", "a recusal decision states its reason", rule="PROC-11")
    if not decision.granted and recusal.ground == REGISTRY_RECUSAL_GROUND:
        raise RuleViolation(
            "recusal_required",
            f"appraiser {recusal.appraiser_id} may no longer practise: grant it with a replacement",
            rule=REGISTRY_RECUSAL_GROUND,
        )
    if not decision.granted:
        return
    replacement = decision.replacement_id
    if not replacement:
        raise RuleViolation(
            "replacement_required", "a granted recusal names the replacement appraiser", rule="PROC-11"
        )
    recused = {r.appraiser_id for r in commission.recusals if r.status == "granted"} | {recusal.appraiser_id}
    if replacement in recused:
        raise RuleViolation("appraiser_recused", f"{replacement} was recused here", rule="PROC-10")
    if replacement in commission.appraiser_ids:
        raise RuleViolation("duplicate_appraiser", f"{replacement} is already assigned", rule="PROC-09")
    team = [replacement if a == recusal.appraiser_id else a for a in commission.appraiser_ids]
    check_appraisers(team, entrusted.eligible_appraisers)
    check_not_previously_appraised([replacement], entrusted.excluded_appraiser_ids)
    if commission.reappraisal_of:
        check_senior_title(team, entrusted.eligible_appraisers)


# ---- objections to the issued opinion (CRT-7, CRT-8) ----


def check_objection(commission: CommissionSnapshot, objection: ObjectionForward, today: date) -> None:
    require_step(commission.stage, "forward_objection")
    require_actor(objection.actor, Role.COURT, commission.court_id)
    if objection.party_request_id:
        party_request_of(commission, objection.party_request_id, kind="objection")
    if any(o.status == "awaiting_reply" for o in commission.objections):
        raise RuleViolation(
            "objection_pending", "the appraisers have not yet answered the open objection", rule="CRT-7"
        )
    if not objection.party.strip() or not objection.content.strip():
        raise RuleViolation("objection_incomplete", "name the objecting party and the objection")
    days = (date.fromisoformat(objection.reply_by) - today).days
    if not 1 <= days <= MAX_REPLY_DAYS:
        raise RuleViolation(
            "date_out_of_range",
            f"reply_by is 1 to {MAX_REPLY_DAYS} days from today (the court sets the period)",
            rule="CRT-7",
        )


def check_objection_reply(commission: CommissionSnapshot, reply: ObjectionReply) -> None:
    require_step(commission.stage, "answer_objection")
    require_assigned_appraiser(commission, reply.actor)
    if objection_of(commission.objections, reply.objection_id).status != "awaiting_reply":
        raise RuleViolation("objection_answered", "this objection was already answered", rule="CRT-7")
    if not reply.content.strip():
        raise RuleViolation("reply_required", "the answer is written", rule="CRT-7")


def check_objection_resolution(commission: CommissionSnapshot, resolution: ObjectionResolution) -> None:
    require_step(commission.stage, "resolve_objection")
    require_actor(resolution.actor, Role.COURT, commission.court_id)
    if resolution.resolution not in RESOLUTIONS:
        raise RuleViolation("unknown_resolution", "resolution is withdrawn, maintained or waived")
    if objection_of(commission.objections, resolution.objection_id).status != "answered":
        raise RuleViolation(
            "objection_not_answered", "an objection is resolved after the written answer", rule="CRT-8"
        )


# ---- court testimony (TST-3, TST-8) ----


def check_summons(commission: CommissionSnapshot, summons: TestimonySummons, now: datetime) -> None:
    require_step(commission.stage, "summon_testimony")
    require_actor(summons.actor, Role.COURT, commission.court_id)
    if not summons.appraiser_ids or len(set(summons.appraiser_ids)) != len(summons.appraiser_ids):
        raise RuleViolation("invalid_summons", "summon at least one appraiser, each once", rule="TST-8")
    strangers = [a for a in summons.appraiser_ids if a not in commission.appraiser_ids]
    if strangers:
        raise RuleViolation(
            "not_assigned", f"not an appraiser of this opinion: {', '.join(strangers)}", rule="TST-8"
        )
    if summons.hearing_at.tzinfo is None or summons.hearing_at <= now:
        raise RuleViolation("date_out_of_range", "the hearing is in the future", rule="TST-3")
    if summons.hearing_at > now + MAX_HEARING_AHEAD:
        raise RuleViolation(
            "date_out_of_range",
            f"the hearing is at most {MAX_HEARING_AHEAD.days} days ahead",
            rule="TST-3",
        )
    if not summons.place.strip():
        raise RuleViolation("invalid_summons", "the notice states the place of the hearing", rule="TST-3")


# ---- supplementary appraisal (PROC-30), correction (PROC-28), re-appraisal (PROC-31) ----


def check_supplementary(commission: CommissionSnapshot, request: SupplementaryRequest) -> None:
    require_step(commission.stage, "request_supplementary")
    require_entruster(request.actor, commission)
    if request.ground not in SUPPLEMENTARY_GROUNDS:
        raise RuleViolation("unknown_ground", f"{request.ground} is not a PROC-30 ground", rule="PROC-30")
    if not request.reason.strip():
        raise RuleViolation("reason_required", "a supplementary appraisal states its reason")
    if commission.opinion_status == "superseded":
        raise RuleViolation(
            "opinion_superseded",
            "a re-appraisal was ordered: the opinion is not supplemented",
            rule="PROC-35",
        )


def check_correction(commission: CommissionSnapshot, correction: CorrectionSubmission) -> None:
    require_step(commission.stage, "submit_correction")
    require_assigned_appraiser(commission, correction.actor)
    if correction.defect_kind not in CORRECTION_KINDS:
        raise RuleViolation(
            "not_correctable",
            f"{correction.defect_kind} is not a defect a correction may fix",
            rule="PROC-28",
        )
    if not correction.description.strip():
        raise RuleViolation("reason_required", "describe the defect corrected", rule="PROC-28")
    report = commission.report
    if report is None or correction.opinion.strip() != report.opinion.strip():
        raise RuleViolation(
            "correction_changes_opinion",
            "a correction must not change the opinion: ask for a supplementary appraisal",
            rule="PROC-28",
        )


def check_reappraisal(commission: CommissionSnapshot, order: ReappraisalOrder) -> None:
    require_step(commission.stage, "order_reappraisal")
    require_entruster(order.actor, commission)
    if order.ground not in REAPPRAISAL_GROUNDS:
        raise RuleViolation("unknown_ground", f"{order.ground} is not a PROC-31 ground", rule="PROC-31")
    if not order.reason.strip():
        raise RuleViolation("reason_required", "a re-appraisal order states its reason", rule="PROC-31")


# ---- the report (PROC-24, PROC-25) and closure ----


def check_report(commission: CommissionSnapshot, submission: ReportSubmission) -> None:
    require_step(commission.stage, "submit_report")
    require_assigned_appraiser(commission, submission.actor)


def check_signature(commission: CommissionSnapshot, submission: SignatureSubmission) -> None:
    require_step(commission.stage, "sign_report")
    require_assigned_appraiser(commission, submission.actor)
    if submission.kind not in ("sign", "dissent"):
        raise RuleViolation("unknown_signature_kind", "kind is sign or dissent")
    if submission.kind == "dissent" and not submission.statement.strip():
        raise RuleViolation("dissent_needs_statement", "a dissent states its reasons", rule="PROC-24")
    if submission.actor.organisation_id not in unsigned_appraisers(
        commission.report, commission.appraiser_ids
    ):
        raise RuleViolation("already_signed", "this appraiser has already signed this report", rule="PROC-24")


def check_issue(commission: CommissionSnapshot, request: IssueRequest) -> None:
    require_step(commission.stage, "issue_report")
    require_actor(request.actor, Role.INSTITUTION_HEAD, commission.institution_id)


def check_closure(commission: CommissionSnapshot, request: ClosureRequest) -> None:
    require_step(commission.stage, "close")
    require_entruster(request.actor, commission)
    open_application = next((a for a in commission.applications if a.status in ("pending", "refused")), None)
    if open_application is not None:
        waiting = "a decision" if open_application.status == "pending" else "its written notice"
        raise RuleViolation(
            "application_open",
            f"application {open_application.id} awaits {waiting}: the commission closes after",
            rule="PROC-36",
        )


# ---- a criminal case before trial (PROC-36): the opinion told, applications decided ----


def require_investigating_entruster(actor: Actor, commission: CommissionSnapshot) -> None:
    """PROC-36 is the investigating organ's: it entrusted the commission in a criminal case."""
    require_entruster(actor, commission)
    if commission.entrusting_role not in INVESTIGATING_ROLES:
        raise RuleViolation(
            "not_investigating_organ",
            "only an investigating organ (a public security organ, a procuratorate or another "
            "investigative organ) takes this step; a court hears the opinion at trial",
            rule="PROC-36",
        )


def application_of(commission: CommissionSnapshot, application_id: str) -> ApplicationSnapshot:
    found = next((a for a in commission.applications if a.id == application_id), None)
    if found is None:
        raise RuleViolation("no_such_application", f"no application {application_id}", rule="PROC-36")
    return found


def _issued_on(commission: CommissionSnapshot) -> str:
    report = commission.report
    if report is None or report.issued_at is None:
        return commission.received_on
    return local_today(report.issued_at).isoformat()


def check_opinion_notice(commission: CommissionSnapshot, notice: OpinionNotice, today: date) -> None:
    require_step(commission.stage, "notify_opinion")
    require_investigating_entruster(notice.actor, commission)
    if not notice.persons:
        raise RuleViolation("nobody_notified", "name who was told: the suspect, the victim", rule="PROC-36")
    for person in notice.persons:
        if person.role not in PERSON_ROLES:
            raise RuleViolation(
                "unknown_person_role", f"{person.role} is not one who is told", rule="PROC-36"
            )
        if not person.name.strip():
            raise RuleViolation("name_required", "each person told is named", rule="PROC-36")
    if notice.notified_on:
        check_date_within_history(
            notice.notified_on, earliest=_issued_on(commission), today=today, name="notified_on"
        )


def check_application_receipt(
    commission: CommissionSnapshot, receipt: ApplicationReceipt, today: date
) -> None:
    require_step(commission.stage, "receive_application")
    require_investigating_entruster(receipt.actor, commission)
    version = commission.report.version if commission.report else 0
    notices = [n for n in commission.opinion_notices if n.version == version]
    if not notices:
        raise RuleViolation(
            "opinion_not_notified",
            "the opinion in force has not been told to the suspect and the victim yet",
            rule="PROC-36",
        )
    if receipt.applicant_role not in PERSON_ROLES:
        raise RuleViolation("unknown_person_role", f"{receipt.applicant_role} may not apply", rule="PROC-36")
    if receipt.kind not in APPLICATION_KINDS:
        raise RuleViolation(
            "unknown_application_kind", "kind is supplementary or reappraisal", rule="PROC-36"
        )
    if not receipt.applicant_name.strip() or not receipt.reason.strip():
        raise RuleViolation(
            "reason_required", "an application names its applicant and reasons", rule="PROC-36"
        )
    if any(a.status == "pending" for a in commission.applications):
        raise RuleViolation("application_pending", "decide the open application first", rule="PROC-36")
    if receipt.received_on:
        check_date_within_history(
            receipt.received_on,
            earliest=min(n.notified_on for n in notices),
            today=today,
            name="received_on",
        )


def check_application_decision(commission: CommissionSnapshot, decision: ApplicationDecision) -> None:
    require_step(commission.stage, "decide_application")
    require_investigating_entruster(decision.actor, commission)
    application = application_of(commission, decision.application_id)
    if application.status != "pending":
        raise RuleViolation(
            "application_decided", f"application {application.id} was already decided", rule="PROC-36"
        )
    if not decision.reason.strip():
        raise RuleViolation("reason_required", "a decision states its reasons", rule="PROC-36")
    if not decision.granted:
        return
    grounds = (
        SUPPLEMENTARY_APPLICATION_GROUNDS
        if application.kind == "supplementary"
        else REAPPRAISAL_APPLICATION_GROUNDS
    )
    if decision.ground not in grounds:
        raise RuleViolation(
            "unknown_ground",
            f"{decision.ground or 'no ground'} is not a ground of a {application.kind} (PROC-36)",
            rule="PROC-36",
        )
    if application.kind == "supplementary" and commission.opinion_status == "superseded":
        raise RuleViolation(
            "opinion_superseded",
            "a re-appraisal was ordered: the opinion is not supplemented",
            rule="PROC-36",
        )


def check_applicant_notice(commission: CommissionSnapshot, notice: ApplicantNotice, today: date) -> None:
    require_step(commission.stage, "notify_applicant")
    require_investigating_entruster(notice.actor, commission)
    application = application_of(commission, notice.application_id)
    if application.status != "refused":
        raise RuleViolation(
            "not_refused", f"application {application.id} is {application.status}: nothing to tell in writing"
        )
    if notice.notified_on:
        check_date_within_history(
            notice.notified_on,
            earliest=application.decided_on or commission.received_on,
            today=today,
            name="notified_on",
        )


# ---- the case moves on with its record (ENT-4) ----


def case_holder(commission: CommissionSnapshot) -> tuple[str, str, str]:
    """The organ handling the case now (its id, kind and role): the last one it was handed
    over to, or the organ that entrusted the commission."""
    if commission.transfers:
        last = commission.transfers[-1]
        return last.to_organ_id, last.to_kind, last.to_role
    return commission.court_id, commission.entrusting_kind, commission.entrusting_role


def check_transfer_record(commission: CommissionSnapshot, record: CaseTransferRecord) -> None:
    require_step(commission.stage, "record_transfer")
    holder_id, holder_kind, holder_role = case_holder(commission)
    actor = record.actor
    if (actor.role, actor.organisation_id) != (holder_role, holder_id) or record.from_organ_id != holder_id:
        raise RuleViolation("wrong_actor", "only the organ handling the case now hands it over", rule="ENT-4")
    check_transfer(from_kind=holder_kind, to_kind=record.to_kind)


# ---- the parties (PTY-1) ----


def require_party(actor: Actor, commission: CommissionSnapshot) -> PartySnapshot:
    """A party registered on this very commission."""
    party = next((p for p in commission.parties if p.party_id == actor.organisation_id), None)
    if actor.role != Role.PARTY or party is None:
        raise RuleViolation("wrong_actor", "only a party registered on this commission may", rule="PTY-1")
    return party


def party_request_of(
    commission: CommissionSnapshot, request_id: str, *, kind: str = ""
) -> PartyRequestSnapshot:
    """A party's request still waiting on the entrusting organ (of this kind, when named)."""
    found = next((r for r in commission.party_requests if r.id == request_id), None)
    if found is None or found.status != "pending" or (kind and found.kind != kind):
        what = f"{kind} request" if kind else "request"
        raise RuleViolation("no_such_request", f"no pending party {what} {request_id}", rule="PTY-1")
    return found


def check_party_registration(commission: CommissionSnapshot, registration: PartyRegistration) -> None:
    require_step(commission.stage, "register_parties")
    require_entruster(registration.actor, commission)
    if not registration.parties:
        raise RuleViolation("nobody_registered", "name at least one party", rule="PTY-1")
    if len(commission.parties) + len(registration.parties) > MAX_PARTIES:
        raise RuleViolation(
            "too_many_parties", f"a commission registers at most {MAX_PARTIES} parties", rule="PTY-1"
        )
    known = {p.party_id for p in commission.parties}
    for party in registration.parties:
        if party.party_id in known:
            raise RuleViolation(
                "duplicate_party", f"party {party.party_id} is registered already", rule="PTY-1"
            )
        known.add(party.party_id)
        if party.side not in SIDES:
            raise RuleViolation("unknown_side", f"{party.side} is not a side of a case", rule="PTY-1")
        if not party.name.strip():
            raise RuleViolation("name_required", "each party is named", rule="PTY-1")


def check_party_request(commission: CommissionSnapshot, request: PartyRequest) -> None:
    require_step(commission.stage, "submit_party_request")
    require_party(request.actor, commission)
    if request.kind not in REQUEST_KINDS:
        raise RuleViolation("unknown_request_kind", "kind is materials or objection", rule="PTY-1")
    if request.kind == "materials" and not request.materials:
        raise RuleViolation(
            "materials_required", "name the materials offered (and their SHA-256)", rule="PTY-1"
        )
    if request.kind == "objection":
        if commission.entrusting_role != Role.COURT:
            raise RuleViolation(
                "objection_court_only", "objections to an opinion are a court's proceedings", rule="CRT-7"
            )
        if commission.stage != Stage.ISSUED:
            raise RuleViolation(
                "not_in_stage", f"the commission is {commission.stage}: an objection needs the issued report"
            )
        if not request.content.strip():
            raise RuleViolation("objection_incomplete", "state the objection", rule="CRT-7")


def check_party_request_decline(commission: CommissionSnapshot, decline: PartyRequestDecline) -> None:
    require_step(commission.stage, "decline_party_request")
    require_entruster(decline.actor, commission)
    party_request_of(commission, decline.request_id)
    if not decline.reason.strip():
        raise RuleViolation("reason_required", "a request declined is told why", rule="PTY-1")


def check_report_release(commission: CommissionSnapshot, release: ReportRelease) -> None:
    require_step(commission.stage, "release_report")
    require_entruster(release.actor, commission)
    report = commission.report
    if report is None or report.issued_at is None:
        raise RuleViolation(
            "report_not_issued", "only an issued report is released to the parties", rule="PTY-1"
        )
    if commission.report_released == report.version:
        raise RuleViolation(
            "already_released", f"version {report.version} is released to the parties already", rule="PTY-1"
        )


# ---- the fee (鉴定费: FEE-1, CRT-1, the refund rules) ----


def check_prepaid(commission: CommissionSnapshot) -> None:
    """CRT-1: an examination a party must prepay does not begin before the fee is paid in full."""
    fee = commission.fee
    if fee is not None and fee.prepayment_required and fee.paid < fee.total:
        raise RuleViolation(
            "fee_not_prepaid",
            f"the fee ({yuan(fee.total)} yuan, {yuan(fee.paid)} paid) is prepaid before the examination "
            "begins: the applicant pays within the court's period",
            rule="CRT-1",
        )


def require_payer(actor: Actor, commission: CommissionSnapshot, fee: FeeSnapshot) -> None:
    if fee.payer_kind == "party":
        if actor.role != Role.PARTY or actor.organisation_id != fee.payer_party_id:
            raise RuleViolation("wrong_actor", "only the party who pays answers the quote", rule="FEE-1")
        return
    require_entruster(actor, commission)


def check_fee_quote(commission: CommissionSnapshot, quote: FeeQuote) -> None:
    require_step(commission.stage, "quote_fee")
    require_actor(quote.actor, Role.INSTITUTION, commission.institution_id)
    if commission.fee is not None and commission.fee.status == "accepted":
        raise RuleViolation("fee_already_agreed", "the payer accepted the quote already", rule="FEE-1")
    if not quote.items:
        raise RuleViolation("fee_items_required", "quote the fee of each matter", rule="FEE-1")
    seen: set[str] = set()
    for item in quote.items:
        if item.matter in seen:
            raise RuleViolation("duplicate_matter", f"{item.matter} is quoted twice", rule="FEE-1")
        seen.add(item.matter)
        if commission.matters and item.matter not in commission.matters:
            raise RuleViolation(
                "unknown_matter", f"{item.matter} is not a matter of this commission", rule="FEE-1"
            )
        if item.amount <= 0:
            raise RuleViolation("invalid_amount", "an amount is more than nothing", rule="FEE-1")
        if not item.standard_id or item.standard_ceiling <= 0:
            raise RuleViolation(
                "no_fee_standard",
                f"no charging standard covers {item.matter}: the bureau keeps it",
                rule="FEE-1",
            )
        if item.amount > item.standard_ceiling:
            raise RuleViolation(
                "fee_above_standard",
                f"{item.matter}: {yuan(item.amount)} yuan is above the charging standard's "
                f"{yuan(item.standard_ceiling)} yuan ({item.standard_source})",
                rule="FEE-1",
            )
    if quote.payer_kind not in PAYER_KINDS:
        raise RuleViolation("unknown_payer", "the payer is the entrusting organ or a party", rule="FEE-1")
    if quote.payer_kind == "party" and quote.payer_party_id not in {p.party_id for p in commission.parties}:
        raise RuleViolation(
            "unknown_party", "the paying party is one registered on this commission", rule="FEE-1"
        )


def check_fee_answer(commission: CommissionSnapshot, answer: FeeAnswer) -> None:
    require_step(commission.stage, "answer_fee_quote")
    fee = commission.fee
    if fee is None or fee.status != "quoted":
        raise RuleViolation("no_fee_quote", "no quote waits for an answer", rule="FEE-1")
    require_payer(answer.actor, commission, fee)
    if not answer.accepted and not answer.reason.strip():
        raise RuleViolation("reason_required", "a quote declined is told why", rule="FEE-1")


def check_payment(commission: CommissionSnapshot, payment: FeePayment, today: date) -> None:
    require_step(commission.stage, "record_payment")
    if payment.actor.role == Role.INSTITUTION:
        require_actor(payment.actor, Role.INSTITUTION, commission.institution_id)
    else:
        require_entruster(payment.actor, commission)
    fee = commission.fee
    if fee is None or fee.status != "accepted":
        raise RuleViolation("fee_not_agreed", "a payment follows a quote the payer accepted", rule="FEE-1")
    if payment.amount <= 0:
        raise RuleViolation("invalid_amount", "an amount is more than nothing", rule="FEE-1")
    if fee.paid + payment.amount > fee.total:
        raise RuleViolation(
            "overpayment",
            f"{yuan(fee.paid)} of {yuan(fee.total)} yuan is paid: no more than the accepted quote is received",
            rule="FEE-1",
        )
    if not payment.reference.strip():
        raise RuleViolation("reference_required", "name the payment's external reference", rule="FEE-1")
    if payment.paid_on:
        check_date_within_history(payment.paid_on, earliest=fee.quoted_on, today=today, name="paid_on")


def check_refund_record(commission: CommissionSnapshot, record: RefundRecord, today: date) -> None:
    require_step(commission.stage, "record_refund")
    # The institution pays it back; the entrusting organ may confirm it received it (or passed it
    # on to the party), as when the institution is barred from acting (EXIT-1).
    if record.actor.role == Role.INSTITUTION:
        require_actor(record.actor, Role.INSTITUTION, commission.institution_id)
    else:
        require_entruster(record.actor, commission)
    refund = commission.fee.refund if commission.fee else None
    if refund is None or refund.status != "ordered":
        raise RuleViolation("no_refund_due", "no refund is waiting to be paid back")
    if record.amount < refund.minimum:
        raise RuleViolation(
            "refund_too_small",
            f"at least {yuan(refund.minimum)} yuan comes back: {refund.basis}",
            rule=refund.rule,
        )
    if record.amount > refund.paid:
        raise RuleViolation(
            "invalid_amount",
            f"no more than the {yuan(refund.paid)} yuan received comes back",
            rule=refund.rule,
        )
    if record.amount < refund.paid and not record.retained_reason.strip():
        raise RuleViolation(
            "reason_required", "what is kept back is the cost of the work done, stated", rule=refund.rule
        )
    if not record.reference.strip():
        raise RuleViolation("reference_required", "name the refund's external reference", rule=refund.rule)
    if record.refunded_on:
        check_date_within_history(
            record.refunded_on, earliest=refund.ordered_on, today=today, name="refunded_on"
        )
