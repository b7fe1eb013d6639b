"""The dependency graph: which documents a content entry feeds.

The plan names, for every document, the content entries it is built from (DocumentSpec.entries)
and so holds the graph's edges. This module answers the reverse question a CMS webhook asks:
"entry X changed → these documents". Templates, static files and tool versions need no graph:
they are in every inputs hash (plan/fingerprints.py), so a build finds the documents they feed
as the stale ones.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from pydantic import BaseModel

from generator.content.kinds import FACETS
from generator.content.tree import ContentTree, EntryRef
from generator.plan.documents import DocumentSpec, plan_documents


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


def change_impact(old: ContentTree, new: ContentTree, kind: str, entry_id: str,
                  plan: Callable[[ContentTree], list[DocumentSpec]] = plan_documents) -> Impact:
    """The documents that depend on entry `kind:entry_id`, comparing the tree before and after.

    Besides the entry's own dependents this counts documents the change adds or reshapes (a
    clinic that starts serving a city adds its page, and the state page then links to it).
    `plan` is plan_documents, or one that remembers a tree's plan (api.content.ContentView)."""
    old_specs = {s.key.id: s for s in plan(old)}
    new_specs = plan(new)
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
