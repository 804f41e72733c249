"""The entrusting organs of the registry (ENT-1): the courts (table `court`, as they always
were) and the procuratorates, public security organs and other investigative organs (table
`entrusting_organ`), looked up as one kind of thing: an organ with an id, a name, a kind and
the role its users act with."""

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Court, EntrustingOrgan
from appraisal.domain.errors import InvalidInput
from appraisal.domain.organs import OrganKind, role_of
from appraisal.domain.roles import Actor, Role


@dataclass(frozen=True)
class Organ:
    id: str
    name: str
    kind: str
    role: Role
    bureau_id: str


def _of_court(court: Court) -> Organ:
    return Organ(court.id, court.name, OrganKind.COURT, Role.COURT, court.bureau_id)


def _of_row(row: EntrustingOrgan) -> Organ:
    return Organ(row.id, row.name, row.kind, role_of(row.kind), row.bureau_id)


async def organ_of(*, session: AsyncSession, organ_id: str) -> Organ | None:
    """A court or another entrusting organ, by id (None: not in the registry)."""
    court = await session.get(Court, organ_id)
    if court is not None:
        return _of_court(court)
    row = await session.get(EntrustingOrgan, organ_id)
    return _of_row(row) if row is not None else None


async def organ_of_principal(*, session: AsyncSession, principal: Actor) -> Organ:
    """The organ a principal entrusts for: registered, and of the principal's role (the
    token's organisation was checked on the way in, so this is a bug if it fails)."""
    organ = await organ_of(session=session, organ_id=principal.organisation_id)
    if organ is None or organ.role != principal.role:
        raise InvalidInput("organisation", f"{principal.role} {principal.organisation_id} is not registered")
    return organ


async def list_organs(*, session: AsyncSession, kind: str | None = None) -> list[Organ]:
    """Every entrusting organ, courts first, each kind by name."""
    courts = [] if kind not in (None, OrganKind.COURT) else (await session.exec(select(Court))).all()
    query = select(EntrustingOrgan)
    if kind is not None:
        query = query.where(EntrustingOrgan.kind == kind)
    others = (await session.exec(query.order_by(col(EntrustingOrgan.kind), col(EntrustingOrgan.name)))).all()
    return sorted((_of_court(c) for c in courts), key=lambda o: o.name) + [_of_row(r) for r in others]


async def organ_name(*, session: AsyncSession, organ_id: str) -> str:
    """An entrusting organ's name; its id when it is not registered."""
    organ = await organ_of(session=session, organ_id=organ_id)
    return organ.name if organ else organ_id


async def organs_by_id(*, session: AsyncSession, ids: list[str]) -> dict[str, Organ]:
    """These organs (an unknown id is left out)."""
    courts = (await session.exec(select(Court).where(col(Court.id).in_(ids)))).all()
    others = (await session.exec(select(EntrustingOrgan).where(col(EntrustingOrgan.id).in_(ids)))).all()
    return {c.id: _of_court(c) for c in courts} | {o.id: _of_row(o) for o in others}


async def organ_names(*, session: AsyncSession, ids: list[str]) -> dict[str, str]:
    return {i: o.name for i, o in (await organs_by_id(session=session, ids=ids)).items()}
