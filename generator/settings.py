"""The one settings object, read from CAREPRESS_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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
    broker_url: str = Field(default="redis://127.0.0.1:6379/0")
    result_backend: str = Field(default="redis://127.0.0.1:6379/1")

    @property
    def base_url(self) -> str:
        return self.site_url.rstrip("/")
