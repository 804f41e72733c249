"""Who may call what: every route × role, in one place. docs/security.md
shows this table; a test checks every route has a rule and that the API
answers each cell of the matrix as the rule says."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.routing import APIRoute

from appraisal.api.deps import get_principal
from appraisal.api.errors import forbidden
from appraisal.domain.roles import ENTRUSTING_ROLES, INVESTIGATING_ROLES, Actor, Role
from appraisal.domain.rules import EXAMINATION
from appraisal.services.steps import STEPS


class Scope(StrEnum):
    PUBLIC = "public"
    """No token needed."""
    OWN = "own"
    """Answers within the caller's own organisation only (lists, inbox, creation)."""
    COMMISSION = "commission"
    """The commission in the path must be in the caller's scope, else 404."""
    BUREAU = "bureau"
    """The appraiser, institution, complaint or course in the path must be under the supervisor's bureau,
    and a registration application in the caller's scope (the bureau's; the applicant's; the appraiser's
    own; a panel expert's), else 404."""
    BUREAU_WIDE = "bureau_wide"
    """The annual evaluation in the path must be of the bureau the caller is under (its officials,
    institutions and appraisers alike: the grades are published, 公示), else 404."""
    ADMINISTERED = "administered"
    """A bureau official, or an account that administers its organisation, else 403 (a bearer
    token of another role has no account, so it never administers)."""
    DRAW = "draw"
    """The random draw in the path must be the caller organ's own, else 404."""


@dataclass(frozen=True)
class Access:
    roles: frozenset[Role]
    scope: Scope
    note: str = ""


ALL_ROLES = frozenset(Role)
"""Every account: what each organisation has of its own (the inbox, notifications, password)
and public reference data."""
EVERYONE = ALL_ROLES - {Role.EXPERT}
"""Whoever takes part in commissions, a party too: an expert of the pool sees only the
applications they review."""
STAFF = EVERYONE - {Role.PARTY}
"""Everyone who works on commissions; a party reaches only what names it (PTY-1)."""
PARTY = frozenset({Role.PARTY})


def _only(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


ENTRUSTERS = _only(*ENTRUSTING_ROLES)
"""Every entrusting organ (ENT-1): a court, a procuratorate, a public security organ, another
investigative organ; each on its own commissions."""

INVESTIGATORS = _only(*INVESTIGATING_ROLES)
"""The entrusting organs of a criminal case before trial (PROC-36, ENT-4)."""

DASHBOARD = STAFF
"""Who the web workspace's pages (/ui) are for: every role but a party's, signed in with an account
(or a pasted token); a party has pages of its own (/ui/party)."""

COUNTED = DASHBOARD - {Role.APPRAISER}
"""Whose scope the overview counts (an appraiser's home is the inbox)."""

COMMISSION_PATH = "/v1/commissions/{commission_id}"
COMPLAINT_PATH = "/v1/complaints/{complaint_id}"
PENALTY_PATH = "/v1/penalties/{case_id}"
ADMISSION_PATH = "/v1/admissions/{admission_id}"
EVALUATION_PATH = "/v1/evaluations/{evaluation_id}"
APPLICATION_READERS = frozenset(
    {Role.INSTITUTION, Role.INSTITUTION_HEAD, Role.APPRAISER, Role.SUPERVISOR, Role.EXPERT}
)
"""Who may read registration applications in their scope."""
UNDER_A_BUREAU = frozenset({Role.INSTITUTION, Role.INSTITUTION_HEAD, Role.APPRAISER, Role.SUPERVISOR})
"""Who takes part in the annual evaluation and training: the bureau and those it registers."""

POLICY: dict[tuple[str, str], Access] = {
    ("GET", "/healthz"): Access(frozenset(), Scope.PUBLIC, "liveness"),
    ("GET", "/readyz"): Access(frozenset(), Scope.PUBLIC, "Temporal and the database reachable"),
    ("GET", "/metrics"): Access(frozenset(), Scope.PUBLIC, "Prometheus metrics"),
    ("POST", "/v1/commissions"): Access(ENTRUSTERS, Scope.OWN, "entrust, as the calling court or organ"),
    ("GET", "/v1/commissions"): Access(STAFF, Scope.OWN, "only commissions in the caller's scope"),
    ("GET", COMMISSION_PATH): Access(STAFF, Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/acceptance"): Access(_only(Role.INSTITUTION), Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/material-requests"): Access(
        _only(Role.INSTITUTION, Role.APPRAISER), Scope.COMMISSION
    ),
    ("POST", f"{COMMISSION_PATH}/materials"): Access(ENTRUSTERS, Scope.COMMISSION),
    # Who grants the one extension is the rule table's (PROC-17; PROC-30 follows it).
    ("POST", f"{COMMISSION_PATH}/extension"): Access(_only(*EXAMINATION.extension_by), Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/reentrustment"): Access(_only(Role.COURT), Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/withdrawal"): Access(ENTRUSTERS, Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/termination"): Access(_only(Role.INSTITUTION), Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/report"): Access(_only(Role.APPRAISER), Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/signatures"): Access(_only(Role.APPRAISER), Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/issue"): Access(_only(Role.INSTITUTION_HEAD), Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/recusals"): Access(
        ENTRUSTERS | {Role.APPRAISER},
        Scope.COMMISSION,
        "an appraiser for themself; the entrusting organ for any",
    ),
    ("POST", f"{COMMISSION_PATH}/recusals/{{recusal_id}}/decision"): Access(
        _only(Role.INSTITUTION), Scope.COMMISSION
    ),
    ("POST", f"{COMMISSION_PATH}/objections"): Access(_only(Role.COURT), Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/objections/{{objection_id}}/reply"): Access(
        _only(Role.APPRAISER), Scope.COMMISSION
    ),
    ("POST", f"{COMMISSION_PATH}/objections/{{objection_id}}/resolution"): Access(
        _only(Role.COURT), Scope.COMMISSION
    ),
    ("POST", f"{COMMISSION_PATH}/testimony"): Access(_only(Role.COURT), Scope.COMMISSION),
    ("GET", f"{COMMISSION_PATH}/testimony/{{testimony_id}}"): Access(STAFF, Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/testimony/{{testimony_id}}/confirmation"): Access(
        _only(Role.APPRAISER), Scope.COMMISSION, "a summoned appraiser, for themself"
    ),
    ("POST", f"{COMMISSION_PATH}/testimony/{{testimony_id}}/ruling"): Access(
        _only(Role.COURT), Scope.COMMISSION
    ),
    ("POST", f"{COMMISSION_PATH}/testimony/{{testimony_id}}/outcome"): Access(
        _only(Role.COURT), Scope.COMMISSION
    ),
    ("POST", f"{COMMISSION_PATH}/testimony/{{testimony_id}}/refund-ruling"): Access(
        _only(Role.COURT), Scope.COMMISSION
    ),
    ("POST", f"{COMMISSION_PATH}/supplementary"): Access(ENTRUSTERS, Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/corrections"): Access(_only(Role.APPRAISER), Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/reappraisal"): Access(ENTRUSTERS, Scope.COMMISSION),
    ("GET", f"{COMMISSION_PATH}/lineage"): Access(STAFF, Scope.COMMISSION, "only commissions in scope"),
    ("POST", f"{COMMISSION_PATH}/closure"): Access(ENTRUSTERS, Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/opinion-notices"): Access(
        INVESTIGATORS, Scope.COMMISSION, "the suspect and the victim told of the opinion (PROC-36)"
    ),
    ("POST", f"{COMMISSION_PATH}/applications"): Access(
        INVESTIGATORS, Scope.COMMISSION, "a supplementary or re-appraisal applied for (PROC-36)"
    ),
    ("POST", f"{COMMISSION_PATH}/applications/{{application_id}}/decision"): Access(
        INVESTIGATORS, Scope.COMMISSION
    ),
    ("POST", f"{COMMISSION_PATH}/applications/{{application_id}}/notice"): Access(
        INVESTIGATORS, Scope.COMMISSION, "a refused applicant told in writing (PROC-36)"
    ),
    ("GET", f"{COMMISSION_PATH}/case"): Access(
        STAFF, Scope.COMMISSION, "the case across organs (ENT-4): only commissions in scope"
    ),
    ("POST", "/v1/case-transfers"): Access(
        INVESTIGATORS, Scope.OWN, "hand the caller's case over to the next organ (ENT-4)"
    ),
    ("GET", "/v1/case-transfers"): Access(ENTRUSTERS, Scope.OWN, "hand-overs the caller made or received"),
    ("GET", "/v1/registry/organs"): Access(EVERYONE, Scope.OWN, "public reference data: entrusting organs"),
    ("GET", f"{COMMISSION_PATH}/audit"): Access(STAFF, Scope.COMMISSION),
    ("GET", f"{COMMISSION_PATH}/verify"): Access(STAFF, Scope.COMMISSION),
    ("GET", f"{COMMISSION_PATH}/report.pdf"): Access(
        EVERYONE, Scope.COMMISSION, "a party: once the entrusting organ released it (PTY-1)"
    ),
    ("GET", f"{COMMISSION_PATH}/selection"): Access(
        EVERYONE, Scope.COMMISSION, "the institution's selection, re-run from its recorded seed"
    ),
    ("GET", "/v1/tasks"): Access(ALL_ROLES, Scope.OWN, "the caller's own inbox"),
    ("GET", "/v1/notifications"): Access(ALL_ROLES, Scope.OWN, "sent to the caller's organisation"),
    ("PUT", "/v1/notifications/webhook"): Access(
        ALL_ROLES - PARTY, Scope.OWN, "the caller's organisation's endpoint"
    ),
    ("GET", "/v1/notifications/contact"): Access(ALL_ROLES, Scope.OWN, "the caller's SMS and e-mail contact"),
    ("PUT", "/v1/notifications/contact"): Access(ALL_ROLES, Scope.OWN, "the caller's SMS and e-mail contact"),
    # ---- the parties (PTY-1) and the random draw they watch (SEL-3) ----
    ("POST", f"{COMMISSION_PATH}/parties"): Access(
        ENTRUSTERS, Scope.COMMISSION, "register parties: each gets a one-time sign-in link"
    ),
    ("GET", f"{COMMISSION_PATH}/parties"): Access(ENTRUSTERS, Scope.COMMISSION, "the organ's own commission"),
    ("POST", "/v1/parties/{party_id}/link"): Access(
        ENTRUSTERS, Scope.OWN, "a new one-time link for a party the caller's organ registered (else 404)"
    ),
    ("POST", "/v1/party-sign-in"): Access(
        frozenset(), Scope.PUBLIC, "a party's one-time link for a bearer token"
    ),
    ("GET", "/v1/party"): Access(PARTY, Scope.OWN, "the calling party: its commission or its draw"),
    ("GET", f"{COMMISSION_PATH}/party-view"): Access(
        PARTY, Scope.COMMISSION, "what a party sees of its own commission alone"
    ),
    ("POST", f"{COMMISSION_PATH}/party-requests"): Access(
        PARTY, Scope.COMMISSION, "materials or an objection, for the entrusting organ to pass on"
    ),
    ("POST", f"{COMMISSION_PATH}/party-requests/{{request_id}}/decline"): Access(
        ENTRUSTERS, Scope.COMMISSION, "declined with reasons (accepting is the materials or objection step)"
    ),
    ("POST", f"{COMMISSION_PATH}/report-release"): Access(
        ENTRUSTERS, Scope.COMMISSION, "the issued report shown to the parties"
    ),
    ("POST", f"{COMMISSION_PATH}/complaints"): Access(
        PARTY, Scope.COMMISSION, "a party's own complaint to the bureau (CMP-2)"
    ),
    ("POST", "/v1/draws"): Access(ENTRUSTERS, Scope.OWN, "schedule a random draw with the parties present"),
    ("GET", "/v1/draws"): Access(ENTRUSTERS, Scope.OWN, "the caller organ's draws"),
    ("GET", "/v1/draws/{draw_id}"): Access(ENTRUSTERS, Scope.DRAW),
    ("POST", "/v1/draws/{draw_id}/run"): Access(
        ENTRUSTERS, Scope.DRAW, "run it: the commission is entrusted"
    ),
    # ---- the fee (鉴定费: FEE-1, CRT-1, FEE-2) ----
    ("GET", "/v1/fee-standards"): Access(ALL_ROLES, Scope.OWN, "public reference data: charging standards"),
    ("POST", "/v1/fee-standards"): Access(_only(Role.SUPERVISOR), Scope.OWN, "of the caller's bureau"),
    ("POST", f"{COMMISSION_PATH}/fee/quote"): Access(_only(Role.INSTITUTION), Scope.COMMISSION),
    ("POST", f"{COMMISSION_PATH}/fee/answer"): Access(
        ENTRUSTERS | PARTY, Scope.COMMISSION, "the payer: the entrusting organ, or the party named"
    ),
    ("POST", f"{COMMISSION_PATH}/fee/payments"): Access(
        ENTRUSTERS | {Role.INSTITUTION}, Scope.COMMISSION, "with its external reference"
    ),
    ("POST", f"{COMMISSION_PATH}/fee/refund"): Access(
        ENTRUSTERS | {Role.INSTITUTION},
        Scope.COMMISSION,
        "paid back by the institution, or confirmed by the organ",
    ),
    ("GET", "/v1/calendar/{year}"): Access(ALL_ROLES, Scope.OWN, "public reference data"),
    ("PUT", "/v1/calendar/{year}"): Access(_only(Role.SUPERVISOR), Scope.OWN),
    ("GET", "/v1/registry/institutions"): Access(ALL_ROLES, Scope.OWN, "public reference data"),
    ("GET", "/v1/registry/appraisers"): Access(ALL_ROLES, Scope.OWN, "public reference data"),
    ("GET", "/v1/registry/keys"): Access(
        frozenset(), Scope.PUBLIC, "the appraisers' public keys, for anyone verifying a report offline"
    ),
    ("GET", "/v1/registry/seal/root.pem"): Access(
        frozenset(), Scope.PUBLIC, "the bureau's root certificate, for anyone verifying a seal offline"
    ),
    ("GET", "/v1/registry/seal/crl"): Access(
        frozenset(), Scope.PUBLIC, "revoked seal certificates, signed now, for anyone verifying a seal"
    ),
    ("GET", "/v1/registry/seal/certificates"): Access(
        ALL_ROLES, Scope.OWN, "seal certificates issued to institutions"
    ),
    ("POST", "/v1/timestamp"): Access(ALL_ROLES, Scope.OWN, "the timestamp authority (RFC 3161)"),
    ("POST", "/v1/registry/institutions"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "under the caller's bureau"
    ),
    ("POST", "/v1/registry/appraisers"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "at an institution under the caller's bureau"
    ),
    ("PATCH", "/v1/registry/institutions/{institution_id}"): Access(_only(Role.SUPERVISOR), Scope.BUREAU),
    ("PATCH", "/v1/registry/appraisers/{appraiser_id}"): Access(_only(Role.SUPERVISOR), Scope.BUREAU),
    ("POST", "/v1/registry/institutions/{institution_id}/status"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "suspend, reinstate, revoke (final)"
    ),
    ("POST", "/v1/registry/appraisers/{appraiser_id}/status"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "suspend, reinstate, revoke (final)"
    ),
    ("GET", "/v1/registry/changes"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "the audited registry changes of the caller's bureau"
    ),
    ("GET", "/v1/registry/licence-tasks"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "licences of the caller's bureau expiring within 60 days (REG-8)"
    ),
    ("POST", "/v1/supervision/inspections"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "random inspection draw in the caller's bureau"
    ),
    ("GET", "/v1/supervision/inspections"): Access(ALL_ROLES, Scope.OWN, "published draws (公开)"),
    ("GET", "/v1/supervision/inspections/{inspection_id}"): Access(
        ALL_ROLES, Scope.OWN, "a published draw (公开), re-run"
    ),
    ("POST", "/v1/complaints"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "register, for an institution under the caller's bureau"
    ),
    ("GET", COMPLAINT_PATH): Access(_only(Role.SUPERVISOR), Scope.BUREAU),
    ("POST", f"{COMPLAINT_PATH}/decision"): Access(_only(Role.SUPERVISOR), Scope.BUREAU),
    ("GET", f"{COMPLAINT_PATH}/audit"): Access(_only(Role.SUPERVISOR), Scope.BUREAU),
    ("POST", f"{COMMISSION_PATH}/interference"): Access(
        _only(Role.APPRAISER), Scope.COMMISSION, "an assigned appraiser, signed with their key (IND-1)"
    ),
    ("POST", f"{COMMISSION_PATH}/interference/{{report_id}}/review"): Access(
        _only(Role.SUPERVISOR), Scope.COMMISSION, "the supervising bureau (IND-1)"
    ),
    ("POST", "/v1/penalties"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "file a penalty case against a party under the caller's bureau"
    ),
    ("GET", "/v1/penalties"): Access(_only(Role.SUPERVISOR), Scope.OWN, "the caller's bureau's cases"),
    ("GET", PENALTY_PATH): Access(_only(Role.SUPERVISOR), Scope.BUREAU),
    ("POST", f"{PENALTY_PATH}/steps"): Access(_only(Role.SUPERVISOR), Scope.BUREAU),
    ("GET", f"{PENALTY_PATH}/audit"): Access(_only(Role.SUPERVISOR), Scope.BUREAU),
    ("POST", "/v1/supervision/inspections/{inspection_id}/results"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "record the results and close the draw (then public)"
    ),
    ("GET", "/v1/supervision/alerts"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "unusual rates of the bureau's institutions"
    ),
    ("GET", "/v1/public/registry/institutions"): Access(frozenset(), Scope.PUBLIC, "公开: the registry"),
    ("GET", "/v1/public/registry/appraisers"): Access(frozenset(), Scope.PUBLIC, "公开: the registry"),
    ("GET", "/v1/public/inspections"): Access(frozenset(), Scope.PUBLIC, "公开: closed inspections' results"),
    ("GET", "/v1/public/penalties"): Access(frozenset(), Scope.PUBLIC, "公开: published penalty decisions"),
    ("GET", "/v1/public/grades"): Access(
        frozenset(),
        Scope.PUBLIC,
        "公开: integrity grades (published by the annual evaluation, else provisional)",
    ),
    ("GET", "/v1/supervision/appraisers/{appraiser_id}/trace"): Access(_only(Role.SUPERVISOR), Scope.BUREAU),
    ("GET", "/v1/supervision/integrity/appraisers/{appraiser_id}"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "integrity record (REG-9) of a year"
    ),
    ("GET", "/v1/supervision/integrity/institutions/{institution_id}"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "integrity record (REG-9) of a year"
    ),
    ("GET", "/v1/supervision/anchors/{day}"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "the daily audit anchor, checked"
    ),
    ("GET", "/v1/supervision/overview"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "counts over the commissions of the caller's bureau"
    ),
    ("GET", "/ui/login"): Access(
        frozenset(), Scope.PUBLIC, "workspace: sign in with an account (or a token)"
    ),
    ("POST", "/ui/login"): Access(
        frozenset(), Scope.PUBLIC, "workspace: checks the password (or token), sets the session cookie"
    ),
    ("POST", "/ui/logout"): Access(
        frozenset(), Scope.PUBLIC, "workspace: ends the session, clears the cookie"
    ),
    ("GET", "/ui/overview"): Access(COUNTED, Scope.OWN, "workspace: counts and lists in the caller's scope"),
    ("GET", "/ui/overview/counts"): Access(COUNTED, Scope.OWN, "workspace: the counts panel, refreshed"),
    ("GET", "/ui/commissions"): Access(
        DASHBOARD, Scope.OWN, "workspace: every commission in the caller's scope, searched and filtered"
    ),
    ("GET", "/ui/commissions/new"): Access(ENTRUSTERS, Scope.OWN, "workspace: the entrustment form"),
    ("POST", "/ui/commissions"): Access(
        ENTRUSTERS, Scope.OWN, "workspace: the entrustment form (as POST /v1/commissions)"
    ),
    ("GET", "/ui/commissions/{commission_id}"): Access(DASHBOARD, Scope.COMMISSION, "workspace"),
    ("POST", "/ui/commissions/{commission_id}/reentrustment"): Access(
        _only(Role.COURT), Scope.COMMISSION, "workspace: the form of POST …/reentrustment"
    ),
    ("POST", "/ui/commissions/{commission_id}/reappraisal"): Access(
        ENTRUSTERS, Scope.COMMISSION, "workspace: the form of POST …/reappraisal"
    ),
    ("POST", "/ui/commissions/{commission_id}/case-transfer"): Access(
        INVESTIGATORS,
        Scope.COMMISSION,
        "workspace: hand this commission's case over, as POST /v1/case-transfers",
    ),
    ("GET", "/ui/commissions/{commission_id}/report.pdf"): Access(
        DASHBOARD, Scope.COMMISSION, "workspace: the issued report's PDF"
    ),
    ("GET", "/ui/complaints/new"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: the registration form"
    ),
    ("POST", "/ui/complaints"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: the registration form (as POST /v1/complaints)"
    ),
    ("GET", "/ui/complaints/{complaint_id}"): Access(_only(Role.SUPERVISOR), Scope.BUREAU, "workspace"),
    ("POST", "/ui/complaints/{complaint_id}/decision"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "workspace: the forms of POST …/decision"
    ),
    ("GET", "/ui/accounts"): Access(
        DASHBOARD,
        Scope.ADMINISTERED,
        "workspace: the accounts the bureau or an organisation's administrator manages",
    ),
    ("POST", "/ui/accounts"): Access(DASHBOARD, Scope.ADMINISTERED, "workspace: create an account"),
    ("POST", "/ui/accounts/{username}/disable"): Access(
        DASHBOARD, Scope.ADMINISTERED, "workspace: disable an account"
    ),
    ("GET", "/ui/notifications"): Access(
        ALL_ROLES, Scope.OWN, "workspace: what was sent to the caller's organisation"
    ),
    ("GET", "/ui/password"): Access(ALL_ROLES, Scope.OWN, "workspace: change one's own password"),
    ("POST", "/ui/password"): Access(ALL_ROLES, Scope.OWN, "workspace: change one's own password"),
    ("POST", "/ui/second-factor"): Access(
        ALL_ROLES, Scope.OWN, "workspace: set up or remove one's own authenticator code (TOTP)"
    ),
    ("GET", "/ui/registry"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: the bureau's institutions and appraisers"
    ),
    ("POST", "/ui/registry/institutions"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: as POST /v1/registry/institutions"
    ),
    ("POST", "/ui/registry/appraisers"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: as POST /v1/registry/appraisers"
    ),
    ("POST", "/ui/registry/{kind}/{entity_id}/status"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "workspace: as POST /v1/registry/…/status"
    ),
    ("POST", "/ui/registry/{kind}/{entity_id}/licence"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "workspace: a licence renewed, as PATCH /v1/registry/…"
    ),
    ("GET", "/ui/inspections"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: the bureau's published draws"
    ),
    ("POST", "/ui/inspections"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: as POST /v1/supervision/inspections"
    ),
    ("GET", "/ui/calendar"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: a year's working-day calendar"
    ),
    ("POST", "/ui/calendar/{year}"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: as PUT /v1/calendar/{year}"
    ),
    ("GET", "/ui/appraisers/{appraiser_id}"): Access(_only(Role.SUPERVISOR), Scope.BUREAU, "workspace"),
    ("GET", "/ui/inbox"): Access(ALL_ROLES, Scope.OWN, "workspace: the caller's own inbox"),
    ("GET", "/ui/penalties"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: the bureau's penalty cases and the filing form"
    ),
    ("POST", "/ui/penalties"): Access(_only(Role.SUPERVISOR), Scope.OWN, "workspace: as POST /v1/penalties"),
    ("GET", "/ui/penalties/{case_id}"): Access(_only(Role.SUPERVISOR), Scope.BUREAU, "workspace"),
    ("POST", "/ui/penalties/{case_id}/steps"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "workspace: the forms of POST …/steps"
    ),
    ("POST", "/ui/inspections/{inspection_id}/results"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "workspace: as POST /v1/supervision/inspections/…/results"
    ),
    ("GET", "/ui/public"): Access(frozenset(), Scope.PUBLIC, "公开: the public pages, without signing in"),
    ("GET", "/ui/public/registry"): Access(frozenset(), Scope.PUBLIC, "公开: the registry"),
    ("GET", "/ui/public/inspections"): Access(frozenset(), Scope.PUBLIC, "公开: closed inspections' results"),
    ("GET", "/ui/public/penalties"): Access(frozenset(), Scope.PUBLIC, "公开: published penalty decisions"),
    ("GET", "/ui/public/grades"): Access(
        frozenset(),
        Scope.PUBLIC,
        "公开: integrity grades (published by the annual evaluation, else provisional)",
    ),
    # ---- registration applications (ADM-*), the expert pool, training (TRN-*), the annual
    # integrity evaluation (EVL-*) ----
    ("POST", "/v1/admissions"): Access(
        _only(Role.INSTITUTION, Role.SUPERVISOR),
        Scope.OWN,
        "file: an institution for itself and its appraisers; the bureau for a new institution or on behalf",
    ),
    ("GET", "/v1/admissions"): Access(
        APPLICATION_READERS, Scope.OWN, "the applications in the caller's scope"
    ),
    ("GET", ADMISSION_PATH): Access(APPLICATION_READERS, Scope.BUREAU),
    ("POST", f"{ADMISSION_PATH}/decision"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "the bureau's steps"
    ),
    ("POST", f"{ADMISSION_PATH}/correction"): Access(
        _only(Role.INSTITUTION), Scope.BUREAU, "the applicant's correction (补正)"
    ),
    ("POST", f"{ADMISSION_PATH}/withdrawal"): Access(_only(Role.INSTITUTION), Scope.BUREAU, "the applicant"),
    ("POST", f"{ADMISSION_PATH}/review"): Access(
        _only(Role.EXPERT), Scope.BUREAU, "a panel expert's signed review"
    ),
    ("POST", f"{ADMISSION_PATH}/recusal"): Access(
        _only(Role.EXPERT), Scope.BUREAU, "a panel expert, for themself"
    ),
    ("GET", f"{ADMISSION_PATH}/panel"): Access(
        APPLICATION_READERS, Scope.BUREAU, "the expert draws, re-run from their seeds"
    ),
    ("GET", f"{ADMISSION_PATH}/audit"): Access(APPLICATION_READERS, Scope.BUREAU),
    ("POST", "/v1/experts"): Access(_only(Role.SUPERVISOR), Scope.OWN, "the caller's bureau's expert pool"),
    ("GET", "/v1/experts"): Access(_only(Role.SUPERVISOR), Scope.OWN, "the caller's bureau's expert pool"),
    ("POST", "/v1/training/courses"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "a course of the caller's bureau"
    ),
    ("GET", "/v1/training/courses"): Access(UNDER_A_BUREAU, Scope.OWN, "the courses of the caller's bureau"),
    ("POST", "/v1/training/courses/{course_id}/attendance"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "entered or imported by the organiser"
    ),
    ("GET", "/v1/training/appraisers/{appraiser_id}"): Access(
        UNDER_A_BUREAU, Scope.BUREAU, "the bureau, the appraiser's institution, the appraiser"
    ),
    ("POST", "/v1/evaluations"): Access(_only(Role.SUPERVISOR), Scope.OWN, "the caller's bureau's year"),
    ("GET", "/v1/evaluations"): Access(UNDER_A_BUREAU, Scope.OWN, "the evaluations of the caller's bureau"),
    ("GET", EVALUATION_PATH): Access(UNDER_A_BUREAU, Scope.BUREAU_WIDE),
    ("GET", f"{EVALUATION_PATH}/grades"): Access(
        UNDER_A_BUREAU, Scope.BUREAU_WIDE, "proposed (公示) or published"
    ),
    ("GET", f"{EVALUATION_PATH}/audit"): Access(UNDER_A_BUREAU, Scope.BUREAU_WIDE),
    ("POST", f"{EVALUATION_PATH}/decision"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU_WIDE, "the bureau's steps"
    ),
    ("POST", f"{EVALUATION_PATH}/self-assessment"): Access(
        _only(Role.INSTITUTION), Scope.BUREAU_WIDE, "an institution, of itself"
    ),
    ("POST", f"{EVALUATION_PATH}/objections"): Access(
        _only(Role.INSTITUTION, Role.APPRAISER),
        Scope.BUREAU_WIDE,
        "to one's own (or one's appraisers') grade",
    ),
    ("GET", "/ui/admissions"): Access(APPLICATION_READERS, Scope.OWN, "workspace: applications and filing"),
    ("POST", "/ui/admissions"): Access(
        _only(Role.INSTITUTION, Role.SUPERVISOR), Scope.OWN, "workspace: as POST /v1/admissions"
    ),
    ("GET", "/ui/admissions/{admission_id}"): Access(APPLICATION_READERS, Scope.BUREAU, "workspace"),
    ("POST", "/ui/admissions/{admission_id}/decision"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "workspace: the forms of POST …/decision"
    ),
    ("POST", "/ui/admissions/{admission_id}/correction"): Access(
        _only(Role.INSTITUTION), Scope.BUREAU, "workspace: as POST …/correction"
    ),
    ("POST", "/ui/admissions/{admission_id}/withdrawal"): Access(
        _only(Role.INSTITUTION), Scope.BUREAU, "workspace: as POST …/withdrawal"
    ),
    ("POST", "/ui/admissions/{admission_id}/review"): Access(
        _only(Role.EXPERT), Scope.BUREAU, "workspace: as POST …/review, signed in the browser"
    ),
    ("POST", "/ui/admissions/{admission_id}/recusal"): Access(
        _only(Role.EXPERT), Scope.BUREAU, "workspace: as POST …/recusal"
    ),
    ("POST", "/ui/experts"): Access(_only(Role.SUPERVISOR), Scope.OWN, "workspace: as POST /v1/experts"),
    ("GET", "/ui/training"): Access(UNDER_A_BUREAU, Scope.OWN, "workspace: courses and hours"),
    ("POST", "/ui/training/courses"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: as POST /v1/training/courses"
    ),
    ("POST", "/ui/training/courses/{course_id}/attendance"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU, "workspace: as POST …/attendance (entered or imported)"
    ),
    ("GET", "/ui/evaluations"): Access(UNDER_A_BUREAU, Scope.OWN, "workspace: the bureau's evaluations"),
    ("POST", "/ui/evaluations"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: as POST /v1/evaluations"
    ),
    ("GET", "/ui/evaluations/{evaluation_id}"): Access(UNDER_A_BUREAU, Scope.BUREAU_WIDE, "workspace"),
    ("POST", "/ui/evaluations/{evaluation_id}/decision"): Access(
        _only(Role.SUPERVISOR), Scope.BUREAU_WIDE, "workspace: the forms of POST …/decision"
    ),
    ("POST", "/ui/evaluations/{evaluation_id}/self-assessment"): Access(
        _only(Role.INSTITUTION), Scope.BUREAU_WIDE, "workspace: as POST …/self-assessment"
    ),
    ("POST", "/ui/evaluations/{evaluation_id}/objections"): Access(
        _only(Role.INSTITUTION, Role.APPRAISER), Scope.BUREAU_WIDE, "workspace: as POST …/objections"
    ),
    ("POST", "/ui/notifications/contact"): Access(
        ALL_ROLES, Scope.OWN, "workspace: as PUT /v1/notifications/contact"
    ),
    ("GET", "/ui/party/sign-in/{token}"): Access(
        frozenset(), Scope.PUBLIC, "a party's one-time link: asks to sign in (a link preview uses nothing)"
    ),
    ("POST", "/ui/party/sign-in/{token}"): Access(
        frozenset(), Scope.PUBLIC, "a party's one-time link: signs in, the link used up"
    ),
    ("GET", "/ui/party"): Access(PARTY, Scope.OWN, "a party's page: its commission alone (or its draw)"),
    ("GET", "/ui/party/live"): Access(PARTY, Scope.OWN, "the party's page, refreshed (htmx)"),
    ("GET", "/ui/party/report.pdf"): Access(
        PARTY, Scope.OWN, "the report's PDF, once released to the parties"
    ),
    ("POST", "/ui/party/complaints"): Access(PARTY, Scope.OWN, "workspace: as POST …/complaints"),
    ("POST", "/ui/commissions/{commission_id}/parties"): Access(
        ENTRUSTERS, Scope.COMMISSION, "workspace: as POST …/parties"
    ),
    ("POST", "/ui/parties/{party_id}/link"): Access(
        ENTRUSTERS, Scope.OWN, "workspace: as POST /v1/parties/…/link"
    ),
    ("GET", "/ui/draws"): Access(ENTRUSTERS, Scope.OWN, "workspace: the organ's draws and the form"),
    ("POST", "/ui/draws"): Access(ENTRUSTERS, Scope.OWN, "workspace: as POST /v1/draws"),
    ("GET", "/ui/draws/{draw_id}"): Access(ENTRUSTERS, Scope.DRAW, "workspace: the draw, refreshed"),
    ("POST", "/ui/draws/{draw_id}/run"): Access(ENTRUSTERS, Scope.DRAW, "workspace: as POST …/run"),
    ("GET", "/ui/fee-standards"): Access(STAFF, Scope.OWN, "workspace: the charging standards"),
    ("POST", "/ui/fee-standards"): Access(
        _only(Role.SUPERVISOR), Scope.OWN, "workspace: as POST /v1/fee-standards"
    ),
}
# Every step's form in the workspace: whoever may take the step through the API.
POLICY |= {
    ("POST", f"/ui/commissions/{{commission_id}}/{path}"): Access(
        POLICY[("POST", f"{COMMISSION_PATH}/{path}")].roles,
        Scope.COMMISSION,
        f"workspace: the form of POST …/{path}",
    )
    for path in STEPS
}


def access_for(route: APIRoute, method: str) -> Access | None:
    return POLICY.get((method, route.path))


async def authorize(request: Request, principal: Annotated[Actor, Depends(get_principal)]) -> Actor:
    """The principal, if its role may call this route at all; 403 otherwise.
    Whether the object is in its scope is checked by the route (404)."""
    route = request.scope.get("route")
    access = access_for(route, request.method) if isinstance(route, APIRoute) else None
    if access is None:
        raise forbidden("no access rule covers this route")
    if principal.role not in access.roles:
        allowed = ", ".join(sorted(access.roles)) or "nobody"
        raise forbidden(f"this is for {allowed}; the token's role is {principal.role}")
    return principal


AuthorizedDep = Annotated[Actor, Depends(authorize)]


def policy_table() -> str:
    """The matrix as Markdown, for docs/security.md (a test keeps them equal)."""
    roles = list(Role)
    header = "| method | path | " + " | ".join(r.value for r in roles) + " | scope | note |"
    lines = [header, "|" + "---|" * (len(roles) + 4)]
    for (method, path), access in POLICY.items():
        cells = ["✓" if role in access.roles else "" for role in roles]
        if access.scope is Scope.PUBLIC:
            cells = ["(no token)"] * len(roles)
        lines.append(f"| {method} | `{path}` | " + " | ".join(cells) + f" | {access.scope} | {access.note} |")
    return "\n".join(lines)


def refresh_docs(path: str = "docs/security.md") -> None:
    """Rewrites the policy table in docs/security.md (python -m appraisal.api.policy)."""
    from pathlib import Path

    doc = Path(path)
    lines = doc.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("| method | path |"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    lines[start:end] = policy_table().split("\n")
    doc.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    refresh_docs()
