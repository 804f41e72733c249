"""Delivery of the notification outbox to each organisation's webhook."""

from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.db.models import Notification, Webhook
from appraisal.domain.events import DeliveryRequest, DeliveryResult


class NotificationActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient | None = None
    ) -> None:
        self.sessions = sessions
        self.http = http or httpx.AsyncClient(timeout=10)

    @activity.defn(name="deliver_notifications")
    async def deliver_notifications(self, request: DeliveryRequest) -> DeliveryResult:
        """POSTs each pending notification of one event to its receiver's
        webhook, marking each delivered as soon as it is, so a retry resends
        only the rest. Receivers deduplicate on the Idempotency-Key header."""
        result = DeliveryResult()
        async with self.sessions() as session:
            rows = (
                await session.exec(
                    select(Notification, Webhook.url)
                    .join(
                        Webhook, col(Webhook.organisation_id) == col(Notification.receiver_id), isouter=True
                    )
                    .where(
                        Notification.workflow_id == request.workflow_id,
                        Notification.event_seq == request.event_seq,
                        Notification.status == "pending",
                    )
                    .order_by(col(Notification.id))
                )
            ).all()
            failures: list[str] = []
            for notification, url in rows:
                if url is None:
                    notification.status = "no_endpoint"
                    result.without_endpoint += 1
                else:
                    notification.attempts += 1
                    try:
                        response = await self.http.post(
                            url,
                            json={
                                "id": notification.id,
                                "kind": notification.kind,
                                "commission_id": notification.commission_id,
                                "receiver": {
                                    "role": notification.receiver_role,
                                    "id": notification.receiver_id,
                                },
                                "message": notification.message,
                                "event": notification.payload,
                            },
                            headers={
                                "Idempotency-Key": f"{notification.workflow_id}:{notification.event_seq}:"
                                f"{notification.receiver_role}:{notification.receiver_id}"
                            },
                        )
                        response.raise_for_status()
                    except httpx.HTTPError as err:
                        notification.last_error = str(err)[:500]
                        failures.append(f"{url}: {err}")
                    else:
                        notification.status = "delivered"
                        notification.delivered_at = datetime.now(UTC)
                        result.delivered += 1
                session.add(notification)
                await session.commit()
        if failures:
            raise RuntimeError(f"{len(failures)} webhook(s) failed, will retry: {failures[0]}")
        return result
