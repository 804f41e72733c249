from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from appraisal.api.deps import SessionDep, TemporalDep
from appraisal.api.limits import Utf8BodyRoute
from appraisal.services import health

router = APIRouter(tags=["health"], route_class=Utf8BodyRoute)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Temporal or the database is unreachable"}})
async def readyz(session: SessionDep, client: TemporalDep) -> JSONResponse:
    """Temporal and the database both answer."""
    checks: dict[str, str] = {}
    try:
        await health.database_answers(session=session)
        checks["database"] = "ok"
    except Exception as err:  # any failure means not ready
        checks["database"] = f"unavailable: {type(err).__name__}"
    try:
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=timedelta(seconds=3))
        checks["temporal"] = "ok"
    except Exception as err:
        checks["temporal"] = f"unavailable: {type(err).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        200 if ready else 503,
    )
