"""Request and response bodies: they are the OpenAPI schema clients program against."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from generator.ids import EntryId

Status = Literal["queued", "running", "done", "failed"]


class GenericWebhook(BaseModel):
    """The generic CMS payload. Contentful's and Strapi's own payloads are accepted as they
    send them (see the README)."""

    type: Literal["therapy", "clinic", "location"] = Field(
        description="Other types are acknowledged and ignored.")
    id: EntryId = Field(description="The entry id, e.g. north-side.")
    data: dict[str, Any] | None = Field(
        default=None, description="The entry's fields, as in its content file.")
    deleted: bool = Field(default=False, description="Remove the entry instead.")


class WebhookAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    batch: str = Field(description="Follow it at /v1/batches/{batch}.")
    documents: int = Field(description="Documents that depend on the change.")
    removed: int = Field(description="Documents the change removes.")


class WebhookAcknowledged(BaseModel):
    status: Literal["duplicate", "ignored", "unchanged"]
    reason: str | None = None


class Problem(BaseModel):
    file: str
    field: str
    message: str
    line: int | None = None


class ErrorBody(BaseModel):
    detail: str
    problems: list[Problem] = []


class BatchStatus(BaseModel):
    id: str
    status: Status
    documents: int
    built: int = 0
    removed: int = 0
    error: str | None = None
    problems: list[Problem] = []


class DocumentRequest(BaseModel):
    """What a clinic asks for. The clinic comes from the token; nothing about a patient is
    accepted (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid")

    therapy: EntryId
    kind: Literal["handout", "consent"]
    lang: str = Field(default="en", pattern=r"^[a-z]{2}$")
    format: Literal["pdf", "html"] = "pdf"


class JobCreated(BaseModel):
    job_id: str


class JobStatus(BaseModel):
    id: str
    status: Status
    document_id: str | None = None
    error: str | None = None


class Health(BaseModel):
    status: Literal["ok", "ready", "unready"]
    checks: dict[str, str] = {}
