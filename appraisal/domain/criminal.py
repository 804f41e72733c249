"""Appraisal in a criminal case before trial (RULES.md PROC-36, CAL-4): the investigating organ
tells the suspect and the victim of an opinion it uses as evidence (CPL Art 148); either may
apply for a supplementary appraisal or a re-appraisal; the organ decides, with reasons, and
tells an applicant it refuses in writing within 3 days (公安部令159 Arts 254-255), a period
a holiday does not extend while the suspect is in custody (CAL-4). And the hand-over of a
commission's record when the case moves on (ENT-4). The messages that cross Temporal: new
fields always get defaults."""

from dataclasses import dataclass, field

from appraisal.domain.roles import Actor

PERSON_ROLES: dict[str, str] = {
    "suspect": "犯罪嫌疑人 the suspect",
    "victim": "被害人 the victim",
    "legal_representative": "法定代理人 a legal representative",
    "near_relative": "近亲属 a near relative (the victim dead or without capacity)",
    "litigation_agent": "诉讼代理人 a litigation agent",
}
"""Who is told of the opinion and who may apply (CPL Art 148; 公安部令159 Art 252: or their legal
representative; 人民检察院刑事诉讼规则 Art 221: a dead or incapable victim's near relative or agent)."""

APPLICATION_KINDS = ("supplementary", "reappraisal")

SUPPLEMENTARY_APPLICATION_GROUNDS: dict[str, str] = {
    "PROC-36-S1": "the appraisal clearly left out part of what was entrusted",
    "PROC-36-S2": "new exhibits that matter to the appraisal were found",
    "PROC-36-S3": "there is a new requirement for the exhibits appraised",
    "PROC-36-S4": "the opinion is incomplete: the matter entrusted cannot be settled",
    "PROC-36-S5": "another reason for a supplementary appraisal",
}
"""公安机关办理刑事案件程序规定 (公安部令159) Art 254 (一)-(五): when a supplementary appraisal is due."""

REAPPRAISAL_APPLICATION_GROUNDS: dict[str, str] = {
    "PROC-36-R1": "the procedure broke the law or the technical norms",
    "PROC-36-R2": "the institution or an appraiser lacked the qualification",
    "PROC-36-R3": "an appraiser appraised falsely on purpose or did not recuse",
    "PROC-36-R4": "the opinion clearly lacks a basis",
    "PROC-36-R5": "the exhibits were false or damaged",
    "PROC-36-R6": "another reason for a re-appraisal",
}
"""公安机关办理刑事案件程序规定 (公安部令159) Art 255 (一)-(六): when a re-appraisal is due."""

APPLICATION_GROUNDS = {**SUPPLEMENTARY_APPLICATION_GROUNDS, **REAPPRAISAL_APPLICATION_GROUNDS}


@dataclass
class NotifiedPerson:
    role: str
    """A PERSON_ROLES key."""
    name: str


@dataclass
class OpinionNotice:
    """The organ told these people of the opinion (the report version in force) it uses as evidence."""

    actor: Actor
    persons: list[NotifiedPerson] = field(default_factory=list)
    notified_on: str = ""
    note: str = ""


@dataclass
class OpinionNoticeSnapshot:
    version: int
    persons: list[NotifiedPerson]
    notified_on: str
    notified_by: str
    note: str = ""


@dataclass
class ApplicationReceipt:
    """A notified person applies for a supplementary appraisal or a re-appraisal."""

    actor: Actor
    applicant_role: str
    applicant_name: str
    kind: str
    """supplementary or reappraisal."""
    reason: str
    received_on: str = ""


@dataclass
class ApplicationDecision:
    actor: Actor
    application_id: str
    granted: bool
    reason: str
    ground: str = ""
    """A granted application's ground (APPLICATION_GROUNDS of its kind)."""
    in_custody: bool = False
    """The suspect is in custody: the written notice of a refusal is counted under CAL-4."""


@dataclass
class ApplicantNotice:
    """The applicant refused was told in writing (the end of the PROC-36 clock)."""

    actor: Actor
    application_id: str
    notified_on: str = ""
    note: str = ""


@dataclass
class ApplicationSnapshot:
    id: str
    applicant_role: str
    applicant_name: str
    kind: str
    reason: str
    received_on: str
    of_version: int
    status: str = "pending"
    """pending; granted (a supplementary appraisal started, or a re-appraisal to order); refused
    (awaiting the written notice); notified (the applicant was told in writing)."""
    decided_on: str | None = None
    decision_reason: str = ""
    ground: str = ""
    in_custody: bool = False
    notified_on: str | None = None
    late: bool = False
    """The written notice came after the PROC-36 period."""


@dataclass
class CaseTransferRecord:
    """ENT-4: the case this commission belongs to moved on to a later organ, with its record.
    Recorded once per transfer (a repeat with the same id is a no-op)."""

    actor: Actor
    transfer_id: str
    from_organ_id: str
    from_case_number: str
    to_organ_id: str
    to_role: str
    to_kind: str
    to_case_number: str
    transferred_on: str
    note: str = ""


@dataclass
class TransferSnapshot:
    transfer_id: str
    from_organ_id: str
    from_case_number: str
    to_organ_id: str
    to_role: str
    to_kind: str
    to_case_number: str
    transferred_on: str
