"""Paired measurements of issue 14's speed levers: warm CPU-seconds per handout and consent.

The machine is shared and noisy, so only ratios measured side by side count: every figure here
is a variant's CPU-seconds (time.process_time) per document over a reference's, both measured
in the same run, alternating (A B B A per round), median over rounds.

    python -m bench.levers levers [--rounds 6] [--docs 3] [--only compress,gc,...]
        in one process: each lever off (the code as before it) against on (the code now)
    python -m bench.levers baseline /tmp/wt-f897949 [--rounds 4] [--head OTHER_TREE]
        alternating child processes, PYTHONPATH switching between that revision and this one
        (--together: both children of a round at once, seeing the same load)
    python -m bench.levers profile bench/profile-14-after.txt
        cProfile of a warm handout and a warm consent, with the shares of WeasyPrint's stages
    python -m bench.levers samelook "table.initials { table-layout: auto; }"
        every demo PDF with and without that CSS: the documents whose pages draw differently
    python bench/levers.py probe ROOT DOCS   (the child of `baseline`; imports from PYTHONPATH)
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

KINDS = ("handout", "consent")
HERE = Path(__file__).resolve()

# --- the probe: runs against any revision (the flat layout of f897949 or the stage packages) --


def _load(root: Path) -> tuple[Any, Any]:
    """A warm-able DocumentRenderer and its project, from whichever layout PYTHONPATH holds."""
    from generator.settings import Settings

    try:
        load_project: Any = importlib.import_module("generator.plan.project").load_project
        renderer: Any = importlib.import_module("generator.render.documents").DocumentRenderer
    except ImportError:  # f897949: generator/project.py, generator/render.py
        load_project = importlib.import_module("generator.project").load_project
        renderer = importlib.import_module("generator.render").DocumentRenderer
    out = Path(tempfile.gettempdir()) / f"levers-out-{os.getpid()}"
    project = load_project(Settings(content_dir=root / "content", out_dir=out))
    return project, renderer(project)


def _docs(project: Any, kind: str, count: int) -> list[Any]:
    """One therapy's documents (LEVERS_THERAPY, which a baseline revision's content must also
    have; by default the project's first), then clinic by clinic, so the same documents are
    timed on a baseline revision as here, and clinics (and logos) vary."""
    therapy = os.environ.get("LEVERS_THERAPY") or min(project.tree.therapies)
    specs = [s for s in project.specs if s.key.kind == kind]
    return sorted(specs, key=lambda s: (s.key.therapy != therapy, s.key.lang != "en",
                                        s.key.clinic, s.key.lang))[:count]


def _cpu_per_doc(renderer: Any, specs: list[Any]) -> float:
    start = time.process_time()
    for spec in specs:
        renderer.render(spec)
    return (time.process_time() - start) / len(specs)


def _warm_up(renderer: Any, docs: dict[str, list[Any]]) -> None:
    for _ in range(2):
        for kind in KINDS:
            renderer.render(docs[kind][-1])


def probe(root: Path, count: int) -> dict[str, Any]:
    project, renderer = _load(root)
    docs = {kind: _docs(project, kind, count) for kind in KINDS}
    _warm_up(renderer, docs)
    start_process()
    result: dict[str, Any] = {kind: _cpu_per_doc(renderer, docs[kind]) for kind in KINDS}
    result["documents"] = {kind: [s.key.id for s in docs[kind]] for kind in KINDS}
    return result


# --- levers, each as a context manager that turns it OFF (the code as it was before) ----------


@contextmanager
def _patched(owner: Any, name: str, wrap: Callable[[Any], Any]) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, wrap(original))
    try:
        yield
    finally:
        setattr(owner, name, original)


def _write_pdf_with(**forced: Any) -> AbstractContextManager[None]:
    import weasyprint

    def wrap(original: Any) -> Any:
        def call(self: Any, *args: Any, **options: Any) -> Any:
            return original(self, *args, **{**options, **forced})
        return call

    return _patched(weasyprint.HTML, "write_pdf", wrap)


def compression_off() -> AbstractContextManager[None]:
    """pydyf compresses every stream at zlib level 9 and writes object streams (qpdf then
    decodes and compresses them again), as before this branch."""
    return _write_pdf_with(uncompressed_pdf=False)


def identifier_off() -> AbstractContextManager[None]:
    """WeasyPrint writes the /ID: pydyf serialises every object a second time to hash it."""
    return _write_pdf_with(pdf_identifier=b"0" * 32)


def pdf_writing_off() -> AbstractContextManager[None]:
    """Both of the above: WeasyPrint's PDF writing as before this branch."""
    return _write_pdf_with(uncompressed_pdf=False, pdf_identifier=b"0" * 32)


def qr_uncached() -> AbstractContextManager[None]:
    """Every context (web, print, each site copy) draws its QR code again, as before."""
    from generator.render import contexts

    return _patched(contexts, "_qr_svg", lambda cached: cached.__wrapped__)


@contextmanager
def gc_untuned() -> Iterator[None]:
    """The interpreter's default collector, nothing frozen (as a process starts)."""
    saved = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        gc.freeze()
        gc.set_threshold(*saved)


@contextmanager
def extra_css(renderer: Any, css: str) -> Iterator[None]:
    """The print stylesheets plus `css` (a candidate cheaper rule for the same look)."""
    import weasyprint

    pdf = renderer.pdf
    saved = pdf._css
    pdf._css = [*saved, weasyprint.CSS(string=css, font_config=pdf._fonts)]
    try:
        yield
    finally:
        pdf._css = saved


def _levers(renderer: Any) -> dict[str, Callable[[], AbstractContextManager[None]]]:
    """name → a context manager that puts the code in its reference state (ratio = on ÷ off)."""
    return {
        "compress": compression_off,
        "pdfid": identifier_off,
        "pdf-writing": pdf_writing_off,
        "qr": qr_uncached,
        "gc": gc_untuned,
        "null": nullcontext,  # the noise floor: the same code on both sides
    }


def paired(renderer: Any, docs: dict[str, list[Any]], off: Callable[[], Any],
           rounds: int) -> dict[str, Any]:
    """Median over rounds of on ÷ off CPU-seconds per document, A B B A within a round."""
    ratios: dict[str, list[float]] = {kind: [] for kind in KINDS}
    seconds: dict[str, dict[str, list[float]]] = {k: {"on": [], "off": []} for k in KINDS}
    for index in range(rounds):
        for kind in KINDS:
            order = ("off", "on", "on", "off") if index % 2 == 0 else ("on", "off", "off", "on")
            got: dict[str, list[float]] = {"on": [], "off": []}
            for spec in docs[kind]:  # interleaved per document: both sides see the same load
                for side in order:
                    with off() if side == "off" else nullcontext():
                        got[side].append(_cpu_per_doc(renderer, [spec]))
            on, was = sum(got["on"]), sum(got["off"])
            ratios[kind].append(on / was)
            seconds[kind]["on"].append(on / len(got["on"]))
            seconds[kind]["off"].append(was / len(got["off"]))
    return {kind: {"ratio_on_over_off": statistics.median(ratios[kind]),
                   "speedup": 1 / statistics.median(ratios[kind]),
                   "rounds": [round(r, 4) for r in ratios[kind]],
                   "cpu_s_on": statistics.median(seconds[kind]["on"]),
                   "cpu_s_off": statistics.median(seconds[kind]["off"])}
            for kind in KINDS}


def run_levers(rounds: int, count: int, only: list[str], css: str | None) -> dict[str, Any]:
    project, renderer = _load(Path.cwd())
    docs = {kind: _docs(project, kind, count) for kind in KINDS}
    _warm_up(renderer, docs)
    start_process()
    levers = _levers(renderer)
    if css is not None:  # the rules as they were before a CSS change: that change's "off"
        levers["css"] = lambda: extra_css(renderer, css)
    result: dict[str, Any] = {"documents": {k: [s.key.id for s in docs[k]] for k in KINDS}}
    for name in only or list(levers):
        result[name] = paired(renderer, docs, levers[name], rounds)
        print(name, json.dumps({k: round(v["speedup"], 3) for k, v in result[name].items()
                                if isinstance(v, dict)}), file=sys.stderr, flush=True)
    return result


def start_process() -> None:
    """What a render process does once warm: generator.render.gctuning, where the revision
    has it (the pool and worker children call it)."""
    try:
        tune: Any = importlib.import_module("generator.render.gctuning").tune_gc_after_warm_up
    except ImportError:
        return
    tune()


# --- baseline: alternating child processes, one per revision ----------------------------------


def _child(root: Path, count: int, base_env: dict[str, str] | None = None
           ) -> subprocess.Popen[str]:
    env = {**(os.environ if base_env is None else base_env), "PYTHONPATH": str(root)}
    return subprocess.Popen([sys.executable, str(HERE), "probe", str(root), str(count)],
                            env=env, cwd=root, stdout=subprocess.PIPE, text=True)


def _result(child: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = child.communicate()
    if child.returncode:
        raise RuntimeError(f"probe failed: {child.args!r}")
    parsed: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return parsed


def run_baseline(base: Path, rounds: int, count: int, head: Path | None = None,
                 together: bool = False, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Child processes, one per revision: one after the other (order swapped every round) or,
    with `together`, both at once, so that both see the same load on a shared machine; `env`
    is the children's environment (default: this process's)."""
    roots = {"base": base.resolve(), "head": (head or HERE.parents[1]).resolve()}
    got: dict[str, list[dict[str, Any]]] = {"base": [], "head": []}
    for index in range(rounds):
        order = ("base", "head") if index % 2 == 0 else ("head", "base")
        if together:
            children = {side: _child(roots[side], count, env) for side in order}
            for side in order:
                got[side].append(_result(children[side]))
        else:
            for side in order:
                got[side].append(_result(_child(roots[side], count, env)))
        for side in order:
            print(side, json.dumps({k: got[side][-1][k] for k in KINDS}), file=sys.stderr,
                  flush=True)
    result: dict[str, Any] = {"documents": {s: got[s][0]["documents"] for s in got}}
    for kind in KINDS:
        ratios = [b[kind] / h[kind] for b, h in zip(got["base"], got["head"], strict=True)]
        result[kind] = {"speedup_head_over_base": statistics.median(ratios),
                        "rounds": [round(r, 4) for r in ratios],
                        "cpu_s_base": statistics.median(b[kind] for b in got["base"]),
                        "cpu_s_head": statistics.median(h[kind] for h in got["head"])}
    return result


# --- same look: a CSS lever must draw every page exactly as before -----------------------------


def _page_streams(data: bytes) -> list[bytes]:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [b"".join(c.read_bytes() for c in (page.obj.Contents
                                                  if isinstance(page.obj.Contents, pikepdf.Array)
                                                  else [page.obj.Contents]))
                for page in pdf.pages]


def run_same_look(css: str) -> dict[str, Any]:
    """Every demo handout and consent with and without `css`: are the pages' drawing
    operators (decoded content streams) identical, i.e. the same pixels?"""
    project, renderer = _load(Path.cwd())
    differ = []
    specs = [s for s in project.specs if s.key.kind in KINDS]
    for spec in specs:
        plain = next(a.data for a in renderer.render(spec) if a.format == "pdf")
        with extra_css(renderer, css):
            changed = next(a.data for a in renderer.render(spec) if a.format == "pdf")
        if _page_streams(plain) != _page_streams(changed):
            differ.append(spec.key.id)
    return {"css": css, "documents": len(specs), "drawn_differently": differ}


# --- profile ----------------------------------------------------------------------------------

STAGES = (
    # (label, file suffix, function name): cumulative time in the profile
    ("layout (incl. text shaping)", "weasyprint/layout/__init__.py", "layout_document"),
    ("  page-margin boxes (running footer)", "weasyprint/layout/page.py", "make_margin_boxes"),
    ("  tables", "weasyprint/layout/table.py", "table_layout"),
    ("draw pages", "weasyprint/draw/__init__.py", "draw_page"),
    ("CSS cascade + computed styles", "weasyprint/css/__init__.py", "get_all_computed_styles"),
    ("box tree", "weasyprint/formatting_structure/build.py", "build_formatting_structure"),
    ("HTML parse", "weasyprint/__init__.py", "__init__"),
    ("fonts: subset + embed", "weasyprint/pdf/fonts.py", "build_fonts_dictionary"),
    ("PDF tags", "weasyprint/pdf/tags.py", "add_tags"),
    ("pydyf: serialise (+ zlib)", "pydyf/__init__.py", "write"),
    ("  zlib compress", "~", "<method 'compress' of 'zlib.Compress' objects>"),
    ("finishing pass (pikepdf)", "generator/render/pdffinish.py", "finish"),
    ("  pikepdf save (qpdf write)", "pikepdf/_methods.py", "save"),
    ("jinja", "generator/templating.py", "render_template"),
)


def _stage_shares(stats: pstats.Stats, total: float) -> list[tuple[str, float]]:
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for label, suffix, name in STAGES:
        cumulative = sum(v[3] for (path, _, func), v in table.items()
                         if func == name and (path == suffix or path.endswith(suffix)))
        rows.append((label, cumulative / total if total else 0.0))
    return rows


@contextmanager
def _gc_timer() -> Iterator[list[float]]:
    spent = [0.0]
    started = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.process_time()
        else:
            spent[0] += time.process_time() - started[0]

    gc.callbacks.append(callback)
    try:
        yield spent
    finally:
        gc.callbacks.remove(callback)


def run_profile(target: Path, count: int, repeats: int) -> None:
    project, renderer = _load(Path.cwd())
    docs = {kind: _docs(project, kind, count) for kind in KINDS}
    _warm_up(renderer, docs)
    start_process()
    lines = [f"# cProfile of warm renders, {repeats} x {count} per kind, "
             f"gc threshold {gc.get_threshold()}, frozen {gc.get_freeze_count()}", ""]
    for kind in KINDS:
        with _gc_timer() as gc_spent:
            start = time.process_time()
            for _ in range(repeats):
                _cpu_per_doc(renderer, docs[kind])
            plain = (time.process_time() - start) / (repeats * len(docs[kind]))
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(repeats):
            for spec in docs[kind]:
                renderer.render(spec)
        profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        total = stats.total_tt  # type: ignore[attr-defined]
        lines.append(f"## {kind}: {plain * 1000:.0f} ms CPU per document without the profiler; "
                     f"garbage collection {gc_spent[0] / (plain * repeats * len(docs[kind])):.1%}"
                     f" of that")
        lines.append("stage shares of the profiled time (cumulative, nested rows indented):")
        lines += [f"  {share:6.1%}  {label}" for label, share in _stage_shares(stats, total)]
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        lines += ["", text.getvalue()]
    target.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.levers")
    parser.add_argument("mode", choices=("levers", "baseline", "profile", "probe", "samelook"))
    parser.add_argument("args", nargs="*")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--docs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="")
    parser.add_argument("--css", default=None, help="CSS that undoes a CSS lever (old rules)")
    parser.add_argument("--json", default=None, help="also write the result here")
    parser.add_argument("--head", default=None, help="baseline: the other tree (default: this)")
    parser.add_argument("--together", action="store_true", help="baseline: both children at once")
    ns = parser.parse_args(argv)
    if ns.mode == "probe":
        print(json.dumps(probe(Path(ns.args[0]), int(ns.args[1]))))
        return
    if ns.mode == "profile":
        run_profile(Path(ns.args[0]), ns.docs, ns.repeats)
        return
    if ns.mode == "samelook":
        result = run_same_look(ns.args[0])
    elif ns.mode == "levers":
        result = run_levers(ns.rounds, ns.docs, [o for o in ns.only.split(",") if o], ns.css)
    else:
        result = run_baseline(Path(ns.args[0]), ns.rounds, ns.docs,
                              Path(ns.head) if ns.head else None, ns.together)
    text = json.dumps(result, indent=2)
    print(text)
    if ns.json:
        Path(ns.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
