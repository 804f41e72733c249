"""A material (鉴定材料) as the messages crossing Temporal name it: its name and the SHA-256 of its
content (the file itself stays with whoever holds it)."""

from dataclasses import dataclass


@dataclass
class Material:
    name: str
    sha256: str
