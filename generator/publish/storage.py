"""The output folder: a staging area, and the manifest written last."""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from generator import __version__
from generator.errors import StorageError
from generator.files import TMP_SUFFIX, is_orphan, owner_tag
from generator.plan.fingerprints import sha256_bytes
from generator.publish import faults

MANIFEST = "manifest.json"
STAGING = ".carepress-staging"
DONE = "done.json"
PARTIAL = ".partial-"


def io_message(exc: OSError) -> str:
    """One line naming the path, e.g. `out/.carepress-staging/…: No space left on device`."""
    where = exc.filename if exc.filename is not None else "output folder"
    return f"{where}: {exc.strerror or exc}"


def manifest_bytes(entries: list[ManifestEntry]) -> bytes:
    body: dict[str, Any] = {
        "generator": f"carepress {__version__}",
        "documents": [asdict(e) for e in sorted(entries, key=lambda e: e.path)],
    }
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    kind: str
    format: str
    clinic: str | None
    therapy: str | None
    location: str | None
    lang: str | None
    sha256: str
    inputs: str
    version: str | None
    document: str


class OutputStore:
    """An output folder. Files are staged, then renamed into place; the manifest goes last."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read_manifest(self) -> dict[str, ManifestEntry]:
        path = self.root / MANIFEST
        if not path.exists():
            return {}
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return {e["path"]: ManifestEntry(**e) for e in raw["documents"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(
                f"{path}: unreadable manifest ({exc}); delete it to rebuild") from exc

    def published_bytes(self, relative: str) -> bytes | None:
        path = self.root / relative
        return path.read_bytes() if path.is_file() else None

    # --- staging: rendered files wait here, one folder per inputs hash, until published ---

    def staged_path(self, inputs: str, path: str) -> str:
        return f"{STAGING}/{inputs}/{path}"

    def finished(self, inputs: str) -> list[ManifestEntry] | None:
        """The entries of an earlier, complete render of these inputs, if its files are intact."""
        marker = self.root / STAGING / inputs / DONE
        try:
            entries = [ManifestEntry(**e) for e in json.loads(marker.read_text(encoding="utf-8"))]
        except (OSError, ValueError, TypeError):
            return None
        intact = all(self.file_matches(self.staged_path(inputs, e.path), e.sha256)
                     for e in entries)
        return entries if intact else None

    def stage(self, inputs: str, files: list[tuple[str, bytes]],
              entries: list[ManifestEntry]) -> None:
        """Write a render into a private folder, then rename it into place in one step, so a
        killed worker leaves a partial folder that no one mistakes for a finished render."""
        final = self.root / STAGING / inputs
        partial = final.with_name(f"{inputs}{PARTIAL}{uuid.uuid4().hex[:8]}-{owner_tag()}")
        try:
            for path, data in files:
                target = partial / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            (partial / DONE).write_text(json.dumps([asdict(e) for e in entries]),
                                        encoding="utf-8")
        except OSError as exc:  # a full disk: free what was written, the caller reports it
            shutil.rmtree(partial, ignore_errors=True)
            exc.filename = exc.filename or str(partial)
            raise
        try:
            partial.rename(final)
        except OSError:  # a duplicate job finished first; its files are the same bytes
            shutil.rmtree(partial, ignore_errors=True)

    def prune_staged(self, keep: set[str]) -> None:
        """Drop staged renders not in `keep`, and partial folders of processes that died."""
        staging = self.root / STAGING
        if not staging.is_dir():
            return
        for folder in staging.iterdir():
            name = folder.name
            if PARTIAL in name:
                if is_orphan(name):
                    shutil.rmtree(folder, ignore_errors=True)
            elif name not in keep:
                faults.point(f"prune {name}")
                shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            staging.rmdir()  # only when empty

    def clean_leftovers(self, keep: set[str] | frozenset[str] = frozenset()) -> None:
        """Remove what killed processes left: partial renders and temporary files."""
        self.prune_staged(keep={p.name for p in self._finished_dirs()} | set(keep))
        for tmp in self.root.rglob(f"*{TMP_SUFFIX}") if self.root.exists() else []:
            if is_orphan(tmp.name):
                tmp.unlink(missing_ok=True)

    def _finished_dirs(self) -> list[Path]:
        staging = self.root / STAGING
        return [p for p in staging.iterdir() if PARTIAL not in p.name] if staging.is_dir() else []

    def file_matches(self, relative: str, sha256: str) -> bool:
        path = self.root / relative
        return path.is_file() and sha256_bytes(path.read_bytes()) == sha256
