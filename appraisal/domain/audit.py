"""Canonical form and hash chain of audit events (全程留痕)."""

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def report_hash(content: str, opinion: str, attachments: list[dict[str, str]]) -> str:
    """The report's one canonical hash: what every appraiser signs."""
    document = {"content": content, "opinion": opinion, "attachments": attachments}
    return hashlib.sha256(canonical_json(document)).hexdigest()


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    """hash = SHA-256(prev_hash ‖ canonical event), the event without its own hash."""
    return hashlib.sha256(prev_hash.encode() + canonical_json(event)).hexdigest()
