"""The SVG allow-list for logos (deny by default), and the check of one attribute against it.

Allowed: static shapes, text, gradients, groups, clip paths and masks, with presentation
attributes. No scripts, event attributes, animation, style sheets, foreign content, DOCTYPE or
entities, processing instructions, xml:base or references outside the file. Attribute values
and `style` declarations are tokenized as CSS (tinycss2, the tokenizer WeasyPrint uses), so
escapes, comments and case are undone before url() and other functions are judged.
"""

from __future__ import annotations

import re
from typing import Any

import tinycss2

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

ELEMENTS = frozenset({
    "svg", "g", "defs", "symbol", "use", "title", "desc",
    "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "text", "tspan", "textPath",
    "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask",
})
LINKING = frozenset({"use", "linearGradient", "radialGradient", "pattern", "textPath"})
"""Elements whose href may point at another element of the same file."""

PRESENTATION = frozenset({
    "alignment-baseline", "baseline-shift", "clip-path", "clip-rule", "color",
    "color-interpolation", "direction", "display", "dominant-baseline", "fill",
    "fill-opacity", "fill-rule", "font-family", "font-size", "font-size-adjust", "font-stretch",
    "font-style", "font-variant", "font-weight", "image-rendering", "letter-spacing", "mask",
    "opacity", "overflow", "paint-order", "shape-rendering", "stop-color", "stop-opacity",
    "stroke", "stroke-dasharray", "stroke-dashoffset", "stroke-linecap", "stroke-linejoin",
    "stroke-miterlimit", "stroke-opacity", "stroke-width", "text-anchor", "text-decoration",
    "text-rendering", "transform", "transform-origin", "unicode-bidi", "vector-effect",
    "visibility", "word-spacing", "writing-mode",
})
"""Properties allowed as attributes and as `style` declarations."""

ATTRIBUTES = PRESENTATION | frozenset({
    "id", "class", "lang", "role", "aria-label", "aria-labelledby", "aria-describedby",
    "aria-hidden", "focusable", "style", "version", "baseProfile", "viewBox",
    "preserveAspectRatio", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry",
    "fx", "fy", "fr", "width", "height", "d", "points", "pathLength", "dx", "dy", "rotate",
    "textLength", "lengthAdjust", "startOffset", "method", "spacing", "side", "refX", "refY",
    "offset", "gradientUnits", "gradientTransform", "spreadMethod", "clipPathUnits",
    "maskUnits", "maskContentUnits", "patternUnits", "patternContentUnits", "patternTransform",
})
NAMESPACED = frozenset({(XML_NS, "lang"), (XML_NS, "space")})

FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla",
                       "matrix", "translate", "scale", "rotate", "skewx", "skewy"})
"""CSS and transform functions a value may call; url() is judged on its own."""
_LOCAL = re.compile(r"#[^\s#]+")


def split_name(name: str) -> tuple[str, str]:
    """(namespace, local name) of a name as expat gives it ('namespace local')."""
    namespace, _, local = name.rpartition(" ")
    return namespace, local


def attribute_problem(element: str, name: str, value: str) -> str | None:
    """Why this attribute may not be on this element, or None."""
    namespace, local = split_name(name)
    if (namespace, local) == (XLINK_NS, "href") or (not namespace and local == "href"):
        if element not in LINKING:
            return "is not allowed here"
        if not _LOCAL.fullmatch(value):
            return f"must point inside the SVG (#id), not {value[:60]!r}"
        return None
    if namespace and (namespace, local) not in NAMESPACED:
        return "is not allowed in a logo"
    if not namespace and local not in ATTRIBUTES:
        return "is not allowed in a logo"
    if local == "style":
        return _style_problem(value)
    return _value_problem(tinycss2.parse_component_value_list(value))


def _style_problem(value: str) -> str | None:
    for item in tinycss2.parse_blocks_contents(value, skip_comments=True,
                                               skip_whitespace=True):
        if item.type != "declaration":
            return f"only property declarations are allowed, not {item.type}"
        if item.lower_name not in PRESENTATION:
            return f"property {item.lower_name!r} is not allowed"
        problem = _value_problem(item.value)
        if problem:
            return problem
    return None


def _value_problem(tokens: list[Any]) -> str | None:
    """url() may only name a fragment of the same file; other functions come from a short
    list; at-rules, blocks and unparseable CSS are refused."""
    for token in tokens:
        problem = _token_problem(token)
        if problem:
            return problem
    return None


def _token_problem(token: Any) -> str | None:
    kind = token.type
    if kind == "url":
        return _url_problem(token.value.strip())
    if kind == "function" and token.lower_name == "url":
        args = [t for t in token.arguments if t.type not in ("whitespace", "comment")]
        if len(args) != 1 or args[0].type != "string":
            return "url() must point inside the SVG (#id)"
        return _url_problem(args[0].value)
    if kind == "function":
        if token.lower_name not in FUNCTIONS:
            return f"function {token.lower_name}() is not allowed"
        return _value_problem(token.arguments)
    if kind in ("() block", "[] block"):
        return _value_problem(token.content)
    if kind == "error":
        return f"malformed CSS ({token.message})"
    if kind in ("at-keyword", "{} block"):
        return f"{token.serialize()[:40]!r} is not allowed"
    return None


def _url_problem(url: str) -> str | None:
    if _LOCAL.fullmatch(url):
        return None
    return f"url() must point inside the SVG (#id), not {url[:60]!r}"
