"""HTML → PDF with WeasyPrint, set up once per process and reused for every document."""

from __future__ import annotations

import ctypes.util
import logging
import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from generator.content.logos import LOGO_TYPES, read_logo
from generator.errors import FetchError, RenderError
from generator.render.fetcher import resolve_allowed
from generator.render.pdffields import FieldFont, load_field_font
from generator.render.pdffinish import finish, hints_from_html

log = logging.getLogger("carepress")
PRINT_STYLESHEETS = ("carepress.css", "print.css")
# Form fields' font: Noto Sans for Latin, Latin Extended A/B and Vietnamese (scripts/fonts.py).
FIELD_FONT = Path("fonts") / "NotoSans-Fields.ttf"


def harfbuzz_subset_available() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


class _WarningTrap(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class PdfRenderer:
    """Holds the font configuration and the parsed shared CSS of a process.

    WeasyPrint is imported here, not at module import, so commands that never render a PDF
    stay fast and forked workers import it after the fork.
    """

    def __init__(self, static_dir: Path, allowed_roots: tuple[Path, ...], strict: bool = True):
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        if not harfbuzz_subset_available():
            log.warning(
                "libharfbuzz-subset0 is not installed: font subsetting falls back to fontTools "
                "and PDF rendering is 3-7x slower (apt-get install libharfbuzz-subset0)"
            )
        self._weasyprint = weasyprint
        self._strict = strict
        self._fetcher = _make_fetcher(weasyprint, tuple(r.resolve() for r in allowed_roots))
        self._fonts = FontConfiguration()
        self._field_font_path = static_dir / FIELD_FONT
        with self._trap("shared stylesheets"):
            self._css = [
                weasyprint.CSS(filename=str(static_dir / name), url_fetcher=self._fetcher,
                               font_config=self._fonts)
                for name in PRINT_STYLESHEETS
            ]

    def render(self, html: str, base_url: str, identifier: str, title: str) -> bytes:
        document = self._weasyprint.HTML(string=html, base_url=base_url,
                                         url_fetcher=self._fetcher)
        with self._trap(title):
            pdf = document.write_pdf(
                stylesheets=self._css,
                font_config=self._fonts,
                # A fresh image cache per document: in WeasyPrint 70 a cached SVG keeps the
                # whole first document that drew it alive (~5 MB a clinic, measured), and a
                # failed image would be remembered as missing. Logos are ~1 KB to re-read.
                cache={},
                # No /ID and no compression here: pydyf would serialise every object again to
                # hash the /ID's second part (qpdf replaces it), and compress streams at zlib 9
                # that qpdf decodes and compresses again. The finishing pass does both, in C.
                uncompressed_pdf=True,
                # Tagged PDF/UA-1: title, language, structure, alt text; forms become fields.
                pdf_variant="pdf/ua-1",
                pdf_tags=True,
                pdf_forms=True,
            )
        if not isinstance(pdf, bytes):
            raise RenderError(f"{title}: WeasyPrint returned no PDF")
        try:
            return finish(pdf, hints_from_html(document.etree_element), self._field_font(),
                          identifier.encode("ascii"))
        except RenderError as exc:
            raise RenderError(f"{title}: {exc}") from exc

    def _field_font(self) -> FieldFont:
        if not self._field_font_path.is_file():
            raise RenderError(f"the form fields' font {self._field_font_path} is missing "
                              "(python scripts/fonts.py makes it)")
        return load_field_font(self._field_font_path)

    @contextmanager
    def _trap(self, title: str) -> Iterator[None]:
        """A WeasyPrint warning (missing image, ignored CSS) is an error: never ship it silently."""
        trap = _WarningTrap()
        logger = logging.getLogger("weasyprint")
        logger.addHandler(trap)
        try:
            yield
        except self._weasyprint.urls.FatalURLFetchingError as exc:
            raise RenderError(f"{title}: {exc.__cause__ or exc}") from exc
        finally:
            logger.removeHandler(trap)
        if trap.messages and self._strict:
            raise RenderError(f"{title}: WeasyPrint warned: {trap.messages[0]}")


def _make_fetcher(weasyprint: Any, roots: tuple[Path, ...]) -> Any:
    base = weasyprint.urls.URLFetcher

    class AssetFetcher(base):  # type: ignore[misc, valid-type]
        def fetch(self, url: str, headers: Any = None) -> Any:
            path = resolve_allowed(url, roots)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            # An image is a logo: drawn from the bytes checked now, not from those checked
            # when the tree was loaded (the file may have been replaced since).
            data = read_logo(path) if path.suffix.lower() in LOGO_TYPES else path.read_bytes()
            return weasyprint.urls.URLFetcherResponse(
                path.as_uri(), data, headers={"Content-Type": mime})

    return AssetFetcher(fail_on_errors=True, allowed_protocols=("file",))


__all__ = ["FetchError", "PdfRenderer", "RenderError", "harfbuzz_subset_available"]
