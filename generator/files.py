"""Writing a file so that a reader sees the old bytes or the new ones, never half of either.

Every file carepress writes (documents, releases, records, content changes, state) goes through
`atomic_write`. Its temporary files are named after the writing process (`owner_tag`), so the
cleanup after a killed process can tell its leftovers from those of a writer still running.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import tempfile
from pathlib import Path

TMP_SUFFIX = ".carepress-tmp"

_OWNER = re.compile(r"(\d+)@([0-9a-f]{8})")


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def owner_tag() -> str:
    """pid@host of this process, so cleanup can tell a dead writer's leftovers from a live one's."""
    return f"{os.getpid()}@{_host_tag()}"


def is_orphan(name: str) -> bool:
    """True when the owner named in a leftover file name is a process of this host that is gone;
    another host's leftovers are left alone, since only that host knows if it is still writing."""
    match = _OWNER.search(name)
    if match is None or match[2] != _host_tag():
        return False
    try:
        os.kill(int(match[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, flush it to disk, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{owner_tag()}.",
                               suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        if isinstance(exc, OSError):  # a failed write names no file of its own
            exc.filename = exc.filename or str(path)
        raise
