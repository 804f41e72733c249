from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    COURT = "court"
    INSTITUTION = "institution"
    INSTITUTION_HEAD = "institution_head"
    APPRAISER = "appraiser"
    SUPERVISOR = "supervisor"
    PROCURATORATE = "procuratorate"
    """A people's procuratorate (人民检察院): entrusts during review for prosecution and in
    the cases it investigates itself."""
    PUBLIC_SECURITY = "public_security"
    """A public security organ (公安机关): entrusts during investigation (侦查)."""
    INVESTIGATIVE_ORGAN = "investigative_organ"
    """Another investigative organ (其他侦查机关: state security, customs anti-smuggling,
    the coast guard, a prison, the army's security department); its kind is in the registry."""
    EXPERT = "expert"
    """A member of the bureau's expert pool (专家库), drawn to review registration applications."""
    PARTY = "party"
    """A party (当事人) of one commission, registered by the organ that entrusted it: its
    "organisation" is its registration (`commission_party`), so it sees that commission alone."""


ENTRUSTING_ROLES: tuple[Role, ...] = (
    Role.COURT,
    Role.PROCURATORATE,
    Role.PUBLIC_SECURITY,
    Role.INVESTIGATIVE_ORGAN,
)
"""Who entrusts (委托人, 办案机关): a people's court, and every organ the law lets appraise in a
criminal case (CPL Art 146; 通则 Art 11 "办案机关"). Each has its own users, tokens and scope."""

INVESTIGATING_ROLES: tuple[Role, ...] = (Role.PROCURATORATE, Role.PUBLIC_SECURITY, Role.INVESTIGATIVE_ORGAN)
"""The entrusting organs of a criminal case before trial: they tell the suspect and the victim
of an opinion used as evidence and decide their applications (PROC-36, CPL Art 148)."""


STAFF_ROLES: tuple[Role, ...] = tuple(r for r in Role if r != Role.PARTY)
"""Everyone who works on commissions (the organs, the institutions, the appraisers, the bureau):
every role but a party's."""


@dataclass(frozen=True)
class Actor:
    """Who acts: travels into every Update so the workflow re-checks it and the
    audit trail records it. `organisation_id` is the court (or other entrusting organ),
    institution, appraiser or bureau id the principal belongs to (API.md)."""

    role: str
    organisation_id: str
    subject: str
