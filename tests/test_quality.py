"""Documents patients can read and clinics can defend: forms, PDF/UA, Spanish, reading grade,
review dates, doorway pages, consent versions and redlines, QR codes, brand contrast."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from generator.content.loading import load_content
from generator.errors import ContentError
from generator.i18n import translations
from generator.markup import plain_text
from tests.conftest import (
    REPO,
    make_settings,
    pdf_pages,
    published_files,
    run_build,
    run_cli,
    snapshot,
)

CLINICS = ["prairie-mind", "riverwalk-wellness"]
LANGS = ["en", "es"]


def edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def fold(text: str) -> str:
    return " ".join(plain_text(text).split())


def cli_in(content: Path, out: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "cli.main", *args, "--content", str(content),
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                          env=full_env, timeout=300)


# --- fillable consent --------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("clinic", CLINICS)
def test_consent_fields_one_initials_per_item_with_stable_names(built, project, clinic, lang):
    reader = PdfReader(built / f"clinics/{clinic}/ketamine/{lang}/consent.pdf")
    fields = reader.get_fields() or {}
    therapy = project.tree.therapy("ketamine", lang)
    items = therapy.side_effects.items + therapy.risks.items
    initials = sorted(name for name in fields if name.startswith("initials_"))
    assert initials == sorted(f"initials_{item.id}" for item in items)
    assert {"patient_name", "date_of_birth", "patient_printed_name", "patient_signed_on",
            "witness_printed_name", "witness_signed_on"} <= set(fields)
    assert len(fields) == len(items) + 9
    for item in items:  # every field has an accessible name: the item it confirms
        assert fold(item.name) in str(fields[f"initials_{item.id}"].get("/TU"))
    for name, field in fields.items():
        assert field.get("/FT") == "/Tx", name
        assert "signature" not in name, "signature areas stay clear for ink"


# --- tagged PDF/UA ---------------------------------------------------------------------------

def all_pdfs(built: Path) -> list[Path]:
    return sorted(published_files(built, "*.pdf"))


def test_every_pdf_is_tagged_pdf_ua_with_title_and_language(built):
    pdfs = all_pdfs(built)
    # 12 clinic documents, and the site's byte-identical copies of the handouts.
    assert len([p for p in pdfs if p.relative_to(built).parts[0] == "clinics"]) == 12
    for path in pdfs:
        reader = PdfReader(path)
        root = reader.trailer["/Root"]
        lang = path.parts[-2]
        assert root["/Lang"] == lang, path
        assert "/StructTreeRoot" in root, path
        assert root["/MarkInfo"]["/Marked"], path
        assert root["/ViewerPreferences"]["/DisplayDocTitle"], path
        assert reader.metadata and reader.metadata.title, path
        xmp = root["/Metadata"].get_object().get_data().decode()
        assert 'pdfuaid:part="1"' in xmp, path
        structure = str(root["/StructTreeRoot"].get_object())
        assert "/K" in structure


def test_logo_has_alt_text_in_the_structure_tree(built, project):
    path = built / "clinics/prairie-mind/ketamine/en/handout.pdf"
    raw = path.read_bytes()
    alt = project.tree.clinics["prairie-mind"].logo_alt
    reader = PdfReader(io.BytesIO(raw))
    figures = []

    def walk(node, depth=0):  # type: ignore[no-untyped-def]
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, dict):
            if node.get("/S") == "/Figure":
                figures.append(str(node.get("/Alt")))
            kids = node.get("/K")
            if kids is not None and depth < 40:
                for kid in kids if isinstance(kids, list) else [kids]:
                    walk(kid, depth + 1)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    assert alt in figures


# --- Spanish -----------------------------------------------------------------------------------

@pytest.mark.parametrize("clinic", CLINICS)
def test_spanish_consent_has_no_english_left(built, project, clinic):
    text = " ".join(pdf_pages(built / f"clinics/{clinic}/ketamine/es/consent.pdf"))
    english = project.tree.therapies["ketamine"]
    spanish = project.tree.therapy("ketamine", "es")
    for item in spanish.side_effects.items + spanish.risks.items:
        assert fold(item.detail) in text
    for item in english.side_effects.items + english.risks.items:
        assert fold(item.detail) not in text, item.id
    catalog = translations("es")
    for message in ("Your rights", "Signature of witness", "Date of birth", "Risks",
                    "No result is guaranteed."):
        assert catalog.gettext(message) != message
        assert catalog.gettext(message) in text
    # The only English on the form is the English half of the language-help notice.
    english_notice = fold(translations("en").gettext(
        "Free language help is available. If you need help in another language, call "
        "%(clinic)s at %(phone)s. It costs you nothing.")).split("%")[0]
    assert text.count(english_notice) == 1
    assert "Page " not in text and "Página 1 de" in text


@pytest.mark.parametrize("path", ["clinics/prairie-mind/ketamine/en/handout.pdf",
                                  "clinics/riverwalk-wellness/ketamine/es/consent.pdf"])
def test_language_help_notice_in_both_languages(built, path):
    text = " ".join(pdf_pages(built / path))
    assert "Free language help is available." in text
    assert translations("es").gettext("Free language help is available. If you need help in "
                                      "another language, call %(clinic)s at %(phone)s. It costs "
                                      "you nothing.").split(".")[0] in text


def test_pages_link_language_versions_and_sitemap_lists_both(built, project):
    for spec in project.pages:
        html = (built / spec.outputs[0].path).read_text()
        for lang in LANGS:
            assert (f'<link rel="alternate" hreflang="{lang}" href="https://www.example.com/'
                    f'{lang}/{spec.key.therapy}/{spec.key.location}/">') in html
        assert 'hreflang="x-default"' in html
        assert 'lang="es"' in html and 'lang="en"' in html  # the notice in both languages
    sitemap = (built / "site/sitemap.xml").read_text()
    listed = len(project.pages) + sum(s.key.kind == "home" for s in project.specs)
    assert sitemap.count("<loc>") == listed
    assert sitemap.count('hreflang="es"') == listed


def test_missing_therapy_translation_is_an_error_naming_entry_and_field(content):
    edit(content / "therapies" / "ketamine.es.yaml",
         lambda d: d["risks"]["items"].pop("addiction"))
    with pytest.raises(ContentError) as caught:
        load_content(content, ("en", "es"))
    # Each names the Spanish file and line, and the English line it would translate.
    english = content / "therapies" / "ketamine.yaml"
    item = next(n for n, line in enumerate(english.read_text().splitlines(), 1)
                if "- id: addiction" in line)
    lines = caught.value.lines()
    for line, (name, offset) in zip(lines, (("name", 1), ("detail", 2)), strict=True):
        assert re.fullmatch(
            rf"content/therapies/ketamine\.es\.yaml:\d+: risks\.items\.addiction\.{name}: "
            rf"missing 'es' translation of content/therapies/ketamine\.yaml:{item + offset}; "
            "consent forms are never generated with untranslated text", line), line


@pytest.mark.slow
def test_location_falls_back_only_when_allowed_and_is_reported(content, tmp_path):
    edit(content / "locations" / "naperville.es.yaml", lambda d: d.pop("summary"))
    with pytest.raises(ContentError, match=r"naperville\.es\.yaml: summary: missing 'es'"):
        load_content(content, ("en", "es"))
    edit(content / "locations" / "naperville.yaml", lambda d: d.update(allow_fallback=True))
    tree = load_content(content, ("en", "es"))
    assert tree.fallbacks == {("location", "naperville", "es"): ["summary"]}
    out = tmp_path / "out"
    result = cli_in(content, out, "build", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "location naperville [es] shows English for summary" in result.stderr
    page = (out / "site/es/ketamine/naperville/index.html").read_text()
    english = tree.locations["naperville"].summary.split(".")[0]
    match = re.search(r'<div lang="en">(.*?)</div>', page, re.S)
    assert match and english in match.group(1)


def test_untranslated_interface_string_is_refused(tmp_path, content, monkeypatch):
    import shutil

    from generator import i18n
    from generator.plan.project import load_project

    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale)
    po = locale / "es" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text().replace('msgstr "Sus derechos"', 'msgstr ""'))
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    with pytest.raises(ContentError) as caught:
        load_project(make_settings(content, tmp_path / "out"))
    [line] = caught.value.lines()
    assert line.endswith("messages.po: 'Your rights': no 'es' translation")


# --- reading grade, review dates, doorway pages -----------------------------------------------

@pytest.mark.slow
def test_validate_reports_grades_worst_first_and_the_content_meets_defaults(content, tmp_path):
    result = cli_in(content, tmp_path / "out", "validate", "--strict")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    grades = [line for line in lines if line.strip().startswith("grade")]
    assert any("handout summary prairie-mind/ketamine [en] (limit 6)" in g for g in grades)
    assert any("consent riverwalk-wellness/ketamine [es] (limit 10)" in g for g in grades)
    assert any("therapy ketamine sections.approval.body [es]" in g for g in grades)
    limited = [float(g.split()[1]) - float(g.rsplit("limit ", 1)[1].rstrip(")"))
               for g in grades if "(limit" in g]
    assert limited == sorted(limited, reverse=True)


@pytest.mark.slow
def test_reading_limit_fails_strict_build_and_publishes_nothing(content, tmp_path):
    out = tmp_path / "out"
    run_build(content, out)
    before = snapshot(out)
    strict = cli_in(content, out, "build", "--strict", env={"CAREPRESS_READING_GRADE_HANDOUT": "2"})
    assert strict.returncode == 1
    assert "handout prairie-mind/ketamine [en] (limit 2)  OVER" in strict.stderr
    assert snapshot(out) == before
    lenient = cli_in(content, out, "validate", env={"CAREPRESS_READING_GRADE_HANDOUT": "2"})
    assert lenient.returncode == 0 and "OVER" in lenient.stdout


@pytest.mark.slow
def test_overdue_review_is_reported_and_refused_in_strict_mode(content, tmp_path):
    edit(content / "therapies" / "ketamine.yaml",
         lambda d: d["review"].update(reviewed_on="2024-01-10", next_review="2025-01-10"))
    out = tmp_path / "out"
    report = cli_in(content, out, "validate")
    assert report.returncode == 0
    assert "overdue reviews: 1" in report.stdout
    assert "review.next_review: medical review was due on 2025-01-10" in report.stdout
    strict = cli_in(content, out, "build", "--strict")
    assert strict.returncode == 1
    assert "medical review was due on 2025-01-10" in strict.stderr
    assert not (out / "manifest.json").exists()
    future = cli_in(content, out, "validate", "--strict", "--today", "2024-06-01")
    assert future.returncode == 0


@pytest.mark.slow
def test_near_copy_location_pages_are_flagged(content, tmp_path):
    source = yaml.safe_load((content / "locations" / "naperville.yaml").read_text())
    copied = {k: source[k] for k in ("summary", "local_notes", "nearby", "therapy_notes", "faq")}
    copied["summary"] = copied["summary"].replace("Naperville", "Orland Park")
    edit(content / "locations" / "orland-park.yaml", lambda d: d.update(copied))
    spanish = yaml.safe_load((content / "locations" / "naperville.es.yaml").read_text())
    edit(content / "locations" / "orland-park.es.yaml",
         lambda d: d.update({k: v for k, v in spanish.items() if k != "name"}))
    result = cli_in(content, tmp_path / "out", "validate", "--strict")
    assert result.returncode == 1
    assert re.search(r"page/ketamine/naperville/en and page/ketamine/orland-park/en share "
                     r"\d+% of their text", result.stderr)
    assert "near-identical location pages: 2" in result.stdout


def test_demo_pages_pass_the_doorway_check(project):
    from generator.quality.checks import doorway_pairs

    assert doorway_pairs(project) == []


# --- consent versions --------------------------------------------------------------------------

def change_risk(content: Path, version: str | None) -> None:
    def change(d):  # type: ignore[no-untyped-def]
        d["risks"]["items"][0]["detail"] = "About 1 in 10 people find a session hard to go through."
        d["risks"]["items"].append({"id": "falls", "name": "Falls",
                                    "detail": "You may be unsteady and could fall.",
                                    "cite": ["oxford-health"]})
        if version:
            d["consent_version"] = version

    edit(content / "therapies" / "ketamine.yaml", change)

    def translate(d):  # type: ignore[no-untyped-def]
        d["risks"]["items"]["falls"] = {"name": "Caídas",
                                        "detail": "Puede sentirse inestable y caerse."}

    edit(content / "therapies" / "ketamine.es.yaml", translate)


@pytest.mark.slow
def test_changed_consent_text_needs_a_new_version(content, tmp_path):
    out = tmp_path / "out"
    run_build(content, out)
    record = yaml.safe_load((out / "consent-versions.json").read_text())
    assert set(record["therapies"]["ketamine"]) == {"1.0"}
    change_risk(content, version=None)
    result = cli_in(content, out, "validate")
    assert result.returncode == 1
    assert ("content/therapies/ketamine.yaml: consent_version: the consent text changed since "
            "version 1.0 was published") in result.stderr
    with pytest.raises(ContentError):
        run_build(content, out)
    edit(content / "therapies" / "ketamine.yaml", lambda d: d.update(consent_version="1.1"))
    report = run_build(content, out)
    assert not report.failed
    record = yaml.safe_load((out / "consent-versions.json").read_text())
    assert set(record["therapies"]["ketamine"]) == {"1.0", "1.1"}
    text = " ".join(pdf_pages(out / "clinics/prairie-mind/ketamine/en/consent.pdf"))
    assert "Consent version 1.1" in text


@pytest.mark.slow
def test_changed_protocol_wording_needs_a_new_revision(content, tmp_path):
    out = tmp_path / "out"
    run_build(content, out)
    edit(content / "clinics" / "prairie-mind.yaml",
         lambda d: d["protocols"]["ketamine"].update(no_food_before="9 hours"))
    with pytest.raises(ContentError, match=r"protocols.ketamine.revision: the protocol wording"):
        run_build(content, out)
    edit(content / "clinics" / "prairie-mind.yaml",
         lambda d: d["protocols"]["ketamine"].update(revision=2))
    assert not run_build(content, out).failed


@pytest.mark.slow
def test_consent_diff_redlines_a_changed_and_an_added_risk(content, tmp_path):
    out = tmp_path / "out"
    run_build(content, out)
    change_risk(content, version="1.1")
    run_build(content, out)
    target = tmp_path / "redline.pdf"
    result = run_cli("consent-diff", "ketamine", "1.0", "1.1", "--content", str(content),
                     "--out", str(out), "-o", str(target))
    assert "changed: ketamine 1.0 → 1.1" in result.stdout
    html = target.with_suffix(".html").read_text()
    assert "<ins>Falls. You may be unsteady and could fall.</ins>" in html
    assert re.search(r"<del>[^<]*</del>", html) and "Reworded" in html
    text = " ".join(pdf_pages(target))
    assert "Added: Falls." in text and "Reworded:" in text
    same = run_cli("consent-diff", "ketamine", "1.1", "--content", str(content),
                   "--out", str(out), "-o", str(tmp_path / "same.pdf"))
    assert "no change: ketamine 1.1 → 1.1" in same.stdout


# --- print meets web ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_handout_qr_code_points_to_a_published_page(built, lang):
    import segno

    html = (built / f"clinics/prairie-mind/ketamine/{lang}/handout.html").read_text()
    match = re.search(r'<figcaption>[^<]*<a href="([^"]+)">([^<]+)</a>', html)
    assert match
    url, short = match.groups()
    assert url == f"https://www.example.com/{lang}/ketamine/orland-park/"
    assert short == url.removeprefix("https://").rstrip("/")
    assert (built / "site" / url.removeprefix("https://www.example.com/") / "index.html").exists()
    expected = segno.make_qr(url, error="m").svg_inline(scale=2, border=4,
                                                       svgclass="qr-code", lineclass=None)
    assert expected in html  # the drawn code encodes exactly that URL
    printed = "".join(pdf_pages(built / f"clinics/prairie-mind/ketamine/{lang}/handout.pdf"))
    assert short in printed.replace(" ", "")  # the URL may wrap at a slash


# --- brand colours -----------------------------------------------------------------------------

def test_unreadable_brand_colour_is_refused(content):
    edit(content / "clinics" / "prairie-mind.yaml",
         lambda d: d["colors"].update(primary="#88aacc"))
    with pytest.raises(ContentError) as caught:
        load_content(content)
    line = next(n for n, text in enumerate(
        (content / "clinics" / "prairie-mind.yaml").read_text().splitlines(), 1)
        if "primary:" in text)
    assert caught.value.lines()[0].startswith(
        f"content/clinics/prairie-mind.yaml:{line}: colors.primary: #88aacc on white has "
        "contrast 2.42:1; WCAG 2.1 AA needs 4.5:1")
