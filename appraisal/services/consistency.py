"""Read-your-writes by sequence (docs/architecture.md, "Consistency"): a step answers as
soon as the commission's workflow holds it, and its answer carries the commission's event
sequence; a read given that sequence back waits, bounded, until the read model has
projected it. A read without one waits for nothing."""

import asyncio
import time

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Appraiser, Commission
from appraisal.domain.errors import InvalidInput, Unavailable
from appraisal.domain.roles import Actor, Role
from appraisal.services.commission import scope_filter

MIN_SEQ_HEADER = "X-Min-Seq"
SEQ_HEADER = "X-Seq"
MAX_WAITED_COMMISSIONS = 20
FIRST_LOOK_SECONDS = 0.005
"""The first pause between looks; each next one doubles, up to LAST_LOOK_SECONDS."""
LAST_LOOK_SECONDS = 0.1


def parse_min_seq(header: str, *, commission_id: str | None) -> dict[str, int]:
    """`<seq>` (a read of that one commission) or `<commission id>:<seq>`, comma-separated:
    the sequence each commission's read model must have reached."""
    wanted: dict[str, int] = {}
    field = f"header.{MIN_SEQ_HEADER}"
    for part in (p.strip() for p in header.split(",") if p.strip()):
        named, _, seq_text = part.rpartition(":")
        target = named or commission_id
        if target is None:
            raise InvalidInput(field, f"{part!r}: name the commission, as <commission id>:<seq>")
        if not seq_text.isascii() or not seq_text.isdigit() or not 0 < int(seq_text) < 2**31:
            raise InvalidInput(field, f"{part!r}: a sequence is a positive 32-bit integer")
        if len(target) > 36:
            raise InvalidInput(field, f"{part!r}: a commission id has at most 36 characters")
        wanted[target] = max(int(seq_text), wanted.get(target, 0))
    if len(wanted) > MAX_WAITED_COMMISSIONS:
        raise InvalidInput(field, f"at most {MAX_WAITED_COMMISSIONS} commissions")
    return wanted


def _may_wait_for(principal: Actor) -> ColumnElement[bool]:
    """The commissions whose projection the principal may wait for: those in its scope and,
    for an appraiser, every one of their institution's (an appraiser just assigned is in
    the commission's scope only once the acceptance that assigned them is projected)."""
    if principal.role != Role.APPRAISER:
        return scope_filter(principal)
    institution = select(Appraiser.institution_id).where(Appraiser.id == principal.organisation_id)
    return or_(scope_filter(principal), col(Commission.institution_id).in_(institution.scalar_subquery()))


async def await_read_model(
    *, session: AsyncSession, principal: Actor, wanted: dict[str, int], within_seconds: float
) -> None:
    """Returns once every wanted commission the principal may see has its read model at or
    past the sequence. One it may not see, or that does not exist, is not waited for, so
    the wait tells nothing of others' commissions (an entrustment answers only once its row
    exists, so a commission one was just given is never missing). Unavailable when the
    bound passes first."""
    if not wanted:
        return
    deadline = time.monotonic() + within_seconds
    pause = FIRST_LOOK_SECONDS
    visible = _may_wait_for(principal)
    while True:
        rows = await session.exec(
            select(Commission.id, Commission.last_event_seq).where(
                and_(col(Commission.id).in_(list(wanted)), visible)
            )
        )
        behind = {cid: wanted[cid] for cid, seq in rows.all() if seq < wanted[cid]}
        if not behind:
            return
        if time.monotonic() + pause > deadline:
            raise Unavailable(
                "read model",
                f"the read model has not reached sequence {behind} within {within_seconds:g} s; retry",
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, LAST_LOOK_SECONDS)
