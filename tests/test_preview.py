"""The preview rebuild without a server: what it renders, where, and what it reports."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from generator.errors import StorageError
from generator.publish.preview import Preview, check_folder
from tests.conftest import make_settings

PAGE = "site/en/ketamine/orland-park/index.html"


def no_pdfs() -> bool:
    """Stand-in for 'another change is waiting': stops a rebuild before its PDFs."""
    return True


@pytest.fixture
def preview(content: Path, tmp_path: Path) -> Preview:
    return Preview(make_settings(content, tmp_path / "out"), tmp_path / "preview")


def test_the_preview_never_writes_into_the_published_output(content, tmp_path):
    out = tmp_path / "out"
    for folder in (out, out / "preview", tmp_path):
        with pytest.raises(StorageError, match="folder of its own"):
            check_folder(folder, out)
        with pytest.raises(StorageError):
            Preview(make_settings(content, out), folder)
    check_folder(tmp_path / "preview", out)


def test_html_first_then_only_what_changed(preview, content, tmp_path):
    state = preview.rebuild(no_pdfs)
    assert not state.problems and state.pending_pdfs > 0
    folder = preview.folder
    assert (folder / PAGE).is_file()
    assert sorted(p.suffix for p in folder.rglob("handout.*")) == [".html"] * len(
        list(folder.rglob("handout.html")))
    assert not list(folder.rglob("*.pdf")), "PDFs wait for their turn"
    assert not (tmp_path / "out").exists()

    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*.html")}
    source = content / "locations" / "orland-park.yaml"
    source.write_text(source.read_text().replace("summary: |\n", "summary: |\n  Changed.\n", 1))
    started = time.monotonic()
    state = preview.rebuild(no_pdfs)
    took = time.monotonic() - started
    assert "Changed." in (folder / PAGE).read_text()
    changed = {p.relative_to(folder).as_posix() for p, t in before.items()
               if p.stat().st_mtime_ns != t}
    # The city's pages and the state page that lists it; no clinic document.
    assert PAGE in changed and not any(p.startswith("clinics/") for p in changed), changed
    assert took < 1.0, f"an HTML rebuild took {took:.2f} s"


def test_a_content_error_is_reported_with_file_and_line_then_cleared(preview, content):
    first = preview.rebuild(no_pdfs)
    source = content / "clinics" / "prairie-mind.yaml"
    good = source.read_text()
    source.write_text(good.replace('closes: "18:00"', 'closes: "07:00"', 1))
    broken = preview.rebuild(no_pdfs)
    assert broken.version > first.version
    assert len(broken.problems) == 1
    assert broken.problems[0].startswith("content/clinics/prairie-mind.yaml:"), broken.problems
    assert "hours.0" in broken.problems[0]
    source.write_text(good)
    fixed = preview.rebuild(no_pdfs)
    assert fixed.problems == () and fixed.version > broken.version


@pytest.mark.slow
def test_pdfs_are_rendered_when_nothing_else_waits(preview):
    preview.rebuild(no_pdfs)
    version = preview.state.version
    state = preview.rebuild()
    assert state.pending_pdfs == 0 and not state.failed
    assert list(preview.folder.rglob("handout.pdf"))
    assert state.version == version, "finished PDFs alone do not reload open pages"
