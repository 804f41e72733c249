"""Makes the fonts the report PDF embeds: subsets of Noto Serif CJK SC (SIL OFL 1.1) with
TrueType outlines (reportlab embeds TrueType-outline fonts only), written to
appraisal/assets/fonts/. A maintainer's tool, run once when the character set changes;
the product only reads its output.

    python scripts/make_report_fonts.py NotoSerifCJK-Regular.ttc NotoSerifCJK-Bold.ttc

The .ttc files are the Noto CJK project's releases (Debian's fonts-noto-cjk installs them
under /usr/share/fonts/opentype/noto/). Needs fontTools (`pip install fonttools`).

The regular weight covers every character GBK encodes (GB2312's 6,763 hanzi and the
symbols, and all 20,902 CJK unified ideographs of GB 13000.1, so rare characters of
personal names print), printable ASCII, Latin-1 and the general punctuation; the bold
weight, used for titles and headings only, covers GB2312 and ASCII."""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

SC_INDEX = 2  # Noto Serif CJK's collection: JP, KR, SC, TC, HK
OUT = Path(__file__).resolve().parent.parent / "appraisal" / "assets" / "fonts"
MAX_ERROR = 1.0  # font units: how far the quadratic outlines may stray from the cubic ones


def codec_chars(codec: str) -> set[int]:
    chars: set[int] = set()
    for high in range(0x81, 0xFF):
        for low in range(0x40, 0xFF):
            try:
                text = bytes([high, low]).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(text) == 1:
                chars.add(ord(text))
    return chars


def base_chars() -> set[int]:
    return (
        set(range(0x20, 0x7F))
        | set(range(0xA0, 0x100))
        | set(range(0x2000, 0x2070))  # general punctuation
        | set(range(0x2460, 0x24A0))  # circled numbers ①
        | set(range(0x3000, 0x3040))  # CJK symbols and punctuation 〔〕〈〉「」
        | set(range(0xFF01, 0xFF5F))  # full-width forms
        | {0x00D7, 0x00F7, 0x2103, 0x2116, 0x2160, 0x2161, 0x2162, 0x2163, 0x2164, 0x25A1, 0x25CB, 0x25CF}
    )


def to_truetype(font: TTFont) -> None:
    """CFF outlines → TrueType (quadratic) outlines, as fontTools' otf2ttf snippet does."""
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_ERROR, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 1
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    maxp.numGlyphs = len(glyph_order)
    font["maxp"] = maxp
    post = font["post"]
    post.formatType = 3.0  # no glyph names: smaller, and reportlab does not need them
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = None
    font.sfntVersion = "\x00\x01\x00\x00"


def rename(font: TTFont, family: str, style: str) -> None:
    """A modified version (subset, converted) under its own name, as SIL OFL 1.1 §3 asks."""
    postscript = f"{family.replace(' ', '')}-{style}"
    names = {1: family, 2: style, 3: f"{postscript};subset", 4: f"{family} {style}", 6: postscript}
    table = font["name"]
    for record in list(table.names):
        if record.nameID in (1, 2, 3, 4, 6, 16, 17):
            table.removeNames(nameID=record.nameID)
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
        table.setName(value, name_id, 1, 0, 0)


def make(source: Path, family: str, style: str, chars: set[int], target: Path) -> None:
    font = TTCollection(str(source)).fonts[SC_INDEX]
    options = subset.Options()
    options.layout_features = []  # reportlab shapes nothing: no GSUB/GPOS needed
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(chars))
    subsetter.subset(font)
    to_truetype(font)
    rename(font, family, style)
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(target))
    print(f"{target.name}: {len(font.getGlyphOrder())} glyphs, {target.stat().st_size:,} bytes")


def main(regular: str, bold: str) -> None:
    gbk, gb2312 = codec_chars("gbk"), codec_chars("gb2312")
    family = "Appraisal Serif SC"
    make(Path(regular), family, "Regular", base_chars() | gbk, OUT / "AppraisalSerifSC-Regular.ttf")
    make(Path(bold), family, "Bold", base_chars() | gb2312, OUT / "AppraisalSerifSC-Bold.ttf")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
