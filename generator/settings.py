"""The one settings object, read from CAREPRESS_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    jobs: int = Field(default=1, ge=1, le=64, description="Render processes for `build`.")
    strict_render: bool = Field(
        default=True, description="Treat any WeasyPrint warning as a render error."
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
    max_tasks_per_child: int = Field(default=200, ge=1)
    max_memory_per_child_kb: int = Field(default=800_000, ge=50_000)
    result_expires: int = Field(default=86_400, ge=60, description="Seconds results are kept.")
    broker_wait: int = Field(
        default=120, ge=1, description="Seconds `build --queue` waits for a lost broker."
    )

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
