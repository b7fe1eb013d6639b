"""The one gate: may this content tree, or this tree with these changes, be published?

Every entry point asks here — `validate`, `build`, the CMS webhooks and the clinic API — so
"publishable" means one thing: the tree loads exactly as a build loads it (schema, references,
logos, translations, templates, the plan) and its consent and protocol wording agrees with
what is already published. A change the gate refuses is never written, so one bad edit cannot
wedge the builds after it.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from generator.content.changes import Change, write_changes
from generator.errors import CarepressError, ContentError, Problem
from generator.plan.project import Project, load_project
from generator.publish import governance
from generator.settings import Settings

log = logging.getLogger("carepress.gate")


def admit(settings: Settings) -> Project:
    """The project, loaded and planned, if its tree may be published into settings.out_dir;
    raises ContentError listing every problem otherwise."""
    project = load_project(settings)
    found = governance.problems(project.tree, governance.read_record(settings.out_dir))
    if found:
        raise ContentError(found)
    return project


def problems(settings: Settings, changes: Sequence[Change] = ()) -> list[Problem]:
    """Every reason the tree (with `changes` applied) may not be published; [] if it may.
    Never raises: an unexpected failure while checking refuses the tree, with its reason."""
    try:
        if not changes:
            admit(settings)
            return []
        with candidate(settings.content_dir, changes) as root:
            admit(settings.model_copy(update={"content_dir": root}))
    except ContentError as exc:
        return exc.problems
    except CarepressError as exc:
        return [Problem(settings.content_dir.name, "", str(exc))]
    except Exception as exc:  # a bug here must refuse the change, never wedge publication
        log.exception("the publication check failed")
        return [Problem(settings.content_dir.name, "", "could not be checked "
                        f"({type(exc).__name__}: {exc}); nothing was written")]
    return []


@contextmanager
def candidate(root: Path, changes: Sequence[Change]) -> Iterator[Path]:
    """A scratch copy of the tree with the changes written into it."""
    with tempfile.TemporaryDirectory(prefix="carepress-candidate-") as scratch:
        # Same folder name, so problems name files as `validate` does (content/clinics/x.yaml).
        copy = Path(scratch) / root.resolve().name
        shutil.copytree(root, copy)
        write_changes(copy, list(changes), durable=False)
        yield copy
