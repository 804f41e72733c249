from fastapi import APIRouter, Query

from appraisal.api.deps import READ_YOUR_WRITES, NowDep, SessionDep
from appraisal.api.errors import ERRORS
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.policy import AuthorizedDep
from appraisal.db.models import Notification
from appraisal.schemas.commission import NotificationPublic, WebhookPut
from appraisal.schemas.parties import ContactPublic, ContactPut
from appraisal.services import notification as service

router = APIRouter(
    prefix="/v1/notifications",
    tags=["notifications"],
    dependencies=[READ_YOUR_WRITES],
    route_class=Utf8BodyRoute,
)


@router.get("", response_model=list[NotificationPublic], responses=ERRORS)
async def my_notifications(
    principal: AuthorizedDep, session: SessionDep, limit: int = Query(default=50, ge=1, le=200)
) -> list[Notification]:
    """What was sent to the caller's organisation, newest first, with its delivery status."""
    return await service.sent_to(session=session, principal=principal, limit=limit)


@router.put("/webhook", response_model=WebhookPut, responses=ERRORS)
async def set_webhook(
    body: WebhookPut, principal: AuthorizedDep, session: SessionDep, now: NowDep
) -> WebhookPut:
    """Where the caller's organisation wants notifications POSTed (each with an Idempotency-Key)."""
    await service.set_webhook(session=session, principal=principal, url=body.url, now=now)
    return body


@router.get("/contact", response_model=ContactPublic, responses=ERRORS)
async def get_contact(principal: AuthorizedDep, session: SessionDep) -> ContactPublic:
    """The mobile number and e-mail address the caller's notifications go to when it has no webhook."""
    found = await service.contact_of(session=session, principal=principal)
    return ContactPublic(phone=found.phone, email=found.email) if found else ContactPublic()


@router.put("/contact", response_model=ContactPublic, responses=ERRORS)
async def set_contact(
    body: ContactPut, principal: AuthorizedDep, session: SessionDep, now: NowDep
) -> ContactPublic:
    """Where the caller (an organisation, or a party itself) is told by SMS or e-mail (through the
    channel the deployment configures); a webhook, when one is set, still comes first."""
    found = await service.set_contact(
        session=session, principal=principal, phone=body.phone or "", email=body.email or "", now=now
    )
    return ContactPublic(phone=found.phone, email=found.email)
