"""Layout read back from a PDF: word boxes from poppler's `pdftotext -bbox-layout`.

Used by tests/test_layout.py. Coordinates are PDF points from the top-left corner of the page,
as poppler gives them. The page geometry (US Letter, margins) is read from print.css, so a
change of margins there is a change here too.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO

NS = {"x": "http://www.w3.org/1999/xhtml"}
POINTS_PER_INCH = 72.0
PAGE_NUMBER = re.compile(r"^(Page|Página)\s+\d+\s+(of|de)\s+\d+$")


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box, gap: float = 0.0) -> bool:
        """True if the boxes overlap or come closer than `gap` points side by side."""
        return (self.x0 < other.x1 + gap and other.x0 < self.x1 + gap
                and self.y0 < other.y1 and other.y0 < self.y1)


@dataclass
class Line:
    text: str
    box: Box
    words: list[tuple[str, Box]]


@dataclass
class Page:
    number: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class Margins:
    top: float
    right: float
    bottom: float
    left: float


def print_margins() -> Margins:
    """The @page margins of print.css (`margin: T R B` in inches), in points."""
    css = (REPO / "templates" / "static" / "print.css").read_text()
    page_rule = re.search(r"@page\s*{(.*?)}", css, re.S)
    assert page_rule, "print.css has no @page rule"
    found = re.search(r"margin:\s*([\d.]+)in\s+([\d.]+)in\s+([\d.]+)in", page_rule.group(1))
    assert found, "print.css: @page margin is not `T R B` in inches"
    top, side, bottom = (float(v) * POINTS_PER_INCH for v in found.groups())
    return Margins(top, side, bottom, side)


def _box(element: ET.Element) -> Box:
    return Box(*(float(element.attrib[k]) for k in ("xMin", "yMin", "xMax", "yMax")))


def read_pages(pdf: Path) -> list[Page]:
    result = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True,
                            text=True, check=True, timeout=60)
    root = ET.fromstring(result.stdout)
    pages = []
    for number, page in enumerate(root.iterfind(".//x:page", NS), start=1):
        current = Page(number, float(page.attrib["width"]), float(page.attrib["height"]))
        for line in page.iterfind(".//x:line", NS):
            words = [(w.text or "", _box(w)) for w in line.iterfind("x:word", NS)]
            current.lines.append(Line(" ".join(t for t, _ in words), _box(line), words))
        current.lines.sort(key=lambda ln: (round(ln.box.y0, 1), ln.box.x0))
        pages.append(current)
    return pages


def footer_lines(page: Page, margins: Margins) -> list[Line]:
    """Lines that start in the bottom margin: the running footer."""
    return [ln for ln in page.lines if ln.box.y0 >= page.height - margins.bottom]


def body_lines(page: Page, margins: Margins) -> list[Line]:
    return [ln for ln in page.lines if ln.box.y0 < page.height - margins.bottom]


def page_number_box(page: Page, margins: Margins) -> tuple[str, Box] | None:
    """The words "Page N of M" (or Spanish) of the footer, joined into one box."""
    for line in footer_lines(page, margins):
        words = line.words
        for start in range(len(words)):
            for end in range(start + 4, min(start + 4, len(words)) + 1):
                text = " ".join(t for t, _ in words[start:end])
                if PAGE_NUMBER.match(text):
                    boxes = [b for _, b in words[start:end]]
                    return text, Box(min(b.x0 for b in boxes), min(b.y0 for b in boxes),
                                     max(b.x1 for b in boxes), max(b.y1 for b in boxes))
    return None


def fill(page: Page, margins: Margins) -> float:
    """How far down the content area the body text reaches, 0 to 1."""
    lines = body_lines(page, margins)
    if not lines:
        return 0.0
    area = page.height - margins.top - margins.bottom
    return (max(ln.box.y1 for ln in lines) - margins.top) / area
