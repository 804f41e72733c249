"""Every entrusting organ, not only courts (公检法): which kinds of organ entrust and with which
role, how each numbers its cases and so which kind of case a commission is (ENT-2), which
institutions an organ may entrust (ENT-3), and where a case goes next when it moves on with
its record (ENT-4). Pure: the registry's rows come in as plain values."""

from enum import StrEnum

from appraisal.domain.errors import InvalidInput, RuleViolation
from appraisal.domain.roles import Role
from appraisal.domain.rules import CASE_NUMBER_FORMATS, INVESTIGATIVE_KINDS, CaseNumberFormat
from appraisal.domain.testimony import CaseKind, case_kind_of


class OrganKind(StrEnum):
    COURT = "court"
    PROCURATORATE = "procuratorate"
    PUBLIC_SECURITY = "public_security"
    STATE_SECURITY = "state_security"
    CUSTOMS_ANTI_SMUGGLING = "customs_anti_smuggling"
    COAST_GUARD = "coast_guard"
    PRISON = "prison"
    MILITARY_SECURITY = "military_security"


ROLE_OF_KIND: dict[str, Role] = {
    OrganKind.COURT: Role.COURT,
    OrganKind.PROCURATORATE: Role.PROCURATORATE,
    OrganKind.PUBLIC_SECURITY: Role.PUBLIC_SECURITY,
    **{kind: Role.INVESTIGATIVE_ORGAN for kind in INVESTIGATIVE_KINDS},
}
"""The role an organ's users and tokens act with, by the organ's kind."""

ORGAN_KINDS = tuple(k.value for k in OrganKind if k != OrganKind.COURT)
"""The kinds the `entrusting_organ` table holds (courts are in `court`, as they always were)."""

INVESTIGATIVE_FOUNDERS = frozenset(ORGAN_KINDS)
"""Who may have set up an institution for its investigations (ENT-3): every investigative organ,
the procuratorate for the cases it investigates itself; never a court (NPC Decision §7)."""


def role_of(kind: str) -> Role:
    try:
        return ROLE_OF_KIND[kind]
    except KeyError:
        raise InvalidInput("kind", f"{kind} is not a kind of entrusting organ") from None


def case_number_format(kind: str) -> CaseNumberFormat:
    return next(f for f in CASE_NUMBER_FORMATS if kind in f.organ_kinds)


def check_case_number(case_number: str, *, kind: str, field: str = "case_number") -> None:
    """ENT-2: an organ other than a court numbers its cases its own way, and a number in another
    shape is refused (a court's number is taken as it comes, as it always was)."""
    rule = case_number_format(kind)
    if rule.strict and not rule.matches(case_number):
        raise InvalidInput(
            field,
            f"{case_number!r} is not a case number of a {kind} (e.g. {rule.example}; {rule.rule_id})",
        )


def check_criminal_case_number(case_number: str, *, kind: str, field: str) -> None:
    """ENT-2 for a case handed over (ENT-4): the receiving organ's number, in its format and of
    a criminal case (a court's number is held to its format here: 刑 as its type character)."""
    rule = case_number_format(kind)
    if not rule.matches(case_number) or case_kind(case_number, kind=kind) != CaseKind.CRIMINAL:
        raise InvalidInput(
            field,
            f"{case_number!r} is not a criminal case number of a {kind} (e.g. {rule.example}; {rule.rule_id})",
        )


def case_kind(case_number: str, *, kind: str) -> CaseKind:
    """Which kind of case a commission is: by the court's type character (刑, 行; civil otherwise)
    for a court's number; criminal for every other organ's (ENT-2)."""
    rule = case_number_format(kind)
    if rule.case_kind is None:
        return case_kind_of(case_number)
    return CaseKind(rule.case_kind)


def institution_closed_to(
    *, founded_by_kind: str | None, founded_by_id: str | None, organ_kind: str, organ_id: str
) -> str | None:
    """ENT-3: why an institution an investigative organ set up may not take this organ's
    commission (None: it may). Only its founding organ and organs of the same investigative
    system (the same kind) entrust it; it takes nothing from outside (面向社会)."""
    if not founded_by_id:
        return None
    if organ_id == founded_by_id or organ_kind == founded_by_kind:
        return None
    return f"it was set up by a {founded_by_kind} for its investigations and takes no outside commission"


def check_open_to(
    *, founded_by_kind: str | None, founded_by_id: str | None, organ_kind: str, organ_id: str, name: str
) -> None:
    closed = institution_closed_to(
        founded_by_kind=founded_by_kind, founded_by_id=founded_by_id, organ_kind=organ_kind, organ_id=organ_id
    )
    if closed:
        raise RuleViolation("institution_not_open", f"institution {name}: {closed}", rule="ENT-3")


NEXT_ORGANS: dict[str, tuple[str, ...]] = {
    **{kind: (OrganKind.PROCURATORATE,) for kind in (OrganKind.PUBLIC_SECURITY, *INVESTIGATIVE_KINDS)},
    OrganKind.PROCURATORATE: (OrganKind.COURT,),
}
"""ENT-4: where a case goes when it moves on with its record: from investigation to the
procuratorate (移送审查起诉, CPL Art 162), from the procuratorate to the court (提起公诉, CPL Art 176)."""


def check_transfer(*, from_kind: str, to_kind: str) -> None:
    allowed = NEXT_ORGANS.get(from_kind, ())
    if to_kind not in allowed:
        where = " or ".join(allowed) or "nowhere: its cases end there"
        raise RuleViolation(
            "transfer_not_allowed",
            f"a case moves from a {from_kind} to a {where}, not to a {to_kind}",
            rule="ENT-4",
        )
