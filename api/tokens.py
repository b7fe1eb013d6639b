"""Clinic bearer tokens. Only their SHA-256 is stored (state_dir/tokens.json); the token itself
is shown once, when it is created.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.files import atomic_write

TOKENS = "tokens.json"
PREFIX = "cpk_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@contextmanager
def _locked(state_dir: Path) -> Iterator[dict[str, list[str]]]:
    """Read-modify-write of the token file, one writer at a time (two CLI calls may race)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / ".tokens.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        hashes = _read(state_dir)
        yield hashes
        atomic_write(state_dir / TOKENS, (json.dumps({"clinics": hashes}, indent=2,
                                                     sort_keys=True) + "\n").encode())


def _read(state_dir: Path) -> dict[str, list[str]]:
    path = state_dir / TOKENS
    if not path.exists():
        return {}
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))["clinics"]
    return data


def create_token(state_dir: Path, clinic: str) -> str:
    """A new token for the clinic; its earlier tokens stay valid until revoked."""
    token = PREFIX + secrets.token_urlsafe(32)
    with _locked(state_dir) as hashes:
        hashes.setdefault(clinic, []).append(_digest(token))
    return token


def revoke_tokens(state_dir: Path, clinic: str) -> int:
    """Revoke every token of the clinic; returns how many there were."""
    with _locked(state_dir) as hashes:
        return len(hashes.pop(clinic, []))


class TokenVerifier:
    """Maps a presented token to its clinic. Re-reads the file when it changes, so a token
    revoked with the CLI stops working without a restart."""

    def __init__(self, state_dir: Path) -> None:
        self._path = state_dir / TOKENS
        self._seen: tuple[int, int] | None = None
        self._hashes: list[tuple[bytes, str]] = []

    def clinic_for(self, token: str) -> str | None:
        self._refresh()
        presented = _digest(token).encode()
        found = None
        for digest, clinic in self._hashes:  # no early exit: the time does not tell which
            if hmac.compare_digest(digest, presented):
                found = clinic
        return found

    def _refresh(self) -> None:
        try:
            info = self._path.stat()
        except FileNotFoundError:
            self._seen, self._hashes = None, []
            return
        if (info.st_mtime_ns, info.st_size) != self._seen:
            hashes = _read(self._path.parent)
            self._hashes = [(d.encode(), c) for c, ds in hashes.items() for d in ds]
            self._seen = (info.st_mtime_ns, info.st_size)
