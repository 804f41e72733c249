"""The audit event: one link of a commission's hash chain."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from appraisal.domain.commission import CommissionSnapshot


@dataclass
class AuditEvent:
    workflow_id: str
    commission_id: str
    seq: int
    kind: str
    actor_role: str
    actor_organisation_id: str
    actor_subject: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""

    def chained_fields(self) -> dict[str, Any]:
        """What the hash covers: every field but the hash itself."""
        return chained_fields(self)


class ChainLink(Protocol):
    workflow_id: str
    commission_id: str
    seq: int
    kind: str
    actor_role: str
    actor_organisation_id: str
    actor_subject: str
    occurred_at: datetime
    data: dict[str, Any]
    prev_hash: str


def chained_fields(event: ChainLink) -> dict[str, Any]:
    """The canonical content of an event, the same whether it is the workflow's
    dataclass or a row read back from PostgreSQL years later."""
    return {
        "workflow_id": event.workflow_id,
        "commission_id": event.commission_id,
        "seq": event.seq,
        "kind": event.kind,
        "actor": {
            "role": event.actor_role,
            "organisation_id": event.actor_organisation_id,
            "subject": event.actor_subject,
        },
        "occurred_at": event.occurred_at.isoformat(),
        "data": event.data,
        "prev_hash": event.prev_hash,
    }


@dataclass
class Receiver:
    """Who a notification goes to: a role and its organisation id."""

    role: str
    organisation_id: str
    message: str = ""
    """This receiver's own line, instead of the event's (a party's, in words a party reads)."""


@dataclass
class RecordEventInput:
    event: AuditEvent
    snapshot: CommissionSnapshot
    notify: list[Receiver] = field(default_factory=list)
    message: str = ""
    """One line for the receivers; the event itself goes along as the payload."""


@dataclass
class RecordResult:
    pending_deliveries: int = 0
    """Notifications of the event whose receiver has a webhook to deliver to."""


@dataclass
class DeliveryRequest:
    workflow_id: str
    event_seq: int


@dataclass
class DeliveryResult:
    delivered: int = 0
    without_endpoint: int = 0
