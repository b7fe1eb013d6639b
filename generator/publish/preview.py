"""The pure part of `carepress preview`: keep a private copy of the site current as content and
templates change, HTML first and PDFs after, and say what is wrong when the content is invalid.

No HTTP and no file watching here (cli/preview.py does both); this renders into its own folder,
never into the published output, and keeps no manifest: it compares inputs hashes in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.errors import CarepressError, ContentError, StorageError
from generator.files import atomic_write
from generator.plan.documents import DocumentSpec
from generator.plan.kinds import CLINIC_KINDS
from generator.plan.project import Project, load_project
from generator.render.contexts import clinic_document_context
from generator.render.documents import DocumentRenderer
from generator.render.pdf import PdfRenderer
from generator.settings import Settings
from generator.templating import render_template


@dataclass(frozen=True)
class PreviewState:
    """What the preview shows now: `version` grows with every change an open page must see."""

    version: int = 0
    """Grows when what a page shows changes (HTML files, problems); not for each PDF."""
    problems: tuple[str, ...] = ()
    """Why the last rebuild could not run (content or template errors), one line each; while
    there are any, every page shows them instead of its stale self."""
    failed: dict[str, str] = field(default_factory=dict)
    """Documents that failed to render, with the reason."""
    pending_pdfs: int = 0


def check_folder(preview_dir: Path, published: Path) -> None:
    """The preview never writes into (or around) the published output."""
    own, out = preview_dir.resolve(), published.resolve()
    if own == out or own.is_relative_to(out) or out.is_relative_to(own):
        raise StorageError(f"{preview_dir}: the preview needs a folder of its own, apart from "
                           f"the published output {published}")


class Preview:
    """Renders what changed since the last rebuild. Thread-safe: one rebuild at a time."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        check_folder(folder, settings.out_dir)
        self.settings = settings
        self.folder = folder
        self._rendered: dict[str, str] = {}
        """Document id → inputs hash of the files written for it."""
        self._web: dict[str, str] = {}
        """Clinic document id → inputs hash its HTML files were written for (PDF maybe not)."""
        self._files: dict[str, tuple[str, ...]] = {}
        self._pdf: PdfRenderer | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self.state = PreviewState()

    # --- what a server waits on ----------------------------------------------------------

    def wait_for_change(self, seen: int, timeout: float) -> PreviewState:
        """The state once its version is past `seen`, or after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.state.version > seen, timeout)
            return self.state

    def _publish(self, bump: bool = True, **changes: Any) -> None:
        with self._changed:
            self.state = replace(self.state, version=self.state.version + bump, **changes)
            self._changed.notify_all()

    # --- rebuilding ----------------------------------------------------------------------

    def rebuild(self, interrupted: Callable[[], bool] = lambda: False) -> PreviewState:
        """Load the tree again and render what changed: first every HTML file (pages, and the
        web version of handouts and consent forms), then the PDFs one by one, stopping early
        when `interrupted()` says another change is waiting."""
        with self._lock:
            try:
                project = load_project(self.settings)
            except ContentError as exc:
                self._publish(problems=tuple(str(p) for p in exc.problems))
                return self.state
            except CarepressError as exc:
                self._publish(problems=(str(exc),))
                return self.state
            renderer = DocumentRenderer(project, self._pdf)
            stale = [s for s in project.specs
                     if self._rendered.get(s.key.id) != project.hashes[s.key.id]]
            failed = {k: v for k, v in self.state.failed.items()
                      if self._rendered.get(k) == project.hashes.get(k)}
            self._remove_unplanned(project)
            quick = [s for s in stale if s.key.kind not in CLINIC_KINDS]
            slow = [s for s in stale if s.key.kind in CLINIC_KINDS]
            for spec in quick:
                self._render(renderer, spec, failed)
            web = [s for s in slow if self._web.get(s.key.id) != project.hashes[s.key.id]]
            for spec in web:
                self._web_version(project, spec, failed)
            changed = bool(quick) or bool(web) or bool(self.state.problems)
            if changed:
                self._publish(problems=(), failed=dict(failed), pending_pdfs=len(slow))
            for done, spec in enumerate(slow, start=1):
                if interrupted():
                    break
                self._render(renderer, spec, failed)
                self._publish(False, failed=dict(failed), pending_pdfs=len(slow) - done)
            self._pdf = renderer._pdf  # WeasyPrint kept warm for the next rebuild
            return self.state

    def _render(self, renderer: DocumentRenderer, spec: DocumentSpec,
                failed: dict[str, str]) -> None:
        key = spec.key.id
        try:
            artifacts = renderer.render(spec)
        except CarepressError as exc:
            failed[key] = str(exc)
            self._rendered[key] = renderer.project.hashes[key]
            return
        for artifact in artifacts:
            atomic_write(self.folder / artifact.path, artifact.data)
        failed.pop(key, None)
        self._rendered[key] = renderer.project.hashes[key]
        self._files[key] = tuple(a.path for a in artifacts)

    def _web_version(self, project: Project, spec: DocumentSpec,
                     failed: dict[str, str]) -> None:
        """A clinic document's HTML files now, so no one waits for its PDF to read it."""
        env = project.envs[spec.key.lang]
        site_url = project.settings.base_url
        try:
            for output in spec.outputs:
                if output.format == "html":
                    context = clinic_document_context(project.tree, spec.key, output.path,
                                                      False, site_url)
                    text = render_template(env, spec.template or "", context)
                    atomic_write(self.folder / output.path, text.encode())
        except CarepressError as exc:
            failed[spec.key.id] = str(exc)
        self._web[spec.key.id] = project.hashes[spec.key.id]
        self._files.setdefault(spec.key.id, tuple(o.path for o in spec.outputs
                                                  if o.format == "html"))

    def _remove_unplanned(self, project: Project) -> None:
        planned = {s.key.id for s in project.specs}
        for key in [k for k in self._files if k not in planned]:
            for path in self._files.pop(key):
                (self.folder / path).unlink(missing_ok=True)
            self._rendered.pop(key, None)
            self._web.pop(key, None)
