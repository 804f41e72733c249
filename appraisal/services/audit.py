"""Verifying a commission's or a complaint's audit trail (全程留痕) and tracing an appraiser (倒查)."""

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, union
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from appraisal.core import anchor_file
from appraisal.core.signing import signed_message, verify
from appraisal.db.audit import courts_of_chains, heads_at, heads_hash
from appraisal.db.models import (
    AnchorDelivery,
    AppraiserKey,
    AuditAnchor,
    AuditEventRow,
    Commission,
    Complaint,
    Court,
    EntrustingOrgan,
)
from appraisal.domain.audit import chain_hash, report_hash
from appraisal.domain.complaint import RecordComplaintEventInput
from appraisal.domain.errors import NotFound
from appraisal.domain.events import RecordEventInput, chained_fields
from appraisal.domain.roles import Actor
from appraisal.schemas.commission import AnchorCheck, AnchorDeliveryPublic, TraceItem

SIGNATURE_EVENTS = {"report.signed": "sign", "report.dissented": "dissent"}


@dataclass
class ChainVerdict:
    ok: bool
    events: int
    head: str
    broken_at: int | None = None
    reason: str | None = None
    signatures_checked: int = 0
    history_checked: int | None = None
    """Events matched against the workflow's Temporal history; None: not checked (Temporal
    keeps no history of a workflow closed longer than its namespace's retention)."""


RECORDINGS: dict[str, type[Any]] = {
    "record_commission_event": RecordEventInput,
    "record_complaint_event": RecordComplaintEventInput,
}
"""The recording activities, by name, and the input each takes: the event and what follows it."""


def recordings(history: WorkflowHistory) -> list[RecordEventInput | RecordComplaintEventInput]:
    """The recording activities' inputs of a history, in order."""
    converter = DataConverter.default.payload_converter
    found: list[RecordEventInput | RecordComplaintEventInput] = []
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            continue
        scheduled = event.activity_task_scheduled_event_attributes
        kind = RECORDINGS.get(scheduled.activity_type.name)
        if kind is not None:
            found += converter.from_payloads(list(scheduled.input.payloads), [kind])
    return found


async def recorded_in_history(*, client: Client, workflow_id: str) -> list[tuple[int, str]] | None:
    """(seq, hash) of every event the workflow's own Temporal history says it recorded, in
    order (each recording activity's input holds its event). None when Temporal no longer
    keeps the history."""
    try:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return recorded_events(history)


def recorded_events(history: WorkflowHistory) -> list[tuple[int, str]]:
    """(seq, hash) of each event a history recorded, in order."""
    return [(r.event.seq, r.event.hash) for r in recordings(history)]


def against_history(
    verdict: ChainVerdict, rows: list[AuditEventRow], recorded: list[tuple[int, str]] | None
) -> ChainVerdict:
    """The trail verdict, also failing where PostgreSQL and the history disagree: an insider
    who rewrites one store (and recomputes its chain) is caught by the other."""
    if recorded is None or not verdict.ok:
        return verdict
    stored = [(r.seq, r.hash) for r in rows]
    for (seq, hash_), (history_seq, history_hash) in zip(stored, recorded, strict=False):
        if (seq, hash_) != (history_seq, history_hash):
            return replace(
                verdict,
                ok=False,
                broken_at=seq,
                reason="differs from the event the workflow's Temporal history recorded under this number",
            )
    if len(stored) != len(recorded):
        first_apart = min(len(stored), len(recorded)) + 1
        return replace(
            verdict,
            ok=False,
            broken_at=first_apart,
            reason=f"the trail holds {len(stored)} events, the workflow's Temporal history {len(recorded)}",
        )
    return replace(verdict, history_checked=len(recorded))


@dataclass
class _Walk:
    prev: str = ""
    signatures: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def _signature_problem(row: AuditEventRow, keys: dict[str, AppraiserKey]) -> str | None:
    data: dict[str, Any] = row.data
    key = keys.get(str(data.get("key_fingerprint", "")))
    if key is None:
        return (
            f"signature by {row.actor_organisation_id}: key {data.get('key_fingerprint')} is not registered"
        )
    if key.appraiser_id != row.actor_organisation_id:
        return f"signature by {row.actor_organisation_id} was made with another appraiser's key"
    message = signed_message(
        SIGNATURE_EVENTS[row.kind], str(data["content_hash"]), str(data.get("statement", ""))
    )
    if not verify(key.public_key, message, str(data.get("signature", ""))):
        return f"signature by {row.actor_organisation_id} does not verify over report {data['content_hash']}"
    return None


REPORT_EVENTS = ("report.submitted", "report.corrected")


def _report_rehash(data: dict[str, Any]) -> str:
    """The report's content hash derived again from the text the trail stores."""
    return report_hash(
        str(data.get("content", "")),
        str(data.get("opinion", "")),
        list(data.get("attachments") or []),
        dict(data.get("sections") or {}),
    )


def verify_chain(
    rows: list[AuditEventRow], *, last_seq: int, last_hash: str, keys: dict[str, AppraiserKey]
) -> ChainVerdict:
    """Recomputes every link in seq order; the first break wins."""

    def broken(seq: int, reason: str) -> ChainVerdict:
        return ChainVerdict(False, len(rows), prev, seq, reason, signatures)

    prev, signatures = "", 0
    for expected, row in enumerate(rows, start=1):
        if row.seq != expected:
            return broken(expected, f"event {expected} is missing (the next stored event is {row.seq})")
        if row.prev_hash != prev:
            return broken(
                expected, "does not link to the event before it (reordered, or that one was altered)"
            )
        if chain_hash(prev, chained_fields(row)) != row.hash:
            return broken(expected, "its content differs from what was hashed (edited)")
        if row.kind in REPORT_EVENTS and _report_rehash(row.data) != row.data.get("content_hash"):
            # The chain may have been recomputed over an edited report; the signed hash was not.
            return broken(
                expected, "the report's text no longer hashes to the content_hash its signers signed"
            )
        if row.kind in SIGNATURE_EVENTS:
            problem = _signature_problem(row, keys)
            if problem:
                return broken(expected, problem)
            signatures += 1
        prev = row.hash
    if len(rows) < last_seq:
        return broken(
            len(rows) + 1, f"the trail ends at {len(rows)} but the commission recorded {last_seq} events"
        )
    if last_hash and prev != last_hash:
        return broken(len(rows), "the last event is not the head the commission recorded")
    return ChainVerdict(True, len(rows), prev, signatures_checked=signatures)


async def _trail(session: AsyncSession, of: ColumnElement[bool]) -> list[AuditEventRow]:
    query = select(AuditEventRow).where(of).order_by(col(AuditEventRow.seq), col(AuditEventRow.id))
    return list((await session.exec(query)).all())


async def verify_commission(
    *, session: AsyncSession, commission: Commission, client: Client | None = None
) -> ChainVerdict:
    """The chain, its signatures and report hashes re-derived from the stored content, and,
    given a Temporal client, the trail against the workflow's own history."""
    rows = await _trail(session, col(AuditEventRow.commission_id) == commission.id)
    fingerprints = {str(r.data.get("key_fingerprint")) for r in rows if r.kind in SIGNATURE_EVENTS}
    keys = {
        k.fingerprint: k
        for k in (
            await session.exec(select(AppraiserKey).where(col(AppraiserKey.fingerprint).in_(fingerprints)))
        ).all()
    }
    verdict = verify_chain(
        rows,
        last_seq=commission.last_event_seq,
        last_hash=str(commission.snapshot.get("last_hash", "")),
        keys=keys,
    )
    if client is None:
        return verdict
    return against_history(
        verdict, rows, await recorded_in_history(client=client, workflow_id=commission.workflow_id)
    )


TRACE_KINDS_FOR_ASSIGNEES = (
    "commission.accepted",
    "clock.warning",
    "clock.overdue",
    "clock.escalation",
    "clock.extended",
    "clock.paused",
    "clock.resumed",
    "report.issued",
    "commission.reassigned",
)


async def trace_appraiser(
    *, session: AsyncSession, appraiser_id: str
) -> list[tuple[AuditEventRow, Commission]]:
    """Every event the appraiser did, and every event of a commission they were
    assigned to that bears on their responsibility, in time order."""
    rows = (
        await session.exec(
            select(AuditEventRow, Commission)
            .join(Commission, col(Commission.id) == col(AuditEventRow.commission_id))
            .where(
                or_(
                    and_(
                        col(AuditEventRow.actor_role) == "appraiser",
                        col(AuditEventRow.actor_organisation_id) == appraiser_id,
                    ),
                    and_(
                        col(Commission.appraiser_ids).contains([appraiser_id]),
                        col(AuditEventRow.kind).in_(TRACE_KINDS_FOR_ASSIGNEES),
                    ),
                )
            )
            .order_by(col(AuditEventRow.occurred_at), col(AuditEventRow.seq))
        )
    ).all()
    return [(event, commission) for event, commission in rows]


TRACE_COMPLAINT_KINDS = (
    "complaint.registered",
    "complaint.accepted",
    "complaint.declined",
    "complaint.decided",
    "integrity.recorded",
    "complaint.parties_notified",
)


async def verify_complaint(
    *, session: AsyncSession, complaint: Complaint, client: Client | None = None
) -> ChainVerdict:
    """A complaint's chain: the same audit trail under its own workflow id; it has no
    signatures. Given a Temporal client, checked against the workflow's history too."""
    rows = await _trail(session, col(AuditEventRow.workflow_id) == complaint.workflow_id)
    verdict = verify_chain(
        rows,
        last_seq=complaint.last_event_seq,
        last_hash=str(complaint.snapshot.get("last_hash", "")),
        keys={},
    )
    if client is None:
        return verdict
    return against_history(
        verdict, rows, await recorded_in_history(client=client, workflow_id=complaint.workflow_id)
    )


async def complaint_trace_items(*, session: AsyncSession, appraiser_id: str) -> list[TraceItem]:
    """The registration, acceptance or decline, decision, integrity record and notice
    of every complaint naming the appraiser, in time order, each saying whether the
    complaint's chain verifies through it. The complainant's identity stays in the
    complaint itself."""
    rows = (
        await session.exec(
            select(AuditEventRow, Complaint, Commission.court_reference)
            .join(Complaint, col(Complaint.workflow_id) == col(AuditEventRow.workflow_id))
            .join(Commission, col(Commission.id) == col(Complaint.commission_id), isouter=True)
            .where(
                col(Complaint.appraiser_id) == appraiser_id,
                col(AuditEventRow.kind).in_(TRACE_COMPLAINT_KINDS),
            )
            .order_by(col(AuditEventRow.occurred_at), col(AuditEventRow.seq))
        )
    ).all()
    verdicts: dict[str, ChainVerdict] = {}
    items: list[TraceItem] = []
    for event, complaint, court_reference in rows:
        verdict = verdicts.get(complaint.id)
        if verdict is None:
            verdict = verdicts[complaint.id] = await verify_complaint(session=session, complaint=complaint)
        items.append(
            TraceItem(
                at=event.occurred_at,
                kind=event.kind,
                commission_id=complaint.commission_id or "",
                court_reference=court_reference or "",
                complaint_id=complaint.id,
                complaint_reference=complaint.reference,
                seq=event.seq,
                actor_role=event.actor_role,
                actor_organisation_id=event.actor_organisation_id,
                details={k: v for k, v in event.data.items() if k != "complainant"},
                audit_event=f"/v1/complaints/{complaint.id}/audit#seq-{event.seq}",
                verified=verdict.ok or (verdict.broken_at is not None and event.seq < verdict.broken_at),
            )
        )
    return items


async def check_anchor(*, session: AsyncSession, principal: Actor, day: date) -> AnchorCheck:
    """A day's stored audit anchor against the one recomputed from the trail now, and how its
    copies reached the courts (and the other entrusting organs) of the supervisor's bureau."""
    stored = await session.get(AuditAnchor, day)
    if stored is None:
        raise NotFound("anchor")
    recomputed, chains = await heads_hash(session, day)
    bureau = principal.organisation_id
    organs_of_bureau = union(
        select(Court.id).where(Court.bureau_id == bureau),
        select(EntrustingOrgan.id).where(EntrustingOrgan.bureau_id == bureau),
    )
    deliveries = (
        await session.exec(
            select(AnchorDelivery)
            .where(AnchorDelivery.day == day, col(AnchorDelivery.court_id).in_(organs_of_bureau))
            .order_by(col(AnchorDelivery.court_id))
        )
    ).all()
    return AnchorCheck(
        day=day,
        ok=recomputed == stored.heads_hash and chains == stored.chains,
        stored=stored.heads_hash,
        recomputed=recomputed,
        chains=stored.chains,
        computed_at=stored.computed_at,
        deliveries=[AnchorDeliveryPublic.model_validate(d, from_attributes=True) for d in deliveries],
    )


@dataclass
class AnchorFileVerdict:
    signed: bool
    """The file is unchanged since the bureau's key signed it."""
    day: str
    chains: int
    differing: list[str] = field(default_factory=list)
    """Chains whose head at the day's end is not the one the file holds, or is not in it."""

    @property
    def ok(self) -> bool:
        return self.signed and not self.differing


async def verify_anchor_file(
    *, session: AsyncSession, doc: dict[str, Any], public_key: str
) -> AnchorFileVerdict:
    """A day's anchor file against the bureau's public key and against the trail now. A court's
    copy (with `court_id`) holds that court's commissions alone and is checked against them."""
    day = str(doc.get("day", ""))
    filed = {str(h["workflow_id"]): (int(h["seq"]), str(h["hash"])) for h in doc.get("heads", [])}
    heads = await heads_at(session, date.fromisoformat(day))
    if court_id := str(doc.get("court_id", "")):
        courts = await courts_of_chains(session, [w for w, _, _ in heads])
        heads = [h for h in heads if courts.get(h[0]) == court_id]
    now = {workflow_id: (seq, head) for workflow_id, seq, head in heads}
    differing = [
        f"{workflow_id}: the file holds #{filed[workflow_id][0] if workflow_id in filed else '-'}, "
        f"the trail #{now[workflow_id][0] if workflow_id in now else '-'}"
        for workflow_id in sorted(set(filed) | set(now))
        if filed.get(workflow_id) != now.get(workflow_id)
    ]
    return AnchorFileVerdict(anchor_file.signed_by(doc, public_key), day, len(filed), differing)
