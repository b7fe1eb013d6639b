"""Handouts and consent forms, read back from the PDFs and HTML that a build published."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from generator.markup import plain_text
from generator.render.contexts import Citations, consent_hash
from generator.render.treatment import duration
from tests.conftest import pdf_pages

CLINIC_DOCS = [("prairie-mind", "ketamine"), ("riverwalk-wellness", "ketamine"),
               ("riverwalk-wellness", "esketamine")]


def fold(text: str) -> str:
    return " ".join(plain_text(text).split())


@pytest.mark.parametrize(("clinic", "therapy"), CLINIC_DOCS)
def test_consent_lists_every_side_effect_and_risk(built, project, clinic, therapy):
    text = " ".join(pdf_pages(built / f"clinics/{clinic}/{therapy}/en/consent.pdf"))
    content = project.tree.therapies[therapy]
    for item in content.side_effects.items + content.risks.items:
        assert fold(item.name) in text, item.id
        assert fold(item.detail) in text, item.id


@pytest.mark.parametrize(("clinic", "therapy"), CLINIC_DOCS)
def test_consent_has_one_initials_box_per_item(built, project, clinic, therapy):
    html = (built / f"clinics/{clinic}/{therapy}/en/consent.html").read_text()
    content = project.tree.therapies[therapy]
    items = content.side_effects.items + content.risks.items
    assert html.count('class="initials-box"') == len(items)
    for item in items:
        assert f'<tr id="{item.id}">' in html


@pytest.mark.parametrize(("clinic", "therapy"), CLINIC_DOCS)
def test_consent_version_and_hash_on_every_page(built, project, clinic, therapy):
    pages = pdf_pages(built / f"clinics/{clinic}/{therapy}/en/consent.pdf")
    content = project.tree.therapies[therapy]
    place = project.tree.clinics[clinic]
    expected = (f"Consent version {content.consent_version} · protocol revision "
                f"{place.protocols[therapy].revision} · content hash "
                f"{consent_hash(content, place, therapy)}")
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert expected in page, f"page {number}"
        assert f"Page {number} of {len(pages)}" in page


def test_consent_hash_changes_with_consent_text_only(project):
    therapy = project.tree.therapies["ketamine"]
    clinic = project.tree.clinics["prairie-mind"]
    base = consent_hash(therapy, clinic, "ketamine")
    changed_risk = therapy.model_copy(update={"risks": therapy.risks.model_copy(
        update={"intro": therapy.risks.intro + " More."})})
    assert consent_hash(changed_risk, clinic, "ketamine") != base
    protocol = clinic.protocols["ketamine"].model_copy(update={"driving": "Do not drive."})
    stricter = clinic.model_copy(update={"protocols": {"ketamine": protocol}})
    assert consent_hash(therapy, stricter, "ketamine") != base
    recoloured = clinic.model_copy(update={"colors": clinic.colors.model_copy(
        update={"primary": "#000000"})})
    assert consent_hash(therapy, recoloured, "ketamine") == base


@pytest.mark.parametrize(("clinic", "therapy"), CLINIC_DOCS)
def test_consent_covers_what_informed_consent_needs(built, project, clinic, therapy):
    text = " ".join(pdf_pages(built / f"clinics/{clinic}/{therapy}/en/consent.pdf"))
    content = project.tree.therapies[therapy]
    place = project.tree.clinics[clinic]
    protocol = place.protocols[therapy]
    for section in ("what_it_is", "benefits", "alternatives", "approval", "long_term"):
        assert fold(getattr(content.sections, section).body)[:120] in text, section
    assert protocol.no_food_before is not None
    assert f"Do not eat for {duration(protocol.no_food_before, 'en')} before" in text
    assert f"about {duration(protocol.session, 'en')}." in text
    assert fold(protocol.driving) in text
    assert place.clinician.name in text
    for check in protocol.monitoring:
        assert check in text
    for phrase in ("You may ask questions", "stop treatment at any time",
                   "Signature of patient or legal representative", "Printed name",
                   "Signature of witness", "Witness printed name", "Date of birth"):
        assert phrase in text, phrase


@pytest.mark.parametrize(("clinic", "therapy"), CLINIC_DOCS)
def test_handout_summary_first_then_detail(built, project, clinic, therapy):
    pages = pdf_pages(built / f"clinics/{clinic}/{therapy}/en/handout.pdf")
    text = " ".join(pages)
    content = project.tree.therapies[therapy]
    summary = text.index(fold(content.summary)[:80])
    first_detail = text.index(fold(content.sections.what_it_is.body)[:80])
    assert summary < first_detail
    for item in content.side_effects.items + content.risks.items:
        assert fold(item.name) in text, item.id
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page


@pytest.mark.parametrize(("clinic", "therapy"), CLINIC_DOCS)
def test_handout_is_branded_reviewed_and_sourced(built, project, clinic, therapy):
    path = built / f"clinics/{clinic}/{therapy}/en/handout.pdf"
    text = " ".join(pdf_pages(path))
    place = project.tree.clinics[clinic]
    content = project.tree.therapies[therapy]
    review = content.review
    assert place.name in text and place.contact.phone in text
    assert (f"Medically reviewed by {review.reviewed_by} on "
            f"{review.reviewed_on:%B} {review.reviewed_on.day}, {review.reviewed_on.year}") in text
    sources = text[text.rindex("Sources"):]
    order = Citations.of(content).order
    assert set(order) == set(content.sources)
    # List markers paint in reading order (print.css), so each number reads before its source.
    positions = [sources.index(f"{n}. {content.sources[key].publisher}")
                 for n, key in enumerate(order, start=1)]
    assert positions == sorted(positions)
    html = (built / f"clinics/{clinic}/{therapy}/en/handout.html").read_text()
    assert f"--brand: {place.colors.primary}" in html
    assert 'src="../../../../site/assets/logos/' in html
    assert f'alt="{place.logo_alt}"' in html


@pytest.mark.parametrize("kind", ["handout", "consent"])
def test_pdfs_are_us_letter_tagged_and_titled(built, kind):
    reader = PdfReader(built / f"clinics/prairie-mind/ketamine/en/{kind}.pdf")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    assert reader.metadata is not None and reader.metadata.title
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_logo_is_embedded_in_the_pdf(built):
    reader = PdfReader(built / "clinics/prairie-mind/ketamine/en/handout.pdf")
    resources = reader.pages[0]["/Resources"]
    assert "/XObject" in resources, "the clinic logo must be drawn on the first page"
