"""Dependencies every route declares with these aliases."""

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from appraisal.api.auth import InvalidToken, read_token
from appraisal.api.errors import DATABASE_DOWN, ApiError, forbidden
from appraisal.core.seal import SealAuthorityMissing, SealLoader, SealSettings
from appraisal.core.settings import Settings
from appraisal.db.calendar import calendar_in_force
from appraisal.db.models import RevokedToken
from appraisal.domain.calendar import WorkingCalendar, local_today
from appraisal.domain.errors import Unavailable
from appraisal.domain.roles import Actor, Role
from appraisal.services import consistency, registry
from appraisal.services import exit as exits

logger = logging.getLogger(__name__)
SESSION_CLOSE_FAILURES: tuple[type[BaseException], ...] = (*DATABASE_DOWN, DBAPIError)

bearer = HTTPBearer(
    auto_error=False,
    description="A token printed by `appraisal dev` or `appraisal token`",
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    session: AsyncSession = request.app.state.sessions()
    try:
        yield session
    finally:
        try:
            await session.close()
        except SESSION_CLOSE_FAILURES as err:
            # The connection died with the database after the answer was sent:
            # there is nothing left to roll back, and no response to change.
            logger.warning("database session closed on a dead connection: %s", err)
            await session.invalidate()


def get_seal(request: Request) -> SealSettings:
    """The bureau's seal and timestamp authority (SEAL_DIR), opened on first use: 503 while
    production has none yet (`appraisal seal init`)."""
    loader: SealLoader = request.app.state.seal
    try:
        return loader()
    except SealAuthorityMissing as err:
        raise Unavailable("seal authority", str(err)) from err


def get_seal_if_any(request: Request) -> SealSettings | None:
    """The seal authority, or None while production has none yet (a registry write then
    goes on; the institution gets its seal certificate at its first sealing)."""
    loader: SealLoader = request.app.state.seal
    try:
        return loader()
    except SealAuthorityMissing:
        return None


def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


async def get_calendar(session: Annotated[AsyncSession, Depends(get_session)]) -> WorkingCalendar:
    return await calendar_in_force(session)


def get_now() -> datetime:
    return datetime.now(UTC)


def get_today(now: Annotated[datetime, Depends(get_now)]) -> date:
    """Today in China (Asia/Shanghai), whatever the server's own zone."""
    return local_today(now)


async def get_principal(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[AsyncSession, Depends(get_session)],
    today: Annotated[date, Depends(get_today)],
) -> Actor:
    if credentials is None:
        raise ApiError(401, "unauthorized", "a bearer token is required")
    try:
        claims = read_token(settings, credentials.credentials)
    except InvalidToken as err:
        raise ApiError(401, "unauthorized", f"invalid token: {err}") from err
    if await session.get(RevokedToken, claims.token_id) is not None:
        raise ApiError(401, "unauthorized", "this token has been revoked")
    refusal = await registry.organisation_refusal(session=session, principal=claims.actor, today=today)
    if refusal:
        raise ApiError(401, "unauthorized", f"the token's organisation may not act: {refusal}")
    return claims.actor


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
CalendarDep = Annotated[WorkingCalendar, Depends(get_calendar)]
PrincipalDep = Annotated[Actor, Depends(get_principal)]
SealDep = Annotated[SealSettings, Depends(get_seal)]
SealIfAnyDep = Annotated[SealSettings | None, Depends(get_seal_if_any)]


def get_fan_out(client: TemporalDep, settings: SettingsDep) -> exits.Starter:
    """Where a registry write starts the fan-out of its exit notice (services/exit.py)."""
    return exits.Starter(client=client, task_queue=settings.task_queue)


FanOutDep = Annotated[exits.Starter, Depends(get_fan_out)]


MIN_SEQ_DESCRIPTION = (
    "read your writes: `<seq>` (on a commission's own reads) or `<commission id>:<seq>`, comma-separated, "
    "as a step's `X-Seq` answered; the read waits until the read model has reached it (503 after "
    "READ_YOUR_WRITES_SECONDS). Without it the read answers at once from the read model as it is."
)


async def read_your_writes(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    session: Annotated[AsyncSession, Depends(get_session)],
    principal: Annotated[Actor, Depends(get_principal)],
    min_seq: Annotated[
        str | None, Header(alias=consistency.MIN_SEQ_HEADER, max_length=1000, description=MIN_SEQ_DESCRIPTION)
    ] = None,
) -> None:
    if min_seq:
        wanted = consistency.parse_min_seq(min_seq, commission_id=request.path_params.get("commission_id"))
        await consistency.await_read_model(
            session=session,
            principal=principal,
            wanted=wanted,
            within_seconds=settings.read_your_writes_seconds,
        )


NowDep = Annotated[datetime, Depends(get_now)]
READ_YOUR_WRITES = Depends(read_your_writes)
"""On every router but health's: each request may name the sequence its reads must see."""
TodayDep = Annotated[date, Depends(get_today)]


def require_role(principal: Actor, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = ", ".join(roles)
        raise forbidden(f"this step is for {allowed}; the token's role is {principal.role}")
