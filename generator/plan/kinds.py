"""Every kind of document, in one table: the parts of its key, the files it writes, which
template and renderer make it and when its job runs. Document ids, parsing, the plan, rendering
and job order all read this table; adding a kind is adding a row (and its renderer)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from generator.content.schema import Therapy
from generator.errors import UnknownDocumentError

KeyPart = Literal["clinic", "therapy", "location", "lang"]
"""A part of a document key (a field of DocumentKey) that a kind's id names."""


class Renderer(Enum):
    """The function in render/documents.py that makes a kind's files (one per member)."""

    STATIC_FILES = "static files"
    LOGO = "logo"
    FAVICON = "favicon"
    CLINIC_DOCUMENT = "clinic document"
    PAGE = "page"
    HOME = "home"
    NOTFOUND = "notfound"
    ROOT = "root"
    ROBOTS = "robots"
    SITEMAP = "sitemap"


@dataclass(frozen=True)
class DocumentKind:
    id: str
    """The first part of its documents' ids, and `kind` in the manifest."""
    parts: tuple[KeyPart, ...]
    """The parts of the key its id names after the kind, in that order: handout/<clinic>/…"""
    files: tuple[str, ...]
    """What it writes, relative to the output folder, formatted with the key's parts and, for a
    copied file, its source's {suffix}; a file's format is its extension."""
    renderer: Renderer
    template: str | None = None
    priority: int = 3
    """Job order, lowest first: PDFs take far longer than HTML, so starting them first keeps
    every process busy until the end."""
    in_sitemap: bool = False
    consent_versioned: bool = False
    """Its version is the therapy's consent version (it changes only when the consent does)."""

    def version_of(self, therapy: Therapy) -> str:
        """The version the manifest records for its documents of `therapy`."""
        return therapy.consent_version if self.consent_versioned else therapy.version


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
"""The bundled files every page links to, below templates/static/."""

CLINIC_FOLDER = "clinics/{clinic}/{therapy}/{lang}"
PUBLIC_CLINIC_FOLDER = f"site/{CLINIC_FOLDER}"
"""Where the site publishes a clinic's handout and consent preview for patients."""

CLINIC_PARTS: tuple[KeyPart, ...] = ("clinic", "therapy", "lang")

# A clinic document's own HTML and PDF come first; then the files the public site carries too:
# the handout in both formats and the consent form's HTML preview (the fillable PDF is the
# clinic's to hand out).
HANDOUT = DocumentKind(
    "handout", CLINIC_PARTS,
    (f"{CLINIC_FOLDER}/handout.html", f"{CLINIC_FOLDER}/handout.pdf",
     f"{PUBLIC_CLINIC_FOLDER}/handout.html", f"{PUBLIC_CLINIC_FOLDER}/handout.pdf"),
    Renderer.CLINIC_DOCUMENT, "handout.html.j2", priority=1)
CONSENT = DocumentKind(
    "consent", CLINIC_PARTS,
    (f"{CLINIC_FOLDER}/consent.html", f"{CLINIC_FOLDER}/consent.pdf",
     f"{PUBLIC_CLINIC_FOLDER}/consent.html"),
    Renderer.CLINIC_DOCUMENT, "consent.html.j2", priority=0, consent_versioned=True)
PAGE = DocumentKind("page", ("therapy", "location", "lang"),
                    ("site/{lang}/{therapy}/{location}/index.html",), Renderer.PAGE,
                    "page.html.j2", priority=2, in_sitemap=True)
LOGO = DocumentKind("logo", ("clinic",), ("site/assets/logos/{clinic}{suffix}",), Renderer.LOGO)
SITEMAP = DocumentKind("sitemap", (), ("site/sitemap.xml",), Renderer.SITEMAP, "sitemap.xml.j2")
ASSETS = DocumentKind("assets", (), tuple(f"site/assets/{name}" for name in STATIC_FILES),
                      Renderer.STATIC_FILES)
HOME = DocumentKind("home", ("lang",), ("site/{lang}/index.html",), Renderer.HOME,
                    "home.html.j2", in_sitemap=True)
NOTFOUND = DocumentKind("notfound", (), ("site/404.html",), Renderer.NOTFOUND, "404.html.j2")
ROOT = DocumentKind("root", (), ("site/index.html",), Renderer.ROOT, "root.html.j2")
"""The site's own address: the way to each language's home, in that language."""
ROBOTS = DocumentKind("robots", (), ("site/robots.txt",), Renderer.ROBOTS, "robots.txt.j2")
FAVICON = DocumentKind("favicon", (), ("site/assets/favicon{suffix}",), Renderer.FAVICON)

KINDS = {kind.id: kind for kind in (HANDOUT, CONSENT, PAGE, LOGO, SITEMAP, ASSETS, HOME,
                                    NOTFOUND, ROOT, ROBOTS, FAVICON)}
CLINIC_KINDS = tuple(k.id for k in KINDS.values() if k.renderer is Renderer.CLINIC_DOCUMENT)
"""The kinds planned for each therapy a clinic offers, in each language."""


def kind_named(kind: str) -> DocumentKind:
    if kind not in KINDS:
        raise UnknownDocumentError(f"not a document kind: {kind!r}")
    return KINDS[kind]


def kind_of(document_id: str) -> DocumentKind:
    """The kind of a document id: its first part."""
    return kind_named(document_id.strip("/").split("/", 1)[0])
