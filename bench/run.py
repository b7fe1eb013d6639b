"""carepress benchmark: `python bench/run.py [--quick] [--repeat N] [--output FILE]`, or
`python bench/run.py --profile FILE` for a cProfile of one warm handout render.

Generates a synthetic content tree (40 clinics, 2 therapies, 60 locations, English and Spanish;
--quick a tenth) in a temporary folder, measures every figure side by side in one run, writes
bench/results.json and prints the same JSON as the last line of standard output. Progress goes
to standard error. Ratios are the targets (the machine is shared and noisy); absolute times are
reported too.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import synth  # noqa: E402
from bench.services import Chromium, MeasuredRedis, MeasuredWorker, find_chromium  # noqa: E402

RESULTS = REPO / "bench" / "results.json"
SUMMARY = re.compile(r"built (\d+), unchanged (\d+), failed (\d+), removed (\d+)")
FIGURES = (
    "cold_warm_ratio", "parallel_speedup", "noop_rebuild", "one_change_rebuild",
    "html_pages_per_s", "pdf_ms_per_page_handout", "pdf_ms_per_page_consent",
    "memory_growth_mb", "peer_chromium_ratio", "queue_vs_inprocess", "queue_worker_rss_mb",
)


@dataclass(frozen=True)
class Plan:
    """How much of everything to do; --quick is a tenth of the content and fewer repeats."""

    quick: bool
    sizes: dict[str, int]
    samples: int  # documents timed per kind in the warm process
    cold_runs: int  # fresh `weasyprint` processes timed
    memory: tuple[int, int]  # (renders, base)
    queue_renders: int  # worker RSS read after this many renders
    quiet_wait: float  # at most this many seconds waited for a quiet machine before a step
    repeat: int = 1  # rounds of full builds (and rebuilds); the fastest counts


FULL = Plan(False, synth.FULL, 10, 3, (500, 10), 200, 60)
QUICK = Plan(True, synth.QUICK, 4, 2, (50, 10), 50, 0)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def figure(value: float | None, unit: str, target: str, met: bool | None,
           **details: Any) -> dict[str, Any]:
    return {"value": _round(value), "unit": unit, "target": target, "met": met,
            **{k: _round(v) for k, v in details.items()}}


def unavailable(unit: str, target: str, reason: str) -> dict[str, Any]:
    return figure(None, unit, target, None, reason=reason)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4 if abs(value) < 10 else 1)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without CAREPRESS_* settings (they would change what is built)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPRESS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds every process on the machine has used since boot (from /proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_s() -> float:
    """CPU seconds of this process and of its children that have exited."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class Meter:
    """Wall time, our CPU time, and how busy the rest of the (shared) machine was meanwhile:
    other_load is the share of all cores used by processes that are not part of the
    measurement (0: quiet; 0.5 on 2 cores: someone else kept a whole core busy)."""

    def __init__(self, extra_cpu: Callable[[], float] | None = None) -> None:
        self.extra_cpu = extra_cpu or (lambda: 0.0)
        self.wall_s = self.cpu_s = self.other_load = self.extra_s = 0.0

    def __enter__(self) -> Meter:
        self._start = (time.perf_counter(), own_cpu_s(), self.extra_cpu(), machine_busy_s())
        return self

    def __exit__(self, *exc: object) -> None:
        wall0, own0, extra0, busy0 = self._start
        self.wall_s = time.perf_counter() - wall0
        self.extra_s = self.extra_cpu() - extra0
        self.cpu_s = own_cpu_s() - own0 + self.extra_s
        foreign = max(0.0, machine_busy_s() - busy0 - self.cpu_s)
        self.other_load = foreign / (self.wall_s * (os.cpu_count() or 1))


def wait_quiet(limit: float, threshold: float = 0.15) -> tuple[float, float]:
    """Wait until other processes used less than `threshold` of all cores over one second, or
    `limit` seconds passed; returns (seconds waited, last other load)."""
    start = time.monotonic()
    while True:
        with Meter() as meter:
            time.sleep(1.0)
        waited = time.monotonic() - start
        if meter.other_load < threshold or waited >= limit:
            return waited, meter.other_load


@dataclass(frozen=True)
class BuildRun:
    wall_s: float
    cpu_s: float
    other_load: float
    built: int
    unchanged: int
    service_cpu_s: float = 0.0
    """Of cpu_s: the queue worker's and redis-server's share (the rest is the CLI's)."""

    def as_dict(self) -> dict[str, Any]:
        data = {"wall_s": self.wall_s, "cpu_s": self.cpu_s, "other_load": self.other_load,
                "built": self.built, "unchanged": self.unchanged}
        if self.service_cpu_s:
            data["service_cpu_s"] = self.service_cpu_s
        return data


def cli_build(content: Path, out: Path, *options: str, env: dict[str, str] | None = None,
              extra_cpu: Callable[[], float] | None = None) -> BuildRun:
    """`python -m cli.main build` in a fresh process: start-up is counted as a user sees it."""
    command = [sys.executable, "-m", "cli.main", "build", "--content", str(content), "--out",
               str(out), "--quiet", *options]
    with Meter(extra_cpu) as meter:
        result = subprocess.run(command, cwd=REPO, env=env or clean_env(), capture_output=True,
                                text=True, timeout=3600, check=False)
    match = SUMMARY.search(result.stdout)
    if result.returncode != 0 or match is None or int(match[3]):
        raise RuntimeError(f"{' '.join(command[2:])} failed ({result.returncode}):\n"
                           f"{result.stdout[-1500:]}{result.stderr[-3000:]}")
    run = BuildRun(meter.wall_s, meter.cpu_s, meter.other_load, int(match[1]), int(match[2]),
                   meter.extra_s)
    log(f"  build {' '.join(options)}: {run.wall_s:.2f}s wall, {run.cpu_s:.1f}s cpu, "
        f"built {run.built}, unchanged {run.unchanged}, other load {run.other_load:.0%}")
    return run


def probe(kind: str, **arguments: Any) -> dict[str, Any]:
    """An in-process measurement in a fresh child process (bench/probes.py)."""
    with Meter() as meter:
        result = subprocess.run(
            [sys.executable, "-m", "bench.probes", kind, json.dumps(arguments)], cwd=REPO,
            env=clean_env(), capture_output=True, text=True, timeout=3600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"probe {kind} failed:\n{result.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    data["other_load"] = meter.other_load
    return data


class QueueService:
    """A private redis-server and one `carepress worker --concurrency 2`, kept up while the
    in-process and queued builds alternate; samples the pool's RSS as renders accumulate."""

    WORKERS = "one `carepress worker --concurrency 2` (prefork: 2 pool children)"

    def __init__(self, folder: Path, content: Path, target_renders: int) -> None:
        self.folder = folder
        self.content = content
        self.target = target_renders
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> QueueService:
        import redis  # celery[redis] brings it

        self.folder.mkdir()
        with self._stack as stack:
            self.server = stack.enter_context(MeasuredRedis(self.folder / "redis"))
            url = self.server.url
            self.env = clean_env(
                CAREPRESS_BROKER_URL=f"{url}/0", CAREPRESS_RESULT_BACKEND=f"{url}/1",
                CAREPRESS_CONTENT_DIR=str(self.content), CAREPRESS_QUEUE=f"bench-{os.getpid()}",
                CAREPRESS_BROKER_WAIT="60")
            log(f"queue: redis-server on {url}, {self.WORKERS}")
            self.worker = stack.enter_context(
                MeasuredWorker(self.env, self.folder / "worker.log", 2))
            self.warmup_s = self.worker.wait_idle()
            client = redis.Redis.from_url(f"{url}/0")
            self.sampler = stack.enter_context(
                RssSampler(self.worker, lambda: render_count(client), self.target))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def cpu_s(self) -> float:
        return self.worker.cpu_s() + self.server.cpu_s()

    def build(self, out: Path, *options: str) -> BuildRun:
        return cli_build(self.content, out, "--queue", *options, env=self.env,
                         extra_cpu=self.cpu_s)

    def reach_target(self, out: Path) -> None:
        while self.sampler.renders() < self.target:  # --quick: one build is too few renders
            self.build(out, "--force")

    def describe(self) -> dict[str, Any]:
        return {"workers": self.WORKERS, "worker_warmup_s": self.warmup_s,
                "redis": self.server.version()}


class Bench:
    def __init__(self, plan: Plan, folder: Path) -> None:
        self.plan = plan
        self.folder = folder
        self.results: dict[str, Any] = {"quiet_waits": []}
        self.figures: dict[str, dict[str, Any]] = {}
        self.full: dict[str, BuildRun] = {}
        self.tree = synth.make_tree(folder / "content", REPO / "content", **plan.sizes)
        self.content = self.tree.root

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        self.results["machine"] = machine()
        self.results["content"] = {"clinics": len(self.tree.clinics),
                                   "therapies": len(self.tree.therapies),
                                   "locations": len(self.tree.locations),
                                   "languages": self.tree.languages}
        warm = self.measure_warm()
        self.measure_cold(warm)
        with self.queue_service() as queue:
            self.measure_builds(queue)
            self.measure_rebuilds(queue)
        self.per_document_in_build()
        self.measure_memory()
        self.measure_peer(warm)
        self.results["figures"] = {name: self.figures[name] for name in FIGURES}
        self.results["summary"] = {name: [f["value"], f["target"], f["met"]]
                                   for name, f in self.results["figures"].items()}
        self.results["elapsed_s"] = round(time.perf_counter() - started, 1)
        self.results["loadavg_end"] = os.getloadavg()
        return self.results

    def quiet(self, what: str) -> None:
        """Before a timed step, wait (a bounded time) for other processes to calm down."""
        if self.plan.quiet_wait <= 0:
            return
        waited, load = wait_quiet(self.plan.quiet_wait)
        self.results["quiet_waits"].append({"before": what, "waited_s": waited,
                                            "other_load": round(load, 3)})
        if waited >= 1.5:
            log(f"  waited {waited:.0f}s for a quieter machine (other load {load:.0%})")

    def measure_warm(self) -> dict[str, Any]:
        log("warm renderer: per-document times, pages per second, stage breakdown")
        self.quiet("warm")
        warm = probe("warm", content=str(self.content), out=str(self.folder / "warm-out"),
                     samples=self.plan.samples, html_dir=str(self.folder / "html"))
        self.results["warm"] = {k: v for k, v in warm.items() if k != "html_files"}
        pages = warm["pages"]
        self.figures["html_pages_per_s"] = figure(
            pages["per_s"], "pages/s", ">= 1000", pages["per_s"] >= 1000,
            pages=pages["count"], first_pass_per_s=pages["first_pass_per_s"],
            ms_per_page=1000 / pages["per_s"], other_load=warm["other_load"])
        for kind in ("handout", "consent"):
            row = warm[kind]
            self.figures[f"pdf_ms_per_page_{kind}"] = figure(
                row["ms_per_page"], "ms/page", "report", None, pages=row["pages_median"],
                document_ms=row["median_s"] * 1000, pdf_only_ms=row["pdf_median_s"] * 1000,
                documents_timed=row["n"], other_load=warm["other_load"])
        return warm

    def measure_cold(self, warm: dict[str, Any]) -> None:
        """The `weasyprint` command line, one fresh process per handout, on the same print HTML
        and stylesheets that carepress uses, against carepress's warm per-handout time."""
        log("cold: the weasyprint command line, one fresh process per handout")
        command = weasyprint_command()
        static = REPO / "templates" / "static"
        files = warm["html_files"]
        times, loads = [], []
        for index, item in enumerate([files[0], *files[:self.plan.cold_runs]]):
            if index:
                self.quiet("cold")
            with Meter() as meter:
                subprocess.run([*command, "-s", str(static / "carepress.css"), "-s",
                                str(static / "print.css"), "-u", item["base_url"], "--pdf-tags",
                                item["html"], str(self.folder / "cold.pdf")],
                               cwd=REPO, env=clean_env(), check=True, capture_output=True,
                               timeout=600)
            if index:  # the first run only primes the disk and fontconfig caches
                times.append(meter.wall_s)
                loads.append(meter.other_load)
            log(f"  {'cold' if index else 'priming run'}: {meter.wall_s:.2f}s")
        cold, hot = statistics.median(times), warm["handout"]["median_s"]
        weasyprint_only = warm["handout"]["pdf_median_s"]
        self.figures["cold_warm_ratio"] = figure(
            cold / hot, "ratio", ">= 5", cold / hot >= 5, cold_s=cold, warm_s=hot,
            # The ceiling: the ratio if carepress added nothing to WeasyPrint's own warm render
            # (and that render does more than the command line's: PDF/UA, forms).
            warm_weasyprint_s=weasyprint_only, ceiling=cold / weasyprint_only,
            warm_s_needed=cold / 5,
            cold_runs=times, other_load=max(loads), warm_other_load=warm["other_load"],
            command=" ".join(Path(c).name for c in command),
            warm_note="carepress DocumentRenderer.render of a handout (web HTML + print HTML + "
                      "PDF) in a warm process, median of "
                      f"{warm['handout']['n']} clinics")

    def per_document_in_build(self) -> None:
        """The other reading of "per-document time inside a warm build": the --jobs 2 full
        build's wall time per PDF document (everything else it builds is cheap)."""
        per_document = self.full["jobs2"].wall_s / self.pdf_documents()
        cold = self.figures["cold_warm_ratio"]
        cold["jobs2_build_s_per_pdf_document"] = _round(per_document)
        cold["cold_vs_jobs2_build_per_document"] = _round(cold["cold_s"] / per_document)

    def pdf_documents(self) -> int:
        """Handouts and consent forms: what takes nearly all of a build's time."""
        tree = self.tree
        return 2 * len(tree.clinics) * len(tree.therapies) * len(tree.languages)

    def build(self, out: str, *options: str) -> BuildRun:
        self.quiet(f"build {out} {' '.join(options)}")
        return cli_build(self.content, self.folder / out, *options)

    def measure_builds(self, queue: QueueService | None) -> None:
        """Full builds into empty folders, alternating --jobs 1, --jobs 2 and --queue; the
        best of --repeat rounds counts (noise only ever adds time)."""
        runs: dict[str, list[BuildRun]] = {"jobs1": [], "jobs2": [], "queue": []}
        for r in range(self.plan.repeat):
            log(f"full builds, round {r + 1}/{self.plan.repeat}: --jobs 1, --jobs 2, --queue")
            runs["jobs1"].append(self.build(f"out-1-{r}", "--jobs", "1"))
            runs["jobs2"].append(self.build(f"out-2-{r}", "--jobs", "2"))
            if queue is not None:
                self.quiet("build --queue")
                runs["queue"].append(queue.build(self.folder / f"out-q-{r}"))
        if queue is not None:
            queue.reach_target(self.folder / "out-q-0")
            self.queue_figures(queue, runs)
            self.full["queue"] = min(runs["queue"], key=lambda b: b.wall_s)
        one, two = (min(runs[k], key=lambda b: b.wall_s) for k in ("jobs1", "jobs2"))
        self.full.update(jobs1=one, jobs2=two)
        self.figures["parallel_speedup"] = figure(
            one.wall_s / two.wall_s, "ratio", ">= 1.85", one.wall_s / two.wall_s >= 1.85,
            jobs1=one.as_dict(), jobs2=two.as_dict(), documents=one.built,
            cpu_ratio=two.cpu_s / one.cpu_s, other_load=max(one.other_load, two.other_load),
            rounds={k: [b.wall_s for b in v] for k, v in runs.items()})

    @contextlib.contextmanager
    def queue_service(self) -> Iterator[QueueService | None]:
        """The queue, or None (with both queue figures null) when Redis is missing."""
        with contextlib.ExitStack() as stack:
            queue: QueueService | None = None
            try:
                queue = stack.enter_context(
                    QueueService(self.folder / "queue", self.content, self.plan.queue_renders))
            except (FileNotFoundError, ImportError, TimeoutError) as exc:
                reason = f"skipped: {exc}"
                log(f"queue {reason}")
                self.figures["queue_vs_inprocess"] = unavailable("ratio", "<= 1.10", reason)
                self.figures["queue_worker_rss_mb"] = unavailable("MB", "report", reason)
            yield queue

    def queue_figures(self, queue: QueueService, runs: dict[str, list[BuildRun]]) -> None:
        queued = min(runs["queue"], key=lambda b: b.wall_s)
        inprocess = min(runs["jobs2"], key=lambda b: b.wall_s)
        ratio = queued.wall_s / inprocess.wall_s
        self.figures["queue_vs_inprocess"] = figure(
            ratio, "ratio", "<= 1.10", ratio <= 1.10, queued=queued.as_dict(),
            inprocess_jobs2=inprocess.as_dict(),
            other_load=max(queued.other_load, inprocess.other_load), **queue.describe())
        rss = queue.sampler.result()
        self.figures["queue_worker_rss_mb"] = figure(
            rss.pop("max_mb"), "MB", "report", None, measure="max over the pool children",
            **rss)

    def measure_rebuilds(self, queue: QueueService | None) -> None:
        """No-op rebuilds, then one clinic's colour changed (a new colour each round): in
        process (--jobs 2, the figure; --jobs 1) and on the already-warm queue workers."""
        log("rebuilds: nothing changed, then one clinic's colour")
        full1, full2 = self.full["jobs1"], self.full["jobs2"]
        noop2 = min((self.build("out-2-0", "--jobs", "2") for _ in range(self.plan.repeat)),
                    key=lambda b: b.wall_s)
        noop1 = self.build("out-1-0", "--jobs", "1")
        self.figures["noop_rebuild"] = figure(
            noop2.wall_s / full2.wall_s, "ratio", "<= 0.02", noop2.wall_s / full2.wall_s <= 0.02,
            jobs2=noop2.as_dict(), jobs1=noop1.as_dict(),
            jobs1_ratio=noop1.wall_s / full1.wall_s, full_build_s=full2.wall_s,
            other_load=max(noop2.other_load, full2.other_load))
        clinic = self.tree.clinics[0]
        changes: dict[str, list[BuildRun]] = {"jobs2": [], "jobs1": [], "queue": []}
        colours = []
        for _ in range(self.plan.repeat):
            colours.append("{} -> {}".format(*synth.change_colour(self.tree, clinic)))
            changes["jobs2"].append(self.build("out-2-0", "--jobs", "2"))
            changes["jobs1"].append(self.build("out-1-0", "--jobs", "1"))
            if queue is not None:
                self.quiet("build --queue")
                changes["queue"].append(queue.build(self.folder / "out-q-0"))
        change2, change1 = (min(changes[k], key=lambda b: b.wall_s) for k in ("jobs2", "jobs1"))
        queued: dict[str, Any] = {}
        if changes["queue"] and "queue" in self.full:
            best = min(changes["queue"], key=lambda b: b.wall_s)
            queued = {"queue": best.as_dict(),
                      "queue_ratio": best.wall_s / self.full["queue"].wall_s,
                      "queue_note": "build --queue on workers already warm (WeasyPrint "
                                    "imported, fonts loaded), against the full queued build"}
        documents = 2 * len(self.tree.therapies) * len(self.tree.languages)
        share = documents / full2.built
        ratio = change2.wall_s / full2.wall_s
        # The floor: the no-op rebuild plus the clinic's documents rendered by already-warm
        # processes on both cores (--jobs 2), with no other cost.
        warm = self.results["warm"]
        renders = documents / 2 * (warm["handout"]["median_s"] + warm["consent"]["median_s"])
        floor_s = noop2.wall_s + renders / 2  # --jobs 2
        self.figures["one_change_rebuild"] = figure(
            ratio, "ratio", f"<= {share + 0.02:.4f} (clinic's share {share:.4f} + 0.02)",
            ratio <= share + 0.02, clinic=clinic, colours=colours,
            clinic_documents=documents, documents=full2.built, share=share,
            share_of_pdf_documents=documents / self.pdf_documents(),
            floor_s=floor_s, floor=floor_s / full2.wall_s,
            jobs2=change2.as_dict(), jobs1=change1.as_dict(),
            jobs1_ratio=change1.wall_s / full1.wall_s, full_build_s=full2.wall_s,
            other_load=max(change2.other_load, full2.other_load), **queued)

    def measure_memory(self) -> None:
        renders, base = self.plan.memory
        log(f"memory: one long-lived renderer, RSS after {renders} renders - after {base}")
        data = probe("memory", content=str(self.content), out=str(self.folder / "mem-out"),
                     renders=renders, base=base)
        self.figures["memory_growth_mb"] = figure(
            data["growth_mb"], "MB", "<= 50", data["growth_mb"] <= 50, **data)

    def measure_peer(self, warm: dict[str, Any]) -> None:
        unit, target = "ratio", "report"
        binary = find_chromium()
        if binary is None:
            self.figures["peer_chromium_ratio"] = unavailable(
                unit, target, "skipped: Chromium is not installed (apt-get install -y chromium)")
            return
        try:
            with Chromium(binary, self.folder / "chromium") as browser:
                data = self._print_with_chromium(browser, warm)
        except ImportError as exc:
            self.figures["peer_chromium_ratio"] = unavailable(
                unit, target, f"skipped: {exc} (pip install -e '.[dev]' installs websocket-client)")
            return
        except Exception as exc:  # an optional peer, not carepress: report why, go on
            reason = f"failed: {type(exc).__name__}: {exc}"
            log(f"peer {reason}")
            self.figures["peer_chromium_ratio"] = unavailable(unit, target, reason)
            return
        hot = warm["handout"]["median_s"]
        self.figures["peer_chromium_ratio"] = figure(
            data["median_s"] / hot, unit, target, None, chromium_s=data["median_s"],
            carepress_warm_s=hot, **data,
            note="ratio > 1: Chromium is slower per document than carepress; Chromium ignores "
                 "the running footer (GCPM) and PDF tags, so its output is not the same PDF")

    def _print_with_chromium(self, browser: Chromium, warm: dict[str, Any]) -> dict[str, Any]:
        log("peer: warm headless Chromium, Page.printToPDF per handout")
        urls = [Path(f["linked_html"]).as_uri() for f in warm["html_files"]]
        for url in urls[:2]:  # warm-up
            browser.print_pdf(url)
        times, pages = [], []
        for url in urls:
            start = time.perf_counter()
            pdf = browser.print_pdf(url)
            times.append(time.perf_counter() - start)
            pages.append(_count_pages(pdf))
        return {"median_s": statistics.median(times), "documents": len(times),
                "pages_median": statistics.median(p for p in pages if p) if any(pages) else None,
                "version": browser.version()}


def _count_pages(pdf: bytes) -> int | None:
    try:
        import io

        from pypdf import PdfReader
    except ImportError:
        return None
    return len(PdfReader(io.BytesIO(pdf)).pages)


class RssSampler:
    """Polls the worker during the queued build; keeps the pool's RSS at the first sample where
    the workers had done at least `target` renders (the Redis counters carepress keeps)."""

    def __init__(self, worker: MeasuredWorker, count: Callable[[], int], target: int) -> None:
        self.worker = worker
        self.count = count
        self.target = target
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._at_target: dict[str, Any] | None = None
        self._last: dict[str, Any] = {}

    def renders(self) -> int:
        return self.count()

    def _sample(self) -> dict[str, Any]:
        sizes = self.worker.pool_rss_mb()
        return {"renders": self.count(), "children": len(sizes),
                "max_mb": max(sizes, default=0.0), "sum_mb": sum(sizes)}

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            sample = self._sample()
            self._last = sample
            if self._at_target is None and sample["renders"] >= self.target:
                self._at_target = sample

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def result(self) -> dict[str, Any]:
        at = self._at_target or self._sample()
        return {"max_mb": at["max_mb"], "sum_mb": at["sum_mb"], "renders": at["renders"],
                "target_renders": self.target, "children": at["children"],
                "at_end": self._sample(),
                "note": "carepress:renders counters in Redis; pool children are recycled "
                        "after CAREPRESS_MAX_TASKS_PER_CHILD (1000) tasks each"}


def render_count(client: Any) -> int:
    keys = list(client.scan_iter("carepress:renders:*", count=1000))
    return sum(int(v) for v in client.mget(keys) if v is not None) if keys else 0


def weasyprint_command() -> list[str]:
    script = Path(sys.executable).parent / "weasyprint"
    return [str(script)] if script.exists() else [sys.executable, "-m", "weasyprint"]


def machine() -> dict[str, Any]:
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in ("weasyprint", "pydyf", "celery", "websocket-client"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    import ctypes.util

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "loadavg_start": os.getloadavg(),
            "harfbuzz_subset": ctypes.util.find_library("harfbuzz-subset") is not None,
            "chromium": find_chromium(), "redis_server": shutil.which("redis-server"),
            **versions}


def run_profile(output: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="carepress-profile-") as tmp:
        tree = synth.make_tree(Path(tmp) / "content", REPO / "content", **synth.QUICK)
        data = probe("profile", content=str(tree.root), out=str(Path(tmp) / "out"),
                     output=str(output.resolve()))
    log(f"profile of {data['document']} written to {output}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the content (CI smoke)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results JSON file")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="only profile one warm handout render into FILE, then exit")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="rounds of full builds and rebuilds; the fastest counts [1]")
    parser.add_argument("--quiet-wait", type=float, metavar="S",
                        help="wait at most S seconds for a quiet machine before each timed "
                             "step [full: 60, quick: 0]")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.profile:
        run_profile(args.profile)
        return 0
    plan = dataclasses.replace(QUICK if args.quick else FULL, repeat=max(1, args.repeat))
    if args.quiet_wait is not None:
        plan = dataclasses.replace(plan, quiet_wait=args.quiet_wait)
    folder = Path(tempfile.mkdtemp(prefix="carepress-bench-"))
    log(f"{'quick' if plan.quick else 'full'} run in {folder}")
    try:
        results = {"mode": "quick" if plan.quick else "full", "repeat": plan.repeat,
                   **Bench(plan, folder).run()}
    finally:
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    line = json.dumps(results, separators=(",", ":"))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {args.output}")
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
