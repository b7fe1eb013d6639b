"""Jinja templates and static assets (stylesheet, bundled fonts) of carepress documents."""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent
STATIC_DIR = TEMPLATES_DIR / "static"
