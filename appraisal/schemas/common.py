"""What every request and response body shares: text that PostgreSQL and the audit
trail hold faithfully, ids, strict bodies, and the page of a list."""

import re
import unicodedata
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


def _nfc(value: Any) -> Any:
    """Unicode NFC, before the length bounds count characters."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def _refusing(forbidden: "re.Pattern[str]") -> AfterValidator:
    """Control characters (C0, DEL, C1) and lone surrogates, which PostgreSQL
    and the audit trail's canonical JSON cannot hold faithfully."""

    def check(value: str) -> str:
        found = forbidden.search(value)
        if found:
            raise ValueError(f"control character U+{ord(found.group()):04X} is not allowed")
        return value

    return AfterValidator(check)


Nfc = BeforeValidator(_nfc)
OneLine = _refusing(re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]"))
Lines = _refusing(re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]"))
"""Free text that may span lines: newline and tab allowed."""

# The same rules, stated in the OpenAPI document (the validators above say which character).
ONE_LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
LINES_PATTERN = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
StatedOneLine = Field(json_schema_extra={"pattern": ONE_LINE_PATTERN})
StatedLines = Field(json_schema_extra={"pattern": LINES_PATTERN})

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), Nfc, Lines, StatedLines
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Nfc, OneLine, StatedOneLine
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36), OneLine, StatedOneLine]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(
        description="how many match: exact when `total_exact`, else a lower bound (ask `count=exact`)"
    )
    limit: int
    offset: int
    total_exact: bool = Field(
        default=True,
        description="false when the count stopped early: more than `total` match",
    )
    has_more: bool = Field(default=False, description="another page follows, at `offset + limit`")
