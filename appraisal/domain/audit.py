"""Canonical form and hash chain of audit events (全程留痕)."""

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def report_hash(
    content: str,
    opinion: str,
    attachments: list[dict[str, str]],
    sections: dict[str, str] | None = None,
) -> str:
    """The report's one canonical hash: what every appraiser signs. The statutory sections
    beside content and opinion (domain/report_document.SECTIONS) count only when a report
    gives one, so a report without them keeps the hash it always had."""
    document: dict[str, object] = {"content": content, "opinion": opinion, "attachments": attachments}
    given = {name: text for name, text in (sections or {}).items() if text}
    if given:
        document["sections"] = given
    return hashlib.sha256(canonical_json(document)).hexdigest()


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    """hash = SHA-256(prev_hash ‖ canonical event), the event without its own hash."""
    return hashlib.sha256(prev_hash.encode() + canonical_json(event)).hexdigest()


def hash_of_heads(heads: list[tuple[str, int, str]]) -> str:
    """The anchor's hash: SHA-256 over `workflow_id:seq:hash` of each chain's head, one per
    line, in workflow id order."""
    lines = "\n".join(f"{workflow_id}:{seq}:{head}" for workflow_id, seq, head in sorted(heads))
    return hashlib.sha256(lines.encode()).hexdigest()
