"""The parties (当事人) of a commission as principals (PTY-1): the entrusting organ registers them
(a `commission_party` row each, an account of role party, a one-time sign-in link, the contact
its notifications go to) and the commission's workflow records them in its chain; a party signs in
by its link (or its account) and sees its commission alone, as `party_view` shows it — never the
trail's internals, interference records or notes between staff."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from appraisal.db.models import (
    AuditEventRow,
    Commission,
    CommissionParty,
    NotificationContact,
    SelectionDraw,
    Task,
    UserAccount,
)
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.errors import Forbidden, NotFound, RuleViolation
from appraisal.domain.parties import MAX_PARTIES, PartyRecord, PartyRegistration
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Actor, Role
from appraisal.domain.stages import TERMINAL_STAGES
from appraisal.schemas.commission import MaterialIn, PartyRequestPublic, PartySnapshotPublic
from appraisal.schemas.fees import FeePublic
from appraisal.schemas.parties import (
    ClockSeen,
    MaterialListed,
    NoticeSeen,
    PartiesCreate,
    PartyIn,
    PartyPublic,
    PartyRegistered,
    PartyView,
    ReportSeen,
)
from appraisal.services import accounts, complaint, notification, organs, registry, selection, steps
from appraisal.services import commission as commissions
from appraisal.workflows.commission import CommissionWorkflow

LINK_PATH = "/ui/party/sign-in/"
"""Where a party's one-time link opens (the token follows); POST /v1/party-sign-in takes it too."""
MATERIAL_EVENTS = {
    "commission.entrusted": "entrusted",
    "clock.resumed": "supplied",
    "supplementary.requested": "supplementary",
}
"""Where the trail lists a commission's materials, and how each came."""
NOTICES_SHOWN = 30


class LinkRefused(Exception):
    """The link does not sign anyone in (unknown, used, expired, or its party gone)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Registered:
    party: CommissionParty
    link: str
    expires_at: datetime


def _link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_link(party: CommissionParty, *, now: datetime, hours: int) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    party.link_hash = _link_hash(token)
    party.link_expires_at = now + timedelta(hours=hours)
    party.link_used_at = None
    return LINK_PATH + token, party.link_expires_at


def require_entruster(principal: Actor, row: Commission) -> None:
    """Only the organ that entrusted the commission registers and manages its parties."""
    entrusting_role = row.snapshot.get("entrusting_role", Role.COURT)
    if (principal.role, principal.organisation_id) != (entrusting_role, row.court_id):
        raise RuleViolation(
            "wrong_actor", "only the organ that entrusted this commission registers its parties", rule="PTY-1"
        )


async def create_parties(
    *,
    session: AsyncSession,
    principal: Actor,
    people: list[PartyIn],
    commission_id: str | None,
    draw_id: str | None,
    now: datetime,
    today: date,
    link_hours: int,
) -> list[Registered]:
    """The parties' rows, accounts, contacts and links, in the session (the caller commits)."""
    made: list[Registered] = []
    for person in people:
        party = CommissionParty(
            id=str(uuid.uuid4()),
            commission_id=commission_id,
            draw_id=draw_id,
            name=person.name,
            side=person.side,
            registered_by_role=principal.role,
            registered_by_organ_id=principal.organisation_id,
            registered_by=principal.subject,
            registered_at=now,
        )
        link, expires_at = _new_link(party, now=now, hours=link_hours)
        session.add(party)
        if person.phone or person.email:
            session.add(
                NotificationContact(
                    organisation_id=party.id,
                    phone=person.phone or "",
                    email=person.email or "",
                    updated_at=now,
                )
            )
        await session.flush()
        account = await accounts.create_account(
            session=session,
            by=principal,
            username=person.username or f"party-{party.id[:8]}",
            # Without a password of its own the party signs in by its links only.
            password=person.password or secrets.token_urlsafe(24) + "Z9",
            display_name=person.name,
            role=Role.PARTY,
            organisation_id=party.id,
            is_admin=False,
            now=now,
            today=today,
            commit=False,
        )
        party.account_id = account.id
        made.append(Registered(party, link, expires_at))
    return made


async def forget(
    *, session: AsyncSession, principal: Actor, parties: list[CommissionParty], now: datetime
) -> None:
    """Parties whose registration the workflow refused: their rows and contacts go, their
    accounts are disabled (the account chain keeps that they were created). Committed."""
    ids = [p.id for p in parties]
    await session.rollback()
    for account in (
        await session.exec(select(UserAccount).where(col(UserAccount.organisation_id).in_(ids)))
    ).all():
        account.disabled_at = now
        await accounts.record_change(
            session=session,
            by=principal,
            account=account,
            action="disabled",
            now=now,
            reason="not registered",
        )
    await session.exec(delete(NotificationContact).where(col(NotificationContact.organisation_id).in_(ids)))
    await session.exec(delete(CommissionParty).where(col(CommissionParty.id).in_(ids)))
    await session.commit()


async def record_in_workflow(
    *,
    session: AsyncSession,
    client: Client,
    principal: Actor,
    row: Commission,
    made: list[Registered],
    now: datetime,
    forget_refused: bool = True,
) -> dict[str, Any]:
    """The parties registered in the commission's chain (`party.registered`; the same parties
    again change nothing); refused there, they are forgotten here too (unless a draw's, kept for
    its next run). The snapshot after it."""
    registration = PartyRegistration(
        principal, [PartyRecord(r.party.id, r.party.name, r.party.side) for r in made]
    )
    try:
        answer = await steps.update_workflow(
            client=client,
            workflow_id=row.workflow_id,
            update=CommissionWorkflow.register_parties,
            message=registration,
        )
    except BaseException:
        if forget_refused:
            await forget(session=session, principal=principal, parties=[r.party for r in made], now=now)
        raise
    return dict(jsonable(answer))


async def register(
    *,
    session: AsyncSession,
    client: Client,
    principal: Actor,
    commission_id: str,
    body: PartiesCreate,
    now: datetime,
    today: date,
    link_hours: int,
) -> tuple[list[Registered], dict[str, Any]]:
    """The entrusting organ registers parties of its commission: each gets its account, contact
    and one-time link (returned once), and the workflow records them. The snapshot after it."""
    row = await commissions.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    require_entruster(principal, row)
    if row.stage in TERMINAL_STAGES:
        raise RuleViolation("not_in_stage", f"the commission is {row.stage}; no party is registered now")
    registered = (
        await session.exec(select(CommissionParty).where(CommissionParty.commission_id == row.id))
    ).all()
    named = {(p.name, p.side) for p in registered}
    for person in body.parties:
        if (person.name, person.side) in named:  # a repeated registration (a retry) adds nobody
            raise RuleViolation(
                "duplicate_party", f"{person.name} ({person.side}) is registered already", rule="PTY-1"
            )
        named.add((person.name, person.side))
    known = max(len(row.snapshot.get("parties", [])), len(registered))
    if known + len(body.parties) > MAX_PARTIES:
        raise RuleViolation(
            "too_many_parties", f"a commission registers at most {MAX_PARTIES} parties", rule="PTY-1"
        )
    made = await create_parties(
        session=session,
        principal=principal,
        people=body.parties,
        commission_id=row.id,
        draw_id=None,
        now=now,
        today=today,
        link_hours=link_hours,
    )
    await session.commit()
    snapshot = await record_in_workflow(
        session=session, client=client, principal=principal, row=row, made=made, now=now
    )
    return made, snapshot


async def _contacts(session: AsyncSession, ids: list[str]) -> dict[str, NotificationContact]:
    rows = await session.exec(
        select(NotificationContact).where(col(NotificationContact.organisation_id).in_(ids))
    )
    return {c.organisation_id: c for c in rows.all()}


async def publics(*, session: AsyncSession, parties: list[CommissionParty]) -> list[PartyPublic]:
    """The parties as their organ sees them (contacts and their account's user name)."""
    ids = [p.id for p in parties]
    contacts = await _contacts(session, ids)
    users = {
        a.organisation_id: a.username
        for a in (
            await session.exec(select(UserAccount).where(col(UserAccount.organisation_id).in_(ids)))
        ).all()
    }
    return [
        PartyPublic(
            id=p.id,
            name=p.name,
            side=p.side,
            commission_id=p.commission_id,
            draw_id=p.draw_id,
            registered_at=p.registered_at,
            username=users.get(p.id),
            phone=contacts[p.id].phone if p.id in contacts else "",
            email=contacts[p.id].email if p.id in contacts else "",
            link_expires_at=p.link_expires_at if p.link_hash and not p.link_used_at else None,
            link_used_at=p.link_used_at,
        )
        for p in parties
    ]


def registered_publics(made: list[Registered], published: list[PartyPublic]) -> list[PartyRegistered]:
    return [
        PartyRegistered(party=public, sign_in_link=r.link, link_expires_at=r.expires_at)
        for r, public in zip(made, published, strict=True)
    ]


async def of_commission(
    *, session: AsyncSession, principal: Actor, commission_id: str
) -> list[CommissionParty]:
    """The parties of a commission, for the organ that entrusted it."""
    row = await commissions.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    require_entruster(principal, row)
    query = select(CommissionParty).where(CommissionParty.commission_id == row.id)
    return list(
        (
            await session.exec(query.order_by(col(CommissionParty.registered_at), col(CommissionParty.id)))
        ).all()
    )


async def new_link(
    *, session: AsyncSession, principal: Actor, party_id: str, now: datetime, link_hours: int
) -> Registered:
    """A fresh one-time link for a party (the one before stops working), by the organ that
    registered it. Committed."""
    party = await session.get(CommissionParty, party_id)
    if party is None or (party.registered_by_role, party.registered_by_organ_id) != (
        principal.role,
        principal.organisation_id,
    ):
        raise NotFound("party")
    link, expires_at = _new_link(party, now=now, hours=link_hours)
    session.add(party)
    await session.commit()
    return Registered(party, link, expires_at)


async def consume_link(
    *, session: AsyncSession, token: str, now: datetime, today: date
) -> tuple[CommissionParty, UserAccount]:
    """The party a one-time link signs in, the link used up (the caller commits)."""
    party = (
        await session.exec(
            select(CommissionParty).where(CommissionParty.link_hash == _link_hash(token)).with_for_update()
        )
    ).first()
    if party is None:
        raise LinkRefused("链接无效 This sign-in link is not valid")
    if party.link_used_at is not None:
        raise LinkRefused("链接已使用 This link was used already: ask the entrusting organ for a new one")
    if party.link_expires_at is None or party.link_expires_at <= now:
        raise LinkRefused("链接已过期 This link has expired: ask the entrusting organ for a new one")
    account = await session.get(UserAccount, party.account_id) if party.account_id else None
    if account is None or account.disabled_at is not None:
        raise LinkRefused("账户已停用 This party's account is disabled")
    party.link_used_at = now
    session.add(party)
    await accounts.record_change(
        session=session,
        by=accounts.account_actor(account),
        account=account,
        action="signed_in_by_link",
        now=now,
    )
    return party, account


async def sign_in_by_link(
    *, session: AsyncSession, token: str, now: datetime, today: date
) -> accounts.SignedIn:
    """A browser session for the party the link names (the link used up). Committed."""
    _, account = await consume_link(session=session, token=token, now=now, today=today)
    signed_in = accounts.open_session(session=session, account=account, now=now)
    await session.commit()
    return signed_in


async def party_of(*, session: AsyncSession, principal: Actor) -> CommissionParty:
    if principal.role != Role.PARTY:
        raise Forbidden("this is a party's page")
    party = await session.get(CommissionParty, principal.organisation_id)
    if party is None:
        raise NotFound("party")
    return party


async def _materials(session: AsyncSession, commission_id: str) -> list[MaterialListed]:
    rows = await session.exec(
        select(AuditEventRow)
        .where(
            AuditEventRow.commission_id == commission_id, col(AuditEventRow.kind).in_(list(MATERIAL_EVENTS))
        )
        .order_by(col(AuditEventRow.seq))
    )
    listed: list[MaterialListed] = []
    for event in rows.all():
        on = event.data.get("received_on") or event.occurred_at.date().isoformat()
        for material in event.data.get("materials", []) or []:
            listed.append(
                MaterialListed(
                    name=str(material.get("name", "")),
                    sha256=str(material.get("sha256", "")),
                    on=date.fromisoformat(str(on)),
                    how=MATERIAL_EVENTS[event.kind],
                )
            )
    return listed


def _clocks(snapshot: dict[str, Any], *, calendar: WorkingCalendar, today: date) -> list[ClockSeen]:
    seen: list[ClockSeen] = []
    for clock in snapshot.get("clocks", []):
        left = None
        if clock.get("paused"):
            left = clock["budget_days"] + clock.get("extension_days", 0) - clock.get("used_days", 0)
        elif not clock["stopped"]:
            left = calendar.working_days_between(today, date.fromisoformat(clock["due_on"]))
        seen.append(ClockSeen.model_validate({**clock, "working_days_left": left}))
    return seen


async def _report(session: AsyncSession, snapshot: dict[str, Any]) -> ReportSeen | None:
    """The report as the organ released it: only a version it released, and only the current one."""
    report = snapshot.get("report")
    released = snapshot.get("report_released", 0)
    if not report or not released or report.get("version") != released:
        return None
    signers = [s["appraiser_id"] for s in report.get("signatures", []) if s.get("kind") == "sign"]
    named = await registry.names(session=session, ids=signers)
    return ReportSeen(
        version=report["version"],
        opinion=report["opinion"],
        content_hash=report["content_hash"],
        issued_at=report.get("issued_at"),
        signed_by=[named.get(a, a) for a in signers],
        dissents=sum(1 for s in report.get("signatures", []) if s.get("kind") == "dissent"),
    )


def released(row: Commission) -> bool:
    """Whether the report in force was released to the parties (its PDF then is theirs too)."""
    report = row.snapshot.get("report") or {}
    return bool(report) and row.snapshot.get("report_released", 0) == report.get("version")


async def party_view(
    *, session: AsyncSession, principal: Actor, commission_id: str, calendar: WorkingCalendar, today: date
) -> PartyView:
    """What a party sees of its commission (404 for any other)."""
    party = await party_of(session=session, principal=principal)
    row = await commissions.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    snap = row.snapshot
    me = next((p for p in snap.get("parties", []) if p["party_id"] == party.id), None)
    if me is None:  # registered in the database, not (yet) in the commission's chain
        raise NotFound()
    chosen = await selection.selection_if_recorded(session=session, commission=row)
    candidate_ids = chosen.candidates if chosen else []
    institutions = {i.id: i.name for i in await registry.list_institutions(session=session, category=None)}
    fee = snap.get("fee")
    tasks = (
        await session.exec(
            select(Task.kind).where(Task.assignee_role == Role.PARTY, Task.assignee_id == party.id)
        )
    ).all()
    named = await registry.names(session=session, ids=row.appraiser_ids)
    return PartyView(
        party=PartySnapshotPublic.model_validate(me),
        commission_id=row.id,
        case_number=row.case_number,
        category=row.category,
        matters=snap.get("matters", []),
        stage=row.stage,
        entrusting_organ=await organs.organ_name(session=session, organ_id=row.court_id),
        entrusting_role=snap.get("entrusting_role", Role.COURT),
        received_on=snap["received_on"],
        agreement_effective_on=snap.get("agreement_effective_on"),
        institution_id=row.institution_id,
        institution=institutions.get(row.institution_id, row.institution_id),
        appraisers=[named.get(a, a) for a in row.appraiser_ids],
        selection_mode=snap.get("selection_mode", ""),
        selection=chosen,
        candidate_names={i: institutions.get(i, i) for i in candidate_ids},
        clocks=_clocks(snap, calendar=calendar, today=today),
        materials=await _materials(session, row.id),
        report=await _report(session, snap),
        parties=[PartySnapshotPublic.model_validate(p) for p in snap.get("parties", [])],
        requests=[
            PartyRequestPublic.model_validate(
                {**r, "materials": [MaterialIn.model_validate(m) for m in r.get("materials", [])]}
            )
            for r in snap.get("party_requests", [])
            if r["party_id"] == party.id
        ],
        objections=[
            {
                "id": o["id"],
                "status": o["status"],
                "reply_by": o["reply_by"],
                "forwarded_on": o["forwarded_on"],
            }
            for o in snap.get("objections", [])
            if o.get("party_id") == party.id
        ],
        fee=FeePublic.model_validate(fee) if fee else None,
        fee_is_mine=bool(fee and fee.get("payer_kind") == "party" and fee.get("payer_party_id") == party.id),
        complaints=await complaint.filed_by_party(session=session, party_id=party.id),
        tasks=list(tasks),
        notifications=[
            NoticeSeen.model_validate(n, from_attributes=True)
            for n in await notification.sent_to(session=session, principal=principal, limit=NOTICES_SHOWN)
        ],
        last_event_seq=row.last_event_seq,
    )


async def draw_of_party(*, session: AsyncSession, principal: Actor) -> SelectionDraw | None:
    """The draw a party was registered for, while it waits to be run (None: none, or it ran)."""
    party = await party_of(session=session, principal=principal)
    if party.commission_id or not party.draw_id:
        return None
    return await session.get(SelectionDraw, party.draw_id)
