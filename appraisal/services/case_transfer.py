"""A case moves on with its record (ENT-4): the organ handling a criminal case hands it to the
next (investigation → procuratorate → court). The later organ sees the earlier commissions of
the case, linked, without entrusting them again; each running commission's own audit chain
records the hand-over (an Update of its workflow), and the hand-over itself is a row of
`case_transfer`. And the case's history, as every organ it reached numbered it."""

import uuid
from datetime import date, datetime

from sqlalchemy import ARRAY, ColumnElement, String, and_, literal, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from appraisal.db.models import CaseTransfer, Commission
from appraisal.domain.criminal import CaseTransferRecord
from appraisal.domain.errors import InvalidInput, RuleViolation
from appraisal.domain.organs import check_case_number, check_criminal_case_number, check_transfer
from appraisal.domain.roles import Actor
from appraisal.domain.stages import TERMINAL_STAGES
from appraisal.schemas.criminal import (
    CaseCommission,
    CaseHistory,
    CaseTransferCreate,
    CaseTransferPublic,
    CaseTransferResult,
)
from appraisal.services import consistency, organs
from appraisal.services.commission import scope_filter
from appraisal.workflows.commission import CommissionWorkflow

TRANSFER_NAMESPACE = uuid.UUID("3c9b2e71-5a04-5d6e-8f1a-2b7c4d9e0f13")
MAX_HOPS = 5
"""A case passes investigation, review and trial: a bound on walking its hand-overs."""
MAX_CASE_COMMISSIONS = 100
"""The most commissions of one case a history lists (the oldest first; `more` says there are others)."""

Key = tuple[str, str]
"""A case as one organ knows it: (the organ's id, its case number)."""


def transfer_id_for(*, from_organ_id: str, from_case_number: str, to_organ_id: str) -> str:
    """One hand-over per (organ, its case number, the next organ): a repeat is the same one."""
    return str(uuid.uuid5(TRANSFER_NAMESPACE, f"{from_organ_id}\n{from_case_number}\n{to_organ_id}"))


async def _held(*, session: AsyncSession, organ_id: str, case_number: str) -> list[Commission]:
    """The commissions of a case an organ holds: those it entrusted under its case number, and
    those the cases handed over to it under that number brought."""
    brought: set[str] = set()
    received = select(CaseTransfer.commission_ids).where(
        CaseTransfer.to_organ_id == organ_id, CaseTransfer.to_case_number == case_number
    )
    for commission_ids in (await session.exec(received)).all():
        brought.update(commission_ids)
    own = and_(col(Commission.court_id) == organ_id, col(Commission.case_number) == case_number)
    query = select(Commission).where(or_(own, col(Commission.id).in_(sorted(brought))))
    return list((await session.exec(query.order_by(col(Commission.created_at), col(Commission.id)))).all())


async def _holders(*, session: AsyncSession, commissions: list[Commission]) -> dict[str, str]:
    """Who handles the case of each commission now: the organ its latest hand-over went to, or
    the organ that entrusted it."""
    holders = {c.id: c.court_id for c in commissions}
    rows = (
        await session.exec(
            select(CaseTransfer)
            .where(col(CaseTransfer.commission_ids).op("&&")(literal(list(holders), ARRAY(String))))
            .order_by(col(CaseTransfer.transferred_on), col(CaseTransfer.recorded_at))
        )
    ).all()
    for row in rows:
        for cid in row.commission_ids:
            if cid in holders:
                holders[cid] = row.to_organ_id
    return holders


async def transfer_case(
    *,
    session: AsyncSession,
    client: Client,
    principal: Actor,
    body: CaseTransferCreate,
    today: date,
    now: datetime,
    within_seconds: float,
) -> tuple[CaseTransferResult, bool]:
    """Hands the caller's case over to the next organ, with every commission of it the caller
    holds; the result and whether this call made the hand-over (a repeat adds the commissions
    entrusted since, and completes one half done). It answers once the read model shows each
    running commission's hand-over (read your writes, bounded by `within_seconds`)."""
    organ = await organs.organ_of_principal(session=session, principal=principal)
    to = await organs.organ_of(session=session, organ_id=body.to_organ_id)
    if to is None:
        raise InvalidInput("to_organ_id", f"no entrusting organ {body.to_organ_id} in the registry")
    check_transfer(from_kind=organ.kind, to_kind=to.kind)
    check_case_number(body.case_number, kind=organ.kind)
    check_criminal_case_number(body.to_case_number, kind=to.kind, field="to_case_number")
    transferred_on = body.transferred_on or today
    if transferred_on > today:
        raise InvalidInput("transferred_on", f"{transferred_on} is in the future")
    transfer_id = transfer_id_for(
        from_organ_id=organ.id, from_case_number=body.case_number, to_organ_id=to.id
    )
    existing = await session.get(CaseTransfer, transfer_id, with_for_update=True)
    if existing is not None and existing.to_case_number != body.to_case_number:
        raise RuleViolation(
            "already_transferred",
            f"the case was handed over to {to.name} as {existing.to_case_number}",
            rule="ENT-4",
        )
    held = await _held(session=session, organ_id=organ.id, case_number=body.case_number)
    already = set(existing.commission_ids) if existing else set()
    new = [c for c in held if c.id not in already]
    if not held:
        raise RuleViolation(
            "no_commissions", f"no commission of the case {body.case_number} to hand over", rule="ENT-4"
        )
    holders = await _holders(session=session, commissions=new)
    elsewhere = [c.court_reference for c in new if holders[c.id] != organ.id]
    if elsewhere:
        raise RuleViolation(
            "case_not_held",
            f"the case of {', '.join(elsewhere)} was already handed over elsewhere: only the organ handling "
            "it now hands it on",
            rule="ENT-4",
        )
    created = existing is None
    row = existing or CaseTransfer(
        id=transfer_id,
        from_organ_id=organ.id,
        from_role=organ.role,
        from_case_number=body.case_number,
        to_organ_id=to.id,
        to_role=to.role,
        to_case_number=body.to_case_number,
        transferred_on=transferred_on,
        note=body.note,
        by_subject=principal.subject,
        recorded_at=now,
        commission_ids=[],
    )
    row.commission_ids = [*row.commission_ids, *(c.id for c in new)]
    session.add(row)
    await session.commit()
    record = CaseTransferRecord(
        actor=principal,
        transfer_id=row.id,
        from_organ_id=organ.id,
        from_case_number=row.from_case_number,
        to_organ_id=to.id,
        to_role=to.role,
        to_kind=to.kind,
        to_case_number=row.to_case_number,
        transferred_on=row.transferred_on.isoformat(),
        note=row.note,
    )
    recorded: dict[str, int] = {}
    ended: list[str] = []
    for commission in held:
        if commission.stage in TERMINAL_STAGES:
            ended.append(commission.id)
            continue
        try:
            snapshot = await client.get_workflow_handle(commission.workflow_id).execute_update(
                CommissionWorkflow.record_transfer, record
            )
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            ended.append(commission.id)  # it ended after it was read
            continue
        recorded[commission.id] = snapshot.last_event_seq
    await consistency.await_read_model(
        session=session, principal=principal, wanted=recorded, within_seconds=within_seconds
    )
    result = CaseTransferResult(
        id=row.id,
        from_organ_id=row.from_organ_id,
        from_case_number=row.from_case_number,
        to_organ_id=row.to_organ_id,
        to_role=row.to_role,
        to_case_number=row.to_case_number,
        transferred_on=row.transferred_on,
        recorded_at=row.recorded_at,
        commission_ids=list(row.commission_ids),
        recorded_in_chain=list(recorded),
        ended=ended,
    )
    return result, created


async def _public(session: AsyncSession, rows: list[CaseTransfer]) -> list[CaseTransferPublic]:
    names = await organs.organ_names(
        session=session, ids=sorted({r.from_organ_id for r in rows} | {r.to_organ_id for r in rows})
    )
    return [
        CaseTransferPublic(
            id=r.id,
            from_organ_id=r.from_organ_id,
            from_organ_name=names.get(r.from_organ_id, r.from_organ_id),
            from_case_number=r.from_case_number,
            to_organ_id=r.to_organ_id,
            to_organ_name=names.get(r.to_organ_id, r.to_organ_id),
            to_case_number=r.to_case_number,
            transferred_on=r.transferred_on,
            commission_ids=list(r.commission_ids),
        )
        for r in rows
    ]


async def transfers_of(*, session: AsyncSession, principal: Actor) -> list[CaseTransferPublic]:
    """The hand-overs the caller made or received, newest first."""
    org = principal.organisation_id
    rows = (
        await session.exec(
            select(CaseTransfer)
            .where(or_(col(CaseTransfer.from_organ_id) == org, col(CaseTransfer.to_organ_id) == org))
            .order_by(col(CaseTransfer.transferred_on).desc(), col(CaseTransfer.recorded_at).desc())
        )
    ).all()
    return await _public(session, list(rows))


def _touching(keys: set[Key]) -> list[ColumnElement[bool]]:
    return [
        cond
        for organ_id, number in keys
        for cond in (
            and_(col(CaseTransfer.from_organ_id) == organ_id, col(CaseTransfer.from_case_number) == number),
            and_(col(CaseTransfer.to_organ_id) == organ_id, col(CaseTransfer.to_case_number) == number),
        )
    ]


async def case_history(*, session: AsyncSession, principal: Actor, commission: Commission) -> CaseHistory:
    """The commission's case across the organs it moved through (ENT-4): each organ's number of
    it, the hand-overs, and every commission of it the caller may see."""
    keys: set[Key] = {(commission.court_id, commission.case_number)}
    transfers: dict[str, CaseTransfer] = {}
    for _ in range(MAX_HOPS):
        rows = (await session.exec(select(CaseTransfer).where(or_(*_touching(keys))))).all()
        found = {r.id: r for r in rows}
        grown = (
            keys
            | {(r.from_organ_id, r.from_case_number) for r in rows}
            | {(r.to_organ_id, r.to_case_number) for r in rows}
        )
        transfers |= found
        if grown == keys:
            break
        keys = grown
    ordered = sorted(transfers.values(), key=lambda r: (r.transferred_on, r.recorded_at))
    path: list[Key] = []
    for r in ordered:
        for key in ((r.from_organ_id, r.from_case_number), (r.to_organ_id, r.to_case_number)):
            if key not in path:
                path.append(key)
    path += sorted(k for k in keys if k not in path)
    known = await organs.organs_by_id(session=session, ids=sorted({k[0] for k in path}))
    in_case: list[ColumnElement[bool]] = [
        and_(col(Commission.court_id) == organ_id, col(Commission.case_number) == number)
        for organ_id, number in keys
    ]
    linked = sorted({cid for r in ordered for cid in r.commission_ids})
    visible = (
        await session.exec(
            select(Commission)
            .where(or_(*in_case, col(Commission.id).in_(linked)), scope_filter(principal))
            .order_by(col(Commission.created_at), col(Commission.id))
            .limit(MAX_CASE_COMMISSIONS + 1)
        )
    ).all()
    more = len(visible) > MAX_CASE_COMMISSIONS
    names = {i: o.name for i, o in known.items()}
    return CaseHistory(
        case_numbers=[
            {
                "organ_id": organ_id,
                "organ_name": names.get(organ_id, organ_id),
                "kind": known[organ_id].kind if organ_id in known else "",
                "case_number": number,
            }
            for organ_id, number in path
        ],
        transfers=await _public(session, ordered),
        commissions=[
            CaseCommission(
                id=c.id,
                entrusting_organ_id=c.court_id,
                entrusting_organ_name=names.get(c.court_id, c.court_id),
                entrusting_kind=str(c.snapshot.get("entrusting_kind", "court")),
                case_number=c.case_number,
                court_reference=c.court_reference,
                category=c.category,
                stage=c.stage,
                opinion_status=str(c.snapshot.get("opinion_status", "valid")),
                institution_id=c.institution_id,
                received_on=c.snapshot["received_on"],
            )
            for c in visible[:MAX_CASE_COMMISSIONS]
        ],
        more=more,
    )
