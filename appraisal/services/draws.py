"""A random draw (随机摇号) run with the parties present (SEL-3, PTY-1): the entrusting organ
schedules the entrustment with its parties, who sign in by their links and watch the draw's page;
running it entrusts the commission (the draw among every eligible institution, its seed and
candidates recorded in the commission's chain, as for any random entrustment) and registers the
parties on it."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from appraisal.db.models import Commission, CommissionParty, Institution, SelectionDraw
from appraisal.db.registry import eligible
from appraisal.domain.commission import CommissionSnapshot
from appraisal.domain.errors import InvalidInput, NotFound, RuleViolation
from appraisal.domain.organs import check_case_number
from appraisal.domain.roles import ENTRUSTING_ROLES, Actor, Role
from appraisal.schemas.commission import EntrustmentCreate
from appraisal.schemas.parties import CandidatePublic, DrawCreate, DrawPublic
from appraisal.services import commission as commissions
from appraisal.services import organs, parties, selection, steps


async def create(
    *, session: AsyncSession, principal: Actor, body: DrawCreate, now: datetime, today: date, link_hours: int
) -> tuple[SelectionDraw, list[parties.Registered], bool]:
    """The draw scheduled, with its parties (each with a one-time link, returned once), and
    whether it is new: the same reference again is the same draw (no new parties). Committed."""
    entrustment = body.entrustment
    if entrustment.selection.mode != "random":
        raise InvalidInput("entrustment.selection.mode", "a draw with the parties present is a random draw")
    existing = (
        await session.exec(
            select(SelectionDraw).where(
                SelectionDraw.court_id == principal.organisation_id,
                SelectionDraw.reference == entrustment.court_reference,
            )
        )
    ).first()
    if existing is not None:
        return existing, [], False
    organ = await organs.organ_of_principal(session=session, principal=principal)
    check_case_number(entrustment.case_number, kind=organ.kind)
    draw = SelectionDraw(
        id=str(uuid.uuid4()),
        court_id=principal.organisation_id,
        court_role=principal.role,
        reference=entrustment.court_reference,
        body=entrustment.model_dump(mode="json", exclude_none=True),
        scheduled_at=body.scheduled_at,
        place=body.place,
        created_by=principal.subject,
        created_at=now,
    )
    session.add(draw)
    await session.flush()
    made = await parties.create_parties(
        session=session,
        principal=principal,
        people=body.parties,
        commission_id=None,
        draw_id=draw.id,
        now=now,
        today=today,
        link_hours=link_hours,
    )
    await session.commit()
    return draw, made, True


async def load(*, session: AsyncSession, principal: Actor, draw_id: str) -> SelectionDraw:
    """A draw of the caller's organ, or the draw a party was registered for; 404 otherwise."""
    draw = await session.get(SelectionDraw, draw_id)
    if draw is None:
        raise NotFound("draw")
    if principal.role in ENTRUSTING_ROLES and (principal.role, principal.organisation_id) == (
        draw.court_role,
        draw.court_id,
    ):
        return draw
    if principal.role == Role.PARTY:
        party = await session.get(CommissionParty, principal.organisation_id)
        if party is not None and party.draw_id == draw.id:
            return draw
    raise NotFound("draw")


async def of_organ(*, session: AsyncSession, principal: Actor, limit: int = 50) -> list[SelectionDraw]:
    query = (
        select(SelectionDraw)
        .where(
            SelectionDraw.court_id == principal.organisation_id, SelectionDraw.court_role == principal.role
        )
        .order_by(col(SelectionDraw.created_at).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def run(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    draw_id: str,
    today: date,
    now: datetime,
    paper_history_days: int,
) -> CommissionSnapshot | Commission:
    """The organ runs the draw: the commission is entrusted to the institution drawn (its seed
    and candidates in the chain) and the draw's parties are registered on it. Run again, it finds
    the same commission (and registers what a run cut short did not)."""
    draw = await load(session=session, principal=principal, draw_id=draw_id)
    if principal.role == Role.PARTY:
        raise RuleViolation(
            "wrong_actor", "the entrusting organ runs the draw; the parties watch it", rule="SEL-3"
        )
    result, _ = await commissions.entrust(
        session=session,
        client=client,
        task_queue=task_queue,
        principal=principal,
        body=EntrustmentCreate.model_validate(draw.body),
        today=today,
        paper_history_days=paper_history_days,
    )
    commission_id = result.id
    if draw.status != "drawn":
        draw.status, draw.commission_id, draw.drawn_at, draw.drawn_by = (
            "drawn",
            commission_id,
            now,
            principal.subject,
        )
        session.add(draw)
    waiting = (await session.exec(select(CommissionParty).where(CommissionParty.draw_id == draw.id))).all()
    for party in waiting:
        party.commission_id = commission_id
        session.add(party)
    await session.commit()
    row = await session.get(Commission, commission_id)
    if waiting and row is not None and steps.workflow_open(row):
        # Registering the same parties again changes nothing: a run cut short completes here.
        made = [parties.Registered(p, "", p.link_expires_at or now) for p in waiting]
        await parties.record_in_workflow(
            session=session,
            client=client,
            principal=principal,
            row=row,
            made=made,
            now=now,
            forget_refused=False,
        )
    return result


async def public(
    *, session: AsyncSession, draw: SelectionDraw, today: date, with_parties: bool
) -> DrawPublic:
    """The draw as its page shows it: before it runs, the institutions it would be among now;
    after, the draw re-run from its recorded seed."""
    body: dict[str, Any] = draw.body
    drawn = await session.get(Commission, draw.commission_id) if draw.commission_id else None
    names = {i.id: i.name for i in (await session.exec(select(Institution))).all()}
    candidates: list[CandidatePublic] = []
    if drawn is None:
        excluded = body.get("selection", {}).get("excluded_institution_ids", [])
        eligible_now = await session.exec(
            select(Institution).where(
                eligible(Institution, today),
                col(Institution.categories).contains([body["category"]]),
                col(Institution.id).not_in(excluded),
                col(Institution.founded_by_organ_id).is_(None),
            )
        )
        candidates = [
            CandidatePublic(id=i.id, name=i.name) for i in sorted(eligible_now.all(), key=lambda i: i.id)
        ]
    chosen = await selection.selection_if_recorded(session=session, commission=drawn) if drawn else None
    listed = (
        await parties.publics(
            session=session,
            parties=list(
                (await session.exec(select(CommissionParty).where(CommissionParty.draw_id == draw.id))).all()
            ),
        )
        if with_parties
        else []
    )
    return DrawPublic(
        id=draw.id,
        reference=draw.reference,
        case_number=body["case_number"],
        category=body["category"],
        matters=body.get("matters", []),
        status=draw.status,
        scheduled_at=draw.scheduled_at,
        place=draw.place,
        candidates_now=candidates,
        drawn_at=draw.drawn_at,
        commission_id=draw.commission_id,
        selection=chosen,
        institution=names.get(drawn.institution_id, drawn.institution_id) if drawn else "",
        parties=listed,
    )
