"""Request and response bodies of the registry writes, the selection re-run and
the random inspections (双随机一公开)."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator

from appraisal.schemas.common import Id, Nfc, OneLine, ShortText, StatedOneLine, Strict, Text

MAX_SEED = 2**63 - 1


def _distinct(values: list[str]) -> list[str]:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"listed more than once: {', '.join(repeated)}")
    return values


Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,59}$")]
Categories = Annotated[
    list[Category],
    Field(min_length=1, max_length=20, description="registered categories, e.g. forensic_clinical"),
    AfterValidator(_distinct),
]
PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Nfc, OneLine, StatedOneLine
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=4000), Nfc, OneLine, StatedOneLine
]


class InstitutionCreate(Strict):
    name: ShortText
    categories: Categories
    licence_valid_until: date | None = Field(default=None, description="last valid day of the 许可证")
    founding_organ_kind: Literal["social", "investigative_organ"] = Field(
        default="social",
        description="who set it up: investigative_organ (侦查机关) is never offered for an outside commission "
        "(REG-11); a new one is better admitted through POST /v1/admissions",
    )
    reason: Reason = ""


class AppraiserCreate(Strict):
    name: PersonName
    institution_id: Id = Field(description="an institution under the caller's bureau")
    categories: Categories = Field(description="within the institution's registered categories (REG-1)")
    senior_title: bool = False
    licence_valid_until: date | None = Field(default=None, description="last valid day of the 执业证")
    reason: Reason = ""


class _Update(Strict):
    licence_valid_until: date | None = Field(
        default=None, description="a new last valid day (renewal, REG-8); null clears it"
    )
    reason: Reason = ""

    @model_validator(mode="after")
    def changes_something(self) -> "_Update":
        changed = self.model_fields_set - {"reason"}
        if not changed:
            raise ValueError("name at least one field to change")
        nulled = sorted(f for f in changed if f != "licence_valid_until" and getattr(self, f) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null")
        return self


class InstitutionUpdate(_Update):
    name: ShortText | None = None
    categories: Categories | None = None


class AppraiserUpdate(_Update):
    name: PersonName | None = None
    categories: Categories | None = None
    senior_title: bool | None = None


class RegistryStatusCreate(Strict):
    status: Literal["active", "suspended", "revoked"]
    reason: Text = Field(description="the decision and its ground (REG-3, REG-6, REG-7)")
    until: date | None = Field(default=None, description="a suspension's last day; it lapses after it")

    @model_validator(mode="after")
    def until_only_for_a_suspension(self) -> "RegistryStatusCreate":
        if self.until is not None and self.status != "suspended":
            raise ValueError("until is only for status suspended")
        return self


Period = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]


class InspectionCreate(Strict):
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, description="default: a fresh random seed")
    institutions: int = Field(ge=1, le=100, description="how many active institutions to draw")
    case_files_per_institution: int = Field(ge=1, le=100, description="commissions drawn of each")
    inspectors: int = Field(ge=1, le=50, description="drawn from the bureau's inspector list")
    period: Period | None = Field(default=None, description="YYYY-MM: only commissions received that month")


class InspectionDraw(BaseModel):
    institutions: list[str]
    case_files: dict[str, list[str]] = Field(description="by institution id")
    inspectors: list[str]


class InspectionCandidates(InspectionDraw):
    weights: dict[str, int] = Field(
        default_factory=dict,
        description="each institution's weight by its latest published integrity grade "
        "(EVL-7; lower grades are drawn more often); none in draws made before grades weighed",
    )


class InspectionPublic(BaseModel):
    id: str
    bureau_id: str
    period: str
    seed: int
    institutions: int
    case_files_per_institution: int
    inspectors: int
    origin: str = Field(description="manual (POST) or scheduled (the monthly draw)")
    drawn_by: str
    drawn_at: datetime
    candidates: InspectionCandidates = Field(description="every list drawn from, each sorted by id")
    picks: InspectionDraw
    reproduced: bool = Field(description="re-running the draw from seed and candidates gives the same picks")


class SelectionPublic(BaseModel):
    commission_id: str
    mode: str
    institution_id: str = Field(description="the institution recorded at entrustment")
    seed: str
    candidates: list[str]
    recomputed_institution_id: str | None = Field(
        default=None, description="the random draw re-run now from seed and candidates"
    )
    reproduced: bool | None = Field(default=None, description="null unless the mode is random")
    event_verified: bool = Field(description="the entrustment event still hashes to its recorded hash")


class RegisteredKeyPublic(BaseModel):
    """An appraiser's registered Ed25519 public key (base64 of the raw 32 bytes)."""

    fingerprint: str
    appraiser_id: str
    public_key: str
    valid_from: date
    valid_until: date | None = None
