"""Deny-by-default resource policy: WeasyPrint may read bundled assets and logos, nothing else."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from generator.errors import FetchError


def resolve_allowed(url: str, roots: tuple[Path, ...]) -> Path:
    """Map a file:// URL to a file inside one of the allowed roots, or refuse.

    No network scheme, no data: URL, and no file outside the roots (symlinks and '..' are
    resolved first), so neither content nor a CMS can make a render read /etc/passwd or
    reach an internal service.
    """
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise FetchError(f"resource not allowed: {_short(url)}")
    path = Path(unquote(parts.path)).resolve()
    if not any(path.is_relative_to(root) for root in roots):
        raise FetchError(f"resource outside the allowed folders: {_short(url)}")
    if not path.is_file():
        raise FetchError(f"resource not found: {_short(url)}")
    return path


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."
