"""Prometheus metrics of the API process: `GET /metrics`, no token.

- `appraisal_api_request_duration_seconds{route, method, status}`: a histogram
  of every request, labelled by the route's path template (never the raw URL,
  so ids in paths do not multiply series) — kept in this process.
- Read at scrape time from the read model, one GROUP BY each:
  `appraisal_commissions{stage}`, `appraisal_commissions_overdue`,
  `appraisal_clock_escalations_total{rule}` (`clock.escalation` events in the
  audit trail, commissions' and complaints'), `appraisal_notifications{status}`
  (the outbox), and `appraisal_read_model_up`. With the database down the
  scrape still answers: the latency metrics and `appraisal_read_model_up 0`.
- Asked of Temporal at scrape time: `appraisal_workflows_stuck`, the workflows
  Temporal reports stuck (two workflow tasks in a row failed or timed out; alert
  on > 0, docs/operations.md "A stuck workflow"), and `appraisal_temporal_up`.
"""

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from appraisal.api.errors import DATABASE_DOWN
from appraisal.db.models import AuditEventRow, CommissionCount, Notification
from appraisal.domain.rules import CLOCK_RULES
from appraisal.domain.stages import Stage
from appraisal.services.supervision import STUCK, STUCK_QUERY_TIMEOUT, TEMPORAL_DID_NOT_ANSWER

logger = logging.getLogger(__name__)

UNMATCHED_ROUTE = "(unmatched)"
"""The route label of a request no route matched: its raw path is never a label."""
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
NOTIFICATION_STATUSES = ("pending", "delivered", "no_endpoint")
READ_MODEL_TIMEOUT_SECONDS = 3.0
READ_MODEL_DOWN: tuple[type[BaseException], ...] = (*DATABASE_DOWN, SQLAlchemyError, TimeoutError)


class ApiMetrics:
    """This app's own registry (not the process-global one), so two apps in one
    process — the tests — never share or double-register series."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_duration = Histogram(
            "appraisal_api_request_duration_seconds",
            "Time to answer an API request, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )


class RequestTimer:
    """ASGI middleware observing each HTTP request's duration once it is answered."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped every handler

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            # The router puts the matched route into the scope it was given.
            template = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            self.metrics.request_duration.labels(template, method, str(status)).observe(
                time.perf_counter() - started
            )


@dataclass
class ReadModelFigures:
    stages: dict[str, int]
    overdue: int
    escalations: dict[str, int]
    notifications: dict[str, int]


async def _query(session: AsyncSession) -> ReadModelFigures:
    # The overview's counts, kept as commissions change: no scan of the commissions per scrape.
    stage, commissions = col(CommissionCount.stage), col(CommissionCount.commissions)
    by_stage = (
        await session.exec(
            select(
                stage,
                func.sum(commissions),
                func.coalesce(func.sum(commissions).filter(col(CommissionCount.overdue)), 0),
            ).group_by(stage)
        )
    ).all()
    rule = col(AuditEventRow.data)["rule"].astext
    escalations = (
        await session.exec(
            select(rule, func.count()).where(col(AuditEventRow.kind) == "clock.escalation").group_by(rule)
        )
    ).all()
    status = col(Notification.status)
    notifications = (await session.exec(select(status, func.count()).group_by(status))).all()
    return ReadModelFigures(
        stages={s: 0 for s in Stage} | {s: int(n) for s, n, _ in by_stage},
        overdue=sum(int(o) for _, _, o in by_stage),
        escalations={r: 0 for r in CLOCK_RULES} | {str(r): int(n) for r, n in escalations},
        notifications={s: 0 for s in NOTIFICATION_STATUSES} | {s: int(n) for s, n in notifications},
    )


async def read_model_figures(sessions: async_sessionmaker[AsyncSession]) -> ReadModelFigures | None:
    """None when the database does not answer in time: the scrape goes on without it."""
    try:
        async with sessions() as session:
            return await asyncio.wait_for(_query(session), READ_MODEL_TIMEOUT_SECONDS)
    except READ_MODEL_DOWN as err:
        logger.warning("metrics: the read model is unavailable: %s", err)
        return None


class ReadModelCollector(Collector):
    """One scrape's figures, as metric families."""

    def __init__(self, figures: ReadModelFigures | None) -> None:
        self.figures = figures

    def collect(self) -> Iterable[Metric]:
        figures = self.figures
        yield GaugeMetricFamily(
            "appraisal_read_model_up",
            "1 if this scrape read the read model, 0 if the database did not answer",
            value=0 if figures is None else 1,
        )
        if figures is None:
            return
        stages = GaugeMetricFamily("appraisal_commissions", "Commissions by stage", labels=["stage"])
        for name, count in sorted(figures.stages.items()):
            stages.add_metric([name], count)
        yield stages
        yield GaugeMetricFamily(
            "appraisal_commissions_overdue",
            "Commissions with a running statutory clock past its deadline",
            value=figures.overdue,
        )
        escalations = CounterMetricFamily(
            "appraisal_clock_escalations",
            "Escalations fired by statutory clocks (clock.escalation events in the audit trail)",
            labels=["rule"],
        )
        for rule, count in sorted(figures.escalations.items()):
            escalations.add_metric([rule], count)
        yield escalations
        notifications = GaugeMetricFamily(
            "appraisal_notifications", "Notifications in the outbox by delivery status", labels=["status"]
        )
        for name, count in sorted(figures.notifications.items()):
            notifications.add_metric([name], count)
        yield notifications


async def stuck_workflow_count(client: Client) -> int | None:
    """None when Temporal does not answer in time: the scrape goes on without it."""
    try:
        counted = await client.count_workflows(STUCK, rpc_timeout=STUCK_QUERY_TIMEOUT)
    except TEMPORAL_DID_NOT_ANSWER as err:
        logger.warning("metrics: Temporal did not count the stuck workflows: %s", err)
        return None
    return counted.count


class TemporalCollector(Collector):
    def __init__(self, stuck: int | None) -> None:
        self.stuck = stuck

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "appraisal_temporal_up",
            "1 if this scrape reached Temporal, 0 if it did not answer",
            value=0 if self.stuck is None else 1,
        )
        if self.stuck is not None:
            yield GaugeMetricFamily(
                "appraisal_workflows_stuck",
                "Workflows Temporal reports stuck: two workflow tasks in a row failed or timed out",
                value=self.stuck,
            )


router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this API process and of the read model (no token)."""
    api_metrics: ApiMetrics = request.app.state.metrics
    figures = await read_model_figures(request.app.state.sessions)
    stuck = await stuck_workflow_count(request.app.state.temporal)
    body = (
        generate_latest(api_metrics.registry)
        + generate_latest(ReadModelCollector(figures))
        + generate_latest(TemporalCollector(stuck))
    )
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)


def install(app: FastAPI) -> None:
    """Times every request (outermost middleware, so errors are timed too) and serves /metrics."""
    app.state.metrics = ApiMetrics()
    app.add_middleware(RequestTimer, metrics=app.state.metrics)
    app.include_router(router)
