"""The exception hierarchy every front-end turns into one clear line."""

from __future__ import annotations

from dataclasses import dataclass


class CarepressError(Exception):
    """Base of every error carepress reports to a user."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content tree, located as precisely as we can."""

    file: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class ContentError(CarepressError):
    """The content tree is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class TemplateError(CarepressError):
    """A template failed to compile or render (undefined variable, syntax error)."""


class FetchError(CarepressError):
    """A document asked for a resource outside the allowed assets."""


class RenderError(CarepressError):
    """WeasyPrint failed or warned while rendering a document."""


class UnknownDocumentError(CarepressError):
    """A document key names no document in the plan."""


class StorageError(CarepressError):
    """The output store could not be read or written."""


class BuildBusyError(StorageError):
    """Another build holds the output folder."""


class PublishError(StorageError):
    """Publishing failed (a full or read-only disk); nothing was published. Carries the report
    of the build, so a front-end can still say what was rendered and what failed."""

    def __init__(self, message: str, report: object) -> None:
        super().__init__(message)
        self.report = report


class TransientError(CarepressError):
    """A failure worth retrying: the storage or broker hiccupped, the input is fine."""


class BrokerError(CarepressError):
    """The queue's broker cannot be reached."""
