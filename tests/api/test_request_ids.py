"""Every response carries X-Request-ID: the caller's, or a new UUID4."""

import uuid
from collections.abc import Callable

import httpx

from appraisal.core.observability import REQUEST_ID_HEADER
from appraisal.domain.roles import Actor
from tests.factories import INSTITUTION, court_actor

Auth = Callable[[Actor], dict[str, str]]


async def test_the_callers_request_id_is_echoed(api: httpx.AsyncClient) -> None:
    response = await api.get("/healthz", headers={REQUEST_ID_HEADER: "court-7f3a:retry.1"})
    assert response.status_code == 200
    assert response.headers[REQUEST_ID_HEADER] == "court-7f3a:retry.1"


async def test_a_new_uuid4_without_one_or_instead_of_a_malformed_one(api: httpx.AsyncClient) -> None:
    ready = await api.get("/readyz")  # through PostgreSQL and Temporal
    assert ready.status_code == 200, ready.text
    malformed = await api.get("/healthz", headers={REQUEST_ID_HEADER: "x" * 200})
    spaced = await api.get("/healthz", headers={REQUEST_ID_HEADER: "two words"})
    ids = [r.headers[REQUEST_ID_HEADER] for r in (ready, malformed, spaced)]
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert len(set(ids)) == 3


async def test_errors_and_workflow_steps_echo_it_too(api: httpx.AsyncClient, auth: Auth) -> None:
    unauthorised = await api.get("/v1/commissions", headers={REQUEST_ID_HEADER: "no-token"})
    assert unauthorised.status_code == 401
    assert unauthorised.headers[REQUEST_ID_HEADER] == "no-token"

    body = {
        "court_reference": f"(2026)渝0103民初{uuid.uuid4().hex[:6]}号-鉴1",
        "case_number": "(2026)渝0103民初1234号",
        "category": "forensic_clinical",
        "matters": ["伤残等级评定"],
        "selection": {"mode": "designated", "institution_id": INSTITUTION.id},
        "materials": [{"name": "病历", "sha256": "ab" * 32}],
    }
    created = await api.post(
        "/v1/commissions", json=body, headers={**auth(court_actor), REQUEST_ID_HEADER: "entrust-1"}
    )
    assert created.status_code == 201, created.text
    assert created.headers[REQUEST_ID_HEADER] == "entrust-1"
