"""The structure tree WeasyPrint writes, completed for PDF/UA-1: /Lang on passages in another
language, /Scope on table header cells, list bodies, and figure boxes in PDF coordinates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pikepdf

from generator.errors import RenderError


def _kids(element: pikepdf.Object) -> list[Any]:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def structure_elements(root: pikepdf.Object) -> list[pikepdf.Dictionary]:
    """Every structure element reachable from the root, in tree (reading) order."""
    return list(_elements(root))


def _elements(root: pikepdf.Object) -> Iterator[pikepdf.Dictionary]:
    stack = list(reversed(_kids(root)))
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Dictionary) and node.get("/Type") != "/OBJR" \
                and "/S" in node:
            yield node
            stack.extend(reversed(_kids(node)))


def parent_tree(root: pikepdf.Object) -> pikepdf.Array:
    nums = root.ParentTree.get("/Nums")
    if not isinstance(nums, pikepdf.Array):
        raise RenderError("finishing pass: the parent tree has no /Nums (not WeasyPrint's)")
    return nums


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


def set_languages(elements: list[pikepdf.Dictionary], passages: list[tuple[str, str]],
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


def set_scopes(elements: list[pikepdf.Dictionary]) -> None:
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


def wrap_list_bodies(pdf: pikepdf.Pdf, elements: list[pikepdf.Dictionary]) -> None:
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


def fix_figure_boxes(elements: list[pikepdf.Dictionary]) -> None:
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
