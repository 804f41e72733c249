from datetime import UTC, datetime

from fastapi import APIRouter, Query
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from appraisal.api.deps import SessionDep
from appraisal.api.policy import AuthorizedDep
from appraisal.api.routes.commissions import ERRORS
from appraisal.api.schemas import NotificationPublic, WebhookPut
from appraisal.db.models import Notification, Webhook

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationPublic], responses=ERRORS)
async def my_notifications(
    principal: AuthorizedDep, session: SessionDep, limit: int = Query(default=50, ge=1, le=200)
) -> list[Notification]:
    """What was sent to the caller's organisation, newest first, with its delivery status."""
    query = (
        select(Notification)
        .where(
            Notification.receiver_role == principal.role,
            Notification.receiver_id == principal.organisation_id,
        )
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


@router.put("/webhook", response_model=WebhookPut, responses=ERRORS)
async def set_webhook(body: WebhookPut, principal: AuthorizedDep, session: SessionDep) -> WebhookPut:
    """Where the caller's organisation wants notifications POSTed (each with an Idempotency-Key)."""
    upsert = insert(Webhook).values(
        organisation_id=principal.organisation_id, url=body.url, updated_at=datetime.now(UTC)
    )
    await session.exec(
        upsert.on_conflict_do_update(
            index_elements=["organisation_id"],
            set_={"url": upsert.excluded.url, "updated_at": upsert.excluded.updated_at},
        )
    )
    await session.commit()
    return body
