"""Personal signatures (鉴定人负责制): each appraiser signs the report's
canonical hash, or a dissent statement bound to it, with their own Ed25519
key. Anyone holding the public keys can check who signed what, years later."""

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from appraisal.domain.audit import canonical_json


def signed_message(kind: str, report_hash: str, statement: str = "") -> bytes:
    """What an appraiser signs: the report hash itself, or for a dissent the
    hash of the statement bound to that report hash."""
    if kind == "sign":
        return report_hash.encode()
    return (
        hashlib.sha256(canonical_json({"report_hash": report_hash, "statement": statement}))
        .hexdigest()
        .encode()
    )


def interference_message(*, commission_id: str, who: str, occurred_at: str, what: str, hidden: bool) -> bytes:
    """What an appraiser signs when recording an attempt to interfere (IND-1): the hex SHA-256
    of the canonical JSON of the record (the browser computes the same, web/static/steps.js)."""
    record = {
        "commission_id": commission_id,
        "hidden": hidden,
        "occurred_at": occurred_at,
        "what": what,
        "who": who,
    }
    return hashlib.sha256(canonical_json(record)).hexdigest().encode()


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def fingerprint(public_key: str) -> str:
    """SHA-256 of the raw public key, hex: what the report and the registry show."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode()


def verify(public_key: str, message: bytes, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True)).verify(
            base64.b64decode(signature, validate=True), message
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def demo_private_key(appraiser_id: str) -> Ed25519PrivateKey:
    """Demo appraisers only: a key derived from their id, so the demo can sign
    for them. Real appraisers keep their private key off the server."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"demo-key:{appraiser_id}".encode()).digest())
