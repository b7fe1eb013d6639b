"""The content kinds: one table that loading, the tree, changes from outside and the planner's
dependency facets all read, so a kind is described in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from generator.content.schema import Clinic, Location, Therapy


@dataclass(frozen=True)
class ContentKind:
    name: str
    """As written in an EntryRef (clinic:<id>) and mapped to by the CMS type map."""
    folder: str
    """Its folder in the content tree; ContentTree holds its entries under the same name."""
    model: type[BaseModel]
    facets: dict[str, set[str]] = field(default_factory=dict)
    """Named groups of fields a document may read instead of the whole entry, so that a page
    listing a clinic is not re-rendered when only that clinic's colours or protocol change."""


CONTENT_KINDS: tuple[ContentKind, ...] = (
    ContentKind("therapy", "therapies", Therapy),
    ContentKind("location", "locations", Location, {"name": {"name", "type", "state"}}),
    ContentKind("clinic", "clinics", Clinic, {"listing": {
        "name", "contact", "address", "clinician", "locations", "therapies", "hours",
        "appointment_url"}}),
)

# Views of the table for the places that need one column.
KINDS: dict[str, type[BaseModel]] = {kind.name: kind.model for kind in CONTENT_KINDS}
FOLDERS: dict[str, str] = {kind.name: kind.folder for kind in CONTENT_KINDS}
FACETS: dict[tuple[str, str], set[str]] = {
    (kind.name, facet): fields for kind in CONTENT_KINDS for facet, fields in kind.facets.items()}
