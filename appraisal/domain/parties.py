"""The parties (当事人) of a commission as principals: registered by the organ that entrusted it,
each sees that commission alone (its stage, clocks, the institution and how it was chosen, the
materials, the report once the organ releases it) and acts through the organ: materials it
offers, an objection for the court to forward, a complaint to the bureau, its answer to a fee
quote it pays. Messages crossing Temporal; the checks are in commission_checks.py.

New fields always get defaults so running workflows keep replaying."""

from dataclasses import dataclass, field

from appraisal.domain.materials import Material
from appraisal.domain.roles import Actor

SIDES: dict[str, str] = {
    "plaintiff": "原告 plaintiff",
    "defendant": "被告 defendant",
    "third_party": "第三人 third party",
    "applicant": "申请人 applicant",
    "respondent": "被申请人 respondent",
    "suspect": "犯罪嫌疑人 suspect",
    "victim": "被害人 victim",
    "other": "其他当事人 another party",
}
"""Which side of the case a party is on (as the organ registers it)."""

REQUEST_KINDS: dict[str, str] = {
    "materials": "materials offered through the entrusting organ (PROC-02: the organ supplies them)",
    "objection": "an objection to the issued opinion, for the court to forward (CRT-7)",
}

MAX_PARTIES = 20
"""Parties one commission registers at most."""

STAGE_WORDS: dict[str, str] = {
    "awaiting_acceptance": "等待受理 awaiting acceptance",
    "awaiting_materials": "等待补充材料 awaiting materials",
    "examining": "鉴定中 examining",
    "signing": "鉴定人签署中 being signed",
    "awaiting_issue": "等待签发 awaiting issue",
    "issued": "已出具鉴定意见 report issued",
    "in_testimony": "出庭作证 in testimony",
    "closed": "已结案 closed",
    "refused": "不予受理 refused",
    "terminated": "终止鉴定 terminated",
    "withdrawn": "已撤回 withdrawn",
    "reassigned": "另行委托 re-entrusted elsewhere",
}
"""The words of the messages a party gets when its commission moves (the workspace's own labels
are in its catalogue; a message leaves the product as plain text)."""


@dataclass
class PartyRecord:
    party_id: str
    name: str
    side: str


@dataclass
class PartyRegistration:
    actor: Actor
    parties: list[PartyRecord] = field(default_factory=list)


@dataclass
class PartySnapshot:
    party_id: str
    name: str
    side: str
    registered_on: str


@dataclass
class PartyRequest:
    """What a party asks the entrusting organ to pass on."""

    actor: Actor
    kind: str
    content: str = ""
    materials: list[Material] = field(default_factory=list)


@dataclass
class PartyRequestSnapshot:
    id: str
    party_id: str
    kind: str
    submitted_on: str
    content: str = ""
    materials: list[Material] = field(default_factory=list)
    status: str = "pending"
    """pending, then accepted (the organ took it into its supply of materials or forwarded the
    objection) or declined (with its reasons)."""
    decided_on: str | None = None
    decision_reason: str = ""
    handled_as: str = ""
    """What accepting it became: "materials" (supplied), or the forwarded objection's id."""


@dataclass
class PartyRequestDecline:
    actor: Actor
    request_id: str
    reason: str


@dataclass
class ReportRelease:
    """The entrusting organ lets the parties see the issued report (its current version)."""

    actor: Actor
    note: str = ""
