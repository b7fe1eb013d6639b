"""What entries name, checked across the tree: other entries by id, a therapy's sources, and
files (a clinic's logo, the site's favicon)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from pathlib import Path

from generator.content.contrast import brand_problems
from generator.content.kinds import FOLDERS
from generator.content.logos import logo_problem
from generator.content.schema import Clinic, Location, Therapy
from generator.content.tree import SITE_FILE, SITE_ID, ContentTree, EntryRef
from generator.content.yamlfiles import display, line_of, lines_in
from generator.errors import Problem


def reference_problems(tree: ContentTree) -> Iterator[Problem]:
    """Ids that name no entry (or the wrong kind of entry), uncited or unknown sources, and
    the other checks that need more than one field or one entry."""
    for tid, therapy in tree.therapies.items():
        yield from _check_therapy(tree, tid, therapy)
    for lid, location in tree.locations.items():
        yield from _check_location(tree, lid, location)
    for cid, clinic in tree.clinics.items():
        yield from _check_clinic(tree, cid, clinic)


def _shown(tree: ContentTree, kind: str, entry_id: str) -> str:
    return display(tree.files[EntryRef(kind, entry_id)], tree.root)


def _line(tree: ContentTree, kind: str, entry_id: str, *loc: str | int) -> int | None:
    """The line of a field in an entry's file."""
    return line_of(loc, lines_in(tree.files[EntryRef(kind, entry_id)]))


def _exists(tree: ContentTree, kind: str, entry_id: str) -> bool:
    """A file that is present but invalid has its own problem; it is not also 'unknown'."""
    return EntryRef(kind, entry_id) in tree.files


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


# --- files -----------------------------------------------------------------------------------


def image_files(tree: ContentTree) -> tuple[dict[EntryRef, Path], list[Problem]]:
    """Each clinic's logo (under EntryRef('logo', id)) and the site's favicon, resolved, where
    it is a file the site may publish; the problems of those that are not."""
    found: dict[EntryRef, Path] = {}
    problems: list[Problem] = []
    for ref, path, problem in (*_logos(tree), *_favicon(tree)):
        if problem is None:
            found[ref] = path
        else:
            problems.append(problem)
    return found, problems


Image = tuple[EntryRef, Path, Problem | None]


def _logos(tree: ContentTree) -> Iterator[Image]:
    folder = (tree.root / FOLDERS["clinic"]).resolve()
    for cid, clinic in tree.clinics.items():
        path = (folder / clinic.logo).resolve()
        problem = logo_problem(path, folder)
        yield EntryRef("logo", cid), path, Problem(
            _shown(tree, "clinic", cid), "logo", f"{clinic.logo}: {problem}") if problem else None


def _favicon(tree: ContentTree) -> Iterator[Image]:
    """The favicon is checked as a logo is, and its problem said without 'logo'."""
    if tree.site is None or tree.site.favicon is None:
        return
    folder = tree.root.resolve()
    path = (folder / tree.site.favicon).resolve()
    problem = logo_problem(path, folder)
    yield EntryRef("favicon", SITE_ID), path, Problem(
        display(tree.root / SITE_FILE, tree.root), "favicon",
        f"{tree.site.favicon}: {problem}".replace(" in a logo", "")
        .replace("clinics folder", "content tree")) if problem else None
