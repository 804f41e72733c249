"""The daily anchor of the audit trail: one hash over every chain's head, written to the
database and a signed file, and each court's share of it delivered to the court's webhook."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from appraisal.core import anchor_file
from appraisal.db.audit import Head, courts_of_chains, heads_at
from appraisal.db.models import AnchorDelivery, AuditAnchor, Webhook
from appraisal.domain.audit import hash_of_heads

TRAIL_CHANGED = "trail_changed_since_anchor"


@dataclass
class AnchorRequest:
    day: str


@dataclass
class AnchorResult:
    day: str
    heads_hash: str
    chains: int


@dataclass
class AnchorDeliveryRequest:
    day: str


@dataclass
class AnchorDeliveryResult:
    delivered: int = 0
    without_endpoint: int = 0


@dataclass(frozen=True)
class AnchorOutput:
    """Where each day's signed anchor file goes, and the bureau's key that signs it."""

    folder: Path
    key: Ed25519PrivateKey


class AnchorActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        output: AnchorOutput | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.sessions = sessions
        self.output = output
        self.http = http or httpx.AsyncClient(timeout=10)

    @activity.defn(name="write_daily_anchor")
    async def write_daily_anchor(self, request: AnchorRequest) -> AnchorResult:
        """Idempotent: the same day always yields the same row, and the same signed file."""
        day = date.fromisoformat(request.day)
        async with self.sessions() as session:
            heads = await heads_at(session, day)
            digest, chains = hash_of_heads(heads), len(heads)
            row = {"day": day, "heads_hash": digest, "chains": chains, "computed_at": datetime.now(UTC)}
            upsert = insert(AuditAnchor).values(**row)
            await session.exec(upsert.on_conflict_do_nothing(index_elements=["day"]))
            await session.commit()
            stored = await session.get(AuditAnchor, day)
        assert stored is not None
        if self.output is not None and stored.heads_hash == digest:
            signed = anchor_file.document(
                day=request.day, heads=heads, heads_hash=digest, key=self.output.key
            )
            anchor_file.write(self.output.folder, signed)
        return AnchorResult(request.day, stored.heads_hash, stored.chains)

    @activity.defn(name="deliver_daily_anchor")
    async def deliver_daily_anchor(self, request: AnchorDeliveryRequest) -> AnchorDeliveryResult:
        """POSTs each court its copy of the day's anchor (its own commissions' heads, signed),
        marking each delivered as soon as it is, so a retry resends only the rest; courts
        deduplicate on the Idempotency-Key header. Without the bureau's key (a worker built
        with no anchor output) there is nothing to sign and nothing is sent."""
        result = AnchorDeliveryResult()
        if self.output is None:
            return result
        day = date.fromisoformat(request.day)
        async with self.sessions() as session:
            stored = await session.get(AuditAnchor, day)
            heads = await heads_at(session, day)
            if stored is None or hash_of_heads(heads) != stored.heads_hash:
                raise ApplicationError(
                    f"the trail of {request.day} is not the one anchored: nothing is delivered"
                    " (`appraisal anchor verify` shows where it differs)",
                    type=TRAIL_CHANGED,
                    non_retryable=True,
                )
            by_court = _by_court(heads, await courts_of_chains(session, [w for w, _, _ in heads]))
            endpoints = dict(
                (
                    await session.exec(
                        select(Webhook.organisation_id, Webhook.url).where(
                            col(Webhook.organisation_id).in_(list(by_court))
                        )
                    )
                ).all()
            )
            for court_id, court_heads in by_court.items():
                status = "pending" if court_id in endpoints else "no_endpoint"
                row = {"day": day, "court_id": court_id, "chains": len(court_heads), "status": status}
                await session.exec(insert(AnchorDelivery).values(**row).on_conflict_do_nothing())
            await session.commit()
            deliveries = (
                await session.exec(
                    select(AnchorDelivery)
                    .where(AnchorDelivery.day == day)
                    .order_by(col(AnchorDelivery.court_id))
                )
            ).all()
            failures: list[str] = []
            for delivery in deliveries:
                if delivery.status == "no_endpoint":
                    result.without_endpoint += 1
                    continue
                if delivery.status != "pending" or delivery.court_id not in endpoints:
                    continue
                signed = anchor_file.document(
                    day=request.day,
                    heads=by_court[delivery.court_id],
                    heads_hash=stored.heads_hash,
                    key=self.output.key,
                    court_id=delivery.court_id,
                )
                delivery.attempts += 1
                url = endpoints[delivery.court_id]
                try:
                    response = await self.http.post(
                        url,
                        json={"kind": "audit.anchor", "anchor": signed},
                        headers={"Idempotency-Key": f"audit-anchor:{request.day}:{delivery.court_id}"},
                    )
                    response.raise_for_status()
                except httpx.HTTPError as err:
                    delivery.last_error = str(err)[:500]
                    failures.append(f"{url}: {err}")
                else:
                    delivery.status = "delivered"
                    delivery.delivered_at = datetime.now(UTC)
                    result.delivered += 1
                session.add(delivery)
                await session.commit()
        if failures:
            raise RuntimeError(f"{len(failures)} court(s) not reached, will retry: {failures[0]}")
        return result


def _by_court(heads: list[Head], courts: dict[str, str]) -> dict[str, list[Head]]:
    """Each court's commissions' heads; chains of no court (complaints) belong to none."""
    grouped: dict[str, list[Head]] = defaultdict(list)
    for head in heads:
        if head[0] in courts:
            grouped[courts[head[0]]].append(head)
    return dict(grouped)
