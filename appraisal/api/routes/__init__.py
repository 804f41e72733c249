"""The REST API's routers, in the order the OpenAPI document lists them."""

from fastapi import APIRouter

from appraisal.api.routes import (
    calendar,
    commissions,
    complaints,
    health,
    inspections,
    integrity,
    notifications,
    objections,
    reappraisals,
    recusals,
    registry,
    report_changes,
    reports,
    seals,
    selection,
    supervision,
    tasks,
    testimony,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    commissions.router,
    recusals.router,
    objections.router,
    report_changes.router,
    reappraisals.router,
    testimony.router,
    tasks.router,
    notifications.router,
    calendar.router,
    registry.router,
    supervision.router,
    reports.router,
    seals.router,
    complaints.router,
    integrity.router,
    selection.router,
    inspections.router,
)
