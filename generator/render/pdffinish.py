"""The finishing pass over a WeasyPrint PDF: what PDF/UA-1 needs and WeasyPrint 70 cannot write.

Everything that can be said in HTML and CSS is said there (alt text, labels, reading order,
layout). WeasyPrint 70 has no way to write these, so they are added here with pikepdf:

- the running footer (a margin box) is marked content tied to no structure element; it becomes
  a pagination artifact, as Matterhorn checkpoint 18 asks;
- table header cells get /Scope (WeasyPrint reads `scope` only to link cells to headers);
- elements whose `lang` differs from the document's get /Lang;
- form fields get their whole accessible name as /TU (WeasyPrint takes the first line of the
  label box) and a font that covers Latin, Latin Extended A/B and Vietnamese, so a filled name
  keeps every letter (WeasyPrint's form font is the document's subset);
- figure bounding boxes are turned into PDF coordinates (WeasyPrint writes CSS pixels from
  the top of the page).

The pass is deterministic: the same input bytes give the same output bytes.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pikepdf
from fontTools.ttLib import TTFont

from generator.errors import RenderError

FIELD_FONT_NAME = "CarepressFieldFont"
_MARKING_OPERATORS = frozenset({"BDC", "BMC", "EMC", "cm", "Tm"})
_ALL_OPERATORS = _MARKING_OPERATORS | {"Tf", "Tj", "TJ", "'", '"'}
XHTML = "{http://www.w3.org/1999/xhtml}"
_HEX = re.compile(r"<([0-9A-Fa-f]+)>")


@dataclass(frozen=True)
class Hints:
    """What the HTML says that the PDF must carry: taken from the tree WeasyPrint parsed."""

    passages: tuple[tuple[str, str], ...]  # (language, text) of each element in another language
    field_names: tuple[tuple[str, str], ...]  # (field name, whole accessible name)


def _tag(element: ET.Element) -> str:
    return str(element.tag).removeprefix(XHTML)


def _text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def hints_from_html(root: ET.Element) -> Hints:
    """Passages in another language than the document's, and each field's `title`."""
    document_lang = root.get("lang", "")
    passages: list[tuple[str, str]] = []

    def visit(element: ET.Element, inherited: str) -> None:
        lang = element.get("lang", inherited)
        if lang != inherited and _tag(element) != "html":
            passages.append((lang, _text(element)))
            return
        for child in element:
            visit(child, lang)

    visit(root, document_lang)
    fields = tuple((str(e.get("name")), str(e.get("title"))) for e in root.iter()
                   if _tag(e) in ("input", "textarea", "select") and e.get("name")
                   and e.get("title"))
    return Hints(tuple(p for p in passages if p[1]), fields)


# --- the field font -----------------------------------------------------------------------


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


# --- the structure tree -------------------------------------------------------------------


def _kids(element: pikepdf.Object) -> list[Any]:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _elements(root: pikepdf.Object) -> Iterator[pikepdf.Dictionary]:
    """Every structure element reachable from the root, in tree (reading) order."""
    stack = list(reversed(_kids(root)))
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Dictionary) and node.get("/Type") != "/OBJR" \
                and "/S" in node:
            yield node
            stack.extend(reversed(_kids(node)))


def _parent_tree(root: pikepdf.Object) -> pikepdf.Array:
    nums = root.ParentTree.get("/Nums")
    if not isinstance(nums, pikepdf.Array):
        raise RenderError("finishing pass: the parent tree has no /Nums (not WeasyPrint's)")
    return nums


# --- content streams ----------------------------------------------------------------------


def _to_unicode_map(font: pikepdf.Object) -> tuple[int, dict[int, str]]:
    """(code length in bytes, code → text) from a font's ToUnicode CMap."""
    width = 2 if font.get("/Subtype") == "/Type0" else 1
    mapping: dict[int, str] = {}
    if "/ToUnicode" not in font:
        return width, mapping
    cmap = font.ToUnicode.read_bytes().decode("latin-1")

    def text(hex_value: str) -> str:
        return bytes.fromhex(hex_value).decode("utf-16-be", errors="replace")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        values = _HEX.findall(block)
        for src, dst in zip(values[::2], values[1::2], strict=False):
            mapping[int(src, 16)] = text(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(r"<(\w+)>\s*<(\w+)>\s*<(\w+)>", block):
            base = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(base + offset)
    return width, mapping


def _decode(raw: bytes, font: tuple[int, dict[int, str]]) -> str:
    width, mapping = font
    return "".join(mapping.get(int.from_bytes(raw[i:i + width], "big"), "")
                   for i in range(0, len(raw) - width + 1, width))


def _shown_bytes(operands: list[Any], operator: str) -> Iterator[bytes]:
    if operator in ("Tj", "'"):
        yield bytes(operands[0])
    elif operator == '"':
        yield bytes(operands[2])
    elif operator == "TJ":
        for item in operands[0]:
            if isinstance(item, pikepdf.String):
                yield bytes(item)


class _PageScan:
    """Walks one page's content: which marked content is tied to no element, and the text of
    the rest (for /Lang). `owned` maps each MCID of the page to whether its structure element
    is in the tree."""

    def __init__(self, fonts: pikepdf.Object, owned: dict[int, bool], read_text: bool) -> None:
        self.fonts_resource = fonts
        self.owned = owned
        self.wanted = _ALL_OPERATORS if read_text else _MARKING_OPERATORS
        self.fonts: dict[str, tuple[int, dict[int, str]]] = {}
        self.font: tuple[int, dict[int, str]] | None = None
        self.open: list[int | None] = []
        self.untied: dict[int, tuple[int, float]] = {}  # MCID → (index of its BDC, text y)
        self.texts: dict[int, str] = {}
        self.flip, self.shift = 1.0, 0.0  # y in points from the page's CSS px

    def step(self, index: int, operands: list[Any], operator: str) -> None:
        if operator not in self.wanted:
            return
        mcid = self.open[-1] if self.open else None
        if operator == "BDC" and isinstance(operands[1], pikepdf.Dictionary) \
                and "/MCID" in operands[1]:
            self._begin(index, int(operands[1].MCID))
        elif operator in ("BDC", "BMC"):
            self.open.append(None)
        elif operator == "EMC" and self.open:
            self.open.pop()
        elif operator == "cm" and not self.texts and not self.untied:
            # The page's own transforms, before any content: compose their vertical parts.
            self.flip, self.shift = (self.flip * float(operands[3]),
                                     self.flip * float(operands[5]) + self.shift)
        elif operator == "Tf":
            self._set_font(str(operands[0]))
        elif operator == "Tm" and mcid in self.untied:
            self.untied[mcid] = (self.untied[mcid][0], self.flip * float(operands[5]) + self.shift)
        elif self.font is not None and mcid is not None:
            for raw in _shown_bytes(operands, operator):
                self.texts[mcid] = self.texts.get(mcid, "") + _decode(raw, self.font)

    def _begin(self, index: int, mcid: int) -> None:
        self.open.append(mcid)
        if not self.owned.get(mcid, False):
            self.untied[mcid] = (index, 0.0)

    def _set_font(self, name: str) -> None:
        if name not in self.fonts:
            self.fonts[name] = _to_unicode_map(self.fonts_resource[name])
        self.font = self.fonts[name]


def _finish_page(pdf: pikepdf.Pdf, page: pikepdf.Page, owned: dict[int, bool],
                 texts: dict[int, str] | None) -> list[int]:
    """Turn marked content tied to no element into pagination artifacts; returns their MCIDs
    and, if `texts` is given, adds the text of the others to it (decoding text is most of the
    pass's time, so it is done only while a passage is still to be found)."""
    fonts = page.obj.Resources.get("/Font", pikepdf.Dictionary())
    scan = _PageScan(fonts, owned, read_text=texts is not None)
    instructions = pikepdf.parse_content_stream(page)
    for index, instruction in enumerate(instructions):
        if isinstance(instruction, pikepdf.ContentStreamInstruction):
            operator = str(instruction.operator)
            if operator in scan.wanted:
                scan.step(index, list(instruction.operands), operator)
    if texts is not None:
        texts.update(scan.texts)
    height = float(page.mediabox[3])
    for index, y in scan.untied.values():
        # WeasyPrint's only content tied to no element is that of the page-margin boxes.
        where = pikepdf.Name.Header if y > height / 2 else pikepdf.Name.Footer
        instructions[index] = pikepdf.ContentStreamInstruction(
            [pikepdf.Name.Artifact,
             pikepdf.Dictionary(Type=pikepdf.Name.Pagination, Subtype=where)],
            pikepdf.Operator("BDC"))
    if scan.untied:
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))
    return sorted(scan.untied)


# --- the pass -----------------------------------------------------------------------------


def _fold(text: str) -> str:
    return "".join(text.split())


def _element_text(element: pikepdf.Dictionary, page_texts: dict[tuple[int, int], dict[int, str]],
                  page: pikepdf.Object | None, memo: dict[tuple[int, int], str]) -> str:
    key = element.objgen
    if key in memo:
        return memo[key]
    page = element.get("/Pg", page)
    parts = []
    for kid in _kids(element):
        if isinstance(kid, int) and page is not None:
            parts.append(page_texts.get(page.objgen, {}).get(kid, ""))
        elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            parts.append(_element_text(kid, page_texts, page, memo))
    memo[key] = " ".join(parts)
    return memo[key]


def _holding(texts: list[tuple[pikepdf.Dictionary, str]], wanted: str) -> list[pikepdf.Dictionary]:
    """The element holding exactly `wanted` (the outermost: first in tree order), or the run of
    same-type elements a page break split it into (WeasyPrint makes one element per page)."""
    for element, text in texts:
        if text == wanted and "/Lang" not in element:
            return [element]
    for index, (element, text) in enumerate(texts):
        if not text or "/Lang" in element or not wanted.startswith(text):
            continue
        run, joined = [element], text
        for other, more in texts[index + 1:]:
            if other.S != element.S or not more:
                continue
            if not wanted.startswith(joined + more):
                break
            run.append(other)
            joined += more
            if joined == wanted:
                return run
    return []


def _set_languages(elements: list[pikepdf.Dictionary], passages: list[tuple[str, str]],
                   page_texts: dict[tuple[int, int], dict[int, str]]) -> list[tuple[str, str]]:
    """Give /Lang to the elements holding each passage; returns the passages not found (yet:
    only the pages read so far have text)."""
    memo: dict[tuple[int, int], str] = {}
    texts = [(e, _fold(_element_text(e, page_texts, None, memo))) for e in elements]
    missing = []
    for lang, passage in passages:
        run = _holding(texts, _fold(passage))
        if not run:
            missing.append((lang, passage))
        for element in run:
            element.Lang = pikepdf.String(lang)
    return missing


def _set_scopes(elements: list[pikepdf.Dictionary]) -> None:
    """Header cells of a table head are column headers; the others head their row."""
    for element in elements:
        if element.S != "/TH":
            continue
        row = element.get("/P")
        group = row.get("/P") if row is not None else None
        scope = "/Column" if group is not None and group.get("/S") == "/THead" else "/Row"
        attributes = element.get("/A")
        if not isinstance(attributes, pikepdf.Dictionary):
            attributes = pikepdf.Dictionary(O=pikepdf.Name.Table)
            element.A = attributes
        attributes.Scope = pikepdf.Name(scope)


def _wrap_list_bodies(pdf: pikepdf.Pdf, elements: list[pikepdf.Dictionary]) -> None:
    """An inside list marker leaves an item's text beside its /Lbl; PDF/UA wants it in /LBody."""
    for item in elements:
        if item.S != "/LI":
            continue
        kids = _kids(item)
        loose = [k for k in kids if isinstance(k, pikepdf.Dictionary)
                 and k.get("/S") not in ("/Lbl", "/LBody")]
        if not loose or len(loose) != sum(1 for k in kids if not (
                isinstance(k, pikepdf.Dictionary) and k.get("/S") in ("/Lbl", "/LBody"))):
            continue  # nothing to wrap, or marked content right in the item: left as it is
        body = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem, S=pikepdf.Name.LBody, P=item, K=loose))
        if "/Pg" in item:
            body.Pg = item.Pg
        for kid in loose:
            kid.P = body
        first = kids.index(loose[0])
        item.K = [k for k in kids[:first] if k not in loose] + [body] + \
            [k for k in kids[first:] if k not in loose]


def _fix_figure_boxes(pdf: pikepdf.Pdf, elements: list[pikepdf.Dictionary]) -> None:
    """WeasyPrint writes a figure's /BBox in CSS px from the page's top; PDF wants points up."""
    for element in elements:
        attributes = element.get("/A")
        if element.S != "/Figure" or not isinstance(attributes, pikepdf.Dictionary) \
                or "/BBox" not in attributes:
            continue
        page = element.get("/Pg")
        height = float(page.MediaBox[3]) if page is not None else 792.0
        x0, y0, x1, y1 = (float(v) * 0.75 for v in attributes.BBox)
        attributes.BBox = [round(x0, 3), round(height - y1, 3), round(x1, 3),
                           round(height - y0, 3)]
    del pdf


def _finish_fields(pdf: pikepdf.Pdf, hints: Hints, field_font: FieldFont | None) -> None:
    form = pdf.Root.get("/AcroForm")
    if form is None:
        return
    names = dict(hints.field_names)
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


def finish(data: bytes, hints: Hints, field_font: FieldFont | None,
           identifier: bytes | None = None) -> bytes:
    """The finished PDF; deterministic in `data` and `hints`."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root.StructTreeRoot
        elements = list(_elements(root))
        in_tree = {e.objgen for e in elements}
        nums = _parent_tree(root)
        page_texts: dict[tuple[int, int], dict[int, str]] = {}
        pending = list(hints.passages)
        for index, page in enumerate(pdf.pages):
            position = 2 * index
            if int(nums[position]) != index:
                raise RenderError("finishing pass: the parent tree is not in page order")
            owners = nums[position + 1]
            owned = {mcid: isinstance(ref, pikepdf.Dictionary) and ref.objgen in in_tree
                     for mcid, ref in enumerate(owners)}
            texts: dict[int, str] | None = {} if pending else None
            for mcid in _finish_page(pdf, page, owned, texts):
                owners[mcid] = None
            if texts is not None:
                page_texts[page.obj.objgen] = texts
                pending = _set_languages(elements, pending, page_texts)
        if pending:
            lang, passage = pending[0]
            raise RenderError(f"finishing pass: no element holds the {lang} passage "
                              f"{passage[:60]!r}")
        _set_scopes(elements)
        _wrap_list_bodies(pdf, elements)
        _fix_figure_boxes(pdf, elements)
        _finish_fields(pdf, hints, field_font)
        out = io.BytesIO()
        if identifier is not None:  # qpdf keeps /ID's first element, derives the second
            pdf.trailer.ID = pikepdf.Array([pikepdf.String(identifier)] * 2)
        # The /ID's first element is the inputs hash; nothing else varies.
        pdf.save(out, static_id=False, deterministic_id=True, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return out.getvalue()
