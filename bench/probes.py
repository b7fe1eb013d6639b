"""In-process measurements, each run in a fresh child process by bench/run.py.

`python -m bench.probes KIND ARGS_JSON` prints one JSON object. Kinds:
- warm: carepress's warm per-document times (handout, consent), pages per second, PDF pages,
  a stage breakdown of a handout render, and the print HTML of the timed handouts;
- memory: RSS of one long-lived process rendering documents the way a worker does;
- profile: cProfile of one warm handout render, written as text.
"""

from __future__ import annotations

import cProfile
import functools
import gc
import importlib
import inspect
import io
import json
import pstats
import statistics
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from generator.plan.documents import DocumentSpec
from generator.plan.project import Project, load_project
from generator.publish.jobs import Job, render_job
from generator.publish.storage import OutputStore
from generator.render import pdf as pdf_module
from generator.render.documents import DocumentRenderer
from generator.render.gctuning import tune_gc_after_warm_up
from generator.render.pdf import PRINT_STYLESHEETS
from generator.settings import Settings
from templates import STATIC_DIR

REPO = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    """Resident set size of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def pdf_pages(data: bytes) -> int | None:
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    return len(PdfReader(io.BytesIO(data)).pages)


def _project(content: Path, out: Path) -> Project:
    return load_project(Settings(content_dir=content, out_dir=out))


def _clinic_docs(project: Project, kind: str) -> list[DocumentSpec]:
    """One document of this kind per clinic, first therapy first, so clinics (and logos) vary."""
    specs = [s for s in project.specs if s.key.kind == kind]
    return sorted(specs, key=lambda s: (s.key.therapy != specs[0].key.therapy, s.key.clinic))


class PdfSpy:
    """Wraps a renderer's PdfRenderer.render: keeps the HTML it prints and its PDF time."""

    def __init__(self, renderer: DocumentRenderer) -> None:
        self.pdf = renderer.pdf
        self._render = self.pdf.render
        self.html = self.base_url = ""
        self.seconds = self.cpu_s = self.finish_cpu_s = 0.0
        self.pdf.render = self  # type: ignore[method-assign]

    def __call__(self, html: str, base_url: str, identifier: str, title: str) -> bytes:
        start, cpu = time.perf_counter(), time.process_time()
        with _cpu_timer(pdf_module, "finish") as finishing:
            data: bytes = self._render(html, base_url, identifier, title)
        self.seconds = time.perf_counter() - start
        self.cpu_s, self.finish_cpu_s = time.process_time() - cpu, finishing[0]
        self.html, self.base_url = html, base_url
        return data


@contextmanager
def _cpu_timer(owner: Any, name: str) -> Iterator[list[float]]:
    """CPU seconds spent in owner.name while the block runs."""
    spent = [0.0]
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - start

    setattr(owner, name, timed)
    try:
        yield spent
    finally:
        setattr(owner, name, original)


class WeasyPrintAlone:
    """WeasyPrint's own `write_pdf` of the HTML carepress prints, with the same stylesheets
    (parsed once, as any warm WeasyPrint user would), fonts and PDF/UA options, and
    WeasyPrint's defaults otherwise (its fetcher, pydyf's compression, its /ID): the floor
    carepress's per-document time is compared with, in the same process."""

    def __init__(self) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        self._weasyprint = weasyprint
        self._fonts = FontConfiguration()
        self._css = [weasyprint.CSS(filename=str(STATIC_DIR / name), font_config=self._fonts)
                     for name in PRINT_STYLESHEETS]

    def render(self, html: str, base_url: str) -> bytes:
        document = self._weasyprint.HTML(string=html, base_url=base_url)
        data: bytes = document.write_pdf(stylesheets=self._css, font_config=self._fonts,
                                         pdf_variant="pdf/ua-1", pdf_tags=True, pdf_forms=True)
        return data

    def timed(self, html: str, base_url: str) -> dict[str, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        self.render(html, base_url)
        return {"weasyprint_s": time.perf_counter() - wall,
                "weasyprint_cpu_s": time.process_time() - cpu}


# --- warm --------------------------------------------------------------------------------------


def warm(content: str, out: str, samples: int, html_dir: str) -> dict[str, Any]:
    start = time.perf_counter()
    project = _project(Path(content), Path(out))
    loaded = time.perf_counter() - start
    renderer = DocumentRenderer(project)
    start = time.perf_counter()
    spy = PdfSpy(renderer)  # creates the PdfRenderer: WeasyPrint import, fonts, shared CSS
    pdf_init = time.perf_counter() - start
    handouts = _clinic_docs(project, "handout")[:samples]
    consents = _clinic_docs(project, "consent")[:samples]
    reference = WeasyPrintAlone()
    for spec in (handouts[-1], consents[-1], handouts[-1], consents[-1]):  # warm-up, not timed
        renderer.render(spec)
        reference.render(spy.html, spy.base_url)
    tune_gc_after_warm_up()  # what the pool and worker children do once warm
    timed: dict[str, list[dict[str, Any]]] = {"handout": [], "consent": []}
    html_files = []
    for handout, consent in zip(handouts, consents, strict=True):
        for spec in (handout, consent):
            row = _time_document(renderer, spy, spec)
            row.update(reference.timed(spy.html, spy.base_url))
            timed[spec.key.kind].append(row)
            if spec.key.kind == "handout":
                html_files.append(_write_print_html(Path(html_dir), spec, spy.html))
    return {
        "load_project_s": loaded,
        "pdf_renderer_init_s": pdf_init,
        "handout": _summary(timed["handout"]),
        "consent": _summary(timed["consent"]),
        "pages": _pages_per_second(renderer, project.pages),
        "stages": stage_breakdown(renderer, handouts),
        "html_files": html_files,
        "rss_mb": rss_mb(),
    }


def _time_document(renderer: DocumentRenderer, spy: PdfSpy, spec: DocumentSpec) -> dict[str, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    artifacts = renderer.render(spec)
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    pdf = next(a.data for a in artifacts if a.format == "pdf")
    return {"document": spec.key.id, "s": seconds, "cpu_s": cpu_s, "pdf_s": spy.seconds,
            "pdf_cpu_s": spy.cpu_s, "finish_cpu_s": spy.finish_cpu_s,
            "pages": pdf_pages(pdf), "bytes": len(pdf)}


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    pages = [r["pages"] for r in rows if r["pages"]]
    median = statistics.median(r["s"] for r in rows)
    per_page = statistics.median(r["s"] / r["pages"] for r in rows) if pages else None
    return {"n": len(rows), "median_s": median, "min_s": min(r["s"] for r in rows),
            "max_s": max(r["s"] for r in rows),
            "cpu_median_s": statistics.median(r["cpu_s"] for r in rows),
            "weasyprint_cpu_median_s": statistics.median(r["weasyprint_cpu_s"] for r in rows),
            "overhead": statistics.median(r["cpu_s"] / r["weasyprint_cpu_s"] for r in rows),
            "split_cpu_median_s": {
                "html_and_context": statistics.median(r["cpu_s"] - r["pdf_cpu_s"] for r in rows),
                "weasyprint_write_pdf": statistics.median(r["pdf_cpu_s"] - r["finish_cpu_s"]
                                                          for r in rows),
                "finishing_pass": statistics.median(r["finish_cpu_s"] for r in rows)},
            "pdf_median_s": statistics.median(r["pdf_s"] for r in rows),
            "pages_median": statistics.median(pages) if pages else None,
            "ms_per_page": per_page * 1000 if per_page is not None else None,
            "rows": rows}


def _write_print_html(folder: Path, spec: DocumentSpec, html: str) -> dict[str, str]:
    """The HTML carepress prints, as is (for the weasyprint command line, which gets the two
    stylesheets with -s) and with the stylesheets linked (for Chromium)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = spec.key.id.replace("/", "_")
    plain = folder / f"{name}.html"
    plain.write_text(html, encoding="utf-8")
    links = "".join(f'<link rel="stylesheet" href="{(STATIC_DIR / s).as_uri()}">'
                    for s in PRINT_STYLESHEETS)
    linked = folder / f"{name}.linked.html"
    linked.write_text(html.replace("</head>", links + "</head>", 1), encoding="utf-8")
    return {"document": spec.key.id, "html": str(plain), "linked_html": str(linked),
            "base_url": STATIC_DIR.as_uri() + "/"}


def _pages_per_second(renderer: DocumentRenderer, pages: list[DocumentSpec]) -> dict[str, Any]:
    start = time.perf_counter()
    for spec in pages:
        renderer.render(spec)
    first = time.perf_counter() - start
    rates: list[float] = []
    total = 0.0
    while len(rates) < 3 or total < 1.0:
        start = time.perf_counter()
        for spec in pages:
            renderer.render(spec)
        elapsed = time.perf_counter() - start
        total += elapsed
        rates.append(len(pages) / elapsed)
    return {"count": len(pages), "first_pass_per_s": len(pages) / first,
            "passes": len(rates), "per_s": statistics.median(rates),
            "per_s_all_passes": len(pages) * len(rates) / total}


# --- stage breakdown (timers around WeasyPrint's steps; no profiler overhead) -----------------


STAGES = (
    # (label, module, attribute, parent label or "")
    ("context", "generator.render.documents", "clinic_document_context", ""),
    ("jinja", "generator.render.documents", "render_template", ""),
    ("weasyprint: parse HTML", "weasyprint", "HTML.__init__", ""),
    ("weasyprint: CSS cascade + computed styles", "weasyprint.document",
     "get_all_computed_styles", ""),
    ("weasyprint: box tree", "weasyprint.document", "build_formatting_structure", ""),
    ("weasyprint: images (logo)", "weasyprint.document", "original_get_image_from_uri",
     "weasyprint: box tree"),
    ("weasyprint: layout (incl. text shaping)", "weasyprint.document", "layout_document", ""),
    ("weasyprint: generate PDF objects", "weasyprint.document", "generate_pdf", ""),
    ("draw pages", "weasyprint.document", "draw_page", "weasyprint: generate PDF objects"),
    ("fonts: subset + embed", "weasyprint.pdf", "build_fonts_dictionary",
     "weasyprint: generate PDF objects"),
    ("PDF tags (pdf_tags=True)", "weasyprint.pdf", "add_tags",
     "weasyprint: generate PDF objects"),
    ("pydyf: serialise + compress", "pydyf", "PDF.write", ""),
)


@contextmanager
def _stage_timers() -> Iterator[dict[str, float]]:
    totals: dict[str, float] = {label: 0.0 for label, *_ in STAGES}
    undo: list[Callable[[], None]] = []
    for label, module_name, attribute, _ in STAGES:
        owner: Any = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)
        setattr(owner, name, _timed(original, label, totals))
        undo.append(functools.partial(setattr, owner, name, original))
    try:
        yield totals
    finally:
        for restore in reversed(undo):
            restore()


def _timed(function: Callable[..., Any], label: str, totals: dict[str, float]) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            result = function(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - start
        # layout_document is a generator: its work happens as the caller takes each page.
        return _timed_iteration(result, label, totals) if inspect.isgenerator(result) else result

    return wrapper


def _timed_iteration(items: Iterator[Any], label: str, totals: dict[str, float]) -> Iterator[Any]:
    while True:
        start = time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            totals[label] += time.perf_counter() - start
            return
        totals[label] += time.perf_counter() - start
        yield item


def stage_breakdown(renderer: DocumentRenderer, handouts: list[DocumentSpec]) -> dict[str, Any]:
    """Mean seconds per handout in each step (nested steps are part of their parent), and the
    garbage collector's pauses, which fall inside whichever steps they interrupt."""
    with _stage_timers() as totals, _gc_timer() as collector:
        start = time.perf_counter()
        for spec in handouts:
            renderer.render(spec)
        total = time.perf_counter() - start
    count = len(handouts)
    top = sum(v for (label, *_, parent), v in zip(STAGES, totals.values(), strict=True)
              if not parent)
    rows = [{"stage": label, "parent": parent, "s": totals[label] / count,
             "share": totals[label] / total} for label, _, _, parent in STAGES]
    rows.append({"stage": "other (fetching, glue)", "parent": "", "s": (total - top) / count,
                 "share": (total - top) / total})
    rows.append({"stage": "python gc pauses (inside the steps above)", "parent": "",
                 "s": collector["s"] / count, "share": collector["s"] / total,
                 "collections": collector["collections"]})
    return {"documents": count, "mean_s": total / count, "rows": rows}


@contextmanager
def _gc_timer() -> Iterator[dict[str, Any]]:
    totals: dict[str, Any] = {"s": 0.0, "collections": [0, 0, 0]}
    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            totals["s"] += time.perf_counter() - started[0]
            totals["collections"][info["generation"]] += 1

    gc.callbacks.append(callback)
    try:
        yield totals
    finally:
        gc.callbacks.remove(callback)


# --- memory ------------------------------------------------------------------------------------


def memory(content: str, out: str, renders: int, base: int) -> dict[str, Any]:
    """Render handouts and consent forms in a loop through render_job, as a worker's pool child
    does (one warm DocumentRenderer, staging into an output store), reading RSS as it goes."""
    project = _project(Path(content), Path(out))
    renderer = DocumentRenderer(project)
    store = OutputStore(Path(out))
    specs = [s for s in project.specs if s.key.kind in ("handout", "consent")]
    marks = sorted({base, renders, *(m for m in (50, 100, 200, 300, 400) if base < m < renders)})
    rss: dict[int, float] = {0: rss_mb()}
    start = time.perf_counter()
    for n in range(1, renders + 1):
        spec = specs[(n - 1) % len(specs)]
        job = Job(spec.key.id, project.hashes[spec.key.id], content, out)
        result = render_job(renderer, job)
        if result.error:
            raise RuntimeError(f"{spec.key.id}: {result.error}")
        store.prune_staged(keep=set())  # the build publishes and prunes; keep the disk flat
        if n in marks:
            rss[n] = rss_mb()
    elapsed = time.perf_counter() - start
    return {"renders": renders, "base": base, "distinct_documents": len(specs),
            "rss_mb": {str(k): round(v, 1) for k, v in rss.items()},
            "growth_mb": rss[renders] - rss[base], "mean_render_s": elapsed / renders,
            "peak_rss_mb": _peak_mb()}


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- profile -----------------------------------------------------------------------------------


def profile(content: str, out: str, output: str, top: int = 25) -> dict[str, Any]:
    project = _project(Path(content), Path(out))
    renderer = DocumentRenderer(project)
    handouts = _clinic_docs(project, "handout")
    for spec in handouts[:3]:  # warm: fonts, CSS, templates, the first logos
        renderer.render(spec)
    # Clinics not rendered yet: their logo is fetched, as for each clinic's first document.
    start = time.perf_counter()
    renderer.render(handouts[3 % len(handouts)])
    unprofiled = time.perf_counter() - start
    target = handouts[4 % len(handouts)]
    profiler = cProfile.Profile()
    profiler.enable()
    renderer.render(target)
    profiler.disable()
    stages = stage_breakdown(renderer, handouts[5:10] or handouts[:1])
    text = _profile_text(profiler, top, target.key.id, unprofiled, stages)
    Path(output).write_text(text, encoding="utf-8")
    return {"output": output, "document": target.key.id, "unprofiled_s": unprofiled,
            "stages": stages}


def _profile_text(profiler: cProfile.Profile, top: int, document: str, unprofiled: float,
                  stages: dict[str, Any]) -> str:
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    total = stats.total_tt  # type: ignore[attr-defined]
    lines = [
        f"carepress: one warm handout render, cProfile (top {top} by cumulative time)",
        f"profiled: {document}, {total * 1000:.0f} ms under cProfile ({unprofiled * 1000:.0f} ms "
        "for a handout of another clinic without it: cProfile inflates call-heavy Python code)",
        "",
        f"Stage breakdown without profiler (timers around WeasyPrint's steps), mean of "
        f"{stages['documents']} handouts, {stages['mean_s'] * 1000:.0f} ms each:",
    ]
    for row in stages["rows"]:
        indent = "    " if row["parent"] else "  "
        lines.append(f"{indent}{row['stage']:<46} {row['s'] * 1000:7.1f} ms "
                     f"{row['share'] * 100:5.1f} %")
    lines += ["", "cProfile, by cumulative time:", ""]
    stats.sort_stats("cumulative").print_stats(top)
    cumulative = _table(buffer.getvalue())
    buffer.seek(0)
    buffer.truncate()
    stats.sort_stats("tottime").print_stats(15)
    own = _table(buffer.getvalue())
    return ("\n".join(lines) + "\n" + cumulative + "\n\ncProfile, by own time (top 15):\n\n"
            + own + "\n")


def _table(text: str) -> str:
    """pstats' table without its header, with shorter paths (repository, site-packages)."""
    text = text[text.find("   ncalls"):] if "   ncalls" in text else text
    for prefix in (sysconfig.get_paths()["purelib"], str(REPO)):
        text = text.replace(prefix + "/", "")
    return text.rstrip()


KINDS: dict[str, Callable[..., dict[str, Any]]] = {
    "warm": warm, "memory": memory, "profile": profile}


def main() -> None:
    kind, arguments = sys.argv[1], json.loads(sys.argv[2])
    result = KINDS[kind](**arguments)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
