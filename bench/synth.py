"""A synthetic content tree of a realistic size, made from the demo content.

Deterministic (choices come from hashes, not from a random generator), so two runs measure the
same documents. Every city gets its own local text, so pages are not copies of each other.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from generator.content.translations import SOURCES_KEY, reviewed_hashes

FULL = {"clinics": 40, "locations": 60, "states": 4}
QUICK = {"clinics": 4, "locations": 6, "states": 2}
# Therapies and clinics are translated (copies of the demo's Spanish); the synthetic places are
# not, so their Spanish pages show the English local text, as content may allow for pages.
FALLBACK = {"allow_fallback": True}
_DATA = yaml.safe_load((Path(__file__).with_name("synth-data.yaml")).read_text(encoding="utf-8"))


def _words(key: str) -> tuple[Any, ...]:
    return tuple(tuple(v) if isinstance(v, list) else v for v in _DATA[key])


STATES = tuple((i, name, code, tuple(geo)) for i, name, code, geo in _DATA["states"])
PREFIXES, SUFFIXES, COUNTIES, RIVERS, SIDES = (_words(k) for k in (
    "prefixes", "suffixes", "counties", "rivers", "sides"))
INDUSTRIES, LANDMARKS, TRANSIT, STREETS, HISTORY, SERVICES, PARKING = (_words(k) for k in (
    "industries", "landmarks", "transit", "streets", "history", "services", "parking"))
CLINIC_WORDS = _words("clinic_words")


def pick(options: tuple[Any, ...], *key: object) -> Any:
    digest = hashlib.sha256("/".join(map(str, key)).encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def number(low: int, high: int, *key: object) -> int:
    digest = hashlib.sha256("#".join(map(str, key)).encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low + 1)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class Tree:
    root: Path
    clinics: list[str]
    therapies: list[str]
    locations: list[str]
    languages: list[str]

    def clinic_file(self, clinic: str) -> Path:
        return self.root / "clinics" / f"{clinic}.yaml"


def make_tree(root: Path, source: Path, clinics: int, locations: int, states: int) -> Tree:
    """Write the tree into root (which must not exist)."""
    root.mkdir(parents=True)
    for folder in ("therapies", "locations", "clinics/logos"):
        (root / folder).mkdir(parents=True)
    therapies = _therapies(root, source)
    state_rows = STATES[:states]
    cities = _city_names(locations - states)
    city_state = {slug(c): state_rows[i % states] for i, c in enumerate(cities)}
    for state_id, name, code, geo in state_rows:
        _dump(root / "locations" / f"{state_id}.yaml",
              _state(state_id, name, code, geo, [c for c in cities
                                                 if city_state[slug(c)][0] == state_id],
                     therapies))
    for index, city in enumerate(cities):
        state = city_state[slug(city)]
        neighbours = [c for c in cities if city_state[slug(c)] == state and c != city]
        _dump(root / "locations" / f"{slug(city)}.yaml",
              _city(city, index, state, neighbours, therapies))
    clinic_ids = _clinics(root, source, clinics, cities, city_state, therapies)
    location_ids = [s[0] for s in state_rows] + [slug(c) for c in cities]
    languages = ["en", *sorted({p.suffixes[0][1:] for p in root.glob("therapies/*.*.yaml")})]
    return Tree(root, clinic_ids, therapies, location_ids, languages)


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100),
                    encoding="utf-8")


def _therapies(root: Path, source: Path) -> list[str]:
    """The demo therapies with their translations (two different treatments)."""
    english = _english((source / "therapies").glob("*.yaml"))
    for path in english:
        for copy in [path, *_translations(path)]:
            shutil.copy(copy, root / "therapies" / copy.name)
    return [path.stem for path in english]


def _translations(english: Path) -> list[Path]:
    """`<id>.<lang>.yaml` beside an English entry."""
    return sorted(english.parent.glob(f"{english.stem}.*.yaml"))


def _city_names(count: int) -> list[str]:
    names = [f"{p} {s}" for s in SUFFIXES for p in PREFIXES]
    names.sort(key=lambda n: hashlib.sha256(n.encode()).hexdigest())
    if count > len(names):
        raise ValueError(f"at most {len(names)} cities")
    return names[:count]


def _state(state_id: str, name: str, code: str, geo: tuple[float, float], cities: list[str],
           therapies: list[str]) -> dict[str, Any]:
    listed = ", ".join(cities[:4]) or "several smaller cities"
    return {
        "name": name, "type": "state", "state_code": code, **FALLBACK,
        "summary": (f"{name} is a state in the Midwest. This page covers clinics in {listed} "
                    f"and other places in {name}. Travel times between cities can be long, so "
                    "plan how you will get home after each session."),
        "local_notes": [f"Intercity buses link {c} with the larger cities of {name}."
                        for c in cities[:3]] or [f"Most of {name} is best reached by car."],
        "nearby": cities[:6] or [name],
        "geo": {"latitude": geo[0], "longitude": geo[1]},
        "therapy_notes": {t: (f"Check that a {name} doctor holds an active license with the "
                              f"state board before you start {t.replace('-', ' ')} treatment.")
                          for t in therapies},
    }


def _city(name: str, index: int, state: tuple[str, str, str, tuple[float, float]],
          neighbours: list[str], therapies: list[str]) -> dict[str, Any]:
    state_id, state_name, _, (lat, lon) = state
    county = pick(COUNTIES, name, "county")
    return {
        "name": name, "type": "city", "state": state_id, **FALLBACK,
        "summary": (
            f"{name} is a {pick(('small', 'growing', 'quiet', 'busy'), name)} "
            f"{pick(('city', 'town', 'village'), name, 'kind')} in {county} County, "
            f"{state_name}, home to about {number(4, 180, name) * 1000:,} people. The "
            f"{pick(RIVERS, name)} River runs along its {pick(SIDES, name)} edge. Many people "
            f"here work in {pick(INDUSTRIES, name)}, and the {pick(LANDMARKS, name)} draws "
            f"visitors from across the region. The town {pick(HISTORY, name)}; today it has "
            f"{_two(SERVICES, name)}."),
        "local_notes": _notes(name),
        "nearby": [*neighbours[:4], f"{pick(PREFIXES, name, 'n')} Corners"],
        "geo": {"latitude": round(lat + (index % 7 - 3) * 0.31, 2),
                "longitude": round(lon + (index % 5 - 2) * 0.47, 2)},
        "therapy_notes": {t: (
            f"From downtown {name}, most clinics are {number(5, 40, name, t)} minutes away. "
            f"Arrange for an adult to take you home after {t.replace('-', ' ')} sessions; "
            f"{pick(TRANSIT, name)} does not run after {number(6, 10, name, 'bus')} pm.")
            for t in therapies},
    }


def _two(options: tuple[str, ...], name: str) -> str:
    first = pick(options, name, "first")
    return f"{first} and {pick(tuple(o for o in options if o != first), name, 'second')}"


def _notes(name: str) -> list[str]:
    street = pick(STREETS, name, 1)
    other = pick(tuple(s for s in STREETS if s != street), name, 2)
    notes = [
        f"{pick(TRANSIT, name)} buses (routes {number(1, 40, name, 'a')} and "
        f"{number(41, 90, name, 'b')}) stop near {street} and {other}.",
        f"By car, Interstate {pick((39, 55, 57, 65, 74, 80, 88, 90, 94), name)} passes "
        f"{number(2, 15, name, 'mi')} miles {pick(SIDES, name, 'i')} of downtown; parking is "
        f"{pick(PARKING, name)}.",
    ]
    notes.append(f"Taxis wait near the {pick(LANDMARKS, name, 'taxi')} on "
                 f"{pick(STREETS, name, 3)}; a ride to most clinics costs about "
                 f"${number(8, 35, name, 'fare')}, and {_two(SERVICES, name + 'x')} are a short "
                 "walk away.")
    if number(0, 1, name, "train"):
        notes.append(f"Regional trains stop at {name} station {number(3, 12, name, 't')} times "
                     "a day.")
    return notes


def _clinics(root: Path, source: Path, count: int, cities: list[str],
             city_state: dict[str, tuple[str, str, str, tuple[float, float]]],
             therapies: list[str]) -> list[str]:
    demo_path = _english((source / "clinics").glob("*.yaml"))[0]
    demo = yaml.safe_load(demo_path.read_text())
    overlays = {p.suffixes[0]: yaml.safe_load(p.read_text(encoding="utf-8"))
                for p in _translations(demo_path)}
    logo = sorted((source / "clinics" / "logos").glob("*.svg"))[0].read_text(encoding="utf-8")
    protocol = next(iter(demo["protocols"].values()))
    ids = []
    for i in range(count):
        words = [CLINIC_WORDS[0][i % 10], CLINIC_WORDS[1][(i // 10 + i) % 8],
                 CLINIC_WORDS[2][i % 5]]
        name = " ".join(words)
        cid = slug(name)
        served = {slug(cities[i % len(cities)]), slug(cities[(i + count) % len(cities)])}
        home = cities[i % len(cities)]
        if i % 5 == 4:
            served.add(city_state[slug(home)][0])
        primary, accent = _colours(i)
        clinic = {
            **demo,
            "name": name, "logo": f"logos/{cid}.svg", "logo_alt": name,
            "colors": {"primary": primary, "accent": accent},
            "contact": {"phone": f"(555) 555-{i:04d}", "email": f"care@{cid}.example",
                        "website": f"https://{cid}.example"},
            "address": {"street": f"{100 + i * 7} {pick(STREETS, cid)}, Suite {i % 9 + 1}",
                        "city": home, "region": city_state[slug(home)][2],
                        "postal_code": f"{60000 + i * 37}", "country": "US"},
            "locations": sorted(served),
            "therapies": list(therapies),
            "clinician": {**demo["clinician"],
                          "name": f"{pick(('Ana', 'Ben', 'Chen', 'Dana', 'Eli'), cid)} "
                                  f"{pick(('Patel', 'Novak', 'Garcia', 'Kim', 'Osei'), cid, 2)}"},
            "emergency": demo["emergency"].replace(demo["contact"]["phone"], f"(555) 555-{i:04d}"),
            "protocols": {t: {**protocol, "session": f"{40 + (i + n) % 5 * 10} minutes"}
                          for n, t in enumerate(therapies)},
        }
        _dump(root / "clinics" / f"{cid}.yaml", clinic)
        for lang, overlay in overlays.items():
            _dump(root / "clinics" / f"{cid}{lang}.yaml",
                  _translated_clinic(overlay, demo, clinic, therapies))
        (root / "clinics" / "logos" / f"{cid}.svg").write_text(
            _logo(logo, demo["colors"], primary, accent, words), encoding="utf-8")
        ids.append(cid)
    return ids


def _translated_clinic(overlay: dict[str, Any], demo: dict[str, Any], clinic: dict[str, Any],
                       therapies: list[str]) -> dict[str, Any]:
    """The demo clinic's translation, with this clinic's name, phone and therapies."""
    protocol = next(iter(overlay.get("protocols", {}).values()), None)
    data = {**overlay, "logo_alt": clinic["logo_alt"]}
    if "emergency" in overlay:
        data["emergency"] = overlay["emergency"].replace(demo["contact"]["phone"],
                                                         clinic["contact"]["phone"])
    if protocol is not None:
        data["protocols"] = {t: protocol for t in therapies}
    # Copies of a reviewed translation: they translate this clinic's English as they stand.
    data[SOURCES_KEY] = reviewed_hashes("clinic", clinic, data)
    return data


def _english(paths: Iterable[Path]) -> list[Path]:
    """The English entries, without their `<id>.<lang>.yaml` translations."""
    return sorted(p for p in paths if "." not in p.stem)


def _colours(i: int) -> tuple[str, str]:
    hue = hashlib.sha256(f"clinic{i}".encode()).digest()
    primary = f"#{hue[0] % 96:02x}{hue[1] % 96:02x}{hue[2] % 96 + 32:02x}"  # dark: white text
    accent = f"#{hue[0] % 16 + 232:02x}{hue[1] % 16 + 236:02x}{hue[2] % 16 + 238:02x}"
    return primary, accent


def _logo(svg: str, demo: dict[str, str], primary: str, accent: str, words: list[str]) -> str:
    svg = svg.replace(demo["primary"], primary).replace(demo["accent"], accent)
    texts = iter([escape(" ".join(words[:2])), escape(words[2])])
    svg = re.sub(r"(<text[^>]*>)[^<]*(</text>)", lambda m: m[1] + next(texts, "") + m[2], svg)
    return re.sub(r"(<title[^>]*>)[^<]*(</title>)", lambda m: m[1] + escape(" ".join(words))
                  + m[2], svg)


def change_colour(tree: Tree, clinic: str) -> tuple[str, str]:
    """Give one clinic a new primary colour; returns (old, new)."""
    path = tree.clinic_file(clinic)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    old = data["colors"]["primary"]
    new = f"#{(int(old[1:], 16) + 0x0a0a0a) % 0x1000000:06x}"
    data["colors"]["primary"] = new
    _dump(path, data)
    return old, new
