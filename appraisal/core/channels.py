"""How a notification leaves the product: one interface, `Channel.send`, and its adapters — a
webhook (an organisation's own system), e-mail through an SMTP relay, SMS through an HTTP gateway,
and in dev a file of JSON lines or the log. The delivery activity (activities/notification.py)
picks the channel by what the receiver gave (a webhook, a mobile number, an e-mail address),
records every attempt on the notification's row and retries what failed, as it always did for
webhooks. Nothing here talks to the database."""

import asyncio
import json
import logging
import smtplib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import httpx

from appraisal.core.settings import Settings

logger = logging.getLogger(__name__)

WEBHOOK, SMS, EMAIL = "webhook", "sms", "email"


@dataclass(frozen=True)
class Outgoing:
    """One notification to one receiver, as a channel sends it."""

    key: str
    """Its idempotency key: (workflow, event, receiver). A receiver that sees it twice drops one."""
    address: str
    """The webhook's URL, the mobile number or the e-mail address."""
    subject: str
    text: str
    body: dict[str, Any] = field(default_factory=dict)
    """What a webhook receives as JSON (the event itself, for an organisation's system)."""


class DeliveryFailed(Exception):
    """Tried and not delivered: the activity retries it with backoff."""


class ChannelUnavailable(Exception):
    """Nothing is configured to send it (no SMTP relay, no SMS gateway): not retried."""


class Channel(Protocol):
    kind: str

    async def send(self, outgoing: Outgoing) -> None:
        """Delivers it, or raises DeliveryFailed (retried) or ChannelUnavailable (not)."""
        ...


class WebhookChannel:
    kind = WEBHOOK

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def send(self, outgoing: Outgoing) -> None:
        try:
            response = await self.http.post(
                outgoing.address, json=outgoing.body, headers={"Idempotency-Key": outgoing.key}
            )
            response.raise_for_status()
        except httpx.HTTPError as err:
            raise DeliveryFailed(f"{outgoing.address}: {err}") from err


class SmsGatewayChannel:
    """An SMS gateway reached over HTTP (a province's 政务短信平台, or a small proxy in front of a
    carrier's API): POST {"to", "text", "id"} with a bearer token; any 2xx is accepted."""

    kind = SMS

    def __init__(self, http: httpx.AsyncClient, *, url: str, token: str) -> None:
        self.http, self.url, self.token = http, url, token

    async def send(self, outgoing: Outgoing) -> None:
        headers = {"Idempotency-Key": outgoing.key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = await self.http.post(
                self.url,
                json={"to": outgoing.address, "text": outgoing.text, "id": outgoing.key},
                headers=headers,
            )
            response.raise_for_status()
        except httpx.HTTPError as err:
            raise DeliveryFailed(f"SMS gateway: {err}") from err


class SmtpChannel:
    """E-mail through the court network's SMTP relay (STARTTLS when it offers it and is asked)."""

    kind = EMAIL

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = True,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)

    async def send(self, outgoing: Outgoing) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = outgoing.address
        message["Subject"] = outgoing.subject
        message["X-Idempotency-Key"] = outgoing.key
        message.set_content(outgoing.text)
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as err:
            raise DeliveryFailed(f"SMTP {self.host}:{self.port}: {err}") from err


class FileChannel:
    """Dev: every message written as a JSON line to one file (what would have been sent)."""

    def __init__(self, kind: str, path: Path) -> None:
        self.kind, self.path = kind, path

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    async def send(self, outgoing: Outgoing) -> None:
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "channel": self.kind,
                "to": outgoing.address,
                "subject": outgoing.subject,
                "text": outgoing.text,
                "key": outgoing.key,
            },
            ensure_ascii=False,
        )
        try:
            await asyncio.to_thread(self._append, line)
        except OSError as err:
            raise DeliveryFailed(f"{self.path}: {err}") from err


class LogChannel:
    """Dev and tests: every message written to the log instead of being sent."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def send(self, outgoing: Outgoing) -> None:
        logger.info(
            "notification by %s to %s: %s",
            self.kind,
            outgoing.address,
            outgoing.text,
            extra={"key": outgoing.key},
        )


class Unconfigured:
    def __init__(self, kind: str, reason: str) -> None:
        self.kind, self.reason = kind, reason

    async def send(self, outgoing: Outgoing) -> None:
        raise ChannelUnavailable(self.reason)


@dataclass(frozen=True)
class Channels:
    webhook: Channel
    sms: Channel
    email: Channel

    def of(self, kind: str) -> Channel:
        return {WEBHOOK: self.webhook, SMS: self.sms, EMAIL: self.email}[kind]

    @classmethod
    def logged(cls, http: httpx.AsyncClient) -> "Channels":
        """Webhooks for real, SMS and e-mail to the log (the tests' and a worker's default)."""
        return cls(WebhookChannel(http), LogChannel(SMS), LogChannel(EMAIL))


def route(*, webhook: str | None, phone: str | None, email: str | None) -> tuple[str, str] | None:
    """How one receiver is reached, and where: its organisation's webhook first, else a mobile
    number, else an e-mail address; None when it gave none of them."""
    if webhook:
        return WEBHOOK, webhook
    if phone:
        return SMS, phone
    if email:
        return EMAIL, email
    return None


def channels_from(settings: Settings, http: httpx.AsyncClient) -> Channels:
    """NOTIFICATION_CHANNEL: `file` (dev: DATA_DIR/notifications.jsonl), `log`, or `gateway`
    (SMTP_HOST for e-mail, SMS_GATEWAY_URL for SMS; one left unset leaves those undeliverable)."""
    mode = settings.notification_channel
    if mode == "file":
        path = settings.notification_file or settings.data_dir / "notifications.jsonl"
        return Channels(WebhookChannel(http), FileChannel(SMS, path), FileChannel(EMAIL, path))
    if mode == "log":
        return Channels.logged(http)
    sms: Channel = (
        SmsGatewayChannel(http, url=settings.sms_gateway_url, token=settings.sms_gateway_token)
        if settings.sms_gateway_url
        else Unconfigured(SMS, "SMS_GATEWAY_URL is not set: no SMS gateway")
    )
    email: Channel = (
        SmtpChannel(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
        if settings.smtp_host
        else Unconfigured(EMAIL, "SMTP_HOST is not set: no e-mail relay")
    )
    return Channels(WebhookChannel(http), sms, email)
