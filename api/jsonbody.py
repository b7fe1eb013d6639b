"""JSON request bodies, parsed with a bound on nesting.

Python's json parser recurses once per level and raises RecursionError near the interpreter's
limit (a 500 if uncaught), and every later step that walks the payload (CMS link resolution,
pydantic, YAML) recurses too. No payload we accept comes near MAX_DEPTH levels, so a deeper
body is refused with the same 422 as any other bad body: while parsing when it is deeper than
the parser can go, and right after parsing, before anything else walks it, otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

MAX_DEPTH = 32
TOO_DEEP = f"JSON nested deeper than {MAX_DEPTH} levels"


class BodyError(ValueError):
    """The body is not JSON we parse; the message says why (answered 422)."""


def parse_json(body: bytes) -> Any:
    """The parsed body; raises BodyError for bad UTF-8, bad JSON or nesting over MAX_DEPTH."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"malformed JSON: not UTF-8 text (byte {exc.start})") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BodyError(f"malformed JSON: {exc}") from exc
    except RecursionError as exc:  # the C parser stops cleanly at the interpreter's limit
        raise BodyError(TOO_DEEP) from exc
    if _deeper_than(value, MAX_DEPTH):
        raise BodyError(TOO_DEEP)
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels (a loop, not a recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return False


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
