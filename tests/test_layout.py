"""Layout of every PDF of the demo build, read back with poppler (`pdftotext -bbox-layout`).

Measured on the words' boxes (tests/pdflayout.py), against the @page margins of print.css:
- the running footer's text never overlaps or touches (2 pt) "Page N of M";
- body text stays inside the content box; footer text inside the bottom margin and the side
  margins; nothing comes nearer than 0.25 in to the paper's edge;
- no heading (h1–h3 of the document's HTML) is the last line of a page, and no "Sources: [n]"
  line opens a page (it belongs to the section before);
- fill: how far down the content box the lowest body line reaches. Every page but the last is at
  least 60% full, unless the break was forced: the first block of the next page (its lines up to
  the first gap wider than a line) would not have fitted in the space left.
"""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import published_files
from tests.pdflayout import (
    Line,
    Margins,
    Page,
    body_lines,
    fill,
    footer_lines,
    page_number_box,
    print_margins,
    read_pages,
)

EDGE = 18.0  # points: nothing this near the paper's edge
SLACK = 0.5  # points of rounding in poppler's boxes
MIN_FILL = 0.6
CITED = re.compile(r"^(Sources|Fuentes):\s*\[")


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2", "h3"):
            self._open = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3") and self._open is not None:
            self.headings.append(" ".join("".join(self._open).split()))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)


def headings_of(pdf: Path) -> set[str]:
    parser = _Headings()
    parser.feed(pdf.with_suffix(".html").read_text(encoding="utf-8"))
    return set(parser.headings)


def documents(built: Path) -> list[tuple[Path, list[Page]]]:
    found = sorted(published_files(built, "*.pdf"))
    assert {p.name for p in found} >= {"handout.pdf", "consent.pdf"}
    assert {p.parent.name for p in found} >= {"en", "es"}
    return [(p, read_pages(p)) for p in found]


def footer_problems(path: Path, pages: list[Page], margins: Margins) -> list[str]:
    problems = []
    for page in pages:
        found = page_number_box(page, margins)
        if not found:
            problems.append(f"{path} page {page.number}: no page number in the footer")
            continue
        text, number = found
        if text.split()[1] != str(page.number):
            problems.append(f"{path}: {text} on page {page.number}")
        for line in footer_lines(page, margins):
            for word, box in line.words:
                if box.overlaps(number) and word in text.split():
                    continue  # the page number's own words
                if box.overlaps(number, gap=2.0):
                    problems.append(f"{path} page {page.number}: {word!r} touches {text!r}")
    return problems


def margin_problems(path: Path, pages: list[Page], margins: Margins) -> list[str]:
    problems = []
    for page in pages:
        for line in page.lines:
            for word, box in line.words:
                if not (box.x0 >= margins.left - SLACK
                        and box.x1 <= page.width - margins.right + SLACK
                        and box.y0 >= EDGE and box.y1 <= page.height - EDGE):
                    problems.append(f"{path} page {page.number}: {word!r} at {box}")
        problems += [f"{path} page {page.number}: {line.text!r} in the top margin"
                     for line in body_lines(page, margins)
                     if line.box.y0 < margins.top - 2 * SLACK]
    return problems


def _alone_at_bottom(lines: list[Line], headings: set[str]) -> bool:
    """The page's last line is a heading, or the end of one that wrapped."""
    last = lines[-1].text if lines else ""
    return len(last) > 3 and any(h.endswith(last) for h in headings)


def edge_problems(path: Path, pages: list[Page], margins: Margins,
                  headings: set[str]) -> list[str]:
    problems = []
    for page in pages:
        lines = body_lines(page, margins)
        if page.number < len(pages) and _alone_at_bottom(lines, headings):
            problems.append(f"{path} page {page.number} ends with the heading {lines[-1].text!r}")
        if page.number > 1 and lines and CITED.match(lines[0].text):
            problems.append(f"{path} page {page.number} opens with {lines[0].text!r}")
    return problems


def first_block_height(page: Page, margins: Margins) -> float:
    """Height of a page's first block: its lines down to the first gap wider than one line
    (a paragraph, list item or table row, with a heading just above it)."""
    lines = body_lines(page, margins)
    if not lines:
        return 0.0
    top, bottom = lines[0].box.y0, lines[0].box.y1
    for previous, line in itertools.pairwise(lines):
        if line.box.y0 - previous.box.y1 > previous.box.y1 - previous.box.y0:
            break
        bottom = max(bottom, line.box.y1)
    return bottom - top


def fill_problems(path: Path, pages: list[Page], margins: Margins) -> list[str]:
    problems = []
    for page, following in itertools.pairwise(pages):
        share = fill(page, margins)
        left = (1 - share) * (page.height - margins.top - margins.bottom)
        if share < MIN_FILL and first_block_height(following, margins) <= left:
            problems.append(f"{path} page {page.number} is {share:.0%} full, and the next "
                            "page's first block would have fitted")
    return problems


def check_all(path: Path, pages: list[Page]) -> list[str]:
    margins = print_margins()
    return (footer_problems(path, pages, margins) + margin_problems(path, pages, margins)
            + edge_problems(path, pages, margins, headings_of(path))
            + fill_problems(path, pages, margins))


@pytest.mark.slow
def test_footer_never_runs_into_the_page_number(built: Path) -> None:
    margins = print_margins()
    problems = [p for path, pages in documents(built)
                for p in footer_problems(path, pages, margins)]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_no_text_outside_the_margins(built: Path) -> None:
    margins = print_margins()
    problems = [p for path, pages in documents(built)
                for p in margin_problems(path, pages, margins)]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_no_heading_or_sources_line_alone_at_a_page_edge(built: Path) -> None:
    margins = print_margins()
    problems = []
    for path, pages in documents(built):
        headings = headings_of(path)
        assert headings, f"{path}: no headings found in its HTML"
        problems += edge_problems(path, pages, margins, headings)
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_no_page_but_the_last_is_mostly_blank(built: Path) -> None:
    margins = print_margins()
    problems = [p for path, pages in documents(built)
                for p in fill_problems(path, pages, margins)]
    assert not problems, "\n".join(problems)


BAD_LAYOUT = """<!DOCTYPE html><html lang="en"><head><title>bad</title></head><body>
<div class="pdf-footer"><span>A footer running into</span><span style="margin-left: -3em">
Page <span class="page-number"></span> of <span class="page-count"></span></span></div>
<p>A short first page.</p>
<h2 style="break-after: auto">A heading left behind</h2>
<p style="break-before: page">Sources: [1]</p>
<p style="margin-left: -1in">Text pushed into the left margin.</p>
</body></html>"""


def test_the_checks_catch_a_bad_layout(tmp_path: Path) -> None:
    """The same checks on a document laid out badly on purpose: each one fires."""
    from generator.render.pdf import PdfRenderer
    from templates import STATIC_DIR

    renderer = PdfRenderer(STATIC_DIR, (STATIC_DIR,), strict=True)
    html = BAD_LAYOUT
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(renderer.render(html, STATIC_DIR.as_uri() + "/", "badlayout", "bad"))
    pdf.with_suffix(".html").write_text(html)
    margins = print_margins()
    pages = read_pages(pdf)
    assert footer_problems(pdf, pages, margins)
    assert margin_problems(pdf, pages, margins)
    edges = edge_problems(pdf, pages, margins, headings_of(pdf))
    assert any("ends with the heading" in p for p in edges)
    assert any("opens with 'Sources: [1]'" in p for p in edges)
    assert fill_problems(pdf, pages, margins)
