"""The API's builds, run in the core process (api.core): the same build as `carepress build`,
its outcome as a plain picklable record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.errors import BuildBusyError, CarepressError
from generator.plan.project import Project
from generator.publish import gate
from generator.publish.build import build
from generator.publish.runners import Runner, choose_runner
from generator.settings import Settings

# Per core process: one Celery app per broker (a front-end's per-process cache).
_apps: dict[str, Any] = {}


@dataclass(frozen=True)
class BuildResult:
    built: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    held_back: dict[str, str] = field(default_factory=dict)
    """Documents kept at their last published version, with the reason."""
    error: str | None = None
    """The whole build failed (invalid content or templates, storage)."""
    busy: bool = False
    """Another build (e.g. the CLI's) holds the output folder; try again later."""


def run_build(settings: Settings, queued: bool) -> BuildResult:
    """One build, published and with its manifest written, exactly as `carepress build`
    (`--queue` when a broker is configured) does it."""
    try:
        project = gate.admit(settings)
        # Embedded, the core process renders every job itself (no local pool: CAREPRESS_JOBS
        # is for `carepress build`); with a broker, the workers do.
        runner = choose_runner(project, queue=_queue_runner if queued else None)
        report = build(project, settings.out_dir, runner)
    except BuildBusyError:
        return BuildResult(busy=True)
    except CarepressError as exc:
        return BuildResult(error=str(exc))
    return BuildResult(tuple(report.built), dict(report.failed), tuple(report.removed),
                       dict(report.held_back))


def _queue_runner(project: Project) -> Runner:
    from worker import batches  # Celery is imported only by a server that has a broker
    from worker.app import make_app

    settings = project.settings
    if settings.broker_url not in _apps:
        _apps[settings.broker_url] = make_app(settings)
    batches.check_broker(settings)
    return batches.queue_runner(_apps[settings.broker_url], settings)
