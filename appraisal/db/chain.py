"""Hash chains kept in one table per kind (registry changes per bureau, account changes per
organisation): where the next link goes, with writers serialised so a chain never forks."""

from typing import Any

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession


async def next_link(session: AsyncSession, table: Any, *, partition: str, value: str) -> tuple[int, str]:
    """The next sequence number of the chain of `table` where `partition` is `value`, and the
    hash it follows (empty for the first). A transaction-scoped advisory lock per chain makes
    concurrent writers wait for each other; the table's unique (partition, seq) is the backstop."""
    await (await session.connection()).execute(
        text("select pg_advisory_xact_lock(hashtext(:key))"), {"key": f"{table.__tablename__}:{value}"}
    )
    last = (
        await session.exec(
            select(table).where(getattr(table, partition) == value).order_by(col(table.seq).desc()).limit(1)
        )
    ).first()
    return (last.seq + 1, last.hash) if last else (1, "")
