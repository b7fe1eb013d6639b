"""Content changes from outside (CMS webhooks): one entry replaced or deleted, and writing it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.content.kinds import FOLDERS
from generator.files import atomic_write

HEADER = "# Written by carepress from a CMS webhook: edit this entry in the CMS.\n"


@dataclass(frozen=True)
class Change:
    kind: str
    id: str
    data: dict[str, Any] | None
    """The entry's fields as in its content file; None deletes the entry."""
    cms_id: str = ""
    """The CMS's own id of the entry, remembered so that an unpublish (which may carry only
    that id) finds the entry again."""


def last_per_entry(changes: list[Change]) -> list[Change]:
    """Each change replaces or removes a whole entry: only the last one per entry counts."""
    return list({(c.kind, c.id): c for c in changes}.values())


def write_changes(root: Path, changes: list[Change], durable: bool = True) -> None:
    """Write the changes into the content tree at `root` (atomically per file if durable)."""
    for change in last_per_entry(changes):
        path = root / FOLDERS[change.kind] / f"{change.id}.yaml"
        if change.data is None:
            path.unlink(missing_ok=True)
            # A deleted entry's translations would otherwise be orphans (an invalid tree).
            for overlay in path.parent.glob(f"{change.id}.*.yaml"):
                overlay.unlink(missing_ok=True)
            continue
        text = HEADER + yaml.safe_dump(change.data, sort_keys=False, allow_unicode=True,
                                       width=100)
        if durable:
            atomic_write(path, text.encode())
        else:
            path.write_text(text, encoding="utf-8")
