"""The one Jinja environment factory: autoescape, StrictUndefined, our filters, i18n."""

from __future__ import annotations

import logging
from functools import cache, partial
from pathlib import Path

import jinja2
from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    meta,
    select_autoescape,
)
from jinja2.bccache import Bucket

from generator.errors import TemplateError
from generator.i18n import SOURCE_LANGUAGE, long_date, translations
from generator.markup import markdown_block, markdown_inline, plain_text
from generator.phones import link_phones, tel_url
from templates import TEMPLATES_DIR

log = logging.getLogger("carepress")


def make_environment(templates_dir: Path = TEMPLATES_DIR,
                     lang: str = SOURCE_LANGUAGE) -> Environment:
    """One environment per language. Templates come from files only; content is data passed
    in, never compiled as a template."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(enabled_extensions=("html", "xml", "j2"), default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_compiled_templates(),
        # A project's templates are the ones its inputs hashes were computed from; a process
        # sees edited templates by loading the project again, never half-way through a build.
        auto_reload=False,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(md=markdown_block, md_inline=markdown_inline, plain=plain_text,
                       long_date=partial(long_date, lang=lang))
    env.filters.update(tel=tel_url, phone_links=link_phones)
    return env


class _SharedBytecode(FileSystemBytecodeCache):
    """Compiled templates kept on disk and shared by every environment and process.

    Compiling the templates cost ~0.1 s per environment, and every render process has one per
    language, again after each content reload. Entries are keyed by template path and checked
    against a checksum of the source, so an edited template is compiled again.
    """

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:  # a full or read-only disk costs speed, never a build
            log.debug("template cache not written: %s", exc)


@cache
def _compiled_templates() -> BytecodeCache | None:
    """Jinja's private per-user folder in the temp dir (mode 0700, owner checked)."""
    try:
        return _SharedBytecode(pattern="carepress-%s.cache")
    except (OSError, RuntimeError) as exc:
        log.debug("no template cache: %s", exc)
        return None


def check_templates(env: Environment) -> None:
    """Compile every template up front so a syntax error stops a build before any output."""
    for name in env.list_templates(extensions=["j2"]):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"templates/{name}:{exc.lineno}: {exc.message}") from exc


def template_closure(env: Environment, name: str) -> list[str]:
    """The template and every template it extends, includes or imports, transitively."""
    seen = [name]
    for current in seen:
        source = env.loader.get_source(env, current)[0]  # type: ignore[union-attr]
        for ref in meta.find_referenced_templates(env.parse(source)):
            if ref is not None and ref not in seen:
                seen.append(ref)
    return seen


def render_template(env: Environment, name: str, context: dict[str, object]) -> str:
    try:
        return env.get_template(name).render(context)
    except (jinja2.TemplateError, TypeError, AttributeError, KeyError, ValueError) as exc:
        # A runtime failure inside a template is a template bug, whatever its Python type.
        where = getattr(exc, "name", None) or name
        line = getattr(exc, "lineno", None)
        suffix = f":{line}" if line else ""
        raise TemplateError(f"templates/{where}{suffix}: {exc}") from exc
