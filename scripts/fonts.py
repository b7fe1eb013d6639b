"""Prepare the bundled fonts: `python scripts/fonts.py` (idempotent; rewrites the files in place).

The fonts in templates/static/fonts are a Latin subset of Noto Sans (OFL). This drops their
`liga` feature (the "fi"/"fl" ligatures): a ligature glyph breaks text search and copy in a PDF
and can be read oddly by screen readers, and asking WeasyPrint 70 to turn ligatures off per
document (`font-variant-ligatures: no-common-ligatures`) leaked ~0.12 MB of native memory on
every render (bench/run.py memory figure). Every other glyph and layout feature is kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

FONTS = Path(__file__).resolve().parents[1] / "templates" / "static" / "fonts"
DROPPED = {"liga"}


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


def main() -> int:
    for path in sorted(FONTS.glob("*.ttf")):
        changed = prepare(path)
        print(f"{path.name}: {'liga dropped' if changed else 'already prepared'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
