"""The finishing pass over a WeasyPrint PDF: what PDF/UA-1 needs and WeasyPrint 70 cannot write.

Everything that can be said in HTML and CSS is said there (alt text, labels, reading order,
layout). WeasyPrint 70 has no way to write these, so they are added here with pikepdf:

- the running footer (a margin box) is marked content tied to no structure element; it becomes
  a pagination artifact, as Matterhorn checkpoint 18 asks (pdfcontent.py);
- table header cells get /Scope (WeasyPrint reads `scope` only to link cells to headers);
- elements whose `lang` differs from the document's get /Lang;
- figure bounding boxes are turned into PDF coordinates (WeasyPrint writes CSS pixels from
  the top of the page) (these three: pdftags.py);
- form fields get their whole accessible name as /TU (WeasyPrint takes the first line of the
  label box) and a font that covers Latin, Latin Extended A/B and Vietnamese, so a filled name
  keeps every letter (WeasyPrint's form font is the document's subset) (pdffields.py).

The pass is deterministic: the same input bytes give the same output bytes.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pikepdf

from generator.errors import RenderError
from generator.render.pdfcontent import finish_page
from generator.render.pdffields import FieldFont, finish_fields
from generator.render.pdftags import (
    fix_figure_boxes,
    parent_tree,
    set_languages,
    set_scopes,
    structure_elements,
    wrap_list_bodies,
)

XHTML = "{http://www.w3.org/1999/xhtml}"


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


def finish(data: bytes, hints: Hints, field_font: FieldFont | None,
           identifier: bytes | None = None) -> bytes:
    """The finished PDF; deterministic in `data` and `hints`."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        elements = structure_elements(pdf.Root.StructTreeRoot)
        _finish_pages(pdf, elements, hints.passages)
        set_scopes(elements)
        wrap_list_bodies(pdf, elements)
        fix_figure_boxes(elements)
        finish_fields(pdf, hints.field_names, field_font)
        return _save(pdf, identifier)


def _finish_pages(pdf: pikepdf.Pdf, elements: list[pikepdf.Dictionary],
                  passages: tuple[tuple[str, str], ...]) -> None:
    """Page by page: marked content tied to no element becomes artifacts (and leaves the
    parent tree), and each passage gets /Lang once the pages read so far hold its text."""
    in_tree = {e.objgen for e in elements}
    nums = parent_tree(pdf.Root.StructTreeRoot)
    page_texts: dict[tuple[int, int], dict[int, str]] = {}
    pending = list(passages)
    for index, page in enumerate(pdf.pages):
        position = 2 * index
        if int(nums[position]) != index:
            raise RenderError("finishing pass: the parent tree is not in page order")
        owners = nums[position + 1]
        owned = {mcid: isinstance(ref, pikepdf.Dictionary) and ref.objgen in in_tree
                 for mcid, ref in enumerate(owners)}
        texts: dict[int, str] | None = {} if pending else None
        for mcid in finish_page(pdf, page, owned, texts):
            owners[mcid] = None
        if texts is not None:
            page_texts[page.obj.objgen] = texts
            pending = set_languages(elements, pending, page_texts)
    if pending:
        lang, passage = pending[0]
        raise RenderError(f"finishing pass: no element holds the {lang} passage "
                          f"{passage[:60]!r}")


def _save(pdf: pikepdf.Pdf, identifier: bytes | None) -> bytes:
    """The finished file's bytes: streams compressed (once, by qpdf), objects in object streams."""
    out = io.BytesIO()
    if identifier is not None:  # qpdf keeps /ID's first element, derives the second
        pdf.trailer.ID = pikepdf.Array([pikepdf.String(identifier)] * 2)
    # The /ID's first element is the inputs hash; nothing else varies.
    pdf.save(out, static_id=False, deterministic_id=True, compress_streams=True,
             object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()
