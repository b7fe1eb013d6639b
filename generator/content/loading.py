"""Loading the content tree: read every entry, validate it against the schema, run the checks,
and build the ContentTree once all of it is known.

Every problem in the tree is collected and reported together, each naming its file, field and
(where YAML gives one) line, so a content editor fixes a whole tree in one pass.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from generator.content.kinds import CONTENT_KINDS, FOLDERS, ContentKind
from generator.content.references import image_files, reference_problems
from generator.content.schema import Site
from generator.content.translating import translate
from generator.content.tree import SITE_FILE, SITE_ID, ContentTree, EntryRef
from generator.content.yamlfiles import LineMap, display, line_of, lines_in, read_yaml
from generator.errors import ContentError, Problem
from generator.i18n import SOURCE_LANGUAGE
from generator.ids import id_problem, printable

M = TypeVar("M", bound=BaseModel)
Files = dict[EntryRef, Path]


def load_content(root: Path, languages: tuple[str, ...] = (SOURCE_LANGUAGE,)) -> ContentTree:
    """Read and check the whole tree in every language; raise ContentError listing every
    problem found."""
    if not root.is_dir():
        raise ContentError([Problem(str(root), "", "content folder not found")])
    problems: list[Problem] = []
    english, overlays = _read_tree(root, problems)
    problems.extend(reference_problems(english))
    images, image_problems = image_files(english)
    problems.extend(image_problems)
    translations = translate(english, overlays, languages)
    problems.extend(translations.problems)
    if problems:
        raise ContentError(problems)
    return dataclasses.replace(
        english, files={**english.files, **overlays, **images}, languages=languages,
        translated=translations.translated, fallbacks=translations.fallbacks,
        stale=translations.stale)


def _read_tree(root: Path, problems: list[Problem]) -> tuple[ContentTree, Files]:
    """The English tree as read (without its images), and each translation overlay's file."""
    entries: dict[str, dict[str, Any]] = {}
    files: Files = {}
    overlays: Files = {}
    for kind in CONTENT_KINDS:
        entries[kind.name] = _read_kind(root, kind, files, overlays, problems)
    if not any(ref.kind == "therapy" for ref in files):
        problems.append(Problem(display(root / FOLDERS["therapy"], root), "", "no therapy files"))
    site = _read_site(root, files, problems)
    overlays.update(_site_overlays(root))
    tree = ContentTree(root, therapies=entries["therapy"], locations=entries["location"],
                       clinics=entries["clinic"], files=files, site=site)
    return tree, overlays


def _read_kind(root: Path, kind: ContentKind, files: Files, overlays: Files,
               problems: list[Problem]) -> dict[str, Any]:
    """The valid entries of one kind; every entry's file goes in `files` (an invalid one too:
    it has its own problem and is not also reported as unknown), every overlay in `overlays`."""
    entries = {}
    for path in sorted((root / kind.folder).glob("*.yaml")):
        entry_id, _, lang = path.stem.partition(".")
        if lang:
            overlays[EntryRef(kind.name, entry_id, lang=lang)] = path
            continue
        files[EntryRef(kind.name, entry_id)] = path
        entry = _load_entry(path, display(path, root), kind.model, problems)
        if entry is not None:
            entries[entry_id] = entry
    return entries


def _read_site(root: Path, files: Files, problems: list[Problem]) -> Site | None:
    path = root / SITE_FILE
    if not path.is_file():
        return None
    files[EntryRef("site", SITE_ID)] = path
    return _load_entry(path, display(path, root), Site, problems)


def _site_overlays(root: Path) -> Files:
    return {EntryRef("site", SITE_ID, lang=overlay.stem.partition(".")[2]): overlay
            for overlay in sorted(root.glob(f"{SITE_ID}.*.yaml"))}


def _load_entry(path: Path, shown: str, model: type[M], problems: list[Problem]) -> M | None:
    problem = id_problem(path.stem)
    if problem:
        problems.append(Problem(printable(shown), "", f"file name {problem}"))
        return None
    data = read_yaml(path, shown, problems)
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = lines_in(path)
        problems.extend(_problem_from(shown, error, lines, data) for error in exc.errors())
        return None


def _problem_from(shown: str, error: Any, lines: LineMap, data: Any = None) -> Problem:
    loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "required field is missing"
    elif error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling)"
    return Problem(shown, _field_name(loc, data), message, line_of(loc, lines))


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
