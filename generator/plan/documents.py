"""Which documents exist: one key per document, the files it produces and what it reads."""

from __future__ import annotations

from dataclasses import dataclass

from generator.content.tree import ContentTree, EntryRef
from generator.errors import UnknownDocumentError
from generator.i18n import SOURCE_LANGUAGE

CLINIC_KINDS = ("handout", "consent")
STATIC_FILES = (
    "carepress.css",
    "fonts/NotoSans-Regular.ttf",
    "fonts/NotoSans-Bold.ttf",
    "fonts/NotoSans-Italic.ttf",
    "fonts/NotoSans-Regular.woff2",
    "fonts/NotoSans-Bold.woff2",
    "fonts/NotoSans-Italic.woff2",
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
        if self.kind == "home":
            return f"home/{self.lang}"
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
            "home": ("lang",),
            "notfound": (),
            "root": (),
            "robots": (),
            "favicon": (),
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


def home_path(lang: str) -> str:
    return f"site/{lang}/index.html"


ROOT_PATH = "site/index.html"


def favicon_path(tree: ContentTree) -> str | None:
    """The favicon's place on the site, if the site entry names one."""
    source = tree.favicon_path()
    return None if source is None else f"site/assets/favicon{source.suffix.lower()}"


def public_folder(key: DocumentKey) -> str:
    """Where the site publishes a clinic's handout and consent preview for patients."""
    return f"site/{clinic_folder(key)}"


# The files of a clinic document that the public site carries too: the handout in both
# formats and the consent form's HTML preview (the fillable PDF is the clinic's to hand out).
PUBLIC_FORMATS = {"handout": ("html", "pdf"), "consent": ("html",)}


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
    specs.extend(_site_specs(tree, [s for s in specs if s.key.kind == "page"]))
    pages = tuple(s.key.id for s in specs if s.key.kind in ("page", "home"))
    therapies = tuple(EntryRef("therapy", tid) for tid in sorted(tree.therapies))
    specs.append(DocumentSpec(DocumentKey("sitemap"), (Output("site/sitemap.xml", "xml"),),
                              therapies, "sitemap.xml.j2", pages))
    return specs


def _site_specs(tree: ContentTree, pages: list[DocumentSpec]) -> list[DocumentSpec]:
    """The site's own documents: robots.txt always; with a site entry, a home page per
    language, a 404 page and the favicon."""
    specs = [DocumentSpec(DocumentKey("robots"), (Output("site/robots.txt", "txt"),), (),
                          "robots.txt.j2")]
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
        specs.append(DocumentSpec(DocumentKey("home", lang=lang),
                                  (Output(home_path(lang), "html"),), entries, "home.html.j2",
                                  tuple(s.key.id for s in shown)))
    every = tuple(EntryRef("site", "site", lang=_in(lang)) for lang in tree.languages)
    specs.append(DocumentSpec(DocumentKey("notfound"), (Output("site/404.html", "html"),),
                              every, "404.html.j2"))
    # The site's own address: the way to each language's home, in that language.
    specs.append(DocumentSpec(DocumentKey("root"), (Output(ROOT_PATH, "html"),), every,
                              "root.html.j2"))
    path = favicon_path(tree)
    if path is not None:
        specs.append(DocumentSpec(DocumentKey("favicon"), (Output(path, path.rsplit(".", 1)[1]),),
                                  (EntryRef("favicon", "site"),), None))
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
        outputs = (Output(f"{folder}/{kind}.html", "html"), Output(f"{folder}/{kind}.pdf", "pdf"),
                   *(Output(f"{public_folder(key)}/{kind}.{fmt}", fmt)
                     for fmt in PUBLIC_FORMATS[kind]))
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
        *([EntryRef("site", "site", lang=code)] if tree.site is not None else []),
        EntryRef("therapy", tid, lang=code),
        EntryRef("location", lid, lang=code),
        *(EntryRef("location", p, "name", code) for p in named),
        *(EntryRef("clinic", c, "listing", code) for c in clinics),
    )
    key = DocumentKey("page", therapy=tid, location=lid, lang=lang)
    return DocumentSpec(key, (Output(page_path(tid, lid, lang), "html"),), entries, "page.html.j2")
