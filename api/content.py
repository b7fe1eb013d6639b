"""The API's view of the content tree: loaded once, kept in step with what the pipeline writes.

Answering a webhook must not re-read the tree (parsing every YAML file takes tens of
milliseconds and grows with the content), so the accept path works on this cached view: it
checks the entry against the schema, tells whether it changes anything, and counts the
documents that depend on it. The whole-tree validation happens in the pipeline before anything
is written. A file edited by hand is noticed by its modification time and the view reloaded.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from generator.content.changes import Change, last_per_entry
from generator.content.kinds import CONTENT_KINDS, FOLDERS, KINDS
from generator.content.loading import load_content
from generator.content.logos import logo_problem
from generator.content.translations import localize
from generator.content.tree import ContentTree, EntryRef
from generator.errors import ContentError, Problem
from generator.i18n import SOURCE_LANGUAGE
from generator.plan.documents import DocumentSpec, plan_documents
from generator.plan.graph import Impact, change_impact
from generator.publish import governance
from generator.settings import Settings

Stamp = tuple[tuple[str, int, int], ...]
STAMP_INTERVAL = 1.0


def stamp(root: Path) -> Stamp:
    """Name, size and modification time of every file of the tree: cheap to take, and it
    changes whenever a file is written, added or removed."""
    found = []
    for folder in FOLDERS.values():
        for current, _dirs, files in os.walk(root / folder):
            for name in files:
                info = (Path(current) / name).stat()
                found.append((f"{current}/{name}", info.st_size, info.st_mtime_ns))
    return tuple(sorted(found))


def entry_problems(kind: str, entry_id: str, data: dict[str, Any]) -> list[Problem]:
    """The entry's own schema errors, named like `validate` names them."""
    shown = f"{FOLDERS[kind]}/{entry_id}.yaml"
    try:
        KINDS[kind].model_validate(data)
    except ValidationError as exc:
        return [_problem(shown, error) for error in exc.errors()]
    return []


def _problem(shown: str, error: Any) -> Problem:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "required field is missing"
    elif error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling)"
    return Problem(shown, ".".join(str(p) for p in error["loc"]), message)


class ChangeRefused(ContentError):
    """The change can be seen to be unpublishable at once (answered 422, nothing recorded)."""


def _shown(change: Change) -> str:
    """The entry's file as problems name it (`validate` names it the same way)."""
    return f"{FOLDERS[change.kind]}/{change.id}.yaml"


class ContentView:
    """The published tree, and the tree expected once every accepted change is published.

    Changes are whole-entry replacements or deletions, so applying one twice is harmless;
    that keeps the bookkeeping simple when the tree is reloaded from disk."""

    def __init__(self, settings: Settings) -> None:
        self._root = settings.content_dir
        self._out = settings.out_dir
        self._languages = settings.language_codes
        self._lock = threading.Lock()
        self._published: ContentTree | None = None
        self._expected: ContentTree | None = None
        self._pending: list[tuple[str, Change]] = []
        self._stamp: Stamp = ()
        self._writing = False
        self._overlays = Overlays()
        self._checked = 0.0
        self._planned: tuple[ContentTree, list[DocumentSpec]] | None = None

    def tree(self) -> ContentTree:
        """The published tree; raises ContentError if the files on disk are invalid."""
        with self._lock:
            return self._load()[0]

    def accept(self, batch: str, change: Change) -> Impact | None:
        """Record an accepted change; None if it would change nothing (compared with what
        the tree will be once the changes accepted before it are published). Raises
        ChangeRefused, recording nothing, when the gate would refuse it for sure."""
        with self._lock:
            old = self._load()[1]
            new = apply_change(old, change, self._overlays)
            if _entry(old, change.kind, change.id) == _entry(new, change.kind, change.id):
                return None
            refusals = governance.problems(new, governance.read_record(self._out),
                                           only=EntryRef(change.kind, change.id))
            if refusals:
                raise ChangeRefused(refusals)
            try:
                impact = change_impact(old, new, change.kind, change.id, self._plan)
            except Exception as exc:  # refused here, not left pending to fail every build
                raise ChangeRefused([Problem(_shown(change), "", "cannot be planned "
                                             f"({type(exc).__name__}: {exc})")]) from exc
            self._expected = new
            self._pending.append((batch, change))
        return impact

    def _plan(self, tree: ContentTree) -> list[DocumentSpec]:
        """The tree's plan, remembered for the last tree planned: a change's tree after is the
        next change's tree before, so each webhook plans once, not twice (a millisecond of
        CPU on the event loop). Trees are never changed in place (apply_change copies)."""
        if self._planned is None or self._planned[0] is not tree:
            self._planned = (tree, plan_documents(tree))
        return self._planned[1]

    def writing(self) -> None:
        """The pipeline is about to write: its own writes are not edits by hand."""
        with self._lock:
            self._writing = True

    def settled(self, written: list[tuple[str, Change]], rejected: set[str]) -> None:
        """The pipeline wrote these changes and refused the batches in `rejected`."""
        with self._lock:
            published, _expected = self._load()
            for change in last_per_entry([change for _batch, change in written]):
                published = apply_change(published, change, self._overlays)
            done = {batch for batch, _change in written} | rejected
            self._pending = [(b, c) for b, c in self._pending if b not in done]
            self._published = published
            if rejected:
                self._expected = self._replay(published)
            self._stamp, self._writing = stamp(self._root), False

    def _load(self) -> tuple[ContentTree, ContentTree]:
        if self._published is None or (not self._writing and self._edited()):
            seen = stamp(self._root)
            self._published = load_content(self._root, self._languages)  # may raise: retried
            self._stamp, self._expected = seen, self._replay(self._published)
        assert self._expected is not None
        return self._published, self._expected

    def _edited(self) -> bool:
        """Whether a file changed on disk; looked at once a second at most, so a burst of
        webhooks does not walk the tree for each one."""
        now = time.monotonic()
        if now - self._checked < STAMP_INTERVAL:
            return False
        self._checked = now
        return stamp(self._root) != self._stamp

    def _replay(self, tree: ContentTree) -> ContentTree:
        for change in last_per_entry([change for _batch, change in self._pending]):
            tree = apply_change(tree, change, self._overlays)
        return tree


def _entry(tree: ContentTree, kind: str, entry_id: str) -> BaseModel | None:
    return _entries(tree)[kind].get(entry_id)


def _entries(tree: ContentTree) -> dict[str, dict[str, Any]]:
    return {kind.name: dict(tree.entries(kind.name)) for kind in CONTENT_KINDS}


class Overlays:
    """Parsed translation overlays, re-read only when their file changes."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[int, dict[str, Any] | None]] = {}

    def data(self, path: Path | None) -> dict[str, Any] | None:
        if path is None or not path.exists():
            return None
        mtime = path.stat().st_mtime_ns
        cached = self._cache.get(path)
        if cached is None or cached[0] != mtime:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
            cached = (mtime, loaded if isinstance(loaded, dict) else None)
            self._cache[path] = cached
        return cached[1]


def apply_change(tree: ContentTree, change: Change, overlays: Overlays) -> ContentTree:
    """The tree with one entry replaced or removed (and its translations redone), without
    checking references: the pipeline's full validation does that."""
    entries = _entries(tree)
    files = dict(tree.files)
    translated = {k: v for k, v in tree.translated.items() if k[:2] != (change.kind, change.id)}
    ref = EntryRef(change.kind, change.id)
    if change.data is None:
        entries[change.kind].pop(change.id, None)
        files.pop(ref, None)
    else:
        model = KINDS[change.kind].model_validate(change.data)
        entries[change.kind][change.id] = model
        files[ref] = tree.root / FOLDERS[change.kind] / f"{change.id}.yaml"
        if change.kind == "clinic":  # the plan names a clinic's logo file by its suffix
            files[EntryRef("logo", change.id)] = tree.root / FOLDERS["clinic"] / str(
                model.logo)  # type: ignore[attr-defined]
        translated.update(_translations(tree, change, model, overlays))
    # ContentTree holds each kind's entries under the kind's folder name
    changed: dict[str, Any] = {kind.folder: entries[kind.name] for kind in CONTENT_KINDS}
    return dataclasses.replace(tree, files=files, translated=translated, **changed)


def _translations(tree: ContentTree, change: Change, model: BaseModel,
                  overlays: Overlays) -> dict[tuple[str, str, str], BaseModel]:
    """The entry in each other language, as load_content builds it (for counting the
    documents that depend on a change; the pipeline checks the translations for real)."""
    found = {}
    for lang in tree.languages:
        overlay = tree.files.get(EntryRef(change.kind, change.id, lang=lang))
        if lang == SOURCE_LANGUAGE:
            continue
        merged, _missing, _wrong = localize(change.kind, model.model_dump(), overlays.data(overlay))
        try:
            found[(change.kind, change.id, lang)] = KINDS[change.kind].model_validate(merged)
        except ValidationError:
            continue
    return found


def check_entry(change: Change, root: Path | None = None) -> None:
    """Raise ContentError with the field errors of the entry itself (answered 422), and, given
    the content root, the problem of the logo file a clinic names."""
    if change.data is not None:
        problems = entry_problems(change.kind, change.id, change.data)
        if not problems and root is not None and change.kind == "clinic":
            problems = _logo_problems(root, change.id, str(change.data["logo"]))
        if problems:
            raise ContentError(problems)


def _logo_problems(root: Path, clinic_id: str, logo: str) -> list[Problem]:
    folder = (root / FOLDERS["clinic"]).resolve()
    problem = logo_problem((folder / logo).resolve(), folder)
    if problem is None:
        return []
    return [Problem(f"{FOLDERS['clinic']}/{clinic_id}.yaml", "logo", f"{logo}: {problem}")]
