"""The workspace's one message catalogue: gettext .po files (Babel) under locale/, Chinese
(zh_CN) first and English (en) beside it, keyed by the code a page would otherwise show
raw (msgctxt names its kind: stage, task, event, role, category, status, complaint_stage).
A page shows "中文 English"; a code missing from the catalogue shows as itself, and a test
holds the catalogue to every stage, task and audit event the workflows produce."""

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("zh_CN", "en")
"""Chinese first: what a label shows, in order."""


@cache
def catalogue(locale: str) -> dict[tuple[str, str], str]:
    """(context, code) → text, for one locale."""
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {(str(m.context), str(m.id)): str(m.string) for m in read_po(po) if m.id and m.string}


def label(code: object, context: str) -> str:
    """The code's Chinese and English text ("鉴定中 Examining"); the code when it has none."""
    texts = [catalogue(locale).get((context, str(code))) for locale in LOCALES]
    return " ".join(t for t in texts if t) or str(code)


def labels(context: str) -> dict[str, str]:
    """Every code of a kind, with its label, in the catalogue's order."""
    return {code: label(code, context) for kind, code in catalogue(LOCALES[0]) if kind == context}
