"""Which documents exist: one key per document, the files it produces and what it reads."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from generator.content.tree import ContentTree, EntryRef
from generator.errors import UnknownDocumentError
from generator.i18n import SOURCE_LANGUAGE
from generator.plan.kinds import (
    ASSETS,
    CLINIC_KINDS,
    FAVICON,
    HOME,
    KINDS,
    LOGO,
    NOTFOUND,
    PAGE,
    PUBLIC_CLINIC_FOLDER,
    ROBOTS,
    ROOT,
    SITEMAP,
    DocumentKind,
    kind_named,
)


@dataclass(frozen=True, order=True)
class DocumentKey:
    """Identifies one document; its string form is the id used by the CLI, queue and API."""

    kind: str
    clinic: str = ""
    therapy: str = ""
    location: str = ""
    lang: str = ""

    @property
    def document_kind(self) -> DocumentKind:
        return kind_named(self.kind)

    @cached_property
    def id(self) -> str:  # asked for often (every plan lookup): worked out once
        return "/".join((self.kind, *self._named_parts().values()))

    @classmethod
    def parse(cls, text: str) -> DocumentKey:
        kind, *rest = text.strip("/").split("/")
        if kind not in KINDS or len(rest) != len(KINDS[kind].parts):
            raise UnknownDocumentError(f"not a document id: {text!r}")
        return cls(kind, **dict(zip(KINDS[kind].parts, rest, strict=True)))

    @classmethod
    def of(cls, kind: str, **parts: str) -> DocumentKey:
        """The key of a `kind` document from the parts given; those its id does not name (a
        clinic for a page, a language for the sitemap) are left out."""
        return cls(kind, **{name: parts.get(name, "") for name in kind_named(kind).parts})

    def _named_parts(self) -> dict[str, str]:
        """The parts the kind's id names, in its order."""
        every = {"clinic": self.clinic, "therapy": self.therapy, "location": self.location,
                 "lang": self.lang}
        return {name: every[name] for name in self.document_kind.parts}

    def paths(self, suffix: str = "") -> tuple[str, ...]:
        """The files it writes (`suffix`: a copied file's source's, e.g. '.png')."""
        parts = self._named_parts()
        return tuple(f.format(**parts, suffix=suffix) for f in self.document_kind.files)


@dataclass(frozen=True)
class Output:
    path: str
    """Relative to the output folder, always with '/'."""
    format: str


@dataclass(frozen=True)
class DocumentSpec:
    key: DocumentKey
    outputs: tuple[Output, ...]
    entries: tuple[EntryRef, ...]
    """The content entries this document is built from: the dependency graph's edges."""
    extra: tuple[str, ...] = ()
    """Inputs that are not entries, e.g. the list of pages a sitemap names."""

    @property
    def template(self) -> str | None:
        return self.key.document_kind.template


def outputs(key: DocumentKey, suffix: str = "") -> tuple[Output, ...]:
    return tuple(Output(path, path.rsplit(".", 1)[1]) for path in key.paths(suffix))


def page_path(therapy: str, location: str, lang: str) -> str:
    return DocumentKey(PAGE.id, therapy=therapy, location=location, lang=lang).paths()[0]


def home_path(lang: str) -> str:
    return DocumentKey(HOME.id, lang=lang).paths()[0]


ROOT_PATH = DocumentKey(ROOT.id).paths()[0]


def favicon_path(tree: ContentTree) -> str | None:
    """The favicon's place on the site, if the site entry names one."""
    source = tree.favicon_path()
    return None if source is None else DocumentKey(FAVICON.id).paths(source.suffix.lower())[0]


def public_folder(key: DocumentKey) -> str:
    """Where the site publishes a clinic's handout and consent preview for patients."""
    return PUBLIC_CLINIC_FOLDER.format(clinic=key.clinic, therapy=key.therapy, lang=key.lang)


def logo_path(tree: ContentTree, clinic_id: str) -> str:
    return _logo_key(clinic_id).paths(tree.logo_path(clinic_id).suffix.lower())[0]


def _logo_key(clinic_id: str) -> DocumentKey:
    return DocumentKey(LOGO.id, clinic=clinic_id)


def sitemap_keys(specs: list[DocumentSpec]) -> list[DocumentKey]:
    """The documents the sitemap lists, in plan order."""
    return [s.key for s in specs if s.key.document_kind.in_sitemap]


def plan_documents(tree: ContentTree) -> list[DocumentSpec]:
    """Every document the content tree calls for, in every language, in a stable order."""
    specs = [_spec(DocumentKey(ASSETS.id), ()),
             *(_logo_spec(tree, cid) for cid in sorted(tree.clinics))]
    for lang in tree.languages:
        for cid, clinic in sorted(tree.clinics.items()):
            for tid in sorted(clinic.therapies):
                specs.extend(_clinic_specs(cid, tid, lang))
        for tid in sorted(tree.therapies):
            for lid in sorted(tree.locations):
                if tree.clinics_serving(lid, tid):
                    specs.append(_page_spec(tree, tid, lid, lang))
    specs.extend(_site_specs(tree, [s for s in specs if s.key.kind == PAGE.id]))
    pages = tuple(key.id for key in sitemap_keys(specs))
    therapies = tuple(EntryRef("therapy", tid) for tid in sorted(tree.therapies))
    specs.append(_spec(DocumentKey(SITEMAP.id), therapies, pages))
    return specs


def _spec(key: DocumentKey, entries: tuple[EntryRef, ...], extra: tuple[str, ...] = (),
          suffix: str = "") -> DocumentSpec:
    return DocumentSpec(key, outputs(key, suffix), entries, extra)


def _site_specs(tree: ContentTree, pages: list[DocumentSpec]) -> list[DocumentSpec]:
    """The site's own documents: robots.txt always; with a site entry, a home page per
    language, a 404 page, the site's root address and the favicon."""
    specs = [_spec(DocumentKey(ROBOTS.id), ())]
    if tree.site is None:
        return specs
    for lang in tree.languages:
        shown = [s for s in pages if s.key.lang == lang]
        # The home lists each therapy with the states (or, without one, the places) it has
        # pages for: each is named, and the set of pages decides which links exist.
        entries = (
            EntryRef("site", "site", lang=_in(lang)),
            *(EntryRef("therapy", tid, lang=_in(lang)) for tid in sorted(tree.therapies)),
            *(EntryRef("location", lid, "name", _in(lang))
              for lid in sorted({s.key.location for s in shown})),
        )
        specs.append(_spec(DocumentKey(HOME.id, lang=lang), entries,
                           tuple(s.key.id for s in shown)))
    every = tuple(EntryRef("site", "site", lang=_in(lang)) for lang in tree.languages)
    specs.append(_spec(DocumentKey(NOTFOUND.id), every))
    specs.append(_spec(DocumentKey(ROOT.id), every))
    source = tree.favicon_path()
    if source is not None:
        specs.append(_spec(DocumentKey(FAVICON.id), (EntryRef("favicon", "site"),),
                           suffix=source.suffix.lower()))
    return specs


def _logo_spec(tree: ContentTree, cid: str) -> DocumentSpec:
    return _spec(_logo_key(cid), (EntryRef("logo", cid),),
                 suffix=tree.logo_path(cid).suffix.lower())


def _in(lang: str) -> str:
    """The lang an EntryRef carries: none for English, the source every entry is written in."""
    return "" if lang == SOURCE_LANGUAGE else lang


def _clinic_specs(cid: str, tid: str, lang: str) -> list[DocumentSpec]:
    entries = (EntryRef("clinic", cid, lang=_in(lang)), EntryRef("logo", cid),
               EntryRef("therapy", tid, lang=_in(lang)))
    return [_spec(DocumentKey(kind, clinic=cid, therapy=tid, lang=lang), entries)
            for kind in CLINIC_KINDS]


def _page_spec(tree: ContentTree, tid: str, lid: str, lang: str) -> DocumentSpec:
    location = tree.locations[lid]
    # Neighbouring places appear by name only: the parent state, or a state's cities.
    named = sorted({*tree.cities_of(lid), *([location.state] if location.state else [])})
    # For a state this includes its cities' clinics, which decide which city pages it links to.
    clinics = tree.clinics_serving(lid, tid)
    code = _in(lang)
    entries = (
        *([EntryRef("site", "site", lang=code)] if tree.site is not None else []),
        EntryRef("therapy", tid, lang=code),
        EntryRef("location", lid, lang=code),
        *(EntryRef("location", p, "name", code) for p in named),
        *(EntryRef("clinic", c, "listing", code) for c in clinics),
    )
    return _spec(DocumentKey(PAGE.id, therapy=tid, location=lid, lang=lang), entries)
