"""Prepare the bundled fonts: `python scripts/fonts.py` (idempotent; rewrites the files in place).

The fonts in templates/static/fonts are a Latin subset of Noto Sans (OFL). This drops their
`liga` feature (the "fi"/"fl" ligatures): a ligature glyph breaks text search and copy in a PDF
and can be read oddly by screen readers, and asking WeasyPrint 70 to turn ligatures off per
document (`font-variant-ligatures: no-common-ligatures`) leaked ~0.12 MB of native memory on
every render (bench/run.py memory figure). Every other glyph and layout feature is kept.

`python scripts/fonts.py --fields SOURCE.ttf` also makes NotoSans-Fields.ttf, the font of the
consent form's fields, from a full Noto Sans Regular (Debian: fonts-noto-core,
/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf): the letters of Latin, Latin-1, Latin
Extended A and B, Latin Extended Additional (Vietnamese) and the combining accents, so any name
typed into a field keeps every letter. No layout features: fields are drawn by the viewer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

FONTS = Path(__file__).resolve().parents[1] / "templates" / "static" / "fonts"
DROPPED = {"liga"}
FIELDS = FONTS / "NotoSans-Fields.ttf"
# Basic Latin, Latin-1, Latin Extended A and B, IPA/spacing modifiers, combining accents,
# Latin Extended Additional (Vietnamese), general punctuation, the currency signs.
FIELD_RANGES = ((0x20, 0x7E), (0xA0, 0x24F), (0x2B0, 0x36F), (0x1E00, 0x1EFF),
                (0x2000, 0x206F), (0x20A0, 0x20CF))


def features(font: TTFont) -> set[str]:
    tags: set[str] = set()
    for table in ("GSUB", "GPOS"):
        if table in font:
            tags |= {r.FeatureTag for r in font[table].table.FeatureList.FeatureRecord}
    return tags


def prepare(path: Path) -> bool:
    """Rewrite one font without the dropped features; False if it had none of them."""
    font = TTFont(path)
    present = features(font)
    if not present & DROPPED:
        return False
    options = subset.Options()
    options.layout_features = sorted(present - DROPPED)
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=font.getBestCmap().keys())
    subsetter.subset(font)
    font.save(path)
    return True


def prepare_fields(source: Path, target: Path = FIELDS) -> int:
    """Write the fields' font from a full Noto Sans; returns how many characters it maps."""
    font = TTFont(source)
    wanted = {cp for lo, hi in FIELD_RANGES for cp in range(lo, hi + 1)}
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted & set(font.getBestCmap()))
    subsetter.subset(font)
    font.save(target)
    return len(TTFont(target).getBestCmap())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=Path, metavar="SOURCE.ttf",
                        help="also make NotoSans-Fields.ttf from this full Noto Sans Regular")
    args = parser.parse_args()
    if args.fields:
        count = prepare_fields(args.fields)
        print(f"{FIELDS.name}: {count} characters from {args.fields.name}")
    for path in sorted(FONTS.glob("*.ttf")):
        if path == FIELDS:
            continue
        changed = prepare(path)
        print(f"{path.name}: {'liga dropped' if changed else 'already prepared'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
