"""Translation freshness, the treatment model, reading grades of what patients read, and the
messages an editor sees: checked on real builds, with the PDFs read back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from generator.content.fields import Duration
from generator.content.loading import load_content
from generator.content.schema import Protocol
from generator.errors import ContentError
from generator.quality.readability import document_text, grade_text, rendered, sentences
from generator.render.treatment import duration, protocol_rules
from tests.conftest import pdf_pages, run_build
from tests.test_quality import cli_in, edit

CONSENTS = [("prairie-mind", "ketamine"), ("riverwalk-wellness", "ketamine"),
            ("riverwalk-wellness", "esketamine")]


def pdf_text(path: Path) -> str:
    return " ".join(pdf_pages(path))


def translations(content: Path, *args: str):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    from tests.conftest import REPO

    return subprocess.run([sys.executable, "-m", "cli.main", "translations", *args,
                           "--content", str(content)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


# --- translation freshness ---------------------------------------------------------------------

@pytest.mark.slow
def test_source_edit_makes_translation_stale_and_holds_back_the_spanish_consent(content, tmp_path):
    out = tmp_path / "out"
    run_build(content, out)
    es_consent = out / "clinics/prairie-mind/ketamine/es/consent.pdf"
    published = es_consent.read_bytes()
    assert "1 de cada 10" in pdf_text(es_consent)

    def one_in_four(d):  # type: ignore[no-untyped-def]
        risk = d["risks"]["items"][0]
        risk["detail"] = risk["detail"].replace("About 1 in 10", "About 1 in 4")
        d["consent_version"] = "1.1"

    edit(content / "therapies" / "ketamine.yaml", one_in_four)
    overlay = content / "therapies" / "ketamine.es.yaml"
    field = "risks.items.challenging-experience.detail"
    listed = translations(content, "list")
    where = f"ketamine.es.yaml:{line_of(overlay, 'Más o menos 1 de cada 10')}: {field}: stale 'es'"
    assert where in listed.stdout, listed.stdout
    english_line = line_of(content / "therapies" / "ketamine.yaml", "About 1 in 4")
    assert f"the English text (content/therapies/ketamine.yaml:{english_line}) changed" in (
        listed.stdout)

    strict = cli_in(content, out, "validate", "--strict")
    assert strict.returncode == 1 and field in strict.stderr

    built = cli_in(content, out, "build", "-q")
    assert built.returncode == 0, built.stderr
    for clinic in ("prairie-mind", "riverwalk-wellness"):
        assert (f"not published: consent/{clinic}/ketamine/es: held back: its 'es' translation "
                f"is stale (content/therapies/ketamine.es.yaml:") in built.stderr
    assert "held back 2" in built.stdout
    english = pdf_text(out / "clinics/prairie-mind/ketamine/en/consent.pdf")
    assert "About 1 in 4" in english and "Consent version 1.1" in english
    # The last good Spanish consent stays, untouched; the Spanish handout is rebuilt, reported.
    assert es_consent.read_bytes() == published
    assert "Versión del consentimiento 1.0" in pdf_text(es_consent)
    assert "note: content/therapies/ketamine.es.yaml:" in built.stderr
    manifest = (out / "manifest.json").read_text()
    assert "clinics/prairie-mind/ketamine/es/consent.pdf" in manifest

    # The translator updates the text and marks it reviewed: the Spanish 1.1 is published.
    overlay.write_text(overlay.read_text().replace("Más o menos 1 de cada 10",
                                                   "Más o menos 1 de cada 4"))
    marked = translations(content, "mark-reviewed", "therapy:ketamine", "--lang", "es", field)
    assert marked.returncode == 0 and f"marked 1 field(s) reviewed: {field}" in marked.stdout
    assert translations(content, "list").stdout == ""
    again = cli_in(content, out, "build", "-q")
    assert again.returncode == 0 and "held back" not in again.stdout + again.stderr
    spanish = pdf_text(es_consent)
    assert "1 de cada 4" in spanish and "Versión del consentimiento 1.1" in spanish


def test_demo_translations_are_current():
    from tests.conftest import CONTENT

    tree = load_content(CONTENT, ("en", "es"))
    assert tree.stale == {}


# --- the treatment model -----------------------------------------------------------------------

def test_second_therapy_documents_say_what_its_data_says(built, project):
    clinic = project.tree.clinics["riverwalk-wellness"]
    protocol = clinic.protocols["esketamine"]
    assert project.tree.therapies["esketamine"].regulatory.status == "approved"
    assert protocol.given_by == "self-supervised" and not protocol.escort_required
    en = pdf_text(built / "clinics/riverwalk-wellness/esketamine/en/consent.pdf")
    es = pdf_text(built / "clinics/riverwalk-wellness/esketamine/es/consent.pdf")
    assert "6. Approval and what is not yet known" in en
    assert "This treatment is approved for this use." in en
    assert "off-label" not in en.lower()
    assert ("You will take the medicine yourself at Riverwalk Wellness, while Dr. Samuel Okafor, "
            "board-certified psychiatrist, or another qualified clinician watches you.") in en
    assert "Your treatment will be given by" not in en
    for sentence in ("A session takes about 2 hours and 30 minutes.",
                     "Do not eat for 2 hours before your session.",
                     "You may drink clear fluids, such as water, until 30 minutes before.",
                     "After your dose, staff watch you for at least 2 hours before you may leave."):
        assert sentence in en, sentence
    assert "An adult must come with you" not in en
    assert "Una sesión dura más o menos 2 horas y 30 minutos." in es
    assert "mientras lo vigila el Dr. Samuel Okafor, psiquiatra" in es
    assert "Este tratamiento está aprobado para este uso." in es
    handout = pdf_text(built / "clinics/riverwalk-wellness/esketamine/en/handout.pdf")
    assert "You take the medicine yourself, while Dr. Samuel Okafor" in handout
    for text in (en, es, handout):
        assert not re.search(r"\b0 (hours?|minutes?|horas?|minutos?)\b", text)
        assert not re.search(r"\b1 (hours|minutes|horas|minutos)\b", text)
    # The name's own brackets are not nested in the sentence the patient signs.
    assert ("I agree to receive this treatment at Riverwalk Wellness: Esketamine nasal spray "
            "(Spravato).") in en
    assert "((" not in en + es and "))" not in en + es


def test_first_therapy_documents_follow_its_own_data(built):
    en = pdf_text(built / "clinics/prairie-mind/ketamine/en/consent.pdf")
    es = pdf_text(built / "clinics/prairie-mind/ketamine/es/consent.pdf")
    assert "6. Off-label use and what is not yet known" in en
    assert "A session takes about 1 hour." in en
    assert ("Your treatment will be given by Dr. Maya Fernandez, board-certified "
            "anesthesiologist") in en
    assert "Le dará el tratamiento la Dra. Maya Fernandez, anestesióloga" in es
    assert "Una sesión dura más o menos 1 hora." in es
    # The escort is said once, whatever the clinic's driving text says.
    assert en.count("An adult must come with you to take you home.") == 1
    assert en.count("take you home") == 1


def test_rules_that_do_not_apply_print_nothing_and_units_are_typed():
    base = {"given_by": "clinician", "session": "45 minutes", "monitoring": ["Pulse"],
            "driving": "Do not drive.", "escort_required": False}
    none = Protocol.model_validate({**base, "no_food_before": "0 hours"})
    assert protocol_rules(none, "en") == ["A session takes about 45 minutes."]
    drink_only = Protocol.model_validate({**base, "no_drink_before": "30 minutes"})
    assert protocol_rules(drink_only, "es")[1] == (
        "No beba nada desde 30 minutos antes de su sesión.")
    assert duration(Duration.model_validate("1 hour"), "en") == "1 hour"
    assert duration(Duration.model_validate("1 hour"), "es") == "1 hora"
    with pytest.raises(ValueError, match="is not a duration"):
        Duration.model_validate("6")


def test_state_page_says_in_the_state(built):
    page = (built / "site/en/ketamine/illinois/index.html").read_text()
    assert "Ketamine therapy in Illinois</h2>" in page and "near Illinois" not in page
    city = (built / "site/en/ketamine/naperville/index.html").read_text()
    assert "Ketamine therapy near Naperville</h2>" in city


def test_consent_explains_its_content_hash(built):
    text = pdf_text(built / "clinics/prairie-mind/ketamine/en/consent.pdf")
    assert "The content hash is a short code made from the words of this form." in text


@pytest.mark.slow
def test_strict_build_needs_a_named_clinical_reviewer(content, tmp_path):
    out = tmp_path / "out"
    assert cli_in(content, out, "validate", "--strict").returncode == 0
    refused = cli_in(content, out, "build", "--strict", "-q")
    assert refused.returncode == 1
    assert ("content/therapies/ketamine.yaml: review.reviewer: no named clinical reviewer"
            in refused.stderr)
    assert not (out / "manifest.json").exists()
    for tid in ("ketamine", "esketamine"):
        edit(content / "therapies" / f"{tid}.yaml", lambda d: d["review"].update(
            reviewer={"name": "Test Reviewer", "credentials": "MD"}))
    assert "review.reviewer" not in cli_in(content, out, "validate", "--strict").stdout


# --- reading grades ----------------------------------------------------------------------------

def test_sentence_builder_keeps_words_apart_across_line_breaks():
    text = sentences("It may help\nsome people in a\nclinic. Trained staff watch you the whole\n"
                     "time.\nLike any medicine.\n\n- a list item\n- another")
    assert "help some" in text and "a clinic" in text and "time. Like" in text
    for glued in ("helpsome", "aclinic", "time.Like"):
        assert glued not in text
    assert text.endswith("a list item. another.")


@pytest.mark.parametrize("kind", ["consent", "handout"])
@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("clinic", "therapy"), CONSENTS)
def test_grades_come_from_the_rendered_text_and_match_the_pdf(built, project, clinic, therapy,
                                                              lang, kind):
    spec = project.spec(f"{kind}/{clinic}/{therapy}/{lang}")
    html = rendered(project, spec)
    text, _ = document_text(html)
    pdf = pdf_text(built / f"clinics/{clinic}/{therapy}/{lang}/{kind}.pdf")
    # Template strings are graded with the content.
    assert "Possible side effects" in text.whole() or "Posibles efectos" in text.whole()
    assert abs(grade_text(text.whole(), lang) - grade_text(pdf, lang)) <= 0.5
    if kind == "consent":
        content = project.tree.therapy(therapy, lang)
        signed = text.signed()
        assert len(signed) == len(content.side_effects.items) + len(content.risks.items) + 1
        for statement, body in signed.items():
            assert " ".join(body.split()[:4]) in pdf, statement
            assert grade_text(body, lang) <= 8.0, (statement, body)


@pytest.mark.slow
def test_validate_lists_section_signed_and_location_grades(content, tmp_path):
    result = cli_in(content, tmp_path / "out", "validate")
    lines = result.stdout
    assert "consent prairie-mind/ketamine signed 'consent' [en] (limit 8)" in lines
    assert "consent riverwalk-wellness/esketamine section '2. What will happen' [en]" in lines
    assert "location illinois local_notes [es]" in lines
    assert "location naperville therapy_notes.ketamine [en]" in lines


# --- messages an editor sees -------------------------------------------------------------------

def problems_of(content: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(content, ("en", "es"))
    return caught.value.lines()


def test_unknown_id_shows_the_id_its_line_and_a_suggestion(content):
    clinic = content / "clinics" / "riverwalk-wellness.yaml"
    clinic.write_text(clinic.read_text().replace("therapies: [ketamine, esketamine]",
                                                 "therapies: [ketamine, esketamin]"))
    line = line_of(clinic, "therapies: [")
    assert (f"content/clinics/riverwalk-wellness.yaml:{line}: therapies: unknown therapy "
            "'esketamin' (did you mean 'esketamine'?)") in problems_of(content)


def test_unknown_source_reference_has_file_and_line(content):
    therapy = content / "therapies" / "esketamine.yaml"
    therapy.write_text(therapy.read_text().replace("cite: [fda-2019, rems]",
                                                   "cite: [fda-2019, rem]"))
    line = line_of(therapy, "cite: [fda-2019, rem]")
    found = problems_of(content)
    assert (f"content/therapies/esketamine.yaml:{line}: sections.approval.cite: cites unknown "
            "source 'rem' (did you mean 'rems'?)") in found


def test_extra_spanish_item_says_its_id_is_missing_in_english(content):
    overlay = content / "therapies" / "esketamine.es.yaml"
    overlay.write_text(overlay.read_text().replace("    bladder:\n", "    bladdr:\n"))
    found = problems_of(content)
    line = line_of(overlay, "bladdr:")
    assert (f"content/therapies/esketamine.es.yaml:{line + 1}: risks.items.bladdr.name: no item "
            "with id 'bladdr' in risks.items of the English file (was it renamed or removed "
            "there?)") in found
    english = line_of(content / "therapies" / "esketamine.yaml", "- id: bladder")
    assert any(p.startswith("content/therapies/esketamine.es.yaml:") and
               f"risks.items.bladder.name: missing 'es' translation of "
               f"content/therapies/esketamine.yaml:{english + 1}" in p for p in found), found


def test_contrast_problem_has_file_and_line(content):
    clinic = content / "clinics" / "prairie-mind.yaml"
    clinic.write_text(clinic.read_text().replace('primary: "#1f4e79"', 'primary: "#9fc5e8"'))
    line = line_of(clinic, "primary:")
    assert any(p.startswith(f"content/clinics/prairie-mind.yaml:{line}: colors.primary: "
                            "#9fc5e8 on white has contrast") for p in problems_of(content))


def test_translation_problem_has_file_and_line(content):
    overlay = content / "clinics" / "prairie-mind.es.yaml"
    data = yaml.safe_load(overlay.read_text())
    data["protocols"]["ketamine"]["monitoring"] = ["Presión arterial"]
    overlay.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    line = line_of(overlay, "monitoring:")
    assert (f"content/clinics/prairie-mind.es.yaml:{line}: protocols.ketamine.monitoring: must "
            "be a list of 4 texts, like the English") in problems_of(content)


def test_extra_spanish_key_of_a_mapping_says_the_english_lacks_it(content):
    english = content / "locations" / "naperville.yaml"
    english.write_text(english.read_text().replace("  ketamine: |", "  esketamine: |"))
    found = problems_of(content)
    line = line_of(content / "locations" / "naperville.es.yaml", "  ketamine:")
    assert (f"content/locations/naperville.es.yaml:{line}: therapy_notes.ketamine: no "
            "therapy_notes entry 'ketamine' in the English file (was it renamed or removed "
            "there?)") in found
