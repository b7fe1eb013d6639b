"""Location pages and the sitemap, read back from one full build and parsed as HTML/XML.

Expected values come from the content tree (the `project` fixture), never from copied prose.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
import tinyhtml5

from generator.markup import plain_text
from generator.phones import e164
from generator.plan.documents import DocumentKey, page_path
from generator.settings import Settings

XHTML = "{http://www.w3.org/1999/xhtml}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# The default public site URL; the `built` fixture builds with default settings.
SITE_URL = str(Settings.model_fields["site_url"].default).rstrip("/")
INVISIBLE = {"script", "style", "template", "head"}
SHINGLE = 5
MAX_SHARED_SHINGLES = 0.6


@dataclass(frozen=True)
class Page:
    key: DocumentKey
    path: Path
    root: ElementTree.Element

    @property
    def folder(self) -> Path:
        return self.path.parent

    def all(self, tag: str) -> list[ElementTree.Element]:
        return list(self.root.iter(XHTML + tag))


def canonical_url(key: DocumentKey) -> str:
    return f"{SITE_URL}/{key.lang}/{key.therapy}/{key.location}/"


def fold(text: str) -> str:
    return " ".join(text.split())


def visible_text(element: ElementTree.Element) -> str:
    """Text a reader sees: everything in <body> except scripts, styles and templates."""
    parts: list[str] = []

    def walk(node: ElementTree.Element) -> None:
        if node.tag.removeprefix(XHTML) in INVISIBLE:
            return
        parts.append(node.text or "")
        for child in node:
            walk(child)
            parts.append(child.tail or "")

    walk(element)
    return fold(" ".join(parts))


def body_text(page: Page) -> str:
    body = page.root.find(XHTML + "body")
    assert body is not None, page.path
    return visible_text(body)


def local_href_target(page: Page, href: str) -> Path | None:
    """The file a relative href points to, or None for absolute, mailto:, tel: and #links."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return None
    # Links to pages name their folder, as the canonical URLs do; the server answers index.html.
    path = parts.path + "index.html" if parts.path.endswith("/") else parts.path
    return (page.folder / path).resolve()


def link_targets(page: Page) -> set[Path]:
    return {t for a in page.all("a") if (t := local_href_target(page, a.get("href", "")))}


@pytest.fixture(scope="module")
def page_list(built: Path, project) -> list[Page]:
    found: list[Page] = []
    for spec in project.pages:
        key = spec.key
        path = built / page_path(key.therapy, key.location, key.lang)
        assert path.is_file(), f"planned page {key.id} was not built ({path})"
        found.append(Page(key, path, tinyhtml5.parse(path.read_text(encoding="utf-8"))))
    return found


def by_key(page_list: list[Page]) -> dict[tuple[str, str, str], Page]:
    return {(p.key.therapy, p.key.location, p.key.lang): p for p in page_list}


# --- every page: structure and head ----------------------------------------------------------


def test_every_planned_page_is_built(project, built, page_list):
    planned = [s for s in project.specs if s.key.kind == "page"]
    assert planned, "the demo content should plan at least one location page"
    assert len(page_list) == len(planned)
    on_disk = {p.relative_to(built).as_posix() for p in (built / "site").rglob("index.html")}
    homes = {s.outputs[0].path for s in project.specs if s.key.kind in ("home", "root")}
    assert on_disk == {s.outputs[0].path for s in planned} | homes


def test_html_lang_and_one_h1(project, page_list):
    for page in page_list:
        assert page.root.get("lang") == page.key.lang, page.path
        h1s = page.all("h1")
        assert len(h1s) == 1, f"{page.path}: {len(h1s)} <h1>"
        location = project.tree.location(page.key.location, page.key.lang)
        therapy = project.tree.therapy(page.key.therapy, page.key.lang)
        heading = fold("".join(h1s[0].itertext()))
        assert location.name in heading and therapy.name in heading, heading


def test_canonical_link(page_list):
    for page in page_list:
        canon = [link for link in page.all("link") if link.get("rel") == "canonical"]
        assert len(canon) == 1, page.path
        assert canon[0].get("href") == canonical_url(page.key)


def test_meta_description(page_list):
    for page in page_list:
        metas = [m for m in page.all("meta") if m.get("name") == "description"]
        assert len(metas) == 1, page.path
        description = metas[0].get("content") or ""
        assert description.strip(), page.path
        assert len(description) <= 160, (page.path, len(description))


# --- JSON-LD ---------------------------------------------------------------------------------


def json_ld(page: Page) -> dict:
    scripts = [s for s in page.all("script") if s.get("type") == "application/ld+json"]
    assert len(scripts) == 1, page.path
    data = json.loads(scripts[0].text or "")
    assert isinstance(data, dict)
    return data


def test_json_ld_web_page(page_list):
    for page in page_list:
        graph = json_ld(page)["@graph"]
        web_pages = [n for n in graph if n.get("@type") == "MedicalWebPage"]
        assert len(web_pages) == 1, page.path
        assert web_pages[0]["url"] == canonical_url(page.key)


def test_json_ld_clinics_match_content(project, page_list):
    tree = project.tree
    for page in page_list:
        graph = json_ld(page)["@graph"]
        nodes = [n for n in graph if n.get("@type") == "MedicalClinic"]
        serving = tree.clinics_serving(page.key.location, page.key.therapy)
        assert serving, page.path
        expected = sorted(tree.clinics[cid].name for cid in serving)
        assert sorted(n["name"] for n in nodes) == expected, page.path
        by_name = {n["name"]: n for n in nodes}
        for cid in serving:
            clinic = tree.clinics[cid]
            node = by_name[clinic.name]
            # E.164, the form a phone dials from anywhere (tel: links use the same).
            assert node["telephone"] == e164(clinic.contact.phone, clinic.address.country)
            assert node["url"] == str(clinic.contact.website)
            address = node["address"]
            assert address["@type"] == "PostalAddress"
            assert (address["streetAddress"], address["addressLocality"],
                    address["addressRegion"], address["postalCode"],
                    address["addressCountry"]) == (
                clinic.address.street, clinic.address.city, clinic.address.region,
                clinic.address.postal_code, clinic.address.country)


# --- links -----------------------------------------------------------------------------------


def test_state_page_links_every_city_page(project, page_list):
    tree = project.tree
    pages_by_key = by_key(page_list)
    states = [p for p in page_list if tree.locations[p.key.location].type == "state"]
    assert states, "the demo content should have a state page"
    checked = 0
    for state in states:
        targets = link_targets(state)
        for city in tree.cities_of(state.key.location):
            city_page = pages_by_key.get((state.key.therapy, city, state.key.lang))
            if city_page is None:
                continue
            assert city_page.path.resolve() in targets, f"{state.path} lacks a link to {city}"
            checked += 1
    assert checked >= 2, "expected the state page to list at least two city pages"


def test_city_page_links_its_state_page(project, page_list):
    tree = project.tree
    pages_by_key = by_key(page_list)
    cities = [p for p in page_list if tree.locations[p.key.location].type == "city"]
    assert cities
    for city in cities:
        state_id = tree.locations[city.key.location].state
        state = pages_by_key.get((city.key.therapy, state_id, city.key.lang))
        assert state is not None, f"no state page for {city.path}"
        assert state.path.resolve() in link_targets(city), f"{city.path} lacks a state link"


def test_every_relative_link_resolves_to_a_built_file(built, page_list):
    root = built.resolve()
    for page in page_list:
        hrefs = [a.get("href", "") for a in page.all("a")]
        hrefs += [link.get("href", "") for link in page.all("link")]
        for href in hrefs:
            target = local_href_target(page, href)
            if target is None:
                continue
            assert target.is_relative_to(root), f"{page.path}: {href} leaves the build"
            assert target.is_file(), f"{page.path}: {href} → {target} does not exist"


def test_every_page_links_the_one_shared_stylesheet(built, page_list):
    stylesheet = (built / "site" / "assets" / "carepress.css").resolve()
    assert stylesheet.is_file() and stylesheet.stat().st_size > 0
    for page in page_list:
        sheets = [link for link in page.all("link") if link.get("rel") == "stylesheet"]
        assert len(sheets) == 1, page.path
        assert local_href_target(page, sheets[0].get("href", "")) == stylesheet
        assert not page.all("style"), f"{page.path} should not carry its own <style>"


# --- not doorway pages -----------------------------------------------------------------------


def own_place_names(project, page: Page) -> list[str]:
    location = project.tree.locations[page.key.location]
    names = [location.name]
    if location.state:
        names.append(project.tree.locations[location.state].name)
    return sorted(names, key=len, reverse=True)


def masked_text(project, page: Page) -> str:
    text = body_text(page)
    for name in own_place_names(project, page):
        text = re.sub(re.escape(name), "PLACE", text, flags=re.IGNORECASE)
    return text


def shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def test_pages_are_not_doorway_copies(project, page_list):
    assert len(page_list) >= 2
    texts = {p.key.id: masked_text(project, p) for p in page_list}
    for a, b in itertools.combinations(texts, 2):
        assert texts[a] != texts[b], f"{a} and {b} differ only in place names"
        first, second = shingles(texts[a]), shingles(texts[b])
        assert first and second
        # Jaccard similarity: shared shingles / all distinct shingles of the two pages.
        similarity = len(first & second) / len(first | second)
        assert similarity < MAX_SHARED_SHINGLES, f"{a} vs {b}: {similarity:.2f} shared"


# --- sitemap ---------------------------------------------------------------------------------


def test_sitemap_lists_every_canonical_url_once(built, page_list):
    tree = ElementTree.parse(built / "site" / "sitemap.xml")
    root = tree.getroot()
    assert root.tag == SITEMAP + "urlset"
    locs = [(loc.text or "").strip() for loc in root.iter(SITEMAP + "loc")]
    assert len(locs) == len(root.findall(SITEMAP + "url"))
    assert len(locs) == len(set(locs)), f"duplicate sitemap entries: {locs}"
    homes = [f"{SITE_URL}/{lang}/" for lang in {p.key.lang for p in page_list}]
    assert sorted(locs) == sorted([canonical_url(p.key) for p in page_list] + homes)


# --- local content ---------------------------------------------------------------------------


def test_page_shows_its_clinics_and_location_summary(project, page_list):
    tree = project.tree
    for page in page_list:
        text = body_text(page)
        location = tree.location(page.key.location, page.key.lang)
        summary = fold(plain_text(location.summary))
        assert summary and summary in text, f"{page.path} lacks the summary of {location.name}"
        for cid in tree.clinics_serving(page.key.location, page.key.therapy):
            assert fold(tree.clinics[cid].name) in text, f"{page.path} lacks clinic {cid}"


def test_page_lists_no_clinic_that_does_not_serve_it(project, page_list):
    tree = project.tree
    for page in page_list:
        serving = set(tree.clinics_serving(page.key.location, page.key.therapy))
        text = body_text(page)
        for cid, clinic in tree.clinics.items():
            if cid not in serving:
                assert clinic.name not in text, f"{page.path} lists {cid}, which does not serve it"


def test_links_between_outputs_are_what_posixpath_relpath_gives(project):
    import posixpath

    from generator.render.contexts import relative

    paths = sorted({o.path for spec in project.specs for o in spec.outputs})
    paths.append("site/assets/carepress.css")
    pairs = list(itertools.product(paths, paths))
    assert len(pairs) > 100
    for start, target in pairs:
        assert relative(start, target) == posixpath.relpath(target, posixpath.dirname(start))
