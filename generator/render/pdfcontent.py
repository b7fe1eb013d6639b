"""A page's content stream, read and rewritten: marked content tied to no structure element
(the running footer, a margin box) becomes a pagination artifact, as Matterhorn checkpoint 18
asks, and the text of the rest is decoded for finding passages in another language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pikepdf

_MARKING_OPERATORS = frozenset({"BDC", "BMC", "EMC", "cm", "Tm"})
_ALL_OPERATORS = _MARKING_OPERATORS | {"Tf", "Tj", "TJ", "'", '"'}
_HEX = re.compile(r"<([0-9A-Fa-f]+)>")


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


def finish_page(pdf: pikepdf.Pdf, page: pikepdf.Page, owned: dict[int, bool],
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
