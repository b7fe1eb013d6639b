"""`carepress translations`: what needs translating, and marking a translation reviewed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from cli.reporting import reported_errors
from generator.content.kinds import FOLDERS
from generator.content.loading import load_content
from generator.content.translations import reviewed_hashes, stale_fields, with_hashes
from generator.content.tree import ContentTree, EntryRef
from generator.errors import CarepressError
from generator.files import atomic_write
from generator.i18n import SOURCE_LANGUAGE
from generator.settings import Settings


def _tree(ctx: click.Context, content_dir: Path | None) -> ContentTree:
    settings: Settings = ctx.obj["settings"]
    if content_dir is not None:
        settings = settings.model_copy(update={"content_dir": content_dir})
    return load_content(settings.content_dir, settings.language_codes)


def _entry_ref(text: str, tree: ContentTree, lang: str) -> EntryRef:
    """'therapy:<id>', or the path of an overlay such as therapies/<id>.es.yaml."""
    kind, sep, entry_id = text.partition(":")
    if not sep:
        path = Path(text)
        entry_id, _, file_lang = path.name.removesuffix(".yaml").partition(".")
        kind = next((k for k, folder in FOLDERS.items() if path.parent.name == folder), "")
        lang = file_lang or lang
    if EntryRef(kind, entry_id) not in tree.files:
        raise CarepressError(f"no {kind or 'content'} entry {entry_id!r} "
                             "(write kind:id, e.g. therapy:<id>, or an overlay's path)")
    return EntryRef(kind, entry_id, lang=lang)


@click.group("translations")
def translations() -> None:
    """Translations of the content: what is stale or missing, and marking one reviewed."""


@translations.command("list")
@click.option("--lang", help="Only this language [default: every translated language].")
@click.option("--content", "content_dir", type=click.Path(path_type=Path),
              help="Content tree [default: $CAREPRESS_CONTENT_DIR or ./content].")
@click.pass_context
def list_command(ctx: click.Context, lang: str | None, content_dir: Path | None) -> None:
    """Every translated field whose English text changed (or that was never marked reviewed),
    with the file and line to edit; missing translations stop the content from loading and
    are reported the same way."""
    with reported_errors(ctx.obj["debug"]):
        tree = _tree(ctx, content_dir)
    found = [p for (_, _, code), problems in sorted(tree.stale.items())
             if lang in (None, code) for p in problems]
    fallbacks = [f"{kind} {entry_id} [{code}]: English shown for {', '.join(fields)}"
                 for (kind, entry_id, code), fields in sorted(tree.fallbacks.items())
                 if lang in (None, code)]
    for problem in found:
        click.echo(str(problem))
    for line in fallbacks:
        click.echo(line)
    click.echo(f"{len(found)} stale translations, {len(fallbacks)} entries shown in English",
               err=True)


@translations.command("mark-reviewed")
@click.argument("entry")
@click.argument("fields", nargs=-1)
@click.option("--lang", default="es", show_default=True, help="The translation's language.")
@click.option("--all", "every", is_flag=True, help="Every translated field of the entry.")
@click.option("--content", "content_dir", type=click.Path(path_type=Path),
              help="Content tree [default: $CAREPRESS_CONTENT_DIR or ./content].")
@click.pass_context
def mark_reviewed_command(ctx: click.Context, entry: str, fields: tuple[str, ...], lang: str,
                          every: bool, content_dir: Path | None) -> None:
    """Record that FIELDS of ENTRY's translation (e.g. `therapy:<id> risks.items.<id>.detail`)
    now translate the current English text; a translator runs it after updating them."""
    with reported_errors(ctx.obj["debug"]):
        if bool(fields) == every:
            raise click.UsageError("name the fields to mark, or give --all")
        tree = _tree(ctx, content_dir)
        ref = _entry_ref(entry, tree, lang)
        if ref.lang == SOURCE_LANGUAGE or ref not in tree.files:
            raise CarepressError(f"{ref.kind} {ref.id!r} has no {ref.lang!r} translation file")
        path = tree.files[ref]
        english = tree.entry(ref.whole).model_dump()
        text = path.read_text(encoding="utf-8")
        overlay: dict[str, Any] = yaml.safe_load(text) or {}
        stale = stale_fields(ref.kind, english, overlay)
        unknown = [f for f in fields if f not in stale and f not in
                   reviewed_hashes(ref.kind, english, overlay)]
        if unknown:
            raise CarepressError(f"{path}: no translated field {', '.join(unknown)}")
        hashes = reviewed_hashes(ref.kind, english, overlay, None if every else fields)
        atomic_write(path, with_hashes(text, hashes).encode())
    marked = sorted(stale) if every else [f for f in fields if f in stale]
    click.echo(f"{path}: marked {len(marked)} field(s) reviewed"
               + (f": {', '.join(marked)}" if marked else " (they were already current)"))


def register(main: click.Group) -> None:
    main.add_command(translations)
