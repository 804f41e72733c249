"""`appraisal account add` creates the bureau's first official in production (the operator's
step before anyone can sign in), with the same rules as every account: a registered
organisation, a password that keeps the rules, the change in the organisation's chain."""

import asyncio
import io

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.cli import main
from appraisal.db.models import AccountChange, UserAccount
from appraisal.embedded import EmbeddedPostgres
from appraisal.seed import BUREAU


async def test_the_operator_adds_the_bureaus_first_official(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres: EmbeddedPostgres,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres.url("appraisal"))
    command = [
        "account",
        "add",
        "wang.chu",
        "--role",
        "supervisor",
        "--organisation",
        BUREAU.id,
        "--admin",
        "--password-stdin",
    ]

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert await asyncio.to_thread(main, command) == 2
    assert "password" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("bureau-first-2026-key\n"))
    assert await asyncio.to_thread(main, command) == 0
    assert capsys.readouterr().out.strip() == "created wang.chu (supervisor, administrator)"
    async with sessions() as session:
        account = (await session.exec(select(UserAccount).where(UserAccount.username == "wang.chu"))).one()
        change = (
            await session.exec(select(AccountChange).where(AccountChange.account_id == account.id))
        ).one()
    assert account.is_admin and account.organisation_id == BUREAU.id
    assert change.action == "created" and change.actor_subject == "command line"
