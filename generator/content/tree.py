"""Load the content tree, validate it against the schema, and check its cross-references.

Every problem in the tree is collected and reported together, each naming its file, field and
(where YAML gives one) line, so a content editor fixes a whole tree in one pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from generator.content.contrast import brand_problems
from generator.content.logos import logo_problem
from generator.content.schema import Clinic, Location, Site, Therapy
from generator.content.translations import localize, stale_fields
from generator.errors import ContentError, Problem
from generator.i18n import SOURCE_LANGUAGE
from generator.ids import id_problem, printable

KINDS: dict[str, type[BaseModel]] = {
    "therapy": Therapy,
    "location": Location,
    "clinic": Clinic,
}
FOLDERS = {"therapy": "therapies", "location": "locations", "clinic": "clinics"}
SITE_FILE = "site.yaml"
"""The public site's own entry (name, tagline, favicon), at the top of the tree; optional."""
SITE_ID = "site"

M = TypeVar("M", bound=BaseModel)
LineMap = dict[tuple[str | int, ...], int]


@dataclass(frozen=True)
class EntryRef:
    """Names one content entry, e.g. clinic:<id>.

    A facet narrows the dependency to some fields (see FACETS), so that a page listing a
    clinic is not re-rendered when only that clinic's colours or protocol change.
    """

    kind: str
    id: str
    facet: str = ""
    lang: str = ""
    """Set for a document in a translated language: the entry's overlay is an input too."""

    def __str__(self) -> str:
        text = f"{self.kind}:{self.id}" + (f"#{self.facet}" if self.facet else "")
        return text + (f"@{self.lang}" if self.lang else "")

    @property
    def whole(self) -> EntryRef:
        return EntryRef(self.kind, self.id)


FACETS: dict[tuple[str, str], set[str]] = {
    ("clinic", "listing"): {"name", "contact", "address", "clinician", "locations", "therapies",
                            "hours", "appointment_url"},
    ("location", "name"): {"name", "type", "state"},
}


@dataclass(frozen=True)
class ContentTree:
    root: Path
    therapies: dict[str, Therapy]
    locations: dict[str, Location]
    clinics: dict[str, Clinic]
    files: dict[EntryRef, Path] = field(default_factory=dict)
    """Each entry's source file; clinics also have their logo under EntryRef('logo', id), and
    translations their overlay under EntryRef(kind, id, lang=lang)."""
    languages: tuple[str, ...] = (SOURCE_LANGUAGE,)
    translated: dict[tuple[str, str, str], BaseModel] = field(default_factory=dict)
    fallbacks: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    """(kind, id, lang) → fields shown in English because the content allows it."""
    stale: dict[tuple[str, str, str], list[Problem]] = field(default_factory=dict)
    """(kind, id, lang) → its translated fields whose English text changed since (see
    generator.content.translations); the build holds back consent forms built from them."""
    site: Site | None = None
    """content/site.yaml; without it there is no home page, root page, 404 page or favicon."""

    def entry(self, ref: EntryRef) -> BaseModel:
        """The entry in the ref's language (English when the ref has none)."""
        if ref.lang and ref.lang != SOURCE_LANGUAGE:
            return self.translated[(ref.kind, ref.id, ref.lang)]
        entries: dict[str, dict[str, Any]] = {
            "therapy": self.therapies, "location": self.locations, "clinic": self.clinics,
            "site": {SITE_ID: self.site}}
        return entries[ref.kind][ref.id]  # type: ignore[no-any-return]

    def site_in(self, lang: str) -> Site | None:
        if self.site is None:
            return None
        return self.entry(EntryRef("site", SITE_ID, lang=lang))  # type: ignore[return-value]

    def favicon_path(self) -> Path | None:
        return self.files.get(EntryRef("favicon", SITE_ID))

    def therapy(self, tid: str, lang: str) -> Therapy:
        return self.entry(EntryRef("therapy", tid, lang=lang))  # type: ignore[return-value]

    def location(self, lid: str, lang: str) -> Location:
        return self.entry(EntryRef("location", lid, lang=lang))  # type: ignore[return-value]

    def clinic(self, cid: str, lang: str) -> Clinic:
        return self.entry(EntryRef("clinic", cid, lang=lang))  # type: ignore[return-value]

    def logo_path(self, clinic_id: str) -> Path:
        return self.files[EntryRef("logo", clinic_id)]

    def cities_of(self, state_id: str) -> list[str]:
        return sorted(i for i, loc in self.locations.items() if loc.state == state_id)

    def clinics_serving(self, location_id: str, therapy_id: str) -> list[str]:
        """Clinics offering the therapy in this place (for a state: in it or any of its cities)."""
        places = {location_id, *self.cities_of(location_id)}
        return sorted(
            cid
            for cid, clinic in self.clinics.items()
            if therapy_id in clinic.therapies and places & set(clinic.locations)
        )


def load_content(root: Path, languages: tuple[str, ...] = (SOURCE_LANGUAGE,)) -> ContentTree:
    """Read and check the whole tree in every language; raise ContentError listing every
    problem found."""
    if not root.is_dir():
        raise ContentError([Problem(str(root), "", "content folder not found")])
    problems: list[Problem] = []
    entries: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
    files: dict[EntryRef, Path] = {}
    overlays: dict[EntryRef, Path] = {}
    for kind, model in KINDS.items():
        for path in sorted((root / FOLDERS[kind]).glob("*.yaml")):
            entry_id, _, lang = path.stem.partition(".")
            if lang:
                overlays[EntryRef(kind, entry_id, lang=lang)] = path
                continue
            files[EntryRef(kind, entry_id)] = path
            entry = _load_entry(path, _display(path, root), model, problems)
            if entry is not None:
                entries[kind][entry_id] = entry
    if not any(ref.kind == "therapy" for ref in files):
        problems.append(Problem(_display(root / "therapies", root), "", "no therapy files"))
    site = _load_site(root, files, overlays, problems)
    files.update(overlays)
    tree = ContentTree(root, entries["therapy"], entries["location"], entries["clinic"], files,
                       languages, site=site)
    problems.extend(_check_references(tree))
    problems.extend(_check_logos(tree))
    problems.extend(_check_favicon(tree))
    problems.extend(_translate(tree, overlays))
    if problems:
        raise ContentError(problems)
    return tree


def _translate(tree: ContentTree, overlays: dict[EntryRef, Path]) -> Iterator[Problem]:
    """Build every entry in every other language; a therapy or clinic must be translated in
    full (consent forms are never generated with untranslated text), a location may fall back
    to English where its file allows it, and the build reports each fallback."""
    for ref, path in overlays.items():
        # An overlay of a language not published (CAREPRESS_LANGUAGES) waits unused.
        if ref.lang in tree.languages and ref.whole not in tree.files:
            yield Problem(_display(path, tree.root), "", f"no {ref.kind} {ref.id!r} to translate")
    for lang in tree.languages:
        if lang == SOURCE_LANGUAGE:
            continue
        sites = {SITE_ID: tree.site} if tree.site is not None else {}
        for kind, entries in (("therapy", tree.therapies), ("location", tree.locations),
                              ("clinic", tree.clinics), ("site", sites)):
            for entry_id, entry in entries.items():
                yield from _translate_entry(tree, EntryRef(kind, entry_id, lang=lang), entry,
                                            overlays.get(EntryRef(kind, entry_id, lang=lang)))


def _load_site(root: Path, files: dict[EntryRef, Path], overlays: dict[EntryRef, Path],
               problems: list[Problem]) -> Site | None:
    path = root / SITE_FILE
    for overlay in sorted(root.glob(f"{SITE_ID}.*.yaml")):
        overlays[EntryRef("site", SITE_ID, lang=overlay.stem.partition(".")[2])] = overlay
    if not path.is_file():
        return None
    files[EntryRef("site", SITE_ID)] = path
    return _load_entry(path, _display(path, root), Site, problems)


def _check_favicon(tree: ContentTree) -> Iterator[Problem]:
    if tree.site is None or tree.site.favicon is None:
        return
    folder = tree.root.resolve()
    path = (folder / tree.site.favicon).resolve()
    problem = logo_problem(path, folder)
    if problem:
        yield Problem(_display(tree.root / SITE_FILE, tree.root), "favicon",
                      f"{tree.site.favicon}: {problem}".replace(" in a logo", "")
                      .replace("clinics folder", "content tree"))
    else:
        tree.files[EntryRef("favicon", SITE_ID)] = path


def _translate_entry(tree: ContentTree, ref: EntryRef, entry: BaseModel,
                     overlay: Path | None) -> Iterator[Problem]:
    base_file = tree.files[ref.whole]
    shown = _display(overlay or base_file.with_name(f"{ref.id}.{ref.lang}.yaml"), tree.root)
    data: dict[str, Any] | None = None
    if overlay is not None:
        problems: list[Problem] = []
        data = _read_yaml(overlay, shown, problems)
        if data is None:
            yield from problems
            return
    english = entry.model_dump()
    stale = stale_fields(ref.kind, english, data)
    lines = _Lines(overlay, tree.root, base_file, entry.model_dump())
    merged, missing, wrong = localize(ref.kind, english, data)
    for message in wrong:
        field_name, _, reason = message.partition(": ")
        yield Problem(shown, field_name, reason, lines.overlay(field_name))
    may_fall_back = isinstance(entry, Location) and entry.allow_fallback
    if missing and may_fall_back:
        tree.fallbacks[(ref.kind, ref.id, ref.lang)] = missing
    elif missing:
        yield from _missing_translation(shown, ref, missing, overlay is None, lines)
    if stale:
        tree.stale[(ref.kind, ref.id, ref.lang)] = [
            Problem(shown, name, f"stale {ref.lang!r} translation: " + (
                f"the English text ({lines.english_at(name)}) changed since it was translated"
                if why == "changed" else f"never marked as translating the English text "
                f"({lines.english_at(name)})") + "; update it, then run `carepress translations "
                f"mark-reviewed {ref.kind}:{ref.id} --lang {ref.lang} {name}`",
                lines.overlay(name))
            for name, why in stale.items()]
    tree.translated[(ref.kind, ref.id, ref.lang)] = type(entry).model_validate(merged)


class _Lines:
    """Line numbers for translation problems, read only when there is a problem to place."""

    def __init__(self, overlay: Path | None, root: Path, english: Path,
                 data: dict[str, Any]) -> None:
        self._files = {"overlay": overlay, "english": english}
        self._root = root
        self._data = data
        self._maps: dict[str, LineMap] = {}

    def _map(self, which: str) -> LineMap:
        if which not in self._maps:
            path = self._files[which]
            self._maps[which] = {} if path is None else _line_map(
                yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader))
        return self._maps[which]

    def overlay(self, dotted: str) -> int | None:
        return _line_of(tuple(dotted.split(".")), self._map("overlay"))

    def english_at(self, dotted: str) -> str:
        """file:line of the English field; an item id becomes its index in the English list."""
        node: Any = self._data
        loc: list[str | int] = []
        for key in dotted.split("."):
            if isinstance(node, list):
                index = next((i for i, item in enumerate(node)
                              if isinstance(item, dict) and item.get("id") == key), None)
                if index is None:
                    break
                loc.append(index)
                node = node[index]
            elif isinstance(node, dict) and key in node:
                loc.append(key)
                node = node[key]
            else:
                break
        line = _line_of(tuple(loc), self._map("english"))
        shown = _display(self._files["english"] or self._root, self._root)
        return f"{shown}:{line}" if line else shown


def _missing_translation(shown: str, ref: EntryRef, missing: list[str],
                         no_file: bool, lines: _Lines) -> Iterator[Problem]:
    why = ("consent forms are never generated with untranslated text" if ref.kind != "location"
           else "add it, or set allow_fallback: true to publish English text in its place")
    if no_file:
        yield Problem(shown, "", f"missing {ref.lang!r} translation file; {why}")
        return
    for field_name in missing:
        yield Problem(shown, field_name, f"missing {ref.lang!r} translation of "
                      f"{lines.english_at(field_name)}; {why}", lines.overlay(field_name))

def _exists(tree: ContentTree, kind: str, entry_id: str) -> bool:
    """A file that is present but invalid has its own problem; it is not also 'unknown'."""
    return EntryRef(kind, entry_id) in tree.files


def _display(path: Path, root: Path) -> str:
    return str(Path(root.name) / path.relative_to(root))


def _load_entry(path: Path, shown: str, model: type[M], problems: list[Problem]) -> M | None:
    problem = id_problem(path.stem)
    if problem:
        problems.append(Problem(printable(shown), "", f"file name {problem}"))
        return None
    data = _read_yaml(path, shown, problems)
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = _line_map(yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader))
        problems.extend(_problem_from(shown, error, lines, data) for error in exc.errors())
        return None


# libyaml's safe loader parses ~10x faster than the pure-Python one (the same YAML 1.1 rules);
# PyYAML wheels ship it, a source build may not.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, shown: str, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506
    except UnicodeDecodeError:
        problems.append(Problem(shown, "", "not UTF-8 text"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(shown, "", f"malformed YAML: {reason}", line))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(shown, "", "expected a mapping of fields at the top level", 1))
        return None
    return data


def _problem_from(shown: str, error: Any, lines: LineMap, data: Any = None) -> Problem:
    loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "required field is missing"
    elif error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling)"
    return Problem(shown, _field_name(loc, data), message, _line_of(loc, lines))


def _field_name(loc: tuple[str | int, ...], data: Any) -> str:
    """'risks.items[<id>].name' rather than a 0-based index an editor has to count."""
    parts: list[str] = []
    node = data
    for key in loc:
        item = node[key] if isinstance(node, list) and isinstance(key, int) and \
            key < len(node) else None
        if isinstance(item, dict) and isinstance(item.get("id"), str) and parts:
            parts[-1] += f"[{item['id']}]"
        else:
            parts.append(str(key))
        node = item if item is not None else (
            node.get(key) if isinstance(node, dict) else None)
    return ".".join(parts)


def _line_map(node: yaml.Node | None, path: tuple[str | int, ...] = ()) -> LineMap:
    lines: LineMap = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[(*path, key.value)] = key.start_mark.line + 1
            lines.update(_line_map(value, (*path, key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            lines[(*path, index)] = value.start_mark.line + 1
            lines.update(_line_map(value, (*path, index)))
    return lines


def _line_of(loc: tuple[str | int, ...], lines: LineMap) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


# --- cross-references ------------------------------------------------------------------------


def _check_references(tree: ContentTree) -> Iterator[Problem]:
    for tid, therapy in tree.therapies.items():
        yield from _check_therapy(tree, tid, therapy)
    for lid, location in tree.locations.items():
        yield from _check_location(tree, lid, location)
    for cid, clinic in tree.clinics.items():
        yield from _check_clinic(tree, cid, clinic)


def _shown(tree: ContentTree, kind: str, entry_id: str) -> str:
    return _display(tree.files[EntryRef(kind, entry_id)], tree.root)


def _line(tree: ContentTree, kind: str, entry_id: str, *loc: str | int) -> int | None:
    """The line of a field in an entry's file (parsed again: only when reporting a problem)."""
    path = tree.files[EntryRef(kind, entry_id)]
    return _line_of(loc, _line_map(yaml.compose(path.read_text(encoding="utf-8"),
                                                Loader=yaml.SafeLoader)))


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_therapy(tree: ContentTree, tid: str, therapy: Therapy) -> Iterator[Problem]:
    shown = _shown(tree, "therapy", tid)
    cited: set[str] = set()
    sections = {f"sections.{name}": s for name, s in therapy.sections}
    for name, section in sections.items():
        cited.update(section.cite)
        yield from _unknown_sources(tree, tid, [*name.split("."), "cite"], section.cite,
                                    therapy)
    seen: set[str] = set()
    for group in ("side_effects", "risks"):
        for index, item in enumerate(getattr(therapy, group).items):
            if item.id in seen:
                yield Problem(shown, f"{group}.items", f"duplicate id {item.id!r}",
                              _line(tree, "therapy", tid, group, "items", index, "id"))
            seen.add(item.id)
            cited.update(item.cite)
            yield from _unknown_sources(tree, tid, [group, "items", index, "cite"], item.cite,
                                        therapy, f"{group}.items[{item.id}].cite")
    for key in sorted(set(therapy.sources) - cited):
        yield Problem(shown, f"sources.{key}", "source is never cited",
                      _line(tree, "therapy", tid, "sources", key))
    if therapy.review.next_review <= therapy.review.reviewed_on:
        yield Problem(shown, "review.next_review", "must be after review.reviewed_on",
                      _line(tree, "therapy", tid, "review", "next_review"))


def _unknown_sources(tree: ContentTree, tid: str, loc: list[str | int], cite: list[str],
                     therapy: Therapy, where: str = "") -> Iterator[Problem]:
    for key in cite:
        if key not in therapy.sources:
            yield Problem(_shown(tree, "therapy", tid), where or ".".join(map(str, loc)),
                          f"cites unknown source {key!r}{_did_you_mean(key, therapy.sources)}",
                          _line(tree, "therapy", tid, *loc, cite.index(key)))


def _check_location(tree: ContentTree, lid: str, location: Location) -> Iterator[Problem]:
    shown = _shown(tree, "location", lid)
    state_line = _line(tree, "location", lid, "state") if location.state else None
    if location.type == "city":
        parent = tree.locations.get(location.state or "")
        if location.state is None:
            yield Problem(shown, "state", "a city needs the id of its state",
                          _line(tree, "location", lid, "type"))
        elif not _exists(tree, "location", location.state):
            states = [i for i, loc in tree.locations.items() if loc.type == "state"]
            yield Problem(shown, "state", f"unknown state {location.state!r}"
                          f"{_did_you_mean(location.state, states)}", state_line)
        elif parent is not None and parent.type != "state":
            yield Problem(shown, "state", f"{location.state!r} is not a state", state_line)
    elif location.state is not None:
        yield Problem(shown, "state", "a state cannot have a parent state", state_line)
    for key in location.therapy_notes:
        if not _exists(tree, "therapy", key):
            yield Problem(shown, "therapy_notes", f"unknown therapy {key!r}"
                          f"{_did_you_mean(key, tree.therapies)}",
                          _line(tree, "location", lid, "therapy_notes", key))


def _check_clinic(tree: ContentTree, cid: str, clinic: Clinic) -> Iterator[Problem]:
    shown = _shown(tree, "clinic", cid)
    for index, lid in enumerate(clinic.locations):
        if not _exists(tree, "location", lid):
            yield Problem(shown, "locations", f"unknown location {lid!r}"
                          f"{_did_you_mean(lid, tree.locations)}",
                          _line(tree, "clinic", cid, "locations", index))
    for index, tid in enumerate(clinic.therapies):
        if not _exists(tree, "therapy", tid):
            yield Problem(shown, "therapies", f"unknown therapy {tid!r}"
                          f"{_did_you_mean(tid, tree.therapies)}",
                          _line(tree, "clinic", cid, "therapies", index))
        elif tid not in clinic.protocols:
            yield Problem(shown, "protocols", f"no protocol for offered therapy {tid!r}",
                          _line(tree, "clinic", cid, "protocols"))
    for tid in clinic.protocols:
        if tid not in clinic.therapies:
            yield Problem(shown, f"protocols.{tid}", "protocol for a therapy the clinic lacks",
                          _line(tree, "clinic", cid, "protocols", tid))
    for field_name, message in brand_problems(clinic.colors.primary, clinic.colors.accent):
        yield Problem(shown, field_name, message,
                      _line(tree, "clinic", cid, *field_name.split(".")))


# --- logos -----------------------------------------------------------------------------------


def _check_logos(tree: ContentTree) -> Iterator[Problem]:
    folder = (tree.root / FOLDERS["clinic"]).resolve()
    for cid, clinic in tree.clinics.items():
        shown = _shown(tree, "clinic", cid)
        path = (folder / clinic.logo).resolve()
        problem = logo_problem(path, folder)
        if problem:
            yield Problem(shown, "logo", f"{clinic.logo}: {problem}")
        else:
            tree.files[EntryRef("logo", cid)] = path
