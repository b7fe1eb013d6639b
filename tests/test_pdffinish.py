"""The PDF finishing pass on documents made for it: each point read back from the PDF."""

from __future__ import annotations

import io

import pikepdf
import pytest

from generator.errors import RenderError
from generator.render.pdf import PdfRenderer
from templates import STATIC_DIR
from tests.test_pdfua import elements, marked_content

SPANISH = ("Puede recibir ayuda gratis con el idioma, en cualquier momento y sin costo alguno. "
           * 20).strip()
BODY = f"""
<div class="pdf-footer"><span class="footer-right">Page <span class="page-number"></span></span>
<span class="footer-left">A running footer</span></div>
<form>
<p><label for="who">Relationship to the patient, if you sign for them as their
representative or guardian</label> <input type="text" id="who" name="who"
title="Relationship to the patient, if you sign for them as their representative or guardian"></p>
</form>
<table><thead><tr><th scope="col">Item</th><th scope="col">Initials</th></tr></thead>
<tbody><tr><th scope="row">Signature</th><td>x</td></tr></tbody></table>
<div style="height: 7.6in"></div>
<p lang="es">{SPANISH}</p>
"""


@pytest.fixture(scope="module")
def renderer() -> PdfRenderer:
    return PdfRenderer(STATIC_DIR, (STATIC_DIR,), strict=True)


def render(renderer: PdfRenderer, body: str) -> bytes:
    html = f'<!DOCTYPE html><html lang="en"><head><title>t</title></head><body>{body}</body></html>'
    return renderer.render(html, STATIC_DIR.as_uri() + "/", "finishtest", "finishing test")


@pytest.fixture(scope="module")
def finished(renderer: PdfRenderer) -> bytes:
    return render(renderer, BODY)


def test_a_passage_split_by_a_page_break_gets_its_language_on_both_parts(finished: bytes) -> None:
    with pikepdf.open(io.BytesIO(finished)) as pdf:
        assert len(pdf.pages) == 2
        tagged = [e for e in elements(pdf) if "/Lang" in e]
        assert [str(e.Lang) for e in tagged] == ["es", "es"]
        assert [e.Pg.objgen for e in tagged] == [p.objgen for p in pdf.pages]


def test_margin_boxes_become_pagination_artifacts(finished: bytes) -> None:
    with pikepdf.open(io.BytesIO(finished)) as pdf:
        in_tree = {e.objgen for e in elements(pdf)}
        for index, page in enumerate(pdf.pages):
            owners = pdf.Root.StructTreeRoot.ParentTree.Nums[2 * index + 1]
            kinds = [(tag, props) for tag, props in marked_content(page)]
            assert any(tag == "/Artifact" and props.get("/Subtype") == "/Footer"
                       for tag, props in kinds if isinstance(props, pikepdf.Dictionary))
            for _, props in kinds:
                if isinstance(props, pikepdf.Dictionary) and "/MCID" in props:
                    assert owners[int(props.MCID)].objgen in in_tree


def test_header_cells_scopes_and_the_whole_label_as_tooltip(finished: bytes) -> None:
    with pikepdf.open(io.BytesIO(finished)) as pdf:
        scopes = [str(e.A.Scope) for e in elements(pdf) if e.S == "/TH"]
        assert scopes == ["/Column", "/Column", "/Row"]
        (field,) = pdf.Root.AcroForm.Fields
        assert str(field.TU).startswith("Relationship to the patient") and \
            str(field.TU).endswith("representative or guardian")
        font = pdf.Root.AcroForm.DR.Font.CarepressFieldFont
        assert "/CarepressFieldFont" in str(field.DA)
        assert font.Subtype == "/Type0" and "/FontFile2" in font.DescendantFonts[0].FontDescriptor


def test_the_pass_is_deterministic(renderer: PdfRenderer, finished: bytes) -> None:
    assert render(renderer, BODY) == finished


def test_a_passage_that_is_not_drawn_fails_the_document(renderer: PdfRenderer) -> None:
    with pytest.raises(RenderError, match="no element holds the es passage"):
        render(renderer, '<p>Shown</p><p lang="es" style="display: none">Oculto</p>')
