"""The daily anchor as a document outside the database: every chain's head at the end of a
day, their hash, signed with the bureau's Ed25519 key. An operator archives the files (or
ships them elsewhere); `appraisal anchor verify FILE` checks the signature against the
bureau's public key and the trail in PostgreSQL against every head, years later, so that
rewriting the database, however consistently, shows against a copy it cannot reach."""

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appraisal.core.signing import public_key_b64, sign, verify
from appraisal.domain.audit import canonical_json, hash_of_heads

DEMO_ANCHOR_SEED = b"demo-key:audit-anchor"


def anchor_key(configured: str) -> Ed25519PrivateKey:
    """The key ANCHOR_SIGNING_KEY holds (base64 of the raw 32 bytes), or in dev and tests,
    where none is configured, a demo key derived from a fixed seed."""
    if configured:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(configured, validate=True))
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(DEMO_ANCHOR_SEED).digest())


def document(
    *,
    day: str,
    heads: list[tuple[str, int, str]],
    heads_hash: str,
    key: Ed25519PrivateKey,
    court_id: str = "",
) -> dict[str, Any]:
    """The whole day's anchor, or with `court_id` one court's copy: the heads of that court's
    commissions alone (nothing of other courts'), beside the whole anchor's hash."""
    unsigned: dict[str, Any] = {
        "day": day,
        "heads_hash": heads_hash,
        "chains": len(heads),
        "heads": [{"workflow_id": w, "seq": seq, "hash": h} for w, seq, h in sorted(heads)],
        "public_key": public_key_b64(key),
    }
    if court_id:
        unsigned |= {
            "court_id": court_id,
            "heads_hash": hash_of_heads(heads),
            "anchor_heads_hash": heads_hash,
        }
    return {**unsigned, "signature": sign(key, canonical_json(unsigned))}


def signed_by(doc: dict[str, Any], public_key: str) -> bool:
    """The document is unchanged since the holder of `public_key` signed it."""
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    return unsigned.get("public_key") == public_key and verify(
        public_key, canonical_json(unsigned), str(doc.get("signature", ""))
    )


def write(folder: Path, doc: dict[str, Any]) -> Path:
    """`audit-anchor-<day>.json` in the folder, replaced whole (the same day gives the same file)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"audit-anchor-{doc['day']}.json"
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(path)
    return path
