"""The site in Debian's headless Chromium (Playwright): a phone's first screen of a city page,
the handout download, and `carepress preview` updating an open page when a YAML file is saved.

`tests/a11y/site.mjs` drives the browser; these tests start the servers, give it the steps and
check what it saw against the content and the built files.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from generator.phones import tel_url
from tests.conftest import REPO
from tests.test_accessibility import A11Y, node_or_fail

SCRIPT = A11Y / "site.mjs"
PHONE = (375, 667)  # CSS px: a small phone (iPhone SE 2nd/3rd generation)
PORTS = range(18350, 18400)


def site_mjs(*args: str, timeout: float = 120) -> dict[str, Any]:
    node = node_or_fail()
    result = subprocess.run([node, str(SCRIPT), *args], cwd=REPO, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return data


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """The published site as a static host serves it (a folder answers its index.html)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18350-18399")


@pytest.fixture(scope="module")
def city(project) -> tuple[str, str, str]:
    """(therapy, city, clinic) of the first city page of the demo content, in English."""
    spec = next(s for s in project.pages if s.key.lang == "en"
                and project.tree.locations[s.key.location].type == "city")
    clinic = project.tree.clinics_serving(spec.key.location, spec.key.therapy)[0]
    return spec.key.therapy, spec.key.location, clinic


@pytest.mark.slow
def test_first_clinic_card_and_its_call_button_are_on_a_phones_first_screen(built, project, city):
    therapy, location, clinic = city
    with serve(built / "site") as origin:
        seen = site_mjs("first-screen", f"{origin}/en/{therapy}/{location}/", *map(str, PHONE))
    width, height = PHONE
    assert seen["viewport"] == {"width": width, "height": height}
    assert seen["scrollWidth"] <= width, "the page scrolls sideways on a phone"
    assert seen["card"] is not None and seen["call"] is not None
    assert 0 <= seen["card"]["top"] < seen["call"]["top"]
    assert seen["call"]["bottom"] <= height, f"call button ends at {seen['call']['bottom']} px"
    entry = project.tree.clinics[clinic]
    assert seen["call"]["href"] == tel_url(entry.contact.phone, entry.address.country)


@pytest.mark.slow
def test_handout_link_downloads_that_clinics_pdf(built, city, tmp_path):
    therapy, location, clinic = city
    saved = tmp_path / "downloaded.pdf"
    with serve(built / "site") as origin:
        seen = site_mjs("download", f"{origin}/en/{therapy}/{location}/", str(saved))
    assert seen["suggested"] == "handout.pdf"
    expected = built / "clinics" / clinic / therapy / "en" / "handout.pdf"
    assert saved.read_bytes() == expected.read_bytes()


def preview_state(origin: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{origin}/_preview/state", timeout=2) as answer:
        state: dict[str, Any] = json.load(answer)
        return state


@contextlib.contextmanager
def preview_server(content: Path, folder: Path) -> Iterator[str]:
    """A running `carepress preview`, once its first build (PDFs too) is done."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "preview", "--content", str(content),
         "--folder", str(folder), "--port", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            with contextlib.suppress(OSError):
                state = preview_state(origin)
                if state["version"] >= 1 and state["pending_pdfs"] == 0:
                    break
            assert time.monotonic() < deadline, "the preview did not build within 120 s"
            time.sleep(0.1)
        yield origin
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.slow
def test_preview_updates_the_open_page_on_save_and_shows_content_errors(content, tmp_path,
                                                                         city):
    therapy, location, _clinic = city
    folder = tmp_path / "preview"
    source = content / "locations" / f"{location}.yaml"
    original = source.read_text()
    edited = original.replace("summary: |\n", "summary: |\n  Edited-by-the-test one.\n", 1)
    broken = original.replace("summary: |\n", "summary: [unclosed\n", 1)
    fixed = original.replace("summary: |\n", "summary: |\n  Edited-by-the-test two.\n", 1)
    steps = [
        {"file": str(source), "text": edited, "expect": "Edited-by-the-test one."},
        {"file": str(source), "text": broken,
         "expect": f"{content.name}/locations/{location}.yaml:"},
        {"file": str(source), "text": fixed, "expect": "Edited-by-the-test two."},
    ]
    (tmp_path / "steps.json").write_text(json.dumps(steps))
    with preview_server(content, folder) as origin:
        seen = site_mjs("live", f"{origin}/en/{therapy}/{location}/", str(tmp_path / "steps.json"))
    for step, result in zip(steps, seen["steps"], strict=True):
        assert result["shown"], f"the open page never showed {step['expect']!r}: {result}"
        # The page reloaded itself (the script never reloads): once per change.
        assert result["reloadedBy"] >= 1, result
    # The problem names the file and the line, instead of the stale page.
    where = re.escape(f"{content.name}/locations/{location}.yaml:")
    assert re.search(where + r"\d+: malformed YAML", seen["steps"][1]["text"]), seen["steps"][1]
    assert "Edited-by-the-test one." not in seen["steps"][1]["text"]
    # HTML within a second of saving (the save, the watcher's debounce, the rebuild, the
    # reload and the page's load all included). A PDF being rendered at that moment finishes
    # first (README), so the edits here come after the first build's PDFs.
    assert seen["steps"][0]["seconds"] < 1.0, seen["steps"]
    assert seen["steps"][2]["seconds"] < 1.0, seen["steps"]
    assert (folder / "site" / "en" / therapy / location / "index.html").is_file()
