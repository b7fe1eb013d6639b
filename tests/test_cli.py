"""The `carepress` command line, run as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, run_cli, snapshot
from tests.services import forked_children

pytestmark = pytest.mark.slow  # each test starts the CLI in a fresh process

COMMANDS = ["build", "render", "list", "validate"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help(command):
    args = [command, "--help"] if command else ["--help"]
    result = run_cli(*args)
    assert "Usage: " in result.stdout
    assert len(result.stdout.splitlines()) > 3


def test_validate_reports_counts():
    result = run_cli("validate")
    assert result.stdout.startswith("ok: 2 therapies, 3 locations, 2 clinics")


def test_bad_content_gives_one_line_per_problem_and_no_traceback(content, tmp_path):
    path = content / "clinics" / "prairie-mind.yaml"
    data = yaml.safe_load(path.read_text())
    data["colors"]["primary"] = "#zzz"
    data.pop("clinician")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "out"
    result = run_cli("build", "--content", str(content), "--out", str(out), check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("carepress: error:")]
    assert len(errors) == 2
    assert all("content/clinics/prairie-mind.yaml" in line for line in errors)
    assert any("colors.primary" in line for line in errors)
    assert any("clinician: required field is missing" in line for line in errors)
    assert not out.exists() or snapshot(out) == {}


def test_debug_shows_the_traceback(content):
    (content / "therapies" / "ketamine.yaml").write_text("name: [")
    result = run_cli("--debug", "validate", "--content", str(content), check=False)
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_render_one_document_to_stdout():
    result = run_cli("render", "page", "--therapy", "ketamine", "--location", "illinois")
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert '<link rel="canonical" href="https://www.example.com/en/ketamine/illinois/">' in (
        result.stdout)


def test_render_pdf_to_a_file(tmp_path):
    target = tmp_path / "consent.pdf"
    run_cli("render", "consent", "--clinic", "prairie-mind", "--therapy", "ketamine",
            "-o", str(target))
    assert target.read_bytes().startswith(b"%PDF-")


def test_render_unknown_document_is_one_clear_line():
    result = run_cli("render", "handout", "--clinic", "nobody", "--therapy", "ketamine",
                     check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == ("carepress: error: no such document in the plan: "
                                     "'handout/nobody/ketamine/en' (see `carepress list`)")


def test_list_shows_stale_then_current(content, tmp_path):
    out = tmp_path / "out"
    before = run_cli("list", "--content", str(content), "--out", str(out))
    lines = before.stdout.splitlines()
    assert lines and all(line.startswith("stale ") for line in lines)
    run_cli("build", "--content", str(content), "--out", str(out), "--quiet")
    after = run_cli("list", "--content", str(content), "--out", str(out), "--stale")
    assert after.stdout == ""
    assert f"{len(lines)} documents, 0 stale" in after.stderr


def test_site_url_comes_from_the_environment(monkeypatch):
    import subprocess
    import sys

    from tests.conftest import REPO

    env = {"CAREPRESS_SITE_URL": "https://clinics.example.org/", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "cli.main", "render", "sitemap"], cwd=REPO,
                            capture_output=True, text=True, env=env, check=True)
    assert "<loc>https://clinics.example.org/en/ketamine/illinois/</loc>" in result.stdout


def _most_children_while_building(out: Path, cpus: set[int]) -> tuple[int, str]:
    """Runs `carepress build` (no --jobs, no CAREPRESS_JOBS) pinned to `cpus`; returns the most
    render processes (its forked children) it had at once, sampled every 20 ms, and its
    summary line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPRESS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "build", "--out", str(out), "--quiet"], cwd=REPO,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    most = 0
    while process.poll() is None:
        most = max(most, len(forked_children(process.pid)))
        time.sleep(0.02)
    stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr
    return most, stdout.strip().splitlines()[-1]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable CPUs")
def test_build_renders_in_as_many_processes_as_it_may_use_cpus(tmp_path):
    two = sorted(os.sched_getaffinity(0))[:2]
    pooled, summary_two = _most_children_while_building(tmp_path / "two", set(two))
    alone, summary_one = _most_children_while_building(tmp_path / "one", {two[0]})
    assert pooled == 2, f"two usable CPUs, {pooled} render processes"
    assert alone == 0, f"one usable CPU, yet {alone} child processes"
    assert summary_two.replace("two", "one") == summary_one
    assert re.match(r"built [1-9]\d*, unchanged 0, failed 0", summary_one), summary_one
    assert "the CPUs this process may use" in " ".join(run_cli("build", "--help").stdout.split())
