"""Content translations: an `<id>.<lang>.yaml` overlay beside each English entry.

An overlay holds only the translatable fields, in the entry's own nesting, except that list
items with an `id` (side effects, risks) are keyed by that id, so reordering the English list
cannot pair a translation with the wrong item.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
    wrong += [f"{'.'.join(str(p) for p in leaf)}: not a translatable field of this entry"
              for leaf in _leaves(overlay) if leaf not in known]
    return english, missing, wrong


def _fits(english: Any, text: Any) -> bool:
    if isinstance(english, list):
        return (isinstance(text, list) and len(text) == len(english)
                and all(isinstance(t, str) and t.strip() for t in text))
    return isinstance(text, str) and bool(text.strip())


def _shape(english: Any) -> str:
    if isinstance(english, list):
        return f"a list of {len(english)} texts"
    return "a text"
