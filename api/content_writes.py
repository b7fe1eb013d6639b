"""Content changes from the API, written only when the gate admits the tree with them; run in
the core process (api.core)."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.content.changes import Change, write_changes
from generator.errors import Problem
from generator.publish import gate
from generator.settings import Settings


@dataclass(frozen=True)
class PublishResult:
    written: tuple[int, ...] = ()
    """Indexes of the changes now in the content tree."""
    rejected: dict[int, list[Problem]] = field(default_factory=dict)
    """Indexes of the changes refused, with what would have been wrong with the tree."""


def publish_changes(settings: Settings, changes: list[Change]) -> PublishResult:
    """Write the changes if the gate admits the tree with them. If not, find the ones at fault
    by trying them one at a time in order; the others are still written."""
    if not gate.problems(settings, changes):
        write_changes(settings.content_dir, changes)
        return PublishResult(tuple(range(len(changes))))
    accepted: list[int] = []
    rejected: dict[int, list[Problem]] = {}
    for index, change in enumerate(changes):
        problems = gate.problems(settings, [changes[i] for i in accepted] + [change])
        if problems:
            rejected[index] = problems
        else:
            accepted.append(index)
    write_changes(settings.content_dir, [changes[i] for i in accepted])
    return PublishResult(tuple(accepted), rejected)
