"""The public site as a patient uses it, read back from one full build: home, clinic cards,
FAQ, breadcrumbs, favicon, robots.txt, 404, folder links, sitemap x-default; and the schema of
the new fields, with the problems an editor sees.

Expected values come from the content tree (the `project` fixture), never from copied prose.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus, urlsplit
from xml.etree import ElementTree

import pytest
import tinyhtml5
import yaml

from generator.content.loading import load_content
from generator.errors import ContentError
from generator.markup import plain_text
from generator.phones import tel_url
from generator.plan.documents import DocumentKey, page_path
from generator.render.pages import page_context
from tests.test_pages import SITE_URL, XHTML, fold, visible_text

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XLINK = "{http://www.w3.org/1999/xhtml}link"


def parse(path: Path) -> ElementTree.Element:
    return tinyhtml5.parse(path.read_text(encoding="utf-8"))


def every(root: ElementTree.Element, tag: str) -> list[ElementTree.Element]:
    return list(root.iter(XHTML + tag))


def by_class(root: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def graph(root: ElementTree.Element) -> list[dict]:
    scripts = [s for s in every(root, "script") if s.get("type") == "application/ld+json"]
    assert len(scripts) == 1
    data = json.loads(scripts[0].text or "")
    return data.get("@graph", [data])


def target(page: Path, href: str) -> Path:
    """The file a relative link opens on the published site (a folder serves index.html)."""
    path = urlsplit(href).path
    return (page.parent / (path + "index.html" if path.endswith("/") else path)).resolve()


def site_pages(built: Path) -> list[Path]:
    """Every HTML page of the site except the clinics' own documents."""
    return sorted(p for p in (built / "site").rglob("*.html") if "clinics" not in p.parts)


@pytest.fixture(scope="module")
def city_pages(built: Path, project) -> list[tuple[DocumentKey, Path]]:
    return [(s.key, built / s.outputs[0].path) for s in project.pages
            if project.tree.locations[s.key.location].type == "city"]


# --- clinic cards ----------------------------------------------------------------------------


def test_city_page_shows_clinic_cards_before_anything_about_the_place(city_pages):
    for _key, path in city_pages:
        main = next(iter(every(parse(path), "main")))
        sections = [e for e in main if e.tag == XHTML + "section"]
        assert "clinics" in (sections[0].get("class") or ""), path


def test_clinic_card_calls_books_and_finds_the_clinic(project, city_pages):
    tree = project.tree
    for key, path in city_pages:
        cards = by_class(parse(path), "clinic-card")
        serving = tree.clinics_serving(key.location, key.therapy)
        assert len(cards) == len(serving), path
        for cid, card in zip(serving, cards, strict=True):
            clinic = tree.clinic(cid, key.lang)
            links = {a.get("href", ""): fold("".join(a.itertext())) for a in every(card, "a")}
            call = by_class(card, "call")
            assert call and call[0].get("href") == tel_url(clinic.contact.phone,
                                                           clinic.address.country), path
            assert clinic.contact.phone in fold("".join(call[0].itertext()))
            assert str(clinic.appointment_url) in links, path
            directions = [h for h in links if urlsplit(h).netloc == urlsplit(
                tree.site_in(key.lang).directions_url).netloc]
            assert len(directions) == 1, path
            query = " ".join(v for vs in parse_qs(urlsplit(directions[0]).query).values()
                             for v in vs)
            assert clinic.address.street in unquote_plus(query)
            assert clinic.address.postal_code in unquote_plus(query)


def test_opening_hours_shown_and_in_json_ld_as_content_has_them(project, city_pages):
    tree = project.tree
    for key, path in city_pages:
        root = parse(path)
        nodes = {n["name"]: n for n in graph(root) if n.get("@type") == "MedicalClinic"}
        for cid in tree.clinics_serving(key.location, key.therapy):
            clinic = tree.clinic(cid, key.lang)
            assert clinic.hours, f"demo clinic {cid} should have hours"
            spec = nodes[clinic.name]["openingHoursSpecification"]
            assert spec == [{"@type": "OpeningHoursSpecification", "dayOfWeek": list(row.days),
                             "opens": row.opens, "closes": row.closes} for row in clinic.hours]
            card = next(c for c in by_class(root, "clinic-card") if c.get("id") == f"clinic-{cid}")
            rows = [fold(" ".join(div.itertext())) for div in by_class(card, "hours")[0]]
            # One line per row of content, then one for the days closed (if any).
            closed = {d for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                  "Saturday", "Sunday")} - {d for r in clinic.hours for d in r.days}
            assert len(rows) == len(clinic.hours) + (1 if closed else 0), (path, rows)


def test_spanish_hours_use_spanish_day_names(built, project):
    key = next(s.key for s in project.pages if s.key.lang == "es"
               and project.tree.locations[s.key.location].type == "city")
    text = visible_text(parse(built / page_path(key.therapy, key.location, "es")))
    assert any(day in text.lower() for day in ("lunes", "martes", "miércoles", "viernes"))
    assert "Monday" not in text


def test_card_links_the_clinics_handout_and_consent_in_the_page_language(built, project,
                                                                         city_pages):
    tree = project.tree
    for key, path in city_pages:
        for cid in tree.clinics_serving(key.location, key.therapy):
            card = next(c for c in by_class(parse(path), "clinic-card")
                        if c.get("id") == f"clinic-{cid}")
            targets = {target(path, a.get("href", "")): a for a in every(card, "a")
                       if not urlsplit(a.get("href", "")).scheme}
            own = built / "clinics" / cid / key.therapy / key.lang
            for name in ("handout.html", "handout.pdf", "consent.html"):
                found = [t for t in targets if t.name == name]
                assert len(found) == 1, (path, name)
                # On the site itself (published alone), in the page's language, this clinic's.
                assert found[0].is_relative_to((built / "site").resolve()), found[0]
                assert found[0].parts[-4:] == (cid, key.therapy, key.lang, name)
                if name.endswith(".pdf"):
                    assert found[0].read_bytes() == (own / name).read_bytes()
                    assert targets[found[0]].get("download") is not None
                else:
                    html = parse(found[0])
                    assert html.get("lang") == key.lang
                    assert tree.clinic(cid, key.lang).name in visible_text(html)


# --- FAQ -------------------------------------------------------------------------------------


def test_faq_block_and_faqpage_json_ld_say_exactly_what_the_content_says(built, project):
    checked = 0
    for spec in project.pages:
        key = spec.key
        location = project.tree.location(key.location, key.lang)
        root = parse(built / spec.outputs[0].path)
        faq_nodes = [n for n in graph(root) if n.get("@type") == "FAQPage"]
        if not location.faq:
            assert not faq_nodes and not by_class(root, "faq"), spec.outputs[0].path
            continue
        block = by_class(root, "faq")[0]
        shown = [fold("".join(h.itertext())) for h in every(block, "h3")]
        assert shown == [q.question for q in location.faq]
        entities = faq_nodes[0]["mainEntity"]
        assert [e["name"] for e in entities] == shown
        assert [e["acceptedAnswer"]["text"] for e in entities] == [
            plain_text(q.answer) for q in location.faq]
        for question in location.faq:
            assert fold(plain_text(question.answer)) in visible_text(block)
        checked += 1
    assert checked >= 2


def test_no_faq_in_content_means_no_faq_block(content):
    for path in (content / "locations").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        data.pop("faq", None)
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
    tree = load_content(content, ("en", "es"))
    lid = next(lid for lid, loc in tree.locations.items() if loc.type == "city")
    tid = next(iter(tree.therapies))
    for lang in ("en", "es"):
        context = page_context(tree, DocumentKey("page", therapy=tid, location=lid, lang=lang),
                               SITE_URL)
        assert context["faq"] == []
        assert all(n["@type"] != "FAQPage" for n in context["json_ld"]["@graph"])


# --- navigation ------------------------------------------------------------------------------


def test_breadcrumbs_start_at_home_and_pass_through_the_state(built, project):
    tree = project.tree
    for spec in project.pages:
        key, path = spec.key, built / spec.outputs[0].path
        nav = next(n for n in every(parse(path), "nav") if n.get("aria-label") in
                   ("Breadcrumb", "Ruta de navegación"))
        hrefs = [a.get("href", "") for a in every(nav, "a")]
        assert target(path, hrefs[0]) == (built / "site" / key.lang / "index.html").resolve()
        state = tree.locations[key.location].state
        if state:
            assert target(path, hrefs[1]) == (built / page_path(key.therapy, state,
                                                               key.lang)).resolve()
        current = [li for li in every(nav, "li") if li.get("aria-current") == "page"]
        assert len(current) == 1


def test_home_lists_every_therapy_and_links_every_state_page(built, project):
    tree = project.tree
    for lang in tree.languages:
        path = built / "site" / lang / "index.html"
        root = parse(path)
        assert root.get("lang") == lang
        text = visible_text(root)
        assert tree.site_in(lang).name in text
        targets = {target(path, a.get("href", "")) for a in every(root, "a")}
        for spec in project.pages:
            if spec.key.lang == lang:
                assert tree.therapy(spec.key.therapy, lang).name in text
                assert (built / spec.outputs[0].path).resolve() in targets, spec.key.id
        canonical = [lk.get("href") for lk in every(root, "link") if lk.get("rel") == "canonical"]
        assert canonical == [f"{SITE_URL}/{lang}/"]


def test_the_sites_address_offers_every_language_home(built, project):
    path = built / "site" / "index.html"
    root = parse(path)
    links = {target(path, a.get("href", "")): a for a in every(root, "a")}
    for lang in project.tree.languages:
        home = (built / "site" / lang / "index.html").resolve()
        assert home in links and links[home].get("hreflang") == lang
        section = next(s for s in every(root, "section") if s.get("lang") == lang)
        assert project.tree.site_in(lang).name in visible_text(section)
    heads = {lk.get("hreflang") or lk.get("rel"): lk.get("href") for lk in every(root, "link")
             if lk.get("rel") in ("canonical", "alternate")}
    assert heads["canonical"] == heads["x-default"] == f"{SITE_URL}/"
    # Every home says the same: its x-default is the site's address.
    for lang in project.tree.languages:
        home = parse(built / "site" / lang / "index.html")
        assert [lk.get("href") for lk in every(home, "link")
                if lk.get("hreflang") == "x-default"] == [f"{SITE_URL}/"]


def test_links_to_pages_end_in_a_slash_like_canonical_urls(built):
    for path in site_pages(built):
        for a in every(parse(path), "a"):
            href = a.get("href", "")
            assert not urlsplit(href).path.endswith("index.html"), f"{path}: {href}"


def test_every_site_page_has_a_favicon_that_exists(built, project):
    favicon = project.tree.site.favicon
    assert favicon, "the demo site names a favicon"
    source = (project.tree.root / favicon).read_bytes()
    # The clinics' handouts and consent previews on the site too: no page asks for a missing
    # /favicon.ico (a console error, and a 404 in every server log).
    for path in sorted((built / "site").rglob("*.html")):
        icons = [lk for lk in every(parse(path), "link") if lk.get("rel") == "icon"]
        assert len(icons) == 1, path
        href = icons[0].get("href", "")
        if href.startswith("data:"):
            continue  # the 404 page carries it inline (checked below)
        assert target(path, href).read_bytes() == source


def test_robots_txt_names_the_sitemap(built):
    lines = (built / "site" / "robots.txt").read_text().splitlines()
    assert f"Sitemap: {SITE_URL}/sitemap.xml" in lines
    assert "User-agent: *" in lines
    assert "Disallow: /" not in lines


def test_404_page_fetches_nothing_and_leads_home_in_every_language(built, project):
    path = built / "site" / "404.html"
    root = parse(path)
    # Served with status 404, so never indexed; it still describes itself (Lighthouse SEO).
    assert any(m.get("name") == "description" for m in every(root, "meta"))
    assert not [lk for lk in every(root, "link") if lk.get("rel") == "stylesheet"]
    assert all(lk.get("href", "").startswith("data:") for lk in every(root, "link"))
    assert "url(" not in "".join(s.text or "" for s in every(root, "style"))
    homes = {a.get("href") for a in every(root, "a")}
    root_path = urlsplit(SITE_URL).path.rstrip("/")
    assert homes == {f"{root_path}/{lang}/" for lang in project.tree.languages}
    for lang in project.tree.languages:
        section = next(s for s in every(root, "section") if s.get("lang") == lang)
        assert project.tree.site_in(lang).name in visible_text(section)


def test_sitemap_gives_every_url_an_x_default(built, project):
    root = ElementTree.parse(built / "site" / "sitemap.xml").getroot()
    first = project.tree.languages[0]
    urls = root.findall(SITEMAP + "url")
    assert urls
    homes = {f"{SITE_URL}/{lang}/" for lang in project.tree.languages}
    for url in urls:
        alternates = {lk.get("hreflang"): lk.get("href") for lk in url.iter(XLINK)}
        assert set(alternates) == {*project.tree.languages, "x-default"}
        if url.findtext(SITEMAP + "loc") in homes:
            assert alternates["x-default"] == f"{SITE_URL}/"  # the language chooser
        else:
            assert alternates["x-default"] == alternates[first]


def test_site_pages_preload_the_web_font_they_use(built):
    for path in sorted((built / "site").rglob("*.html")):  # the clinic copies too
        if path.name == "404.html":
            continue
        preloads = [lk for lk in every(parse(path), "link") if lk.get("rel") == "preload"]
        fonts = [target(path, lk.get("href", "")) for lk in preloads]
        assert preloads and all(lk.get("as") == "font" for lk in preloads), path
        assert all(f.suffix == ".woff2" and f.is_file() for f in fonts), path
        assert "NotoSans-Regular.woff2" in {f.name for f in fonts}, path
    css = (built / "site" / "assets" / "carepress.css").read_text()
    assert css.count("@font-face") == css.count("font-display: swap") > 0


# --- the new fields: validated, with clear problems -----------------------------------------


def edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def problems(content: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(content, ("en", "es"))
    return [str(p) for p in caught.value.problems]


def test_unquoted_time_is_explained(content):
    path = content / "clinics" / "prairie-mind.yaml"
    # YAML 1.1 reads 18:00 unquoted as the number 1080 (base 60); 08:00 stays a string.
    text = path.read_text().replace('closes: "18:00"', "closes: 18:00", 1)
    path.write_text(text)
    found = problems(content)
    assert len(found) == 1, found
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "closes: 18:00" in t)
    assert found[0].startswith(f"content/clinics/prairie-mind.yaml:{line}: hours.0.closes:"), found
    assert 'quotes, like "09:00"' in found[0]


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda d: d["hours"][0].update(closes="07:00"), "hours.0", "must be after opens"),
    (lambda d: d["hours"][0].update(days=["Moonday"]), "hours.0.days.0", "Monday"),
    (lambda d: d.update(appointment_url="not a link"), "appointment_url", "URL"),
])
def test_bad_clinic_field_names_file_and_field(content, change, field, words):
    edit(content / "clinics" / "prairie-mind.yaml", change)
    found = problems(content)
    assert len(found) == 1, found
    assert found[0].startswith("content/clinics/prairie-mind.yaml:"), found
    assert f": {field}: " in found[0] and words in found[0], found


def test_bad_site_entry_is_reported(content):
    edit(content / "site.yaml", lambda d: d.update(directions_url="http://maps.example/?q=x",
                                                   colour="red"))
    found = problems(content)
    assert any(p.startswith("content/site.yaml:") and "directions_url" in p and "{address}" in p
               for p in found), found
    assert any("colour: unknown field" in p for p in found), found


def test_missing_translations_of_new_fields_are_reported(content):
    edit(content / "site.es.yaml", lambda d: d.pop("tagline"))
    overlay = next(p for p in (content / "locations").glob("*.es.yaml")
                   if "faq" in yaml.safe_load(p.read_text()))
    question = next(iter(yaml.safe_load(overlay.read_text())["faq"]))
    edit(overlay, lambda d: d["faq"][question].pop("answer"))
    found = problems(content)
    assert any(p.startswith("content/site.es.yaml: tagline: missing 'es' translation")
               for p in found), found
    assert any(f"faq.{question}.answer: missing 'es' translation" in p for p in found), found


def test_favicon_is_checked_like_a_logo(content):
    (content / "site" / "favicon.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    found = problems(content)
    assert any(p.startswith("content/site.yaml: favicon:") and "<script>" in p
               for p in found), found


def test_a_tree_without_a_site_entry_still_builds_its_pages(content):
    (content / "site.yaml").unlink()
    (content / "site.es.yaml").unlink()
    tree = load_content(content, ("en", "es"))
    from generator.plan.documents import plan_documents

    kinds = {s.key.kind for s in plan_documents(tree)}
    assert {"page", "sitemap", "robots"} <= kinds
    assert not kinds & {"home", "notfound", "favicon"}


def test_clinic_cards_say_who_gives_the_treatment_as_the_protocol_does(built):
    """A self-administered therapy's page must not say a clinician gives it."""
    self_given = (built / "site/en/esketamine/naperville/index.html").read_text()
    given = (built / "site/en/ketamine/naperville/index.html").read_text()
    assert "You take the medicine yourself, while" in self_given
    assert "is given by" not in self_given
    assert "Your treatment is given by" in given
