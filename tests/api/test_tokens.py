"""Tokens: revoked by an operator, refused from the next request on; the
development secret is refused outside dev mode."""

import asyncio

import httpx
import pytest
from pydantic import ValidationError

from appraisal.api.auth import issue_token, read_token
from appraisal.cli import main
from appraisal.core.settings import DEV_JWT_SECRET, Settings
from appraisal.embedded import EmbeddedPostgres
from tests.factories import court_actor


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
