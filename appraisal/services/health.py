"""Whether the database answers, for the readiness probe."""

import asyncio

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

PROBE_SECONDS = 3


async def database_answers(*, session: AsyncSession) -> None:
    """Returns when the database answers a trivial query within PROBE_SECONDS; raises otherwise."""
    async with asyncio.timeout(PROBE_SECONDS):
        await session.exec(text("select 1"))  # type: ignore[call-overload]
