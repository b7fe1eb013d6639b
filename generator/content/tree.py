"""The content tree: every entry of every kind, in every published language, with its files.

generator.content.loading.load_content builds it once the whole tree has been read and
checked; nothing fills it in afterwards, so a ContentTree a caller holds is complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from generator.content.kinds import FOLDERS
from generator.content.schema import Clinic, Location, Site, Therapy
from generator.errors import Problem
from generator.i18n import SOURCE_LANGUAGE

SITE_FILE = "site.yaml"
"""The public site's own entry (name, tagline, favicon), at the top of the tree; optional."""
SITE_ID = "site"


@dataclass(frozen=True)
class EntryRef:
    """Names one content entry, e.g. clinic:<id>.

    A facet narrows the dependency to some fields (see ContentKind.facets), so that a page
    listing a clinic is not re-rendered when only that clinic's colours or protocol change.
    """

    kind: str
    id: str
    facet: str = ""
    lang: str = ""
    """Set for a document in a translated language: the entry's overlay is an input too."""

    def __str__(self) -> str:
        text = f"{self.kind}:{self.id}" + (f"#{self.facet}" if self.facet else "")
        return text + (f"@{self.lang}" if self.lang else "")

    @property
    def whole(self) -> EntryRef:
        return EntryRef(self.kind, self.id)


@dataclass(frozen=True)
class ContentTree:
    """The English entries of each content kind (under its folder's name, see
    generator.content.kinds), the site, and the same entries in each other language."""

    root: Path
    therapies: dict[str, Therapy]
    locations: dict[str, Location]
    clinics: dict[str, Clinic]
    files: dict[EntryRef, Path] = field(default_factory=dict)
    """Each entry's source file; clinics also have their logo under EntryRef('logo', id), the
    site its favicon under EntryRef('favicon', 'site'), and translations their overlay under
    EntryRef(kind, id, lang=lang)."""
    languages: tuple[str, ...] = (SOURCE_LANGUAGE,)
    translated: dict[tuple[str, str, str], BaseModel] = field(default_factory=dict)
    fallbacks: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    """(kind, id, lang) → fields shown in English because the content allows it."""
    stale: dict[tuple[str, str, str], list[Problem]] = field(default_factory=dict)
    """(kind, id, lang) → its translated fields whose English text changed since (see
    generator.content.translating); the build holds back consent forms built from them."""
    site: Site | None = None
    """content/site.yaml; without it there is no home page, root page, 404 page or favicon."""

    def entry(self, ref: EntryRef) -> BaseModel:
        """The entry in the ref's language (English when the ref has none)."""
        if ref.lang and ref.lang != SOURCE_LANGUAGE:
            return self.translated[(ref.kind, ref.id, ref.lang)]
        if ref.kind == "site":
            return {SITE_ID: self.site}[ref.id]  # type: ignore[return-value]
        return self.entries(ref.kind)[ref.id]

    def entries(self, kind: str) -> Mapping[str, BaseModel]:
        """The English entries of one content kind, by id."""
        return getattr(self, FOLDERS[kind])  # type: ignore[no-any-return]

    def site_in(self, lang: str) -> Site | None:
        if self.site is None:
            return None
        return self.entry(EntryRef("site", SITE_ID, lang=lang))  # type: ignore[return-value]

    def favicon_path(self) -> Path | None:
        return self.files.get(EntryRef("favicon", SITE_ID))

    def therapy(self, tid: str, lang: str) -> Therapy:
        return self.entry(EntryRef("therapy", tid, lang=lang))  # type: ignore[return-value]

    def location(self, lid: str, lang: str) -> Location:
        return self.entry(EntryRef("location", lid, lang=lang))  # type: ignore[return-value]

    def clinic(self, cid: str, lang: str) -> Clinic:
        return self.entry(EntryRef("clinic", cid, lang=lang))  # type: ignore[return-value]

    def logo_path(self, clinic_id: str) -> Path:
        return self.files[EntryRef("logo", clinic_id)]

    def cities_of(self, state_id: str) -> list[str]:
        return sorted(i for i, loc in self.locations.items() if loc.state == state_id)

    def clinics_serving(self, location_id: str, therapy_id: str) -> list[str]:
        """Clinics offering the therapy in this place (for a state: in it or any of its cities)."""
        places = {location_id, *self.cities_of(location_id)}
        return sorted(
            cid
            for cid, clinic in self.clinics.items()
            if therapy_id in clinic.therapies and places & set(clinic.locations)
        )

