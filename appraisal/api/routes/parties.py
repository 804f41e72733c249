"""The parties (当事人) of a commission (PTY-1): registered by the entrusting organ, signed in by
their one-time link, what a party sees of its commission, what it asks the organ to pass on, its
own complaint to the bureau; the random draw the parties watch (SEL-3)."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from appraisal.api.auth import issue_token
from appraisal.api.deps import (
    READ_YOUR_WRITES,
    CalendarDep,
    NowDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    TodayDep,
)
from appraisal.api.errors import ERRORS, STEP_RESPONSES, ApiError
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.api.steps import StepsDep, answered_at
from appraisal.schemas.commission import CommissionPublic
from appraisal.schemas.complaint import ComplaintPublic
from appraisal.schemas.parties import (
    DrawCreate,
    DrawCreated,
    DrawPublic,
    PartiesCreate,
    PartiesRegistered,
    PartyComplaintCreate,
    PartyPublic,
    PartyRegistered,
    PartyRequestCreate,
    PartyRequestDeclineCreate,
    PartySelf,
    PartySignIn,
    PartyToken,
    PartyView,
    ReportReleaseCreate,
)
from appraisal.services import accounts, complaint, draws, parties
from appraisal.services import commission as commissions
from appraisal.services import steps as steps_service

router = APIRouter(tags=["parties"], route_class=Utf8BodyRoute)
reads = APIRouter(tags=["parties"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute)
COMMISSION = "/v1/commissions/{commission_id}"


@reads.post(
    f"{COMMISSION}/parties", response_model=PartiesRegistered, status_code=201, responses=STEP_RESPONSES
)
async def register_parties(
    commission_id: str,
    body: PartiesCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: NowDep,
    today: TodayDep,
    response: Response,
) -> PartiesRegistered:
    """The entrusting organ registers parties of its commission (name, side, a mobile number or
    an e-mail address for their notifications; optionally an account). Each gets a one-time
    sign-in link, answered here once: hand it to the party. The commission's chain records them
    (`party.registered`)."""
    made, snapshot = await parties.register(
        session=session,
        client=client,
        principal=principal,
        commission_id=commission_id,
        body=body,
        now=now,
        today=today,
        link_hours=settings.party_link_hours,
    )
    answered = commissions.to_public(snapshot, calendar=calendar, today=today)
    answered_at(response, answered)
    published = await parties.publics(session=session, parties=[r.party for r in made])
    return PartiesRegistered(
        id=answered.id,
        last_event_seq=answered.last_event_seq,
        parties=parties.registered_publics(made, published),
    )


@reads.get(f"{COMMISSION}/parties", response_model=list[PartyPublic], responses=ERRORS)
async def list_parties(
    commission_id: str, principal: AuthorizedDep, session: SessionDep
) -> list[PartyPublic]:
    """The commission's parties, for the organ that entrusted it (contacts and accounts included)."""
    found = await parties.of_commission(session=session, principal=principal, commission_id=commission_id)
    return await parties.publics(session=session, parties=found)


@reads.post("/v1/parties/{party_id}/link", response_model=PartyRegistered, responses=ERRORS)
async def new_link(
    party_id: str, principal: AuthorizedDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> PartyRegistered:
    """A fresh one-time sign-in link for a party the caller's organ registered (the link before
    stops working)."""
    made = await parties.new_link(
        session=session, principal=principal, party_id=party_id, now=now, link_hours=settings.party_link_hours
    )
    return parties.registered_publics([made], await parties.publics(session=session, parties=[made.party]))[0]


@router.post("/v1/party-sign-in", response_model=PartyToken, responses=ERRORS)
async def party_sign_in(
    body: PartySignIn, session: SessionDep, settings: SettingsDep, now: NowDep, today: TodayDep
) -> PartyToken:
    """A party's one-time link (the token after /ui/party/sign-in/) exchanged for a bearer token of
    role party, valid PARTY_SESSION_HOURS: the link is used up."""
    try:
        party, account = await parties.consume_link(session=session, token=body.token, now=now, today=today)
    except parties.LinkRefused as err:
        raise ApiError(401, "unauthorized", err.message) from err
    await session.commit()
    ttl = timedelta(hours=settings.party_session_hours)
    actor = accounts.account_actor(account)
    return PartyToken(
        access_token=issue_token(settings, actor, ttl=ttl),
        expires_at=now + ttl,
        party_id=party.id,
        commission_id=party.commission_id,
        draw_id=party.draw_id,
    )


@reads.get("/v1/party", response_model=PartySelf, responses=ERRORS)
async def party_self(principal: AuthorizedDep, session: SessionDep, today: TodayDep) -> PartySelf:
    """Who the calling party is: its commission, or the draw it waits for."""
    party = await parties.party_of(session=session, principal=principal)
    draw = await parties.draw_of_party(session=session, principal=principal)
    return PartySelf(
        party_id=party.id,
        name=party.name,
        side=party.side,
        commission_id=party.commission_id,
        draw=await draws.public(session=session, draw=draw, today=today, with_parties=False)
        if draw
        else None,
    )


@reads.get(f"{COMMISSION}/party-view", response_model=PartyView, responses=ERRORS)
async def party_view(
    commission_id: str, principal: AuthorizedDep, session: SessionDep, calendar: CalendarDep, today: TodayDep
) -> PartyView:
    """What the calling party sees of its commission: the stage, the clocks, the institution and
    how it was chosen (the draw re-run from its seed), the materials, the report once the organ
    released it, the fee, its own requests and complaints. Any other commission: 404."""
    return await parties.party_view(
        session=session, principal=principal, commission_id=commission_id, calendar=calendar, today=today
    )


@reads.post(f"{COMMISSION}/party-requests", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def submit_party_request(
    commission_id: str, body: PartyRequestCreate, steps: StepsDep
) -> CommissionPublic:
    """A party offers materials through the entrusting organ (which supplies them when the
    institution asks: POST …/materials with `party_request_id`), or files an objection to the
    issued opinion for the court to forward (POST …/objections with `party_request_id`)."""
    return await steps.take(commission_id, steps_service.PARTY_REQUEST, body)


@reads.post(
    f"{COMMISSION}/party-requests/{{request_id}}/decline",
    response_model=CommissionPublic,
    responses=STEP_RESPONSES,
)
async def decline_party_request(
    commission_id: str, request_id: str, body: PartyRequestDeclineCreate, steps: StepsDep
) -> CommissionPublic:
    """The entrusting organ declines a party's request, with its reasons (the party is told)."""
    return await steps.take(commission_id, steps_service.PARTY_REQUEST_DECLINE, body, item_id=request_id)


@reads.post(f"{COMMISSION}/report-release", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def release_report(commission_id: str, body: ReportReleaseCreate, steps: StepsDep) -> CommissionPublic:
    """The entrusting organ releases the issued report (its current version) to the parties."""
    return await steps.take(commission_id, steps_service.REPORT_RELEASE, body)


@reads.post(f"{COMMISSION}/complaints", response_model=ComplaintPublic, responses=STEP_RESPONSES)
async def party_complaint(
    commission_id: str,
    body: PartyComplaintCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
    response: Response,
) -> ComplaintPublic:
    """A party's own complaint about its commission, filed with the bureau where the institution is
    (CMP-2): the bureau decides its acceptance as for any complaint (CMP-5); the party hears of
    its outcome. The same `reference` again returns the same complaint (200)."""
    row = await commissions.load_in_scope(session=session, principal=principal, commission_id=commission_id)
    party = await parties.party_of(session=session, principal=principal)
    result, created = await complaint.register_by_party(
        session=session,
        client=client,
        task_queue=settings.task_queue,
        principal=principal,
        commission=row,
        party_name=party.name,
        party_side=party.side,
        body=body,
        today=today,
        calendar=calendar,
    )
    response.status_code = 201 if created else 200
    return complaint.public_of(result, calendar=calendar, today=today)


@reads.post("/v1/draws", response_model=DrawCreated, status_code=201, responses=STEP_RESPONSES)
async def create_draw(
    body: DrawCreate,
    principal: AuthorizedDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    today: TodayDep,
    response: Response,
) -> DrawCreated:
    """Schedule a random draw (随机摇号) with the parties present: the entrustment (its selection a
    random draw) waits; each party gets its one-time link (answered once) and watches the draw's
    page; the same reference again is the same draw (200, no new links)."""
    draw, made, created = await draws.create(
        session=session,
        principal=principal,
        body=body,
        now=now,
        today=today,
        link_hours=settings.party_link_hours,
    )
    response.status_code = 201 if created else 200
    return DrawCreated(
        draw=await draws.public(session=session, draw=draw, today=today, with_parties=True),
        parties=parties.registered_publics(
            made, await parties.publics(session=session, parties=[r.party for r in made])
        ),
    )


@reads.get("/v1/draws", response_model=list[DrawPublic], responses=ERRORS)
async def list_draws(
    principal: AuthorizedDep,
    session: SessionDep,
    today: TodayDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DrawPublic]:
    """The caller organ's draws, newest first."""
    return [
        await draws.public(session=session, draw=d, today=today, with_parties=False)
        for d in await draws.of_organ(session=session, principal=principal, limit=limit)
    ]


@reads.get("/v1/draws/{draw_id}", response_model=DrawPublic, responses=ERRORS)
async def get_draw(
    draw_id: str, principal: AuthorizedDep, session: SessionDep, today: TodayDep
) -> DrawPublic:
    """A draw of the caller's organ: before it runs, the institutions it would be among now;
    after, the draw re-run from its seed."""
    draw = await draws.load(session=session, principal=principal, draw_id=draw_id)
    return await draws.public(session=session, draw=draw, today=today, with_parties=True)


@reads.post("/v1/draws/{draw_id}/run", response_model=CommissionPublic, responses=STEP_RESPONSES)
async def run_draw(
    draw_id: str,
    principal: AuthorizedDep,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    today: TodayDep,
    now: NowDep,
    response: Response,
) -> CommissionPublic:
    """Run the draw now, the parties watching: the commission is entrusted to the institution drawn
    (seed and candidates in its chain) and the parties are registered on it. Again: the same."""
    result = await draws.run(
        session=session,
        client=client,
        task_queue=settings.task_queue,
        principal=principal,
        draw_id=draw_id,
        today=today,
        now=now,
        paper_history_days=settings.paper_history_days,
    )
    public = commissions.public_of(result, calendar=calendar, today=today)
    answered_at(response, public)
    return public
