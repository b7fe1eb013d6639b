"""The one rule for entry ids (file names, references, webhook ids, API parameters).

An id becomes a file name (`clinics/<id>.yaml`), a URL segment and a document key, so it must
be short, lowercase and free of anything a file system or URL treats specially. Every check
uses `fullmatch`: a pattern ending in `$` also matches before a trailing newline.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

ID_MAX_LENGTH = 80
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
"""For the JSON schema only; the check below is what decides."""
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ID_RULE = "must be lowercase words joined by '-', e.g. north-side"


def id_problem(value: object) -> str | None:
    """Why `value` is not an entry id, or None if it is one."""
    if not isinstance(value, str):
        return ID_RULE
    if len(value) > ID_MAX_LENGTH:
        return f"must be at most {ID_MAX_LENGTH} characters (got {len(value)})"
    if not _ID.fullmatch(value):
        return ID_RULE
    return None


def printable(text: str) -> str:
    """The text with control characters escaped, so a refused name stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def check_id(value: str) -> str:
    """A pydantic validator: raises ValueError with the rule."""
    problem = id_problem(value)
    if problem:
        raise ValueError(problem)
    return value


EntryId = Annotated[str, AfterValidator(check_id),
                    Field(json_schema_extra={"pattern": ID_PATTERN, "maxLength": ID_MAX_LENGTH})]
"""An entry id as a pydantic field type (used by the content schema and the API models)."""
