"""Request and response bodies of the registry writes, the selection re-run and
the random inspections (双随机一公开)."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

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
LicenceNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=40), Nfc, OneLine, StatedOneLine
]
ShortLine = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=40), Nfc, OneLine, StatedOneLine
]
Address = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), Nfc, OneLine, StatedOneLine
]


class InstitutionCreate(Strict):
    name: ShortText
    categories: Categories
    licence_valid_until: date | None = Field(default=None, description="last valid day of the 许可证")
    licence_number: LicenceNumber = Field(default="", description="司法鉴定许可证号, printed on its reports")
    short_name: ShortLine = Field(
        default="", description="缩略名: how its report numbers begin (e.g. 西南司鉴中心); default its name"
    )
    address: Address = Field(default="", description="printed on its reports' declaration page")
    phone: ShortLine = Field(default="", description="printed on its reports' declaration page")
    reason: Reason = ""
    founded_by_organ_id: Id | None = Field(
        default=None,
        description="the investigative organ (a public security organ, a procuratorate, another "
        "investigative organ) that set the institution up for its investigations: it then takes "
        "commissions only from that organ's system, none from outside (ENT-3)",
    )


class AppraiserCreate(Strict):
    name: PersonName
    institution_id: Id = Field(description="an institution under the caller's bureau")
    categories: Categories = Field(description="within the institution's registered categories (REG-1)")
    senior_title: bool = False
    licence_valid_until: date | None = Field(default=None, description="last valid day of the 执业证")
    licence_number: LicenceNumber = Field(
        default="", description="《司法鉴定人执业证》证号, printed beside the appraiser's signature"
    )
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
    licence_number: LicenceNumber | None = None
    short_name: ShortLine | None = None
    address: Address | None = None
    phone: ShortLine | None = None


class AppraiserUpdate(_Update):
    name: PersonName | None = None
    categories: Categories | None = None
    senior_title: bool | None = None
    licence_number: LicenceNumber | None = None


class RegistryStatusCreate(Strict):
    status: Literal["active", "suspended", "revoked", "deregistered"]
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
    closed_at: datetime | None = Field(default=None, description="when its results were recorded (then 公开)")
    closed_by: str = ""
    results: list[dict[str, Any]] = Field(
        default_factory=list,
        description="per institution inspected: `institution_id`, `conclusion` (no_issue, rectification or "
        "penalty_referral) and `summary`",
    )


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


class SealCertificatePublic(BaseModel):
    """A seal certificate the bureau's authority issued to an institution."""

    serial: str = Field(description="hex, as CRLs and `appraisal verify` print it")
    institution_id: str
    subject: str
    certificate_pem: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    revoked_at: datetime | None = None
    revocation_reason: str = Field(default="", description="suspended (certificate hold) or revoked")
