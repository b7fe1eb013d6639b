"""Redis outages in the worker's log: one line per event, not tracebacks and repeated lines.

Celery says what it does during an outage in several multi-line messages; these filters,
on Celery's own loggers, fold them into single lines and drop the repeats. Nothing is hidden
at DEBUG level (`carepress --debug worker`)."""

from __future__ import annotations

import logging
import warnings
from typing import Any

from celery.exceptions import CPendingDeprecationWarning
from celery.signals import celeryd_after_setup

CONSUMER_LOGGER = "celery.worker.consumer.consumer"
BACKEND_LOGGER = "celery.backends.redis"


class OneLine(logging.Filter):
    """Folds a record's message onto one line (Celery's "Cannot connect to …" spans three)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        message = record.getMessage()
        if "\n" in message:
            record.msg, record.args = " ".join(message.split()), None
        return True


class FirstRetry(logging.Filter):
    """Keeps the first of the result backend's "Connection to Redis lost: Retry (n/max)"
    lines, one a second while Redis is away, and drops the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        if str(record.msg).startswith("Connection to Redis lost: Retry") and record.args:
            return isinstance(record.args, tuple) and record.args[0] == 0
        return True


def install() -> None:
    """Idempotent; called when the worker app is made (inherited by the pool children)."""
    for name, kind in ((CONSUMER_LOGGER, OneLine), (BACKEND_LOGGER, FirstRetry)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
    celeryd_after_setup.connect(_quiet_warnings, weak=False, dispatch_uid="carepress-logs")


def _quiet_warnings(**_: Any) -> None:
    """After Celery's logging set-up, which makes its warnings always shown: this one comes on
    every lost connection, about a default we chose on purpose (worker/app.py)."""
    warnings.filterwarnings("ignore", category=CPendingDeprecationWarning,
                            message=r"\s*In Celery 5.1 we introduced an optional breaking change")
