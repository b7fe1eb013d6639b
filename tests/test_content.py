"""Bad content is refused with one clear line per problem, naming file, field and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.content.loading import load_content
from generator.errors import ContentError


def edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def problems(content: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(content)
    return caught.value.lines()


def test_demo_content_is_valid(project):
    tree = project.tree
    assert set(tree.therapies) == {"ketamine", "esketamine"}
    assert {"illinois", "orland-park"} <= set(tree.locations)
    assert len([loc for loc in tree.locations.values() if loc.type == "city"]) >= 2
    assert len(tree.clinics) >= 2
    colours = {c.colors.primary for c in tree.clinics.values()}
    assert len(colours) == len(tree.clinics), "demo clinics must be branded differently"


def test_every_seed_side_effect_and_risk_is_its_own_item(project):
    therapy = project.tree.therapies["ketamine"]
    side_effects = {i.id for i in therapy.side_effects.items}
    assert {"dissociation", "tinnitus", "liver-damage", "mania", "bruising"} <= side_effects
    assert len(side_effects) == 15
    assert {i.id for i in therapy.risks.items} >= {"challenging-experience", "worsening-mood",
                                                  "reliance", "addiction"}


def test_malformed_yaml_names_file_and_line(content):
    path = content / "clinics" / "prairie-mind.yaml"
    lines = path.read_text().splitlines()
    lines[3] = "colors: [unclosed"
    path.write_text("\n".join(lines))
    [line] = problems(content)
    assert line.startswith("content/clinics/prairie-mind.yaml:")
    assert "malformed YAML" in line
    assert int(line.split(":")[1]) >= 4


def test_missing_required_field(content):
    edit(content / "therapies" / "ketamine.yaml", lambda d: d.pop("consent_version"))
    assert problems(content) == [
        "content/therapies/ketamine.yaml: consent_version: required field is missing"]


def test_invalid_colour_names_field_and_line(content):
    path = content / "clinics" / "riverwalk-wellness.yaml"
    edit(path, lambda d: d["colors"].update(primary="#12345"))
    [line] = problems(content)
    line_no = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                   if "primary" in text)
    assert line == (f"content/clinics/riverwalk-wellness.yaml:{line_no}: colors.primary: "
                    "invalid colour '#12345': use #rgb or #rrggbb")


def test_unknown_location_reference(content):
    edit(content / "clinics" / "prairie-mind.yaml", lambda d: d["locations"].append("atlantis"))
    [line] = problems(content)
    assert line.startswith("content/clinics/prairie-mind.yaml")
    assert "locations: unknown location 'atlantis'" in line  # the id, not a list index
    assert line.startswith("content/clinics/prairie-mind.yaml:")  # with the line number


def test_unknown_field_is_a_typo(content):
    edit(content / "locations" / "orland-park.yaml", lambda d: d.update(sumary="x"))
    [line] = problems(content)
    assert "content/locations/orland-park.yaml" in line
    assert "sumary: unknown field" in line


def test_missing_logo(content):
    (content / "clinics" / "logos" / "prairie-mind.svg").unlink()
    [line] = problems(content)
    assert line == ("content/clinics/prairie-mind.yaml: logo: "
                    "logos/prairie-mind.svg: file not found")


def test_logo_outside_the_content_tree(content):
    edit(content / "clinics" / "prairie-mind.yaml", lambda d: d.update(logo="../../etc.svg"))
    [line] = problems(content)
    assert "logo" in line and "must be inside the clinics folder" in line


def test_citation_of_unknown_source(content):
    edit(content / "therapies" / "ketamine.yaml",
         lambda d: d["risks"]["items"][0].update(cite=["nobody"]))
    [line] = problems(content)
    assert "risks.items[challenging-experience].cite: cites unknown source 'nobody'" in line


def test_city_with_unknown_state(content):
    edit(content / "locations" / "naperville.yaml", lambda d: d.update(state="ohio"))
    [line] = problems(content)
    assert "content/locations/naperville.yaml" in line and "unknown state 'ohio'" in line


def test_all_problems_are_reported_at_once(content):
    edit(content / "therapies" / "ketamine.yaml", lambda d: d.pop("summary"))
    edit(content / "clinics" / "prairie-mind.yaml", lambda d: d["colors"].update(accent="blue"))
    (content / "locations" / "naperville.yaml").write_text("name: [\n")
    found = problems(content)
    assert len(found) == 3
    assert {line.split(":")[0] for line in found} == {
        "content/therapies/ketamine.yaml",
        "content/clinics/prairie-mind.yaml",
        "content/locations/naperville.yaml",
    }


def test_duplicate_item_ids_are_refused(content):
    def duplicate(d):
        d["risks"]["items"][1]["id"] = d["side_effects"]["items"][0]["id"]

    edit(content / "therapies" / "ketamine.yaml", duplicate)
    [line] = problems(content)
    assert "risks.items: duplicate id 'dissociation'" in line


def test_a_new_city_is_one_new_file(content, tmp_path):
    (content / "locations" / "joliet.yaml").write_text(yaml.safe_dump({
        "name": "Testville", "type": "city", "state": "illinois",
        "summary": "A test city with its own local text.", "nearby": ["Elsewhere"],
    }))
    edit(content / "clinics" / "riverwalk-wellness.yaml",
         lambda d: d["locations"].append("joliet"))
    tree = load_content(content)
    assert tree.clinics_serving("joliet", "ketamine") == ["riverwalk-wellness"]


def test_no_therapy_place_or_clinic_is_named_in_code_or_templates():
    """Therapies, places and clinics are data: a new one is a content file, never a code edit."""
    from tests.conftest import CONTENT

    repo = CONTENT.parent
    tree = load_content(CONTENT, ("en", "es"))
    entries = [*tree.therapies.items(), *tree.locations.items(), *tree.clinics.items()]
    words = {w.lower() for eid, entry in entries for w in (eid, entry.name) if len(w) >= 4}
    sources = [p for folder in ("generator", "cli", "worker", "api", "templates")
               for p in (repo / folder).rglob("*")
               if p.suffix in {".py", ".j2", ".css", ".po", ".svg"} and p.is_file()]
    assert len(sources) > 20
    hits = [f"{p.relative_to(repo)}: {w}" for p in sources
            for w in words if w in p.read_text(encoding="utf-8").lower()]
    assert hits == []
