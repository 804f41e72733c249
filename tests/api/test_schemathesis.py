"""Schemathesis against the product's own /openapi.json.

The app is the `api` fixture's (time-skipping Temporal, embedded PostgreSQL,
the production worker), reached in-process through httpx on the test's event
loop. Schemathesis generates the cases (a bounded, derandomized number per
operation, no shrinking); each is sent with a valid bearer token and its
response must be no 5xx, carry a documented status code and content type,
and match the documented body schema. Every failure is collected and shown
at once.
"""

from collections.abc import Callable
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import HypothesisException
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from appraisal.domain.roles import Actor
from tests.api.test_commissions_api import entrust
from tests.factories import court_actor, institution_actor

Auth = Callable[[Actor], dict[str, str]]

schemathesis.serializer.alias("application/timestamp-query", "application/octet-stream")
"""An RFC 3161 request is bytes (POST /v1/timestamp): sent as any other binary body."""

MAX_EXAMPLES = 10
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def generate(operation: Any, mode: GenerationMode, **fixed: Any) -> list[Case[Any]]:
    """Up to MAX_EXAMPLES cases, the same ones every run."""
    cases: list[Case[Any]] = []

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def collect(case: Case[Any]) -> None:
        cases.append(case)

    try:
        collect()
    except HypothesisException:
        if mode is GenerationMode.POSITIVE:
            raise
        # An operation with nothing to negate (no parameters, no body) has no negative cases.
    return cases


async def send(
    api: httpx.AsyncClient, case: Case[Any], headers: dict[str, str]
) -> tuple[httpx.Response, str]:
    kwargs = case.as_transport_kwargs(base_url=str(api.base_url).rstrip("/"))
    request_headers = {**kwargs.get("headers", {}), **headers}
    content = kwargs.get("data")
    response = await api.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=request_headers,
        json=kwargs.get("json") if content is None else None,
        content=content,
    )
    return response, f"{case.method} {case.formatted_path} {kwargs.get('params') or ''}"


async def fuzz(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    modes: list[GenerationMode],
    *,
    commission_id: str,
) -> tuple[int, list[str]]:
    """Sends every generated case; returns how many were sent and what failed."""
    schema = schemathesis.openapi.from_dict((await api.get("/openapi.json")).json())
    sent, failures = 0, []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        cases = [c for mode in modes for c in generate(operation, mode)]
        if "{commission_id}" in operation.path:  # also against a commission that exists
            fixed = {"path_parameters": {"commission_id": commission_id}}
            cases += generate(operation, GenerationMode.POSITIVE, **fixed)
        for case in cases:
            try:
                response, label = await send(api, case, headers)
            except Exception as exc:  # the app raised: a 500 the client never saw
                failures.append(f"{case.method} {case.formatted_path}: the app raised {exc!r}")
                continue
            sent += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                failures.append(f"{label} → {response.status_code} {response.text[:300]}\n{group}")
    return sent, failures


async def test_schemathesis_as_a_court(api: httpx.AsyncClient, auth: Auth) -> None:
    commission = await entrust(api, auth, reference="SCHEMATHESIS-1")
    sent, failures = await fuzz(
        api,
        auth(court_actor),
        [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        commission_id=commission["id"],
    )
    assert sent > 100
    assert not failures, "\n\n".join(failures)


async def test_schemathesis_as_an_institution(api: httpx.AsyncClient, auth: Auth) -> None:
    commission = await entrust(api, auth, reference="SCHEMATHESIS-2")
    sent, failures = await fuzz(
        api, auth(institution_actor), [GenerationMode.POSITIVE], commission_id=commission["id"]
    )
    assert sent > 100
    assert not failures, "\n\n".join(failures)
