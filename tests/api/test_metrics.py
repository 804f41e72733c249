"""GET /metrics: the read model's gauges at scrape time, escalations from the
audit trail, the outbox by status, request latency by route template, and a
scrape that still answers when the database is down."""

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.app import create_app
from appraisal.core.settings import Settings
from appraisal.db.models import Notification
from appraisal.domain.calendar import local_today
from appraisal.domain.roles import Actor
from tests.api.test_commission_clocks_api import accepted
from tests.api.test_commissions_api import entrust
from tests.conftest import free_port
from tests.factories import court_actor, past_catch_up
from tests.workflows.test_commission_workflow import eventually

Auth = Callable[[Actor], dict[str, str]]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
LATENCY = "appraisal_api_request_duration_seconds"


async def scrape(api: httpx.AsyncClient) -> Samples:
    response = await api.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest.mark.dated
async def test_read_model_gauges_escalations_and_outbox(
    api: httpx.AsyncClient,
    auth: Auth,
    temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    before = await scrape(api)
    assert value(before, "appraisal_read_model_up") == 1
    assert value(before, "appraisal_commissions", stage="examining") == 0
    assert value(before, "appraisal_clock_escalations_total", rule="PROC-03") == 0

    await accepted(api, auth)
    today = local_today(await temporal_env.get_current_time())
    # Received 60 days ago: PROC-03 warns, goes overdue and escalates when the catch-up window ends.
    late = await entrust(api, auth, reference="LATE-1", received_on=(today - timedelta(days=60)).isoformat())
    await past_catch_up(temporal_env, late)

    async def escalated() -> Samples | None:
        samples = await scrape(api)
        return samples if value(samples, "appraisal_clock_escalations_total", rule="PROC-03") == 1 else None

    samples = await eventually(escalated)
    assert value(samples, "appraisal_commissions", stage="examining") == 1
    assert value(samples, "appraisal_commissions", stage="awaiting_acceptance") == 1
    assert value(samples, "appraisal_commissions", stage="closed") == 0
    assert value(samples, "appraisal_commissions_overdue") == 1
    assert value(samples, "appraisal_clock_escalations_total", rule="PROC-17") == 0
    async with sessions() as session:
        status = col(Notification.status)
        outbox = dict((await session.exec(select(status, func.count()).group_by(status))).all())
    assert sum(outbox.values()) > 0
    for name in ("pending", "delivered", "no_endpoint"):
        assert value(samples, "appraisal_notifications", status=name) == outbox.get(name, 0)

    withdrawn = await api.post(
        f"/v1/commissions/{late['id']}/withdrawal", json={"reason": "撤回"}, headers=auth(court_actor)
    )
    assert withdrawn.status_code == 200, withdrawn.text

    async def projected() -> Samples | None:
        samples = await scrape(api)
        return samples if value(samples, "appraisal_commissions", stage="withdrawn") == 1 else None

    after = await eventually(projected)
    assert value(after, "appraisal_commissions_overdue") == 0
    # A counter: the escalation stays counted after the commission ends.
    assert value(after, "appraisal_clock_escalations_total", rule="PROC-03") == 1


async def test_request_latency_by_route_template(api: httpx.AsyncClient, auth: Auth) -> None:
    await api.get("/healthz")
    count = f"{LATENCY}_count"
    before = await scrape(api)
    healthz = value(before, count, route="/healthz", method="GET", status="200")
    assert healthz is not None and healthz >= 1
    for _ in range(3):
        await api.get("/healthz")
    missing = await api.get("/v1/commissions/no-such-commission", headers=auth(court_actor))
    assert missing.status_code == 404
    await api.get("/nowhere/at/all")
    await api.request("BREW", "/healthz")

    after = await scrape(api)
    assert value(after, count, route="/healthz", method="GET", status="200") == healthz + 3
    assert value(after, count, route="/v1/commissions/{commission_id}", method="GET", status="404") == 1
    assert value(after, count, route="(unmatched)", method="GET", status="404") == 1
    assert value(after, count, route="/healthz", method="OTHER", status="405") == 1
    # The previous scrape itself was timed, under its own template.
    assert value(after, count, route="/metrics", method="GET", status="200") == 1
    bucket = value(after, f"{LATENCY}_bucket", route="/healthz", method="GET", status="200", le="+Inf")
    assert bucket == healthz + 3
    routes = {dict(labels).get("route") for name, labels in after if name.startswith(LATENCY)}
    assert not any("no-such-commission" in r or "nowhere" in r for r in routes if r)


async def test_database_down_still_answers_with_latency_and_read_model_down(settings: Settings) -> None:
    # Nothing listens on this port: every connection is refused, as when PostgreSQL is down.
    engine = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/appraisal")
    app = create_app(settings, engine=engine)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as api:
                assert (await api.get("/healthz")).status_code == 200
                samples = await scrape(api)
    finally:
        await engine.dispose()
    assert value(samples, "appraisal_read_model_up") == 0
    assert value(samples, f"{LATENCY}_count", route="/healthz", method="GET", status="200") == 1
    assert not any(name.startswith("appraisal_commissions") for name, _ in samples)
