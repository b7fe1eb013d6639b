"""The one settings object, read from CAREPRESS_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask and, on 3.13+, Python's own view),
    as Sphinx's `-j auto` and Celery's default concurrency count them; at most 64."""
    counter = getattr(os, "process_cpu_count", None)
    count = counter() if counter is not None else len(os.sched_getaffinity(0))
    return max(1, min(64, count or 1))


class Settings(BaseSettings):
    """Everything configurable about a carepress process; front-ends read it once."""

    model_config = SettingsConfigDict(env_prefix="CAREPRESS_", extra="ignore")

    content_dir: Path = Field(default=Path("content"), description="The content tree.")
    out_dir: Path = Field(default=Path("out"), description="Where documents are published.")
    templates_dir: Path | None = Field(
        default=None, description="Use these templates instead of the bundled ones."
    )
    site_url: str = Field(
        default="https://www.example.com",
        description="Public base URL of the location pages (canonical URLs, sitemap).",
    )
    languages: str = Field(
        default="en,es", description="Comma-separated; English (the source) first."
    )
    jobs: int = Field(
        default_factory=usable_cpus, ge=1, le=64,
        description="Render processes for `build` (default: the CPUs this process may use).",
    )
    strict_render: bool = Field(
        default=True, description="Treat any WeasyPrint warning as a render error."
    )
    reading_grade_handout_summary: float = Field(default=6.0, gt=0)
    reading_grade_handout: float = Field(default=8.0, gt=0)
    reading_grade_consent: float = Field(default=10.0, gt=0)
    reading_grade_signed: float = Field(
        default=8.0, gt=0, description="Each statement a patient signs or initials.")
    doorway_max_share: float = Field(
        default=0.6, gt=0, le=1, description="Location pages sharing more text are flagged."
    )
    broker_url: str = Field(default="redis://127.0.0.1:6379/0", description="Celery broker.")
    result_backend: str = Field(default="redis://127.0.0.1:6379/1")
    queue: str = Field(default="carepress", description="Queue that render tasks go to.")
    task_soft_time_limit: int = Field(default=120, ge=1, description="Seconds, then an error.")
    task_time_limit: int = Field(default=180, ge=1, description="Seconds, then the kill.")
    visibility_timeout: int = Field(
        default=3600, ge=1, description="Redis redelivers an unacknowledged task after this."
    )
    max_attempts: int = Field(default=3, ge=1, le=20, description="Tries of one render task.")
    # A recycled pool child re-imports WeasyPrint and reloads the content (~1.5 s); native
    # memory now grows ~0.04 MB a render (bench memory figure), so 1000 renders is ~40 MB.
    max_tasks_per_child: int = Field(default=1000, ge=1)
    max_memory_per_child_kb: int = Field(default=800_000, ge=50_000)
    result_expires: int = Field(default=86_400, ge=60, description="Seconds results are kept.")
    broker_wait: int = Field(
        default=120, ge=1, description="Seconds `build --queue` waits for a lost broker."
    )
    worker_start_timeout: float = Field(
        default=60.0, gt=0,
        description="Seconds a new pool child may take to start (import WeasyPrint, load fonts "
                    "and the content) before the worker kills it; Celery's own 4 s is too "
                    "short on a busy host.",
    )
    worker_lost_after: int = Field(
        default=15, ge=3, le=600,
        description="Seconds without a sign of life after which the tasks a worker held go "
                    "back to the queue (they are back within about twice this).",
    )
    # --- the HTTP service (`carepress serve`) ---
    api_host: str = Field(default="127.0.0.1", description="Address `serve` listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port `serve` listens on.")
    stop_timeout: float = Field(
        default=30.0, ge=0, le=3600,
        description="Seconds `serve` waits on SIGTERM for the content write or build in "
                    "progress; one cut short is redone at the next start.")
    state_dir: Path = Field(
        default=Path("state"),
        description="The API's own files: clinic token hashes, its document-id key, the inbox.",
    )
    webhook_secrets: SecretStr = Field(
        default=SecretStr(""),
        description="Standard Webhooks secrets, comma-separated whsec_<base64> (two to rotate).",
    )
    contentful_secret: SecretStr = Field(
        default=SecretStr(""), description="Contentful's webhook signing secret."
    )
    contentful_locale: str = Field(default="en-US", description="Contentful locale to read.")
    strapi_secret: SecretStr = Field(
        default=SecretStr(""), description="Shared secret Strapi sends in `strapi_header`."
    )
    strapi_header: str = Field(default="Authorization", description="Header with that secret.")
    cms_type_map: dict[str, Literal["therapy", "location", "clinic"]] = Field(
        default={"therapy": "therapy", "location": "location", "clinic": "clinic"},
        description="CMS content type (Contentful id, Strapi model) → carepress kind; JSON.",
    )
    cms_id_field: str = Field(default="slug", description="CMS field holding the entry id.")
    webhook_tolerance: int = Field(
        default=300, ge=1, le=3600, description="Seconds a webhook timestamp may be off."
    )
    dedupe_ttl: int = Field(
        default=172_800, ge=86_400, description="Seconds a webhook delivery id is remembered."
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Larger webhook bodies are refused (413)."
    )

    @model_validator(mode="after")
    def _languages_start_with_english(self) -> Self:
        if not self.language_codes or self.language_codes[0] != "en":
            raise ValueError("languages must start with en, the language the content is written in")
        return self

    @model_validator(mode="after")
    def _limits_are_ordered(self) -> Self:
        if not self.task_soft_time_limit < self.task_time_limit < self.visibility_timeout:
            raise ValueError(
                "need task_soft_time_limit < task_time_limit < visibility_timeout, or Redis "
                "would hand a slow render to a second worker while the first still runs"
            )
        return self

    @property
    def base_url(self) -> str:
        return self.site_url.rstrip("/")

    @property
    def language_codes(self) -> tuple[str, ...]:
        return tuple(code.strip() for code in self.languages.split(",") if code.strip())
