"""Content files as YAML: reading one, and naming the file and line a problem points at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from generator.errors import Problem

LineMap = dict[tuple[str | int, ...], int]
"""A field's path in the file's data (keys and list indexes) → the line it starts on."""

# libyaml's safe loader parses ~10x faster than the pure-Python one (the same YAML 1.1 rules);
# PyYAML wheels ship it, a source build may not.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def display(path: Path, root: Path) -> str:
    """The file as problems name it: from the content folder's own name down."""
    return str(Path(root.name) / path.relative_to(root))


def read_yaml(path: Path, shown: str, problems: list[Problem]) -> dict[str, Any] | None:
    """The file's mapping of fields, or None with the reason added to `problems`."""
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


def lines_in(path: Path) -> LineMap:
    """The file's field lines (parsed again: done only when there is a problem to place)."""
    return _line_map(yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader))


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


def line_of(loc: tuple[str | int, ...], lines: LineMap) -> int | None:
    """The line of the field, or of its nearest enclosing field the file has."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
