"""The peer figure: warm headless Chromium printing the same print HTML to a tagged PDF
(`generateTaggedPDF`), CPU-seconds of all its processes per document ÷ carepress's warm
CPU-seconds per handout."""

from __future__ import annotations

import io
import statistics
import time
from pathlib import Path
from typing import Any

from bench.services import Chromium, find_chromium

UNIT, TARGET, AIM = "ratio", "report; aim >= 0.6", 0.6
NOTE = ("ratio < 1: Chromium uses less CPU per document than carepress. Chromium ignores the "
        "running footer (GCPM margin boxes) and writes its own tag tree, so its PDF is not the "
        "same document: this is a yardstick, not a replacement")


def measure(html_files: list[dict[str, str]], carepress_cpu_s: float,
            folder: Path) -> dict[str, Any]:
    """The figure, or the reason it could not be measured (Chromium is optional)."""
    binary = find_chromium()
    if binary is None:
        return _unavailable("skipped: Chromium is not installed (apt-get install -y chromium)")
    try:
        with Chromium(binary, folder) as browser:
            data = _print_all(browser, [Path(f["linked_html"]).as_uri() for f in html_files])
    except ImportError as exc:
        return _unavailable(f"skipped: {exc} (pip install -e '.[dev]' installs "
                            "websocket-client)")
    except Exception as exc:  # an optional peer, not carepress: report why, go on
        return _unavailable(f"failed: {type(exc).__name__}: {exc}")
    value = data["cpu_s_median"] / carepress_cpu_s
    return {"value": value, "unit": UNIT, "target": TARGET, "met": None,
            "aim_met": value >= AIM, "carepress_cpu_s": carepress_cpu_s, **data, "note": NOTE}


def _unavailable(reason: str) -> dict[str, Any]:
    return {"value": None, "unit": UNIT, "target": TARGET, "met": None, "reason": reason}


def _print_all(browser: Chromium, urls: list[str]) -> dict[str, Any]:
    for url in urls[:2]:  # warm-up: the renderer process, fonts, the stylesheets' cache
        browser.print_pdf(url)
    cpu, wall, pages = [], [], []
    for url in urls:
        cpu0, wall0 = browser.cpu_s(), time.perf_counter()
        pdf = browser.print_pdf(url)
        cpu.append(browser.cpu_s() - cpu0)
        wall.append(time.perf_counter() - wall0)
        pages.append(_pages_and_tagged(pdf))
    return {"cpu_s_median": statistics.median(cpu), "wall_s_median": statistics.median(wall),
            "documents": len(urls), "tagged": all(p[1] for p in pages),
            "pages_median": statistics.median(p[0] for p in pages),
            "version": browser.version()}


def _pages_and_tagged(pdf: bytes) -> tuple[int, bool]:
    """Pages, and whether the PDF says it is tagged (/MarkInfo /Marked and a structure tree)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    root: Any = reader.trailer["/Root"]
    marked = bool(root.get("/MarkInfo", {}).get("/Marked")) and "/StructTreeRoot" in root
    return len(reader.pages), marked
