"""Hostile and malformed input: oversized bodies, unknown fields, control
characters, unnormalised Unicode, out-of-range pagination, malformed dates
and ids that name nothing."""

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Commission
from appraisal.domain.roles import Actor
from tests.api.test_commissions_api import entrust, entrustment
from tests.factories import court_actor

Auth = Callable[[Actor], dict[str, str]]
LIMIT = 1_048_576  # the default MAX_BODY_BYTES


async def commission_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(Commission))).one()


def invalid_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and error["message"]
    return [d["field"] for d in error["details"]]


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and str(LIMIT) in error["message"]
    assert error["details"] == {"limit_bytes": LIMIT}


async def test_oversized_body_is_refused_with_413_and_creates_nothing(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = entrustment("REF-HUGE", matters=["伤残等级评定" + "很" * (LIMIT // 3)])
    declared = await api.post("/v1/commissions", json=body, headers=auth(court_actor))
    assert int(declared.request.headers["content-length"]) > LIMIT
    assert_too_large(declared)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the body streams in
        for _ in range(20):
            yield b" " * 65_536
        yield b"{}"

    streamed = await api.post(
        "/v1/commissions",
        content=chunks(),
        headers={**auth(court_actor), "content-type": "application/json"},
    )
    assert "content-length" not in streamed.request.headers
    assert_too_large(streamed)
    assert await commission_count(sessions) == 0

    # Just under the limit is read (and answered on its merits).
    padded = b"{" + b" " * (LIMIT - 2) + b"}"
    under = await api.post(
        "/v1/commissions", content=padded, headers={**auth(court_actor), "content-type": "application/json"}
    )
    assert under.status_code == 422, under.text


@pytest.mark.parametrize("content", [b"{", b'{"court_reference": }', b"\xff\xfe{}", b'{"a": "\xc3"}'])
async def test_malformed_body_is_422_naming_the_body(
    api: httpx.AsyncClient, auth: Auth, content: bytes
) -> None:
    response = await api.post(
        "/v1/commissions", content=content, headers={**auth(court_actor), "content-type": "application/json"}
    )
    assert invalid_fields(response) == ["body"]


async def test_unknown_fields_are_refused(api: httpx.AsyncClient, auth: Auth) -> None:
    body = entrustment("REF-EXTRA", surprise=True)
    body["selection"]["weight"] = 3
    response = await api.post("/v1/commissions", json=body, headers=auth(court_actor))
    assert sorted(invalid_fields(response)) == ["selection.weight", "surprise"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"court_reference": "REF-\x00-NUL"}, "court_reference"),
        ({"court_reference": "REF-\x1b[31m-ESC"}, "court_reference"),
        ({"case_number": "(2026)\n渝0103民初1234号"}, "case_number"),
        ({"matters": ["伤残\u0085等级评定"]}, "matters.0"),
        ({"materials": [{"name": "病历\x7f", "sha256": "ab" * 32}]}, "materials.0.name"),
        ({"selection": {"mode": "designated", "institution_id": "inst\x00"}}, "selection.institution_id"),
    ],
)
async def test_control_characters_are_refused(
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    overrides: dict[str, Any],
    field: str,
) -> None:
    response = await api.post(
        "/v1/commissions", json=entrustment("REF-CONTROL", **overrides), headers=auth(court_actor)
    )
    assert invalid_fields(response) == [field]
    assert "control character" in response.json()["error"]["message"]
    assert await commission_count(sessions) == 0


async def test_text_keeps_newlines_and_tabs_but_not_carriage_returns(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    commission = await entrust(api, auth, reference="REF-TEXT")
    closing = "判决已生效\n\t附：裁定书"
    closed = await api.post(
        f"/v1/commissions/{commission['id']}/closure",
        json={"reason": "第一行\r\n第二行"},
        headers=auth(court_actor),
    )
    assert invalid_fields(closed) == ["reason"]
    # Multi-line text passes validation (the step itself is refused: nothing was issued yet).
    refused = await api.post(
        f"/v1/commissions/{commission['id']}/closure", json={"reason": closing}, headers=auth(court_actor)
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_in_stage", refused.text


async def test_strings_are_stored_nfc_normalised(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    decomposed = (
        "(2026)渝0103民初1234号-Jose\u0301-鉴\uf9b2"  # e + combining acute; a CJK compatibility ideograph
    )
    composed = "(2026)渝0103民初1234号-Jos\u00e9-鉴\u96f6"
    commission = await entrust(api, auth, reference=decomposed, matters=["Ame\u0301lie"])
    assert commission["court_reference"] == composed and commission["matters"] == ["Am\u00e9lie"]

    fetched = await api.get(f"/v1/commissions/{commission['id']}", headers=auth(court_actor))
    assert fetched.status_code == 200 and fetched.json()["court_reference"] == composed
    # Either spelling names the same commission.
    again = await api.post("/v1/commissions", json=entrustment(composed), headers=auth(court_actor))
    assert again.status_code == 200 and again.json()["id"] == commission["id"]
    async with sessions() as session:
        stored = (await session.exec(select(Commission.court_reference))).all()
    assert stored == [composed]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("offset=-1", "offset"),
        ("limit=ten", "limit"),
        ("due_before=2026-02-30", "due_before"),
    ],
)
async def test_list_parameters_out_of_bounds(
    api: httpx.AsyncClient, auth: Auth, query: str, field: str
) -> None:
    response = await api.get(f"/v1/commissions?{query}", headers=auth(court_actor))
    assert invalid_fields(response) == [f"query.{field}"]


async def test_pagination_bounds_are_accepted(api: httpx.AsyncClient, auth: Auth) -> None:
    for query in ("limit=1", "limit=200", "offset=0"):
        response = await api.get(f"/v1/commissions?{query}", headers=auth(court_actor))
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("received_on", ["2026-02-30", "30/01/2026", "yesterday", "2026-1-5", 20260105])
async def test_malformed_date_names_the_field(
    api: httpx.AsyncClient, auth: Auth, received_on: object
) -> None:
    response = await api.post(
        "/v1/commissions", json=entrustment("REF-DATE", received_on=received_on), headers=auth(court_actor)
    )
    assert invalid_fields(response) == ["received_on"]
    assert response.json()["error"]["message"].startswith("received_on: ")


NOT_FOUND = {"error": {"code": "not_found", "message": "no such commission", "details": None}}


@pytest.mark.parametrize(
    "commission_id", ["7a0ba82e-f0b5-474b-b971-759f0aca6281", "not-a-uuid", "%E2%80%AE", "x" * 300]
)
async def test_unknown_ids_are_404(api: httpx.AsyncClient, auth: Auth, commission_id: str) -> None:
    for path in (f"/v1/commissions/{commission_id}", f"/v1/commissions/{commission_id}/audit"):
        response = await api.get(path, headers=auth(court_actor))
        assert response.status_code == 404, response.text
        assert response.json() == NOT_FOUND


async def test_path_traversal_names_no_route(api: httpx.AsyncClient, auth: Auth) -> None:
    response = await api.get("/v1/commissions/..%2F..%2Fetc%2Fpasswd", headers=auth(court_actor))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


async def test_nul_in_an_id_is_404(api: httpx.AsyncClient, auth: Auth) -> None:
    """PostgreSQL cannot hold U+0000: the id must not reach it as a query parameter."""
    for path in ("/v1/commissions/%00", "/v1/commissions/%00/audit", "/v1/commissions?category=%00"):
        response = await api.get(path, headers=auth(court_actor))
        assert response.status_code in (404, 422), response.text
        assert response.json()["error"]["code"] in ("not_found", "invalid_input")


async def test_a_body_in_utf16_is_422_naming_the_body_and_creates_nothing(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for encoding in ("utf-16", "utf-32-le"):
        response = await api.post(
            "/v1/commissions",
            content=json.dumps(entrustment(f"REF-{encoding}"), ensure_ascii=False).encode(encoding),
            headers={**auth(court_actor), "Content-Type": "application/json"},
        )
        assert response.status_code == 422, encoding
        assert invalid_fields(response) == ["body"] and "UTF-8" in response.json()["error"]["message"]
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Commission))).one() == 0


async def test_a_wrong_method_is_405_allowing_every_method_of_the_path(
    api: httpx.AsyncClient, auth: Auth
) -> None:
    response = await api.request("OPTIONS", "/v1/commissions", headers=auth(court_actor))
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"  # a GET route and a POST route
    assert (await api.delete("/v1/tasks", headers=auth(court_actor))).headers["Allow"] == "GET"


def test_the_openapi_document_lists_the_200_of_a_repeated_reference(api_app_routes: list[Any]) -> None:
    by_path = {(r.path, m): r for r in api_app_routes for m in r.methods}
    for path in ("/v1/commissions", "/v1/complaints", "/v1/commissions/{commission_id}/reentrustment"):
        responses = by_path[(path, "POST")].responses
        assert 200 in responses and "repeat" in responses[200]["description"], path
