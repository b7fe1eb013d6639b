"""The consent form's fields, finished for PDF/UA-1: each gets its whole accessible name as /TU
(WeasyPrint takes the first line of the label box) and a font that covers Latin, Latin Extended
A/B and Vietnamese, so a filled name keeps every letter (WeasyPrint's form font is the
document's subset)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pikepdf
from fontTools.ttLib import TTFont

FIELD_FONT_NAME = "CarepressFieldFont"


@dataclass(frozen=True)
class FieldFont:
    """A TrueType font embedded as a Type0 font whose codes are Unicode code points (UCS-2).

    Codes equal to code points are what viewers that build field appearances themselves
    (poppler among them) assume for a CID font, so they can draw any letter the font has.
    """

    program: bytes
    cid_to_gid: bytes
    widths: tuple[tuple[int, int], ...]  # (code point, width in 1/1000 em)
    to_unicode: bytes
    descriptor: tuple[tuple[str, Any], ...]
    ps_name: str


@cache
def load_field_font(path: Path) -> FieldFont:
    data = path.read_bytes()
    font = TTFont(io.BytesIO(data))
    cmap = {cp: gid for cp, gid in ((cp, font.getGlyphID(name))
                                    for cp, name in font.getBestCmap().items()) if cp <= 0xFFFF}
    scale = 1000 / font["head"].unitsPerEm
    hmtx = font["hmtx"]
    order = font.getGlyphOrder()
    widths = tuple((cp, round(hmtx[order[gid]][0] * scale)) for cp, gid in sorted(cmap.items()))
    top = max(cmap)
    table = bytearray(2 * (top + 1))
    for cp, gid in cmap.items():
        table[2 * cp:2 * cp + 2] = gid.to_bytes(2, "big")
    head, os2, post = font["head"], font["OS/2"], font["post"]
    descriptor = (
        ("Flags", 32),
        ("FontBBox", [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]),
        ("ItalicAngle", int(post.italicAngle)),
        ("Ascent", round(os2.sTypoAscender * scale)),
        ("Descent", round(os2.sTypoDescender * scale)),
        ("CapHeight", round(getattr(os2, "sCapHeight", os2.sTypoAscender) * scale)),
        ("StemV", 80),
    )
    ps_name = str(font["name"].getDebugName(6) or "NotoSans").replace(" ", "")
    return FieldFont(data, bytes(table), widths, _identity_cmap(sorted(cmap)), descriptor,
                     ps_name)


def _identity_cmap(codes: list[int]) -> bytes:
    lines = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
             "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
             "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange"]
    for start in range(0, len(codes), 100):
        chunk = codes[start:start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{c:04X}> <{c:04X}>" for c in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _embed_field_font(pdf: pikepdf.Pdf, font: FieldFont) -> pikepdf.Object:
    program = pdf.make_stream(font.program)
    program.Length1 = len(font.program)
    descriptor = pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor,
                                    FontName=pikepdf.Name("/" + font.ps_name),
                                    FontFile2=program)
    for key, value in font.descriptor:
        descriptor[f"/{key}"] = value
    widths: list[Any] = []
    for cp, width in font.widths:
        widths += [cp, [width]]
    cid_font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2,
        BaseFont=pikepdf.Name("/" + font.ps_name),
        CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String("Adobe"),
                                         Ordering=pikepdf.String("Identity"), Supplement=0),
        FontDescriptor=pdf.make_indirect(descriptor), W=widths,
        CIDToGIDMap=pdf.make_stream(font.cid_to_gid))
    return pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0,
        BaseFont=pikepdf.Name("/" + font.ps_name), Encoding=pikepdf.Name("/Identity-H"),
        DescendantFonts=[pdf.make_indirect(cid_font)],
        ToUnicode=pdf.make_stream(font.to_unicode)))


def finish_fields(pdf: pikepdf.Pdf, field_names: tuple[tuple[str, str], ...],
                  field_font: FieldFont | None) -> None:
    """Give each field its accessible name (`field_names`: field name → name) and the font."""
    form = pdf.Root.get("/AcroForm")
    if form is None:
        return
    names = dict(field_names)
    font_ref = None
    if field_font is not None:
        font_ref = _embed_field_font(pdf, field_font)
        resources = form.get("/DR", pikepdf.Dictionary())
        fonts = resources.get("/Font", pikepdf.Dictionary())
        fonts[f"/{FIELD_FONT_NAME}"] = font_ref
        resources.Font = fonts
        form.DR = resources
    for field in form.get("/Fields", []):
        name = str(field.get("/T", ""))
        if name in names:
            field.TU = pikepdf.String(names[name])
        if font_ref is not None and "/DA" in field:
            field.DA = pikepdf.String(re.sub(r"/\S+(\s+[\d.]+\s+Tf)", f"/{FIELD_FONT_NAME}\\1",
                                             str(field.DA)))

