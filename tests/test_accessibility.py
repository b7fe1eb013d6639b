"""WCAG 2.1 AA in a real browser: axe-core in Debian's headless Chromium over every HTML file.

`tests/a11y/axe.mjs` loads each generated page, handout and consent form (every language) from a
local server, runs axe-core's WCAG 2.0/2.1 A and AA rules and its best practices (landmarks,
heading order, ...), then tabs through the page (every link and field reachable, focus visible)
and lays it out 320 CSS px wide (reflow). Any violation fails, naming the file, rule and element.

Chromium, Node.js and the npm packages are not optional here: `scripts/setup.sh` installs them
(as CI does), so a missing one fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, manifest, published_files

A11Y = REPO / "tests" / "a11y"
SCRIPT = A11Y / "axe.mjs"
CHROMIUM = Path(os.environ.get("CAREPRESS_CHROMIUM", "/usr/bin/chromium"))
NODE_PACKAGES = ("axe-core", "playwright-core")
TIMEOUT = 600


def node_or_fail() -> str:
    """The node binary, once Chromium and the npm packages are known to be there too."""
    node = shutil.which("node")
    missing = []
    if node is None:
        missing.append("node is not on PATH (Debian: apt-get install nodejs npm)")
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} does not exist (Debian: apt-get install chromium)")
    for package in NODE_PACKAGES:
        if not (A11Y / "node_modules" / package / "package.json").is_file():
            missing.append(f"npm package {package} is not installed (npm ci --prefix tests/a11y)")
    if missing:
        pytest.fail("the accessibility check cannot run; scripts/setup.sh installs what it needs:\n"
                    + "\n".join(f"  - {line}" for line in missing), pytrace=False)
    assert node is not None
    return node


def describe(report: dict[str, Any], out: Path) -> list[str]:
    """One block per problem: file, rule, impact, what it means, then each element."""
    name = Path(report["file"]).relative_to(out.resolve())
    lines = [f"{name}: could not check: {error}" for error in report["errors"]]
    for rule in report["violations"]:
        lines.append(f"{name}: [{rule['id']}] ({rule['impact']}) {rule['help']} {rule['helpUrl']}")
        for node in rule["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}")
            if summary:
                lines.append(f"       {summary[:300]}")
    return lines


@pytest.mark.slow
def test_every_html_file_passes_axe_in_chromium(built: Path) -> None:
    node = node_or_fail()
    files = sorted(published_files(built, "*.html"))
    listed = {built / entry["path"] for entry in manifest(built)["documents"]
              if entry["format"] == "html"}
    assert listed and listed <= set(files), "the manifest lists HTML files the build did not write"
    assert {f.name for f in files} >= {"index.html", "handout.html", "consent.html"}

    result = subprocess.run([node, str(SCRIPT), *map(str, files)], cwd=REPO,
                            capture_output=True, text=True, timeout=TIMEOUT)
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    checked = {Path(report["file"]) for report in reports}
    assert checked == {f.resolve() for f in files}, (
        f"axe.mjs checked {len(checked)} of {len(files)} files (exit {result.returncode}):\n"
        f"{result.stderr}")

    failing = [report for report in reports if report["violations"] or report["errors"]]
    count = sum(len(report["violations"]) + len(report["errors"]) for report in failing)
    if failing:
        pytest.fail(f"{count} accessibility violations in {len(failing)} of {len(reports)} files:\n"
                    + "\n".join(line for report in failing for line in describe(report, built)),
                    pytrace=False)
    assert result.returncode == 0, result.stderr
