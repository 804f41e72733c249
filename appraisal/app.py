"""The composition root: one FastAPI application serving the REST API and the
dashboard side by side, on the same services, with what they depend on in app.state.
Nothing below imports this module; the API never imports the web pages."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from appraisal.api import errors, limits, metrics
from appraisal.api.routes import ROUTERS
from appraisal.core.observability import install_request_ids
from appraisal.core.seal import SealLoader
from appraisal.core.settings import Settings, get_settings
from appraisal.db.engine import create_engine, session_factory
from appraisal.web import accounts as web_accounts
from appraisal.web import admissions as web_admissions
from appraisal.web import complaints as web_complaints
from appraisal.web import csrf
from appraisal.web import evaluations as web_evaluations
from appraisal.web import parties as web_parties
from appraisal.web import penalties as web_penalties
from appraisal.web import public as web_public
from appraisal.web import routes as web
from appraisal.web import supervision as web_supervision
from appraisal.web import training as web_training
from appraisal.web.csrf import CsrfMiddleware
from appraisal.web.pages import STATIC_DIR
from appraisal.web.session import pages_for_browsers

DESCRIPTION = """Durable orchestration of judicial-appraisal (司法鉴定) commissions.
Every 4xx/5xx body is `{"error": {"code", "message", "details"}}`."""


def create_app(
    settings: Settings | None = None,
    *,
    temporal: Client | None = None,
    engine: AsyncEngine | None = None,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine or create_engine(settings)
        app.state.settings = settings
        app.state.sessions = session_factory(own_engine)
        app.state.seal = SealLoader.of(settings)
        # Lazy: the API starts while Temporal is down and answers 503 until it is back.
        app.state.temporal = temporal or await Client.connect(
            settings.resolved_temporal_address(),
            namespace=settings.temporal_namespace,
            lazy=True,
        )
        # What startup built lives as long as the app: frozen, full collections skip it and stay short.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()  # collectable again once this app is gone (tests build many)
            if engine is None:
                await own_engine.dispose()

    app = FastAPI(
        title="Judicial appraisal commissions",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    errors.install(app)
    pages_for_browsers(app)
    limits.install(app, settings.max_body_bytes)
    install_request_ids(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(web.router)
    app.include_router(web_complaints.router)
    app.include_router(web_accounts.router)
    app.include_router(web_supervision.router)
    app.include_router(web_penalties.router)
    app.include_router(web_public.router)
    app.include_router(web_admissions.router)
    app.include_router(web_training.router)
    app.include_router(web_evaluations.router)
    app.include_router(web_parties.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    metrics.install(app)
    app.add_middleware(
        CsrfMiddleware,
        secret=csrf.signing_secret(settings.jwt_secret),
        secure=settings.environment == "production",
    )
    return app
