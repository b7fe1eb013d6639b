"""The dependency graph: "entry X changed → these documents"."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from generator.content.tree import ContentTree
from generator.plan.fingerprints import Fingerprinter
from generator.plan.graph import change_impact, entry_dependents
from generator.templating import make_environment
from templates import STATIC_DIR, TEMPLATES_DIR


def kinds(ids: list[str]) -> set[str]:
    return {i.split("/")[0] for i in ids}


def test_a_therapy_feeds_every_handout_consent_page_and_the_sitemap(project):
    found = entry_dependents(project.specs, "therapy", "ketamine")
    expected = [s.key.id for s in project.specs if s.key.kind in
                ("handout", "consent", "page", "sitemap", "home")
                and s.key.therapy in ("ketamine", "")]
    assert found == expected
    assert kinds(found) == {"handout", "consent", "page", "sitemap", "home"}


def test_a_clinic_feeds_only_its_own_documents_unless_its_listing_changes(project):
    colours = entry_dependents(project.specs, "clinic", "prairie-mind", {"colors"})
    assert colours and all(d.split("/")[1] == "prairie-mind" for d in colours)
    assert kinds(colours) == {"handout", "consent"}
    contact = entry_dependents(project.specs, "clinic", "prairie-mind", {"contact"})
    pages = set(contact) - set(colours)
    assert pages and kinds(sorted(pages)) == {"page"}


def test_a_city_feeds_its_page_and_its_state_page(project):
    summary = entry_dependents(project.specs, "location", "orland-park", {"summary"})
    assert {d.split("/")[2] for d in summary} == {"orland-park"}
    name = entry_dependents(project.specs, "location", "orland-park", {"name"})
    # The site's home pages list the city by name too.
    assert {d.split("/")[2] for d in name if d.startswith("page/")} == {"orland-park", "illinois"}
    assert kinds(name) == {"page", "home"}


def test_templates_and_static_files_feed_documents_through_their_inputs_hash(project, tmp_path):
    # No graph is kept for them: they are in every inputs hash, so the build finds the
    # documents a template or a static file feeds as the stale ones.
    templates, static = tmp_path / "templates", tmp_path / "static"
    shutil.copytree(TEMPLATES_DIR, templates, ignore=shutil.ignore_patterns("static"))
    shutil.copytree(STATIC_DIR, static)

    def hashes() -> dict[str, str]:
        printer = Fingerprinter(project.tree, make_environment(templates), static,
                                project.settings.base_url)
        return {s.key.id: printer.inputs_hash(s) for s in project.specs}

    def changed_by(path: Path) -> list[str]:
        before = hashes()
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        after = hashes()
        return [s.key.id for s in project.specs if before[s.key.id] != after[s.key.id]]

    pages = changed_by(templates / "page.html.j2")
    assert pages and kinds(pages) == {"page"}
    assert changed_by(static / "carepress.css") == [s.key.id for s in project.specs]
    overlay = entry_dependents(project.specs, "therapy", "ketamine", lang="es")
    assert overlay and all(d.endswith("/es") for d in overlay)


def renamed(tree: ContentTree, location: str, name: str) -> ContentTree:
    locations = dict(tree.locations)
    locations[location] = locations[location].model_copy(update={"name": name})
    return dataclasses.replace(tree, locations=locations)


def test_change_impact_compares_the_entry_before_and_after(project):
    tree = project.tree
    impact = change_impact(tree, renamed(tree, "orland-park", "Orland Park Village"),
                           "location", "orland-park")
    english = [d for d in impact.render
               if d.endswith("/en") and ("/ketamine/" in d or d.startswith("home/"))]
    assert english == ["page/ketamine/illinois/en", "page/ketamine/orland-park/en", "home/en"]
    assert impact.remove == ()
    same = change_impact(tree, tree, "location", "orland-park")
    assert same.render == () and same.remove == ()


def test_removing_a_clinic_removes_its_documents_and_reshapes_the_pages(project):
    tree = project.tree
    clinics = {k: v for k, v in tree.clinics.items() if k != "riverwalk-wellness"}
    impact = change_impact(tree, dataclasses.replace(tree, clinics=clinics), "clinic",
                           "riverwalk-wellness")
    # Its documents, its city's pages, and the pages of a therapy no other clinic offers.
    assert impact.remove and all("riverwalk-wellness" in d or "naperville" in d
                                 or d.startswith("page/esketamine/") for d in impact.remove)
    assert "page/ketamine/illinois/en" in impact.render  # no longer lists that clinic
