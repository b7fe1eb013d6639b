"""Shared fixtures: a private copy of the content tree and one full build reused by many tests."""

from __future__ import annotations

import fnmatch
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from generator.plan.project import Project, load_project
from generator.publish.build import BuildReport, build
from generator.publish.runners import in_process_runner
from generator.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content"


def make_settings(content: Path, out: Path, **extra: Any) -> Settings:
    return Settings(content_dir=content, out_dir=out, **extra)


def run_build(content: Path, out: Path, force: bool = False) -> BuildReport:
    project = load_project(make_settings(content, out))
    return build(project, out, in_process_runner(project), force=force)


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a fresh process."""
    result = subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"carepress {' '.join(args)} failed:\n{result.stderr}")
    return result


def published_files(out: Path, pattern: str = "*") -> list[Path]:
    """Every published file below an output folder, as a reader reaches it (through the links
    to the current release; Path.rglob does not follow links), carepress's own folders left
    out."""
    found: list[Path] = []
    for current, dirs, files in os.walk(out, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".carepress"))
        found.extend(Path(current) / name for name in sorted(files)
                     if fnmatch.fnmatch(name, pattern) and not name.startswith(".carepress"))
    return sorted(found)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every published file below an output folder with its bytes, as a reader sees them."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in published_files(folder)}


def manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    return data


def pdf_pages(path: Path) -> list[str]:
    """Text of each page, whitespace folded and list bullets dropped (the PDF reads them in
    place, the source has none), so wrapped lines and list items compare like the source."""
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return [" ".join(w for w in (page.extract_text() or "").split() if w != "•")
            for page in reader.pages]


def broken_png() -> bytes:
    """A PNG header that passes validation (size, dimensions) but no decoder accepts
    (bit depth 7), so every render of a document showing it fails."""
    header = struct.pack(">IIBBBBB", 64, 64, 7, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))


def use_logo(content: Path, clinic: str, name: str, data: bytes) -> None:
    import yaml

    (content / "clinics" / "logos" / name).write_bytes(data)
    path = content / "clinics" / f"{clinic}.yaml"
    entry = yaml.safe_load(path.read_text())
    entry["logo"] = f"logos/{name}"
    path.write_text(yaml.safe_dump(entry))


SERVICE_FIXTURES = frozenset({"redis_server"})
"""Fixtures that start a real service: a test that asks for one is slow wherever it is written."""


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A private, editable copy of the demo content tree."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full build of the demo content; treat it as read-only."""
    out = tmp_path_factory.mktemp("built") / "out"
    report = run_build(CONTENT, out)
    assert not report.failed, report.failed
    return out


@pytest.fixture(scope="session")
def project() -> Project:
    return load_project(make_settings(CONTENT, Path("unused")))


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A private redis-server for one test module (its own port and folder)."""
    from tests.services import RedisServer

    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server
