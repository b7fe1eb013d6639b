"""JSON request bodies, parsed with a bound on nesting.

Python's json parser recurses once per level and raises RecursionError near the interpreter's
limit (a 500 if uncaught), and every later step that walks the payload (CMS link resolution,
pydantic, YAML) recurses too. No payload we accept comes near MAX_DEPTH levels, so a deeper
body is refused before it is parsed, with the same 422 as any other bad body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

MAX_DEPTH = 32
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_ONE_KIND = str.maketrans("{}", "[]")
_OPENERS = re.compile(rf"\[{{{MAX_DEPTH + 1}}}")


class BodyError(ValueError):
    """The body is not JSON we parse; the message says why (answered 422)."""


def parse_json(body: bytes) -> Any:
    """The parsed body; raises BodyError for bad UTF-8, bad JSON or nesting over MAX_DEPTH."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"malformed JSON: not UTF-8 text (byte {exc.start})") from exc
    if _deeper_than_limit(text):
        raise BodyError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BodyError(f"malformed JSON: {exc}") from exc
    except RecursionError as exc:  # not expected after the scan; never a 500
        raise BodyError(f"JSON nested deeper than {MAX_DEPTH} levels") from exc


def _deeper_than_limit(text: str) -> bool:
    """Whether any array or object nests more than MAX_DEPTH levels, found without a Python
    loop per character (that costs ~50 ms a megabyte): strings are dropped, brackets kept
    (as one kind: depth does not depend on it), then innermost pairs removed once per level."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_ONE_KIND)
    for _level in range(MAX_DEPTH):
        if not brackets or _OPENERS.search(brackets):
            return bool(brackets)
        reduced = brackets.replace("[]", "")
        if reduced == brackets:
            return False  # unbalanced: the parser names the error
        brackets = reduced
    return "[]" in brackets


class _BoundedJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_bounded_json"):
            try:
                self._bounded_json = parse_json(await self.body())
            except BodyError as exc:
                # FastAPI answers a JSONDecodeError with a RequestValidationError (our 422),
                # and anything else with a bare 400.
                raise json.JSONDecodeError(str(exc), "", 0) from exc
        return self._bounded_json


class BoundedJSONRoute(APIRoute):
    """A route whose JSON body is parsed by parse_json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            return await handler(_BoundedJSONRequest(request.scope, request.receive))

        return bounded
