"""Clinic logos: what a logo file may hold before it is drawn in a PDF or published on the site.

A logo is published as a file of its own (site/assets/logos/), and a browser that opens an SVG
directly runs what it contains, so an SVG is walked element by element and refused at the first
thing outside the allow-list (generator.content.svg_allowlist), or if it is too large, too deep,
or draws too much through its references.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

import tinycss2

from generator.content.svg_allowlist import (
    ELEMENTS,
    SVG_NS,
    XLINK_NS,
    XML_NS,
    attribute_problem,
    split_name,
)
from generator.errors import RenderError

LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_PIXELS = 4096
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
SVG_MAX_ELEMENTS = 5000
SVG_MAX_DEPTH = 32
"""WeasyPrint draws an SVG recursively: a deep tree would exhaust its stack."""
SVG_MAX_DRAWN = 10000
"""Elements drawn once references (<use>, url(#id)) are followed."""

PREFIXES = {XLINK_NS: "xlink", XML_NS: "xml"}
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)""")


def logo_problem(path: Path, folder: Path) -> str | None:
    """Why the logo file at `path` may not be used, or None; `folder` is the clinics folder
    (both resolved)."""
    if not path.is_relative_to(folder):
        return "must be inside the clinics folder"
    if path.suffix.lower() not in LOGO_TYPES:
        return "must be an .svg or .png file"
    if not path.is_file():
        return "file not found"
    return data_problem(path.suffix.lower(), path.read_bytes())


def data_problem(suffix: str, data: bytes) -> str | None:
    """Why these bytes may not be published as a logo of this type, or None."""
    if len(data) > LOGO_MAX_BYTES:
        return f"larger than {LOGO_MAX_BYTES // 1024} KiB"
    if suffix == ".png":
        return _png_problem(data)
    return svg_problem(data)


def read_logo(path: Path) -> bytes:
    """The logo's bytes, checked again as they are read: what is published is exactly what
    passed the check, even if the file changed after the tree was loaded."""
    data = path.read_bytes()
    problem = data_problem(path.suffix.lower(), data)
    if problem:
        raise RenderError(f"{path.name}: {problem}")
    return data


def _png_problem(data: bytes) -> str | None:
    # Read the size from the header so a decompression bomb is refused before any decoding.
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return "not a PNG image"
    width, height = struct.unpack(">II", data[16:24])
    if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
        return f"{width}x{height} pixels exceeds {LOGO_MAX_PIXELS}x{LOGO_MAX_PIXELS}"
    return None


# --- SVG -----------------------------------------------------------------------------------


class _Refused(Exception):
    """Raised from inside the expat handlers to stop at the first problem."""


def svg_problem(data: bytes) -> str | None:
    """The first thing in the SVG outside the allow-list, with its line, or None."""
    encoding = _declared_encoding(data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text (SVG logos must be UTF-8)"
    if encoding not in (None, "utf-8", "utf8", "us-ascii"):
        # A browser would decode the published file differently from this check.
        return f"declares encoding {encoding!r}; SVG logos must be UTF-8"
    checker = _SvgChecker()
    parser = expat.ParserCreate(namespace_separator=" ")
    checker.attach(parser)
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        return f"line {parser.CurrentLineNumber}: {exc}"
    except expat.ExpatError as exc:
        return f"not a well-formed SVG ({expat.ErrorString(exc.code)}, line {exc.lineno})"
    return checker.drawn_problem()


def _declared_encoding(data: bytes) -> str | None:
    found = _ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    return found.group(1).decode("ascii", "replace").strip().lower() if found else None


@dataclass
class _Subtree:
    """An element with what it contains: drawing it draws `size` elements, plus what it
    references (by href or url(#id))."""

    id: str | None
    size: int = 1
    references: list[str] = field(default_factory=list)


class _SvgChecker:
    def __init__(self) -> None:
        self.depth = 0
        self.elements = 0
        self.open: list[_Subtree] = []
        self.ids: dict[str, _Subtree] = {}
        self.root = _Subtree(None)

    def attach(self, parser: Any) -> None:
        parser.StartDoctypeDeclHandler = self.doctype
        parser.EntityDeclHandler = self.doctype
        parser.ProcessingInstructionHandler = self.instruction
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end

    def doctype(self, *_args: object) -> None:
        raise _Refused("a DOCTYPE or entity declaration is not accepted")

    def instruction(self, target: str, _data: str) -> None:
        raise _Refused(f"processing instruction <?{target}?> is not accepted")

    def start(self, name: str, attributes: dict[str, str]) -> None:
        namespace, local = split_name(name)
        self.elements += 1
        self.depth += 1
        if self.elements == 1 and (namespace, local) != (SVG_NS, "svg"):
            raise _Refused(f'the root element <{_shown(name)}> is not an <svg> in the SVG '
                           f'namespace (xmlns="{SVG_NS}")')
        if namespace != SVG_NS or local not in ELEMENTS:
            raise _Refused(f"element <{_shown(name)}> is not allowed in a logo")
        if self.elements > SVG_MAX_ELEMENTS:
            raise _Refused(f"more than {SVG_MAX_ELEMENTS} elements")
        if self.depth > SVG_MAX_DEPTH:
            raise _Refused(f"elements nested more than {SVG_MAX_DEPTH} deep")
        for attribute, value in attributes.items():
            problem = attribute_problem(local, attribute, value)
            if problem:
                joint = " " if problem.startswith("is not") else ": "
                raise _Refused(f"<{local}> attribute {_shown(attribute)}{joint}{problem}")
        self.open.append(_Subtree(attributes.get("id"), 1, list(_references(attributes))))

    def end(self, _name: str) -> None:
        self.depth -= 1
        done = self.open.pop()
        if done.id is not None:  # a repeated id counts as both elements: never less
            known = self.ids.setdefault(done.id, _Subtree(done.id, 0))
            known.size += done.size
            known.references += done.references
        parent = self.open[-1] if self.open else self.root
        parent.size += done.size
        parent.references += done.references

    def drawn_problem(self) -> str | None:
        """Refuse reference loops (WeasyPrint fails on them, vaguely) and references that
        multiply into more than SVG_MAX_DRAWN drawn elements (a 'billion laughs' of <use>)."""
        sizes: dict[str, int] = {}
        for start in self.ids:
            loop = _measure(start, self.ids, sizes)
            if loop:
                return f"references loop through #{loop} (an element that draws itself)"
        drawn = self.root.size + sum(sizes.get(ref, 0) for ref in self.root.references)
        if drawn > SVG_MAX_DRAWN:
            return f"draws more than {SVG_MAX_DRAWN} elements through its references"
        return None


def _measure(start: str, ids: dict[str, _Subtree], sizes: dict[str, int]) -> str | None:
    """Fill `sizes` (elements drawn, capped) for `start` and what it references, without
    recursion; returns an id on a loop."""
    if start in sizes:
        return None
    visiting = {start}
    stack = [(start, iter(ids[start].references))]
    while stack:
        node, pending = stack[-1]
        child = next(pending, None)
        if child is None:
            stack.pop()
            visiting.discard(node)
            own = ids[node]
            total = own.size + sum(sizes.get(ref, 0) for ref in own.references)
            sizes[node] = min(total, SVG_MAX_DRAWN + 1)
        elif child in visiting:
            return child
        elif child in ids and child not in sizes:
            visiting.add(child)
            stack.append((child, iter(ids[child].references)))
    return None


def _references(attributes: dict[str, str]) -> Iterator[str]:
    """The ids an element's (already checked) attributes point at."""
    for name, value in attributes.items():
        local = split_name(name)[1]
        if local == "href":
            yield value[1:]
        elif local == "style":
            for item in tinycss2.parse_blocks_contents(value, skip_comments=True):
                if item.type == "declaration":
                    yield from _url_targets(item.value)
        elif "url" in value.lower() or "\\" in value:
            yield from _url_targets(tinycss2.parse_component_value_list(value))


def _url_targets(tokens: list[Any]) -> Iterator[str]:
    for token in tokens:
        if token.type == "url":
            yield token.value.strip()[1:]
        elif token.type == "function" and token.lower_name == "url":
            yield from (t.value[1:] for t in token.arguments if t.type == "string")
        elif token.type == "function":
            yield from _url_targets(token.arguments)
        elif token.type in ("() block", "[] block"):
            yield from _url_targets(token.content)



def _shown(name: str) -> str:
    """`xlink:href` for a known namespace, `{uri}name` for another."""
    namespace, local = split_name(name)
    if not namespace or namespace == SVG_NS:
        return local
    return f"{PREFIXES[namespace]}:{local}" if namespace in PREFIXES else f"{{{namespace}}}{local}"

