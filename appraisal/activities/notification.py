"""Delivery of the notification outbox: each receiver through its channel (core/channels.py) —
its organisation's webhook, else an SMS to the mobile number or an e-mail to the address it gave
(a party's, given when it was registered) — every attempt recorded on the row."""

from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from appraisal.core.channels import Channels, ChannelUnavailable, DeliveryFailed, Outgoing, route
from appraisal.db.models import Notification, NotificationContact, Webhook
from appraisal.domain.events import DeliveryRequest, DeliveryResult

SUBJECT = "司法鉴定委托通知 Appraisal commission notice"


class NotificationActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient | None = None,
        channels: Channels | None = None,
    ) -> None:
        self.sessions = sessions
        self.http = http or httpx.AsyncClient(timeout=10)
        self.channels = channels or Channels.logged(self.http)

    @activity.defn(name="deliver_notifications")
    async def deliver_notifications(self, request: DeliveryRequest) -> DeliveryResult:
        """Sends each pending notification of one event through its receiver's channel, marking
        each delivered as soon as it is, so a retry resends only the rest. Receivers deduplicate
        on the idempotency key (the Idempotency-Key header of a webhook or an SMS gateway)."""
        result = DeliveryResult()
        async with self.sessions() as session:
            rows = (
                await session.exec(
                    select(Notification, Webhook.url, NotificationContact.phone, NotificationContact.email)
                    .join(
                        Webhook, col(Webhook.organisation_id) == col(Notification.receiver_id), isouter=True
                    )
                    .join(
                        NotificationContact,
                        col(NotificationContact.organisation_id) == col(Notification.receiver_id),
                        isouter=True,
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
            for notification, url, phone, email in rows:
                found = route(webhook=url, phone=phone, email=email)
                if found is None:
                    notification.status = "no_endpoint"
                    result.without_endpoint += 1
                else:
                    kind, address = found
                    notification.channel = kind
                    notification.attempts += 1
                    try:
                        await self.channels.of(kind).send(
                            Outgoing(
                                key=f"{notification.workflow_id}:{notification.event_seq}:"
                                f"{notification.receiver_role}:{notification.receiver_id}",
                                address=address,
                                subject=SUBJECT,
                                text=notification.message,
                                body={
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
                            )
                        )
                    except ChannelUnavailable as err:
                        notification.status = "undeliverable"
                        notification.last_error = str(err)[:500]
                    except DeliveryFailed as err:
                        notification.last_error = str(err)[:500]
                        failures.append(f"{kind}: {err}")
                    else:
                        notification.status = "delivered"
                        notification.delivered_at = datetime.now(UTC)
                        result.delivered += 1
                session.add(notification)
                await session.commit()
        if failures:
            raise RuntimeError(f"{len(failures)} delivery(ies) failed, will retry: {failures[0]}")
        return result
