"""The inputs hash of a document: if it is unchanged, the document is not rendered again."""

from __future__ import annotations

import ctypes.util
import hashlib
import json
from functools import cache
from importlib import metadata
from pathlib import Path

from jinja2 import Environment

from generator import __version__
from generator.content.kinds import FACETS
from generator.content.tree import ContentTree, EntryRef
from generator.i18n import LOCALE_DIR
from generator.plan.documents import DocumentSpec
from generator.templating import template_closure

TOOLS = ("weasyprint", "pydyf", "fonttools", "tinycss2", "jinja2", "markdown-it-py", "nh3",
         "pikepdf")


@cache
def tool_versions() -> dict[str, str]:
    """Everything outside our files that can change the bytes of a document."""
    versions = {name: metadata.version(name) for name in TOOLS}
    versions["carepress"] = __version__
    # HarfBuzz's subsetter and fontTools' subset fonts differently, so PDFs differ with it.
    versions["harfbuzz-subset"] = ctypes.util.find_library("harfbuzz-subset") or "absent"
    return versions


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Fingerprinter:
    """Hashes each file once per build, however many documents read it."""

    def __init__(self, tree: ContentTree, env: Environment, static_dir: Path, site_url: str):
        self._tree = tree
        self._env = env
        self._files: dict[Path, str] = {}
        self._templates: dict[str, list[str]] = {}
        self._template_records: dict[str, dict[str, str]] = {}
        static = sorted(p for p in static_dir.rglob("*") if p.is_file())
        # Every document carries the language-help notice in every language: all catalogs count.
        catalogs = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
        self._shared = {
            "tools": tool_versions(),
            "site_url": site_url,
            "languages": list(tree.languages),
            "static": {str(p.relative_to(static_dir)): self._file(p) for p in static},
            "catalogs": {str(p.relative_to(LOCALE_DIR)): self._file(p) for p in catalogs},
        }

    def inputs_hash(self, spec: DocumentSpec) -> str:
        record = {
            "document": spec.key.id,
            "outputs": [[o.path, o.format] for o in spec.outputs],
            "entries": {str(ref): self._entry(ref) for ref in spec.entries},
            "templates": self._template_hashes(spec.template),
            "extra": list(spec.extra),
            **self._shared,
        }
        return sha256_bytes(json.dumps(record, sort_keys=True).encode())

    def _entry(self, ref: EntryRef) -> str:
        if not ref.facet:
            base = self._file(self._tree.files[ref.whole])
            overlay = self._tree.files.get(EntryRef(ref.kind, ref.id, lang=ref.lang))
            return base if not ref.lang or overlay is None else base + self._file(overlay)
        fields = FACETS[(ref.kind, ref.facet)]
        data = self._tree.entry(ref).model_dump(mode="json", include=fields)
        return sha256_bytes(json.dumps(data, sort_keys=True).encode())

    def _file(self, path: Path) -> str:
        if path not in self._files:
            self._files[path] = sha256_bytes(path.read_bytes())
        return self._files[path]

    def _template_hashes(self, name: str | None) -> dict[str, str]:
        if name is None:
            return {}
        if name not in self._template_records:  # a few templates serve hundreds of documents
            self._template_records[name] = {n: self._file(self._template_path(n))
                                            for n in self._closure(name)}
        return self._template_records[name]

    def _template_path(self, name: str) -> Path:
        source = self._env.loader.get_source(self._env, name) if self._env.loader else None
        if source is None or source[1] is None:
            raise FileNotFoundError(name)
        return Path(source[1])

    def _closure(self, name: str) -> list[str]:
        if name not in self._templates:
            self._templates[name] = sorted(template_closure(self._env, name))
        return self._templates[name]
