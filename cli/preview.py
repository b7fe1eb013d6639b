"""`carepress preview`: a local server for editors that shows the site as it will be published,
rebuilds what changed on every save and reloads the open page.

A thin front-end over the preview rebuild: watchfiles reports saves in the content tree and the
templates, one worker thread rebuilds, and a small HTTP server (standard library, one thread
per request) serves the preview folder with a script that listens for changes (server-sent
events) and reloads the page. While the content is invalid every page shows the problems, each
with its file and line, instead of a stale page.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click
import watchfiles

from generator.publish.preview import Preview, PreviewState
from generator.settings import Settings
from templates import TEMPLATES_DIR

log = logging.getLogger("carepress")
EVENTS = "/_preview/events"
STATE = "/_preview/state"
KEEPALIVE_SECONDS = 10.0
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".svg": "image/svg+xml", ".png": "image/png", ".pdf": "application/pdf",
         ".woff2": "font/woff2", ".ttf": "font/ttf", ".xml": "application/xml",
         ".txt": "text/plain; charset=utf-8"}
# Reloads the page once the preview has something newer than what it was served with.
RELOAD = """<script>(() => {{
  const seen = {version};
  const events = new EventSource("{events}?since=" + seen);
  events.onmessage = (event) => {{
    if (Number(event.data) > seen) {{ events.close(); location.reload(); }}
  }};
}})();</script>"""


def reload_script(version: int) -> str:
    return RELOAD.format(version=version, events=EVENTS)


def problems_page(state: PreviewState) -> str:
    items = "\n".join(f"<li><code>{html.escape(p)}</code></li>" for p in state.problems)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Content error · carepress preview</title></head>\n<body>\n"
            f'<main><h1>The content has {len(state.problems)} problem(s)</h1>\n'
            f'<p>Fix them and save: this page reloads by itself.</p>\n'
            f'<ul class="problems">\n{items}\n</ul></main>\n'
            f"{reload_script(state.version)}\n</body></html>\n")


class Handler(BaseHTTPRequestHandler):
    preview: Preview
    stopping: threading.Event

    def log_message(self, format: str, *args: object) -> None:
        log.debug("preview: " + format, *args)

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == EVENTS:
            self._events()
        elif path == STATE:
            state = self.preview.state
            self._send(HTTPStatus.OK, "application/json", json.dumps(
                {"version": state.version, "problems": list(state.problems),
                 "failed": state.failed, "pending_pdfs": state.pending_pdfs}).encode())
        else:
            self._file(path)

    def _file(self, path: str) -> None:
        site = (self.preview.folder / "site").resolve()
        state = self.preview.state
        if path == "/" and not (site / "index.html").is_file():
            languages = self.preview.settings.language_codes
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", f"/{languages[0]}/")
            self.end_headers()
            return
        target = (site / path.lstrip("/")).resolve()
        if target.is_dir():
            if not path.endswith("/"):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", path + "/")
                self.end_headers()
                return
            target = target / "index.html"
        is_page = target.suffix == ".html"
        if is_page and state.problems:
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, TYPES[".html"],
                       problems_page(state).encode())
            return
        if not target.is_relative_to(site) or not target.is_file():
            missing = site / "404.html"
            body = missing.read_bytes() if missing.is_file() else b"not found"
            self._send(HTTPStatus.NOT_FOUND, TYPES[".html"], self._with_reload(body, state))
            return
        data = target.read_bytes()
        self._send(HTTPStatus.OK, TYPES.get(target.suffix, "application/octet-stream"),
                   self._with_reload(data, state) if is_page else data)

    @staticmethod
    def _with_reload(data: bytes, state: PreviewState) -> bytes:
        script = reload_script(state.version).encode()
        at = data.rfind(b"</body>")
        return data + script if at < 0 else data[:at] + script + data[at:]

    def _send(self, status: HTTPStatus, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _events(self) -> None:
        """Server-sent events: the current version now, then each newer one as it comes."""
        query = urlsplit(self.path).query
        seen = int(query.split("since=", 1)[1]) if "since=" in query else -1
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            while not self.stopping.is_set():
                state = self.preview.wait_for_change(seen, KEEPALIVE_SECONDS)
                if state.version > seen:
                    seen = state.version
                    self.wfile.write(f"data: {seen}\n\n".encode())
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return


def run(preview: Preview, host: str, port: int, ready: threading.Event | None = None) -> None:
    """Serve until interrupted; rebuild on every save in the content tree or the templates."""
    stopping = threading.Event()
    pending = threading.Event()
    pending.set()  # the first build
    roots = [preview.settings.content_dir, preview.settings.templates_dir or TEMPLATES_DIR]

    def watch() -> None:
        # A short debounce: an editor's save is one or two events; HTML must follow in < 1 s.
        for _changes in watchfiles.watch(*roots, debounce=60, step=20, stop_event=stopping):
            pending.set()

    def work() -> None:
        while not stopping.is_set():
            if pending.wait(0.2):
                pending.clear()
                state = preview.rebuild(interrupted=pending.is_set)
                for line in state.problems:
                    log.warning("%s", line)

    handler = type("PreviewHandler", (Handler,), {"preview": preview, "stopping": stopping})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threads = [threading.Thread(target=f, daemon=True, name=f"preview-{f.__name__}")
               for f in (watch, work)]
    for thread in threads:
        thread.start()
    if ready is not None:
        ready.set()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stopping.set()
        server.server_close()



@click.command("preview")
@click.option("--content", "content_dir", type=click.Path(path_type=Path),
              help="Content tree [default: $CAREPRESS_CONTENT_DIR or ./content].")
@click.option("--folder", type=click.Path(path_type=Path, file_okay=False),
              default=Path(".carepress-preview"), show_default=True,
              help="Where the preview renders (never the published output folder).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.pass_context
def preview_command(ctx: click.Context, content_dir: Path | None, folder: Path, host: str,
                    port: int) -> None:
    """Serve the site locally, rebuild what changed on every save and reload the open page."""
    base: Settings = ctx.obj["settings"]
    settings = base.model_copy(update={"content_dir": content_dir} if content_dir else {})
    preview = Preview(settings, folder)
    click.echo(f"carepress preview: http://{host}:{port}/ (rendering into {folder}; Ctrl-C "
               "stops)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        run(preview, host, port)


def register(group: click.Group) -> None:
    group.add_command(preview_command)
