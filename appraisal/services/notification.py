"""What the notification routes do: an organisation's sent notifications and its webhook."""

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Notification, NotificationContact, Webhook
from appraisal.domain.roles import Actor


async def sent_to(*, session: AsyncSession, principal: Actor, limit: int) -> list[Notification]:
    """What was sent to the caller's organisation, newest first."""
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


async def set_webhook(*, session: AsyncSession, principal: Actor, url: str, now: datetime) -> None:
    upsert = insert(Webhook).values(organisation_id=principal.organisation_id, url=url, updated_at=now)
    await session.exec(
        upsert.on_conflict_do_update(
            index_elements=["organisation_id"],
            set_={"url": upsert.excluded.url, "updated_at": upsert.excluded.updated_at},
        )
    )
    await session.commit()


async def contact_of(*, session: AsyncSession, principal: Actor) -> NotificationContact | None:
    """The mobile number and e-mail address the caller's notifications go to (none: webhook only)."""
    return await session.get(NotificationContact, principal.organisation_id)


async def set_contact(
    *, session: AsyncSession, principal: Actor, phone: str, email: str, now: datetime
) -> NotificationContact:
    """Where the caller's organisation (or the party itself) is told by SMS or e-mail when it has
    no webhook (core/channels.py picks the channel). Empty both: told by nothing but the list."""
    upsert = insert(NotificationContact).values(
        organisation_id=principal.organisation_id, phone=phone, email=email, updated_at=now
    )
    await session.exec(
        upsert.on_conflict_do_update(
            index_elements=["organisation_id"],
            set_={"phone": upsert.excluded.phone, "email": upsert.excluded.email, "updated_at": now},
        )
    )
    await session.commit()
    found = await session.get(NotificationContact, principal.organisation_id, populate_existing=True)
    assert found is not None
    return found
