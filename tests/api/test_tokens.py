"""Tokens: revoked by an operator, refused from the next request on; the
development secret is refused outside dev mode."""

import asyncio
import os
import subprocess
import sys

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.api.auth import issue_token, read_token
from appraisal.cli import main
from appraisal.core.settings import DEV_JWT_SECRET, Settings
from appraisal.db.models import Commission, Institution
from appraisal.domain.roles import Actor, Role
from appraisal.embedded import EmbeddedPostgres
from tests.api.test_commissions_api import entrustment
from tests.factories import COURT, INSTITUTION, court_actor, institution_actor


async def test_a_revoked_token_is_refused(
    api: httpx.AsyncClient, settings: Settings, postgres: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = issue_token(settings, court_actor)
    other = issue_token(settings, court_actor)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.get("/v1/commissions", headers=headers)).status_code == 200
    monkeypatch.setenv("DATABASE_URL", postgres.url("appraisal"))
    monkeypatch.setenv("JWT_SECRET", settings.jwt_secret)
    assert await asyncio.to_thread(main, ["token", "revoke", token, "--reason", "clerk left the court"]) == 0
    refused = await api.get("/v1/commissions", headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
    assert (await api.get("/v1/commissions", headers={"Authorization": f"Bearer {other}"})).status_code == 200
    # Revoking by the bare token id works too.
    jti = read_token(settings, other).token_id
    assert await asyncio.to_thread(main, ["token", "revoke", jti]) == 0
    assert (await api.get("/v1/commissions", headers={"Authorization": f"Bearer {other}"})).status_code == 401


def test_issue_needs_a_whole_principal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "issue", "--role", "court"]) == 2
    assert "--organisation" in capsys.readouterr().err


def test_development_secret_is_refused_outside_dev_mode() -> None:
    assert Settings(environment="dev").jwt_secret == DEV_JWT_SECRET
    for environment in ("test", "production"):
        with pytest.raises(ValidationError, match="development default"):
            Settings(environment=environment, jwt_secret=DEV_JWT_SECRET)
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(jwt_secret="short")


async def test_a_token_acts_only_for_an_organisation_registered_and_in_good_standing(
    api: httpx.AsyncClient, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    def bearer(actor: Actor) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(settings, actor)}"}

    ghost = await api.post(
        "/v1/commissions",
        json=entrustment("REF-GHOST"),
        headers=bearer(Actor(Role.COURT, "ghost-court", "x")),
    )
    assert (
        ghost.status_code == 401 and "ghost-court is not in the registry" in ghost.json()["error"]["message"]
    )
    desk = bearer(institution_actor)
    assert (await api.get("/v1/commissions", headers=desk)).status_code == 200
    async with sessions() as session, session.begin():
        institution = await session.get(Institution, INSTITUTION.id)
        assert institution is not None
        institution.status = "revoked"
    refused = await api.get("/v1/commissions", headers=desk)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Commission))).one() == 0


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (["--organisation", "ghost-court"], "ghost-court is not in the registry"),
        (["--organisation", COURT.id, "--hours", "0"], "--hours is from 1 to"),
        (["--organisation", COURT.id, "--hours", "-1"], "--hours is from 1 to"),
        (["--organisation", COURT.id, "--reason", "why"], "--reason is for revoke"),
    ],
)
async def test_the_cli_issues_no_token_it_should_not(
    options: list[str],
    complaint: str,
    postgres: EmbeddedPostgres,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres.url("appraisal"))
    argv = ["token", "issue", "--role", "court", "--subject", "clerk", *options]
    assert await asyncio.to_thread(main, argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and complaint in captured.err
    good = ["token", "issue", "--role", "court", "--subject", "clerk", "--organisation", COURT.id]
    assert await asyncio.to_thread(main, good) == 0
    assert read_token(Settings(), capsys.readouterr().out.strip()).actor.organisation_id == COURT.id


def test_a_reader_that_stops_early_ends_the_cli_quietly() -> None:
    reader, writer = os.pipe()
    os.close(reader)  # gone before the command writes
    command = [sys.executable, "-m", "appraisal.cli", "sign", "--appraiser", "a", "--report-hash", "ab" * 32]
    done = subprocess.run(command, stdout=writer, stderr=subprocess.PIPE, timeout=60, check=False)
    os.close(writer)
    assert done.returncode == 1 and b"Traceback" not in done.stderr
