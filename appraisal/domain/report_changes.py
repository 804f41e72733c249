"""What may follow an issued report within the same commission: a
supplementary appraisal (补充鉴定, PROC-30) by the same appraisers under a new
examination clock, and a correction (补正, PROC-28) of listed defect kinds
that must not change the opinion. Both make a new report version linked to
the one before; earlier versions are kept."""

from dataclasses import dataclass, field

from appraisal.domain.commission import Material
from appraisal.domain.roles import Actor

SUPPLEMENTARY_GROUNDS: dict[str, str] = {
    "PROC-30-1": "a matter of the original commission was omitted",
    "PROC-30-2": "the court supplies new materials",
    "PROC-30-3": "another reason for supplementing the original opinion",
}

CORRECTION_KINDS: dict[str, str] = {
    "PROC-28-1": "unclear images, spectra or tables",
    "PROC-28-2": "a defect in a signature, seal or number",
    "PROC-28-3": "a wording error that does not affect the opinion",
}


@dataclass
class SupplementaryRequest:
    actor: Actor
    ground: str
    reason: str
    materials: list[Material] = field(default_factory=list)


@dataclass
class CorrectionSubmission:
    actor: Actor
    defect_kind: str
    description: str
    content: str
    opinion: str
    attachments: list[Material] = field(default_factory=list)
    examination_period: str = ""
    """鉴定日期 (the statutory sections, domain/report_document.SECTIONS; empty: not given)."""
    place: str = ""
    present: str = ""
    examinee: str = ""
    case_summary: str = ""
    materials_summary: str = ""
    analysis: str = ""
