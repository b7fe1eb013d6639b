"""A small tmpfs filled to the last byte: what a full disk does to publishing, for
tests/test_publish_faults.py and bench/chaos.py."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path


class NoTmpfs(Exception):
    """This machine would not mount a tmpfs (mount needs root)."""


@contextlib.contextmanager
def tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (mount's syntax: 8m, or bytes) at the new folder `mount`."""
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NoTmpfs(done.stderr.strip())
    try:
        yield mount
    finally:
        # Lazy: a process still holding a file there must not keep the mount.
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write zeros until the disk refuses; returns the file to delete to free the space."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 16))
        except OSError:
            pass
    return filler
