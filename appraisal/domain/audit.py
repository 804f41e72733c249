"""Canonical form and hash chain of audit events (全程留痕)."""

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    """hash = SHA-256(prev_hash ‖ canonical event), the event without its own hash."""
    return hashlib.sha256(prev_hash.encode() + canonical_json(event)).hexdigest()
