"""Clinic documents by opaque id. The id is an HMAC of (clinic, file path) under a key kept in the
state folder: stable across builds and restarts, meaningless to anyone else, and mapped back to a
manifest entry here, so a client never names a path.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from pathlib import Path

from generator.files import atomic_write
from generator.plan.kinds import CLINIC_KINDS
from generator.publish.storage import MANIFEST, ManifestEntry, OutputStore

KEY_FILE = "document-key"
MEDIA_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def load_key(state_dir: Path) -> bytes:
    path = state_dir / KEY_FILE
    if not path.exists():
        atomic_write(path, secrets.token_bytes(32))  # mkstemp makes it 0600
    return path.read_bytes()


class DocumentIndex:
    def __init__(self, out_dir: Path, key: bytes) -> None:
        self._store = OutputStore(out_dir)
        self._key = key
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._entries: dict[str, ManifestEntry] = {}

    def document_id(self, clinic: str, path: str) -> str:
        return hmac.new(self._key, f"{clinic}\0{path}".encode(), hashlib.sha256).hexdigest()[:32]

    def entry_for(self, clinic: str, document: str, fmt: str) -> ManifestEntry | None:
        """The published file of one of the clinic's documents (by document key id)."""
        for entry in self._manifest().values():
            if entry.clinic == clinic and entry.document == document and entry.format == fmt:
                return entry
        return None

    def find(self, clinic: str, document_id: str) -> ManifestEntry | None:
        """Only the clinic's own documents are searched: another clinic's id is not found."""
        found = None
        wanted = document_id.encode()  # bytes: compare_digest refuses non-ASCII text
        for entry in self._manifest().values():
            if entry.clinic == clinic and entry.kind in CLINIC_KINDS and hmac.compare_digest(
                    self.document_id(clinic, entry.path).encode(), wanted):
                found = entry
        return found

    def read(self, entry: ManifestEntry) -> bytes | None:
        """The file's bytes if they are the ones the manifest names (a build may have replaced
        the file since the manifest was read; the caller then looks again)."""
        try:
            data = (self._store.root / entry.path).read_bytes()
        except FileNotFoundError:
            return None
        return data if hashlib.sha256(data).hexdigest() == entry.sha256 else None

    def _manifest(self) -> dict[str, ManifestEntry]:
        with self._lock:
            try:
                info = (self._store.root / MANIFEST).stat()
                seen: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
            except FileNotFoundError:
                seen = None
            if seen != self._seen:
                self._entries = self._store.read_manifest()
                self._seen = seen
            return self._entries
