"""Crash-safe publishing, tried from the outside: real `carepress build` processes killed after
exactly k publishing steps (for every k) and at random moments, and a full disk.

After each kill the folder must show one whole release — the old one or the new one, never a
mix — with a manifest that matches its files, and the next build must end with the bytes of a
clean build.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, manifest, published_files, snapshot
from tests.disk import NoTmpfs, fill, tmpfs

STAGING = ".carepress-staging"
pytestmark = pytest.mark.slow


def carepress_build(content: Path, out: Path, kill_at: int = 0,
                    **popen: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAREPRESS_FAULT_KILL_AT": str(kill_at)}
    return subprocess.run([sys.executable, "-m", "cli.main", "build", "--content", str(content),
                           "--out", str(out), "--quiet"], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=300, check=False)


def change_content(content: Path) -> None:
    """Real edits: one clinic's colour (its handouts and consent forms, HTML and PDF, both
    languages) and one clinic leaving a city (that city's page is removed)."""
    path = content / "clinics" / "prairie-mind.yaml"
    clinic = yaml.safe_load(path.read_text())
    clinic["colors"]["primary"] = "#224466"
    path.write_text(yaml.safe_dump(clinic, sort_keys=False, allow_unicode=True))
    path = content / "clinics" / "riverwalk-wellness.yaml"
    clinic = yaml.safe_load(path.read_text())
    clinic["locations"] = [loc for loc in clinic["locations"] if loc != "naperville"]
    path.write_text(yaml.safe_dump(clinic, sort_keys=False, allow_unicode=True))


def copy_out(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)


def assert_whole(out: Path) -> None:
    """The manifest matches the files, and each document's files come from one inputs hash."""
    entries = manifest(out)["documents"]
    inputs: dict[str, set[str]] = {}
    for entry in entries:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        inputs.setdefault(entry["document"], set()).add(entry["inputs"])
    assert all(len(hashes) == 1 for hashes in inputs.values())
    listed = {out / e["path"] for e in entries}
    on_disk = set(published_files(out)) - {out / "manifest.json", out / "consent-versions.json"}
    on_disk = {p for p in on_disk if "consent-versions" not in p.relative_to(out).parts}
    assert on_disk == listed, "files on disk that the manifest does not list, or the reverse"


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The old output, the clean build of the changed content, and the old output with the
    changed documents already rendered into staging (a build killed at its first publishing
    step), so each crash run below spends its time publishing, not rendering."""
    root = tmp_path_factory.mktemp("faults")
    content = root / "content"
    shutil.copytree(REPO / "content", content)
    old = root / "old"
    assert carepress_build(content, old).returncode == 0
    change_content(content)
    clean = root / "clean"
    assert carepress_build(content, clean).returncode == 0
    staged = root / "staged"
    copy_out(old, staged)
    killed = carepress_build(content, staged, kill_at=1)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert snapshot(staged) == snapshot(old)
    return {"content": content, "old": old, "clean": clean, "staged": staged}


def test_a_build_stopped_after_every_publishing_step_leaves_one_whole_release(states, tmp_path):
    old, new = snapshot(states["old"]), snapshot(states["clean"])
    assert old != new
    k, seen_new_at = 0, None
    while True:
        k += 1
        assert k < 500, "publishing never finished"
        out = tmp_path / f"k{k}"
        copy_out(states["staged"], out)
        run = carepress_build(states["content"], out, kill_at=k)
        if run.returncode == 0:
            break
        assert run.returncode == -signal.SIGKILL, run.stderr
        seen = snapshot(out)
        assert seen in (old, new), f"killed at step {k}: the folder mixes two builds"
        if seen == new and seen_new_at is None:
            seen_new_at = k
        assert_whole(out)
        again = carepress_build(states["content"], out)
        assert again.returncode == 0, again.stderr
        assert snapshot(out) == new, f"killed at step {k}: the next build did not recover"
        assert_whole(out)
        assert not (out / STAGING).exists()
        releases = sorted(p.name for p in (out / ".carepress-releases").iterdir())
        assert len(releases) <= 2 and not [r for r in releases if ".partial-" in r], releases
        shutil.rmtree(out)
    assert k > 20, f"only {k} publishing steps: the fault points are not reached"
    assert seen_new_at is not None, "no kill landed after the switch"


def test_a_build_killed_at_random_moments_of_publishing_recovers(states, tmp_path):
    rng = random.Random(20261202)
    new = snapshot(states["clean"])
    old = snapshot(states["old"])
    for attempt in range(6):
        out = tmp_path / f"r{attempt}"
        copy_out(states["staged"], out)
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "build", "--content", str(states["content"]),
             "--out", str(out), "--quiet"], cwd=REPO, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        # Loading the project takes ~0.5 s and publishing a few tens of ms: aim around it.
        time.sleep(rng.uniform(0.3, 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert snapshot(out) in (old, new)
        assert_whole(out)
        assert carepress_build(states["content"], out).returncode == 0
        assert snapshot(out) == new
        shutil.rmtree(out)


def test_a_folder_published_before_releases_is_taken_over(states, tmp_path):
    """Plain folders from an earlier carepress become the first release, with the same bytes."""
    out = tmp_path / "plain"
    out.mkdir()
    for name in ("clinics", "site", "manifest.json", "consent-versions.json",
                 "consent-versions"):
        source = states["old"] / name
        if source.is_dir():
            shutil.copytree(source, out / name)
        else:
            shutil.copy(source, out / name)
    assert not (out / "site").is_symlink()
    assert carepress_build(states["content"], out).returncode == 0
    assert (out / "site").is_symlink()
    assert snapshot(out) == snapshot(states["clean"])
    assert not [p for p in out.iterdir() if p.name.startswith(".carepress-legacy-")]


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    try:
        with tmpfs(tmp_path / "disk", "8m") as mount:
            yield mount
    except NoTmpfs as refused:
        pytest.skip(f"cannot mount a tmpfs here: {refused}")


def test_a_full_disk_is_one_line_with_the_summary_and_changes_nothing(states, small_disk):
    out = small_disk / "out"
    copy_out(states["old"], out)
    before = snapshot(out)
    fill(small_disk)
    run = carepress_build(states["content"], out)
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, run.stderr
    assert errors[0].startswith("carepress: error: ") and "No space left on device" in errors[0]
    assert str(out) in errors[0], "the error names the path"
    assert "Traceback" not in run.stderr
    assert "nothing published" in run.stdout and "unchanged" in run.stdout
    assert snapshot(out) == before
    assert_whole(out)
    assert not (out / STAGING).exists() or not any((out / STAGING).iterdir())
    (small_disk / "filler").unlink()
    assert carepress_build(states["content"], out).returncode == 0
    assert snapshot(out) == snapshot(states["clean"])


def test_the_manifest_names_the_release_a_reader_resolves(states):
    """What a static host serves is the release the link names, manifest included."""
    out = states["clean"]
    release = (out / ".carepress-current").resolve()
    assert json.loads((release / "manifest.json").read_text()) == manifest(out)
    assert (out / "site").resolve() == release / "site"
