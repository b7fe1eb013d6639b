"""The tree in every other language: each English entry with its overlay's text in place (see
generator.content.translations for the overlay format), and what is missing or stale.

A therapy or clinic must be translated in full (consent forms are never generated with
untranslated text); a location may fall back to English where its file allows it, and the
build reports each fallback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from generator.content.kinds import CONTENT_KINDS
from generator.content.schema import Location
from generator.content.translations import localize, stale_fields
from generator.content.tree import SITE_ID, ContentTree, EntryRef
from generator.content.yamlfiles import LineMap, display, line_of, lines_in, read_yaml
from generator.errors import Problem
from generator.i18n import SOURCE_LANGUAGE

Key = tuple[str, str, str]
"""(kind, id, lang)"""


@dataclass
class Translations:
    """What translate found; load_content puts it in the ContentTree of the same fields."""

    translated: dict[Key, BaseModel] = field(default_factory=dict)
    fallbacks: dict[Key, list[str]] = field(default_factory=dict)
    stale: dict[Key, list[Problem]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def translate(tree: ContentTree, overlays: dict[EntryRef, Path],
              languages: tuple[str, ...]) -> Translations:
    """Every entry of the English tree in every other language, from the overlay files."""
    found = Translations()
    for ref, path in overlays.items():
        # An overlay of a language not published (CAREPRESS_LANGUAGES) waits unused.
        if ref.lang in languages and ref.whole not in tree.files:
            found.problems.append(Problem(display(path, tree.root), "",
                                          f"no {ref.kind} {ref.id!r} to translate"))
    sites = {SITE_ID: tree.site} if tree.site is not None else {}
    entries = [*((kind.name, tree.entries(kind.name)) for kind in CONTENT_KINDS),
               ("site", sites)]
    for lang in languages:
        if lang == SOURCE_LANGUAGE:
            continue
        for kind, of_kind in entries:
            for entry_id, entry in of_kind.items():
                ref = EntryRef(kind, entry_id, lang=lang)
                _translate_entry(tree, ref, entry, overlays.get(ref), found)
    return found


def _translate_entry(tree: ContentTree, ref: EntryRef, entry: BaseModel,
                     overlay: Path | None, found: Translations) -> None:
    base_file = tree.files[ref.whole]
    shown = display(overlay or base_file.with_name(f"{ref.id}.{ref.lang}.yaml"), tree.root)
    data: dict[str, Any] | None = None
    if overlay is not None:
        data = read_yaml(overlay, shown, found.problems)
        if data is None:
            return
    english = entry.model_dump()
    stale = stale_fields(ref.kind, english, data)
    lines = _Lines(overlay, tree.root, base_file, entry.model_dump())
    merged, missing, wrong = localize(ref.kind, english, data)
    for message in wrong:
        field_name, _, reason = message.partition(": ")
        found.problems.append(Problem(shown, field_name, reason, lines.overlay(field_name)))
    key = (ref.kind, ref.id, ref.lang)
    if missing and isinstance(entry, Location) and entry.allow_fallback:
        found.fallbacks[key] = missing
    elif missing:
        found.problems.extend(_missing_translation(shown, ref, missing, overlay is None, lines))
    if stale:
        found.stale[key] = [_stale_problem(shown, ref, name, why, lines)
                            for name, why in stale.items()]
    found.translated[key] = type(entry).model_validate(merged)


def _stale_problem(shown: str, ref: EntryRef, name: str, why: str, lines: _Lines) -> Problem:
    english = lines.english_at(name)
    return Problem(shown, name, f"stale {ref.lang!r} translation: " + (
        f"the English text ({english}) changed since it was translated" if why == "changed"
        else f"never marked as translating the English text ({english})")
        + f"; update it, then run `carepress translations mark-reviewed {ref.kind}:{ref.id} "
        f"--lang {ref.lang} {name}`", lines.overlay(name))


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
            self._maps[which] = {} if path is None else lines_in(path)
        return self._maps[which]

    def overlay(self, dotted: str) -> int | None:
        return line_of(tuple(dotted.split(".")), self._map("overlay"))

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
        line = line_of(tuple(loc), self._map("english"))
        shown = display(self._files["english"] or self._root, self._root)
        return f"{shown}:{line}" if line else shown
