"""Content translations: an `<id>.<lang>.yaml` overlay beside each English entry.

An overlay holds only the translatable fields, in the entry's own nesting, except that list
items with an `id` (side effects, risks) are keyed by that id, so reordering the English list
cannot pair a translation with the wrong item.

Freshness, as gettext's fuzzy flag: the overlay's `translated_from` block (last in the file)
records, for each translated field, a short hash of the English text it translates. When the
English text changes, its hash no longer matches and the translation is stale until a
translator updates it and marks it reviewed (`carepress translations mark-reviewed`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

SOURCES_KEY = "translated_from"

# Dotted paths: "*" is any mapping key, "#" a list item (keyed by its id in the overlay).
TRANSLATABLE: dict[str, tuple[str, ...]] = {
    "therapy": (
        "name", "summary", "review.reviewed_by", "sections.*.body",
        "side_effects.intro", "side_effects.items.#.name", "side_effects.items.#.detail",
        "risks.intro", "risks.items.#.name", "risks.items.#.detail",
        "sources.*.title", "sources.*.note",
    ),
    "location": ("name", "summary", "local_notes", "therapy_notes.*", "faq.#.question",
                 "faq.#.answer"),
    "clinic": (
        "logo_alt", "clinician.title", "emergency",
        "protocols.*.monitoring", "protocols.*.driving", "protocols.*.preparation",
    ),
    "site": ("name", "tagline"),
}

Path = tuple[str | int, ...]


def _expand(node: Any, segments: list[str], base: Path = (),
            over: Path = ()) -> Iterator[tuple[Path, Path, Any]]:
    """Each concrete field a pattern names in the English data: (its path there, its path in
    the overlay, its English value)."""
    if not segments:
        yield base, over, node
        return
    head, rest = segments[0], segments[1:]
    if head == "*" and isinstance(node, dict):
        for key, value in node.items():
            yield from _expand(value, rest, (*base, key), (*over, key))
    elif head == "#" and isinstance(node, list):
        for index, item in enumerate(node):
            yield from _expand(item, rest, (*base, index), (*over, item["id"]))
    elif isinstance(node, dict) and head in node:
        yield from _expand(node[head], rest, (*base, head), (*over, head))


def _get(node: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _set(node: Any, path: Path, value: Any) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _leaves(node: Any, path: Path = ()) -> Iterator[Path]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path


def localize(kind: str, english: dict[str, Any],
             overlay: dict[str, Any] | None) -> tuple[dict[str, Any], list[str], list[str]]:
    """The entry's data with the overlay's text in place of the English.

    Returns (data, missing, wrong): the translatable fields the overlay lacks, and the
    overlay's fields that are not translatable here or do not fit the English.
    """
    overlay = overlay or {}
    missing, wrong, known = [], [], set()
    for pattern in TRANSLATABLE[kind]:
        for base_path, over_path, value in _expand(english, pattern.split(".")):
            if value is None:
                continue
            known.add(over_path)
            dotted = ".".join(str(p) for p in over_path)
            text = _get(overlay, over_path)
            if text is None:
                missing.append(dotted)
            elif not _fits(value, text):
                wrong.append(f"{dotted}: must be {_shape(value)}, like the English")
            else:
                _set(english, base_path, text)
    wrong += [_unknown_leaf(kind, leaf) for leaf in _leaves(overlay)
              if leaf not in known and leaf[:1] != (SOURCES_KEY,)]
    return english, missing, wrong


def _unknown_leaf(kind: str, leaf: Path) -> str:
    """An overlay field the English entry has no place for; an unknown item id says so, so an
    editor looks for a renamed or removed item in the English file."""
    dotted = ".".join(str(p) for p in leaf)
    for pattern in TRANSLATABLE[kind]:
        segments = pattern.split(".")
        if len(segments) == len(leaf) and "#" in segments and all(
                seg in ("*", "#") or seg == key for seg, key in zip(segments, leaf, strict=True)):
            item = leaf[segments.index("#")]
            group = ".".join(segments[:segments.index("#")])
            return (f"{dotted}: no item with id {item!r} in {group} of the English file "
                    "(was it renamed or removed there?)")
    for pattern in TRANSLATABLE[kind]:
        segments = pattern.split(".")
        if "*" in segments and len(leaf) == len(segments) and all(
                seg in ("*", key) for seg, key in zip(segments, leaf, strict=True)):
            at = segments.index("*")
            group = ".".join(segments[:at])
            return (f"{dotted}: no {group} entry {leaf[at]!r} in the English file "
                    "(was it renamed or removed there?)")
    return f"{dotted}: not a translatable field of this entry"


def source_hash(value: Any) -> str:
    """A short hash of an English field; rewrapping its lines does not change it."""
    parts = value if isinstance(value, list) else [value]
    text = "\n".join(" ".join(str(part).split()) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def english_fields(kind: str, english: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(dotted overlay path, English value) of every translatable field the entry has."""
    for pattern in TRANSLATABLE[kind]:
        for _, over_path, value in _expand(english, pattern.split(".")):
            if value is not None:
                yield ".".join(str(p) for p in over_path), value


def stale_fields(kind: str, english: dict[str, Any],
                 overlay: dict[str, Any] | None) -> dict[str, str]:
    """Translated fields not made from the current English text → 'changed' (the English
    changed since) or 'unreviewed' (never marked reviewed)."""
    overlay = overlay or {}
    recorded = overlay.get(SOURCES_KEY)
    recorded = recorded if isinstance(recorded, dict) else {}
    return {dotted: "changed" if dotted in recorded else "unreviewed"
            for dotted, value in english_fields(kind, english)
            if _get(overlay, tuple(dotted.split("."))) is not None
            and str(recorded.get(dotted)) != source_hash(value)}


def reviewed_hashes(kind: str, english: dict[str, Any], overlay: dict[str, Any] | None,
                    fields: Iterable[str] | None = None) -> dict[str, str]:
    """The overlay's `translated_from` block once `fields` (every translated field when None)
    are marked as translating the current English; other entries keep their old hash."""
    overlay = overlay or {}
    old = overlay.get(SOURCES_KEY)
    old = old if isinstance(old, dict) else {}
    wanted = None if fields is None else set(fields)
    hashes = {}
    for dotted, value in english_fields(kind, english):
        if _get(overlay, tuple(dotted.split("."))) is None:
            continue
        if wanted is None or dotted in wanted:
            hashes[dotted] = source_hash(value)
        elif dotted in old:
            hashes[dotted] = str(old[dotted])
    return hashes


_BLOCK = re.compile(rf"^{SOURCES_KEY}:.*?(?=^\S|\Z)", re.MULTILINE | re.DOTALL)


def with_hashes(text: str, hashes: dict[str, str]) -> str:
    """The overlay file's text with its `translated_from` block replaced, the rest untouched
    (comments and line wrapping are the translator's)."""
    block = (f"{SOURCES_KEY}:  # English text each translation was made from; written by "
             "`carepress translations mark-reviewed`\n"
             + "".join(f"  {key}: \"{value}\"\n" for key, value in hashes.items()))
    rest = _BLOCK.sub("", text).rstrip("\n")
    return f"{rest}\n{block}"


def _fits(english: Any, text: Any) -> bool:
    if isinstance(english, list):
        return (isinstance(text, list) and len(text) == len(english)
                and all(isinstance(t, str) and t.strip() for t in text))
    return isinstance(text, str) and bool(text.strip())


def _shape(english: Any) -> str:
    if isinstance(english, list):
        return f"a list of {len(english)} texts"
    return "a text"
