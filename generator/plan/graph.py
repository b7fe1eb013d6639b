"""The dependency graph: which documents a content entry, a template or a static file feeds.

The plan names, for every document, the content entries it is built from (DocumentSpec.entries);
a document's templates are its own template and everything that extends, includes or imports;
the stylesheet and fonts go into every document. This module answers the reverse question a
CMS webhook asks: "entry X changed → these documents".

Nodes are strings: ``therapy:<id>``, ``clinic:<id>@es`` (a translation overlay),
``logo:<clinic id>``, ``template:page.html.j2``, ``static:carepress.css``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from jinja2 import Environment
from pydantic import BaseModel

from generator.content.kinds import FACETS
from generator.content.tree import ContentTree, EntryRef
from generator.plan.documents import STATIC_FILES, DocumentSpec, plan_documents
from generator.templating import template_closure


def entry_node(kind: str, entry_id: str, lang: str = "") -> str:
    return f"{kind}:{entry_id}" + (f"@{lang}" if lang else "")


def template_node(name: str) -> str:
    return f"template:{name}"


def static_node(name: str) -> str:
    return f"static:{name}"


@dataclass(frozen=True)
class DependencyGraph:
    """Each input node → the ids of the documents built from it, in plan order."""

    order: tuple[str, ...]
    edges: dict[str, frozenset[str]]

    def dependents(self, node: str) -> list[str]:
        wanted = self.edges.get(node, frozenset())
        return [document for document in self.order if document in wanted]

    def inputs(self) -> list[str]:
        return sorted(self.edges)


def build_graph(specs: Iterable[DocumentSpec], env: Environment | None = None) -> DependencyGraph:
    """The whole graph of a plan. Facets are ignored here (a page listing a clinic counts as
    depending on it); `entry_dependents` narrows by the fields that actually changed."""
    specs = list(specs)
    edges: dict[str, set[str]] = {}
    closures = _TemplateClosures(env) if env is not None else None
    for spec in specs:
        for node in _spec_inputs(spec, closures):
            edges.setdefault(node, set()).add(spec.key.id)
    return DependencyGraph(tuple(s.key.id for s in specs),
                           {node: frozenset(ids) for node, ids in edges.items()})


def _spec_inputs(spec: DocumentSpec, closures: _TemplateClosures | None) -> set[str]:
    nodes = {static_node(name) for name in STATIC_FILES}  # every inputs hash includes them
    for ref in spec.entries:
        nodes.add(entry_node(ref.kind, ref.id))
        if ref.lang:  # a translated document also reads the entry's overlay
            nodes.add(entry_node(ref.kind, ref.id, ref.lang))
    if closures is not None and spec.template is not None:
        nodes.update(template_node(name) for name in closures.of(spec.template))
    return nodes


class _TemplateClosures:
    """A template and every template it extends, includes or imports, transitively."""

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._cache: dict[str, list[str]] = {}

    def of(self, name: str) -> list[str]:
        if name not in self._cache:
            self._cache[name] = template_closure(self._env, name)
        return self._cache[name]


def changed_fields(old: BaseModel | None, new: BaseModel | None) -> set[str] | None:
    """Top-level fields that differ; None when the entry was added or removed (all of them)."""
    if old is None or new is None:
        return None
    return {name for name in type(new).model_fields if getattr(old, name) != getattr(new, name)}


def entry_dependents(specs: Iterable[DocumentSpec], kind: str, entry_id: str,
                     changed: Collection[str] | None = None, lang: str | None = None) -> list[str]:
    """Documents built from the entry (in language `lang` only, if given). A document that
    reads only some of its fields (a facet, e.g. the clinic listing on a location page) counts
    only if one of them is in `changed`; `changed=None` means every field changed."""
    found = []
    for spec in specs:
        for ref in spec.entries:
            if (ref.kind == kind and ref.id == entry_id and lang in (None, ref.lang)
                    and _reads_changed(ref, changed)):
                found.append(spec.key.id)
                break
    return found


def _reads_changed(ref: EntryRef, changed: Collection[str] | None) -> bool:
    if changed is None:
        return True
    if not ref.facet:
        return bool(changed)
    return bool(FACETS[(ref.kind, ref.facet)] & set(changed))


@dataclass(frozen=True)
class Impact:
    """What a change to one entry does to the documents."""

    render: tuple[str, ...]
    """Documents to render again (new ones included), in plan order."""
    remove: tuple[str, ...]
    """Documents the change removes from the plan (their files are deleted)."""


def change_impact(old: ContentTree, new: ContentTree, kind: str, entry_id: str) -> Impact:
    """The documents that depend on entry `kind:entry_id`, comparing the tree before and after.

    Besides the entry's own dependents this counts documents the change adds or reshapes (a
    clinic that starts serving a city adds its page, and the state page then links to it)."""
    old_specs = {s.key.id: s for s in plan_documents(old)}
    new_specs = plan_documents(new)
    render = set(_dependents_across_languages(old, new, new_specs, kind, entry_id))
    english = changed_fields(_entry(old, EntryRef(kind, entry_id)),
                             _entry(new, EntryRef(kind, entry_id)))
    if kind == "clinic" and (english is None or "logo" in english):
        render.update(entry_dependents(new_specs, "logo", entry_id))
    for spec in new_specs:
        before = old_specs.get(spec.key.id)
        if before != spec:  # new, or it now reads other entries or makes other files
            render.add(spec.key.id)
    new_ids = {s.key.id for s in new_specs}
    return Impact(tuple(s.key.id for s in new_specs if s.key.id in render),
                  tuple(i for i in old_specs if i not in new_ids))


def _dependents_across_languages(old: ContentTree, new: ContentTree, specs: list[DocumentSpec],
                                 kind: str, entry_id: str) -> list[str]:
    """A document reading the whole entry is stale when its file changes (the English one:
    translations are overlays on it). One reading a facet is stale when those fields change
    as the document's language shows them: a city renamed in English keeps its Spanish name
    if the translation gives one."""
    changed: dict[str, set[str] | None] = {}

    def fields(lang: str) -> set[str] | None:
        if lang not in changed:
            ref = EntryRef(kind, entry_id, lang=lang)
            changed[lang] = changed_fields(_entry(old, ref), _entry(new, ref))
        return changed[lang]

    found = []
    for spec in specs:
        refs = [r for r in spec.entries if r.kind == kind and r.id == entry_id]
        if any(_reads_changed(r, fields(r.lang if r.facet else "")) for r in refs):
            found.append(spec.key.id)
    return found


def _entry(tree: ContentTree, ref: EntryRef) -> BaseModel | None:
    """The entry as a document in ref's language reads it; None if it does not exist."""
    try:
        return tree.entry(ref)
    except KeyError:
        return None
