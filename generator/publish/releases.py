"""Releases: every build publishes a whole new tree and switches to it in one rename.

The output folder holds its published trees in `.carepress-releases/<id>/`, and
`.carepress-current` is a symbolic link naming the one in force. The names a reader uses
(`manifest.json`, `site/`, `clinics/`, …) are links through `.carepress-current`, so replacing
that one link switches every file and the manifest at once: a reader never sees two builds
mixed, and a build killed at any moment leaves the previous release whole (static hosts deploy
the same way). A new release starts as a hard-linked copy of the current one — unchanged files
cost a directory entry, not a copy — and never changes a file in place, so the release a
reader is in keeps its bytes. The release before the current one is kept for readers that
resolved it just before a switch; older ones are removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

from generator.files import atomic_write, is_orphan, owner_tag
from generator.publish import faults
from generator.publish.storage import PARTIAL

RELEASES = ".carepress-releases"
CURRENT = ".carepress-current"
PREVIOUS = ".carepress-previous"
LEGACY = ".carepress-legacy-"
"""Files published by carepress before releases, moved aside while they are replaced by links."""
PUBLISHED_NAMES = ("manifest.json", "consent-versions.json", "consent-versions", "clinics", "site")
"""Top-level names of a release that may exist as plain files in a folder from before releases."""


def current(root: Path) -> Path | None:
    """The release in force, or None before the first one."""
    return _target(root / CURRENT)


def _target(link: Path) -> Path | None:
    return link.parent / link.readlink() if link.is_symlink() else None


class Release:
    """A release being assembled. Nothing a reader sees changes until `commit`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.id = uuid.uuid4().hex[:16]
        self.dir = root / RELEASES / f"{self.id}{PARTIAL}{owner_tag()}"
        base = current(root)
        self._base, self._names = (base, _names(base)) if base else _legacy(root)

    def start(self) -> None:
        """Hard-link the current release (or a pre-release folder's files) into a new one."""
        self.dir.mkdir(parents=True)
        for name in self._names:
            faults.point(f"clone {name}")
            _link_tree(self._base / name, self.dir / name)

    def put(self, source: Path, relative: str) -> None:
        """A rendered file into the release (linked, so its staged copy stays until commit)."""
        target = self.dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        faults.point(f"put {relative}")
        tmp = target.with_name(f".{target.name}{PARTIAL}")
        tmp.unlink(missing_ok=True)
        os.link(source, tmp)
        tmp.replace(target)

    def write(self, relative: str, data: bytes) -> None:
        faults.point(f"write {relative}")
        atomic_write(self.dir / relative, data)

    def remove(self, relative: str) -> None:
        faults.point(f"remove {relative}")
        path = self.dir / relative
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        for parent in path.parents:  # a removed page leaves no empty folder behind
            if parent == self.dir or any(parent.iterdir()):
                break
            parent.rmdir()

    def path(self, relative: str) -> Path:
        return self.dir / relative

    def commit(self) -> None:
        """Switch readers to this release in one rename, then tidy up around it."""
        final = self.dir.with_name(self.id)
        faults.point("seal release")
        self.dir.rename(final)
        self.dir = final
        before = current(self.root)
        for name in _names(final):
            _ensure_link(self.root, name)
        if before is not None and before != final:
            _switch(self.root, PREVIOUS, f"{RELEASES}/{before.name}")
        _switch(self.root, CURRENT, f"{RELEASES}/{self.id}")
        drop_stale_links(self.root)
        collect(self.root)

    def abort(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _legacy(root: Path) -> tuple[Path, list[str]]:
    """An output folder published before releases existed: its files seed the first release."""
    return root, [n for n in PUBLISHED_NAMES
                  if (root / n).exists() and not (root / n).is_symlink()]


def _link_tree(source: Path, target: Path) -> None:
    if source.is_symlink():
        return  # a top-level link of an old layout; the release holds only real files
    if source.is_file():
        os.link(source, target)
        return
    target.mkdir()
    for current_dir, dirs, files in os.walk(source):
        here = target / Path(current_dir).relative_to(source)
        for name in dirs:
            (here / name).mkdir()
        for name in files:
            os.link(Path(current_dir) / name, here / name)


def _switch(root: Path, name: str, destination: str) -> None:
    """Point link `name` at `destination` atomically (a new link renamed over the old)."""
    tmp = root / f".carepress-link-{name}{PARTIAL}{owner_tag()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(destination)
    target = root / name
    if target.is_dir() and not target.is_symlink():  # a copy that followed the links
        target.rename(root / f"{LEGACY}{name}")
    faults.point(f"switch {name}")
    tmp.replace(target)


def _ensure_link(root: Path, name: str) -> None:
    """`root/name` as a link through the current release; a plain file or folder of the same
    name (published before releases) is moved aside first and removed once the link is in."""
    path = root / name
    wanted = f"{CURRENT}/{name}"
    if path.is_symlink():
        if str(path.readlink()) == wanted:
            return
    elif path.exists():
        faults.point(f"retire {name}")
        path.rename(root / f"{LEGACY}{name}")
    _switch(root, name, wanted)
    _remove(root / f"{LEGACY}{name}")


def ensure_links(root: Path) -> None:
    """Repair the top-level links after a crash between a release's switch and its links."""
    release = current(root)
    if release is not None and release.is_dir():
        for name in _names(release):
            _ensure_link(root, name)
        drop_stale_links(root)


def drop_stale_links(root: Path) -> None:
    """Remove top-level links to names the current release no longer has."""
    release = current(root)
    if release is None:
        return
    for path in root.iterdir():
        if path.is_symlink() and str(path.readlink()).startswith(f"{CURRENT}/") and not (
                release / path.name).exists():
            faults.point(f"unlink {path.name}")
            path.unlink()


def collect(root: Path) -> None:
    """Remove releases no reader can be in: all but the current and previous ones, and
    partial ones whose builder died (another host's partial release may still be in use)."""
    keep = {p.name for p in (current(root), _previous(root)) if p is not None}
    folder = root / RELEASES
    if not folder.is_dir():
        return
    for release in folder.iterdir():
        name = release.name
        if name in keep or (PARTIAL in name and not is_orphan(name)):
            continue
        faults.point(f"collect {name}")
        shutil.rmtree(release, ignore_errors=True)
    for leftover in root.glob(f"{LEGACY}*"):
        if (root / leftover.name.removeprefix(LEGACY)).is_symlink():
            _remove(leftover)
    for link in root.glob(f".carepress-*{PARTIAL}*"):  # a switch's new link, never renamed
        if link.is_symlink() and is_orphan(link.name):
            link.unlink()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _previous(root: Path) -> Path | None:
    return _target(root / PREVIOUS)
