"""Which documents exist: one key per document, the files it produces and what it reads."""

from __future__ import annotations

from dataclasses import dataclass

from generator.content import ContentTree, EntryRef
from generator.errors import UnknownDocumentError
from generator.i18n import SOURCE_LANGUAGE

CLINIC_KINDS = ("handout", "consent")
STATIC_FILES = (
    "carepress.css",
    "fonts/NotoSans-Regular.ttf",
    "fonts/NotoSans-Bold.ttf",
    "fonts/NotoSans-Italic.ttf",
    "fonts/OFL.txt",
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
    def id(self) -> str:
        if self.kind in CLINIC_KINDS:
            return f"{self.kind}/{self.clinic}/{self.therapy}/{self.lang}"
        if self.kind == "page":
            return f"page/{self.therapy}/{self.location}/{self.lang}"
        if self.kind == "logo":
            return f"logo/{self.clinic}"
        return self.kind

    @classmethod
    def parse(cls, text: str) -> DocumentKey:
        parts = text.strip("/").split("/")
        kind, rest = parts[0], parts[1:]
        shapes: dict[str, tuple[str, ...]] = {
            "handout": ("clinic", "therapy", "lang"),
            "consent": ("clinic", "therapy", "lang"),
            "page": ("therapy", "location", "lang"),
            "logo": ("clinic",),
            "sitemap": (),
            "assets": (),
        }
        if kind not in shapes or len(rest) != len(shapes[kind]):
            raise UnknownDocumentError(f"not a document id: {text!r}")
        return cls(kind, **dict(zip(shapes[kind], rest, strict=True)))


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
    template: str | None
    extra: tuple[str, ...] = ()
    """Inputs that are not entries, e.g. the list of pages a sitemap names."""


def clinic_folder(key: DocumentKey) -> str:
    return f"clinics/{key.clinic}/{key.therapy}/{key.lang}"


def page_path(therapy: str, location: str, lang: str) -> str:
    return f"site/{lang}/{therapy}/{location}/index.html"


def logo_path(tree: ContentTree, clinic_id: str) -> str:
    return f"site/assets/logos/{clinic_id}{tree.logo_path(clinic_id).suffix.lower()}"


def plan_documents(tree: ContentTree) -> list[DocumentSpec]:
    """Every document the content tree calls for, in every language, in a stable order."""
    specs = [_assets_spec(), *(_logo_spec(tree, cid) for cid in sorted(tree.clinics))]
    for lang in tree.languages:
        for cid, clinic in sorted(tree.clinics.items()):
            for tid in sorted(clinic.therapies):
                specs.extend(_clinic_specs(cid, tid, lang))
        for tid in sorted(tree.therapies):
            for lid in sorted(tree.locations):
                if tree.clinics_serving(lid, tid):
                    specs.append(_page_spec(tree, tid, lid, lang))
    pages = tuple(s.key.id for s in specs if s.key.kind == "page")
    therapies = tuple(EntryRef("therapy", tid) for tid in sorted(tree.therapies))
    specs.append(DocumentSpec(DocumentKey("sitemap"), (Output("site/sitemap.xml", "xml"),),
                              therapies, "sitemap.xml.j2", pages))
    return specs


def _assets_spec() -> DocumentSpec:
    outputs = tuple(Output(f"site/assets/{name}", name.rsplit(".", 1)[1]) for name in STATIC_FILES)
    return DocumentSpec(DocumentKey("assets"), outputs, (), None)


def _logo_spec(tree: ContentTree, cid: str) -> DocumentSpec:
    path = logo_path(tree, cid)
    entries = (EntryRef("logo", cid),)
    return DocumentSpec(DocumentKey("logo", clinic=cid), (Output(path, path.rsplit(".", 1)[1]),),
                        entries, None)


def _in(lang: str) -> str:
    """The lang an EntryRef carries: none for English, the source every entry is written in."""
    return "" if lang == SOURCE_LANGUAGE else lang


def _clinic_specs(cid: str, tid: str, lang: str) -> list[DocumentSpec]:
    entries = (EntryRef("clinic", cid, lang=_in(lang)), EntryRef("logo", cid),
               EntryRef("therapy", tid, lang=_in(lang)))
    specs = []
    for kind in CLINIC_KINDS:
        key = DocumentKey(kind, clinic=cid, therapy=tid, lang=lang)
        folder = clinic_folder(key)
        outputs = (Output(f"{folder}/{kind}.html", "html"), Output(f"{folder}/{kind}.pdf", "pdf"))
        specs.append(DocumentSpec(key, outputs, entries, f"{kind}.html.j2"))
    return specs


def _page_spec(tree: ContentTree, tid: str, lid: str, lang: str) -> DocumentSpec:
    location = tree.locations[lid]
    # Neighbouring places appear by name only: the parent state, or a state's cities.
    named = sorted({*tree.cities_of(lid), *([location.state] if location.state else [])})
    # For a state this includes its cities' clinics, which decide which city pages it links to.
    clinics = tree.clinics_serving(lid, tid)
    code = _in(lang)
    entries = (
        EntryRef("therapy", tid, lang=code),
        EntryRef("location", lid, lang=code),
        *(EntryRef("location", p, "name", code) for p in named),
        *(EntryRef("clinic", c, "listing", code) for c in clinics),
    )
    key = DocumentKey("page", therapy=tid, location=lid, lang=lang)
    return DocumentSpec(key, (Output(page_path(tid, lid, lang), "html"),), entries, "page.html.j2")
