"""The Alembic migrations build exactly the schema the models declare, and
downgrade to nothing and back again."""

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import appraisal.db.models  # noqa: F401  (registers every table on the metadata)
from appraisal.db.migrate import alembic_config, upgrade_async
from appraisal.embedded import EmbeddedPostgres

DATABASE = "migration_check"


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_matches_the_models_and_downgrade_round_trips(postgres: EmbeddedPostgres) -> None:
    postgres.ensure_database(DATABASE)
    url = postgres.url(DATABASE)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:  # fresh, even if an earlier run left tables behind
            await conn.execute(text("drop schema public cascade"))
            await conn.execute(text("create schema public"))

        await upgrade_async(url)
        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
            created = await conn.run_sync(tables)
        assert created == set(SQLModel.metadata.tables) | {"alembic_version"}

        await asyncio.to_thread(command.downgrade, alembic_config(url), "base")
        async with engine.connect() as conn:
            assert await conn.run_sync(tables) == {"alembic_version"}
            assert (await conn.execute(text("select count(*) from alembic_version"))).scalar_one() == 0

        await upgrade_async(url)
        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
            head = (await conn.execute(text("select version_num from alembic_version"))).scalar_one()
        assert head == alembic_script_head(url)
    finally:
        await engine.dispose()


def alembic_script_head(url: str) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head
