"""Lighthouse (mobile) over one page of each type of the built site.

    npm ci --prefix bench/lighthouse        # once (scripts/setup.sh does it)
    .venv/bin/python bench/lighthouse.py [--out DIR] [--port 18320] [--runs 1]

Builds the demo content into a temporary folder (or uses --out, an existing build), serves its
`site/` folder on 127.0.0.1 as a static host would (a folder answers its index.html, a missing
file the 404 page), and runs Lighthouse's default mobile settings (Moto G Power emulation,
simulated slow 4G, 4x CPU slowdown) in Debian's Chromium with a fresh profile per run. Prints
one line per page type with the four category scores (the median of --runs runs) and writes
every report to bench/lighthouse/reports/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from anywhere

HERE = REPO / "bench" / "lighthouse"
LIGHTHOUSE = HERE / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
FLAGS = ("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
         "--disable-background-networking --disable-component-update --disable-sync")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


class SiteHandler(SimpleHTTPRequestHandler):
    """A static host: folders answer index.html (the standard handler does), misses 404.html."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != HTTPStatus.NOT_FOUND or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def page_types(site: Path, content: Path) -> dict[str, str]:
    """One URL path per page type (the first of each, sorted), in English."""
    from generator.content.loading import load_content

    tree = load_content(content, ("en",))
    lang = "en"
    homes = sorted(site.glob(f"{lang}/index.html"))
    states = sorted(lid for lid, loc in tree.locations.items() if loc.type == "state")
    cities = sorted(lid for lid, loc in tree.locations.items() if loc.type == "city")
    tid = sorted(tree.therapies)[0]
    found = {
        "site address": "/" if (site / "index.html").is_file() else "",
        "home": f"/{lang}/" if homes else "",
        "state page": f"/{lang}/{tid}/{states[0]}/",
        "city page": f"/{lang}/{tid}/{cities[0]}/",
        # Lighthouse refuses a 404 answer: the page itself, at its own address.
        "404 page": "/404.html",
    }
    handouts = sorted(site.glob(f"clinics/*/{tid}/{lang}/handout.html"))
    if handouts:
        folder = handouts[0].parent.relative_to(site).as_posix()
        found["handout (HTML)"] = f"/{folder}/handout.html"
        found["consent preview"] = f"/{folder}/consent.html"
    return {k: v for k, v in found.items() if v}


def lighthouse(url: str, report: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="carepress-lighthouse-") as profile:
        subprocess.run(
            [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
             f"--only-categories={','.join(CATEGORIES)}",
             f"--chrome-flags={FLAGS} --user-data-dir={profile}"],
            check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=300)
    data = json.loads(report.read_text())
    return {c: data["categories"][c]["score"] * 100 for c in CATEGORIES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", type=Path, default=REPO / "content")
    parser.add_argument("--out", type=Path, help="an existing build of it (default: build now)")
    parser.add_argument("--port", type=int, default=18320)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if not LIGHTHOUSE.is_file():
        sys.exit("lighthouse is not installed: npm ci --prefix bench/lighthouse")
    scratch = Path(tempfile.mkdtemp(prefix="carepress-lh-build-"))
    try:
        out = args.out
        if out is None:
            out = scratch / "out"
            subprocess.run([sys.executable, "-m", "cli.main", "build", "--quiet", "--content",
                            str(args.content), "--out", str(out)], cwd=REPO, check=True)
        site = out / "site"
        server = ThreadingHTTPServer(("127.0.0.1", args.port),
                                     partial(SiteHandler, directory=str(site)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        reports = HERE / "reports"
        reports.mkdir(exist_ok=True)
        results: dict[str, dict[str, float]] = {}
        paths: dict[str, str] = {}
        try:
            for name, path in page_types(site, args.content).items():
                runs = [lighthouse(f"http://127.0.0.1:{args.port}{path}",
                                   reports / f"{name.split()[0]}-{n}.json")
                        for n in range(args.runs)]
                scores = {c: statistics.median(r[c] for r in runs) for c in CATEGORIES}
                results[name] = scores
                paths[name] = path
                print(f"{name:16} {path:52} " + "  ".join(
                    f"{c} {scores[c]:.0f}" for c in CATEGORIES), flush=True)
        finally:
            server.shutdown()
            server.server_close()
        summary = {name: {"path": paths[name], **scores} for name, scores in results.items()}
        (reports / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if all(min(r[c] for c in CATEGORIES) >= 98 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
