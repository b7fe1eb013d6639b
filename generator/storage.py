"""The output folder: atomic writes, a staging area, and the manifest written last."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from generator import __version__
from generator.errors import StorageError
from generator.fingerprint import sha256_bytes

MANIFEST = "manifest.json"
STAGING = ".carepress-staging"
TMP_SUFFIX = ".carepress-tmp"


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, flush it to disk, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise


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

    def write_manifest(self, entries: list[ManifestEntry]) -> None:
        body: dict[str, Any] = {
            "generator": f"carepress {__version__}",
            "documents": [asdict(e) for e in sorted(entries, key=lambda e: e.path)],
        }
        data = (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()
        path = self.root / MANIFEST
        if not path.exists() or path.read_bytes() != data:  # a no-op build touches nothing
            atomic_write(path, data)

    def staging_dir(self, name: str) -> Path:
        path = self.root / STAGING / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def publish(self, staged: Path, relative: str) -> None:
        """Move one staged file into place; a rename within one file system is atomic."""
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.replace(target)

    def remove(self, relative: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.root / relative).unlink()

    def clean_leftovers(self) -> int:
        """Remove what a killed build left behind: the staging area and temporary files."""
        count = 0
        staging = self.root / STAGING
        if staging.exists():
            count += sum(1 for p in staging.rglob("*") if p.is_file())
            shutil.rmtree(staging)
        for tmp in self.root.rglob(f"*{TMP_SUFFIX}") if self.root.exists() else []:
            tmp.unlink()
            count += 1
        return count

    def file_matches(self, relative: str, sha256: str) -> bool:
        path = self.root / relative
        return path.is_file() and sha256_bytes(path.read_bytes()) == sha256
