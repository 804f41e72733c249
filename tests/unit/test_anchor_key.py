"""The bureau's anchor-signing key: required in production, a demo key elsewhere, refused
when it is not a raw 32-byte Ed25519 key."""

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from appraisal.core.anchor_file import anchor_key
from appraisal.core.settings import Settings
from appraisal.core.signing import public_key_b64

SECRET = "s" * 40


def test_production_needs_the_bureau_key_and_dev_signs_with_a_demo_one() -> None:
    with pytest.raises(ValidationError, match="ANCHOR_SIGNING_KEY is needed in production"):
        Settings(environment="production", jwt_secret=SECRET, seal_dir=Path("/seal"))
    key = base64.b64encode(bytes(range(32))).decode()
    configured = Settings(
        environment="production", jwt_secret=SECRET, anchor_signing_key=key, seal_dir=Path("/seal")
    )
    demo = Settings(environment="dev")
    assert public_key_b64(anchor_key(configured.anchor_signing_key)) != public_key_b64(anchor_key(""))
    assert public_key_b64(anchor_key(demo.anchor_signing_key)) == public_key_b64(anchor_key(""))
    assert demo.anchor_folder() == demo.data_dir / "anchors"


@pytest.mark.parametrize(
    ("value", "message"),
    [("not base64!", "not base64"), (base64.b64encode(b"short").decode(), "32 bytes")],
)
def test_a_key_that_is_not_a_raw_ed25519_key_is_refused(value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(environment="test", jwt_secret=SECRET, anchor_signing_key=value)
