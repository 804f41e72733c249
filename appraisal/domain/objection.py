"""Objections to an issued opinion (CRT-7, CRT-8): the court forwards a
party's written objection with a reply period it sets (natural days); the
appraisers answer in writing; an objection still maintained after the answer
leads to testimony, or is deemed waived if the appearance fee is not prepaid."""

from dataclasses import dataclass

from appraisal.domain.roles import Actor

MAX_REPLY_DAYS = 90
"""A sanity bound on the court-set period, so a typo cannot park the clock for years."""

RESOLUTIONS: dict[str, str] = {
    "withdrawn": "the party withdrew the objection after the written answer",
    "maintained": "the objection stands after the written answer: the court will summon the appraisers (CRT-8)",
    "waived": "the appearance fee was not prepaid: the objection is deemed waived (CRT-8)",
}


@dataclass
class ObjectionForward:
    actor: Actor
    party: str
    content: str
    reply_by: str
    """The last day of the court-set period (YYYY-MM-DD)."""
    party_request_id: str = ""
    """The objection a party filed through the workspace that the court forwards with this."""


@dataclass
class ObjectionReply:
    actor: Actor
    objection_id: str
    content: str


@dataclass
class ObjectionResolution:
    actor: Actor
    objection_id: str
    resolution: str
    note: str = ""


@dataclass
class ObjectionSnapshot:
    id: str
    party: str
    content: str
    forwarded_on: str
    reply_by: str
    status: str = "awaiting_reply"
    """awaiting_reply, answered, withdrawn, maintained or waived."""
    reply: str = ""
    replied_by: str = ""
    replied_on: str | None = None
    late: bool = False
    resolution_note: str = ""
    party_id: str = ""
    """The registered party who filed it (when it came as a party's request)."""
