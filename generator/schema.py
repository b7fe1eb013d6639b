"""The content schema: what a therapy, a location and a clinic file must hold."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl

from generator.ids import EntryId

Slug = EntryId
Text = Annotated[str, Field(min_length=1)]
"""Markdown: rendered by generator.markup, never trusted as HTML."""

_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def _check_colour(value: str) -> str:
    if not _HEX_COLOUR.match(value):
        raise ValueError(f"invalid colour {value!r}: use #rgb or #rrggbb")
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value.lower()


Colour = Annotated[str, AfterValidator(_check_colour)]

LOGO_SUFFIXES = (".svg", ".png")


def _check_logo_name(value: str) -> str:
    if not value.lower().endswith(LOGO_SUFFIXES):
        raise ValueError(f"logo {value!r} must name an .svg or .png file")
    return value


LogoName = Annotated[str, Field(min_length=1), AfterValidator(_check_logo_name)]


class Strict(BaseModel):
    """Unknown keys are typos, and typos in medical content must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- therapy ---------------------------------------------------------------------------------


class Review(Strict):
    reviewed_by: Text
    reviewed_on: dt.date
    next_review: dt.date


class Section(Strict):
    body: Text
    cite: list[Slug] = []


class Sections(Strict):
    what_it_is: Section
    how_it_works: Section
    who_it_is_for: Section
    session: Section
    monitoring: Section
    benefits: Section
    long_term: Section
    alternatives: Section
    off_label: Section


class Item(Strict):
    """One side effect or one risk: each gets its own line and initials box on the consent."""

    id: Slug
    name: Text
    detail: Text
    cite: list[Slug] = []


class ItemList(Strict):
    intro: Text
    items: list[Item] = Field(min_length=1)


class Source(Strict):
    title: Text
    publisher: Text
    url: HttpUrl | None = None
    note: str | None = None


class Therapy(Strict):
    name: Text
    version: Text
    consent_version: Text
    review: Review
    summary: Text
    sections: Sections
    side_effects: ItemList
    risks: ItemList
    sources: dict[Slug, Source] = Field(min_length=1)


# --- location --------------------------------------------------------------------------------


class Geo(Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Location(Strict):
    name: Text
    type: Literal["state", "city"]
    state: Slug | None = None
    state_code: str | None = None
    summary: Text
    local_notes: list[Text] = []
    nearby: list[Text] = []
    geo: Geo | None = None
    therapy_notes: dict[Slug, Text] = {}
    allow_fallback: bool = False
    """Pages may show this entry's English text where a translation is missing (reported)."""


# --- clinic ----------------------------------------------------------------------------------


class Colours(Strict):
    primary: Colour
    accent: Colour


class Contact(Strict):
    phone: Text
    email: Text
    website: HttpUrl


class Address(Strict):
    street: Text
    city: Text
    region: Text
    postal_code: Text
    country: Text


class Clinician(Strict):
    name: Text
    title: Text


class Protocol(Strict):
    """The clinic's own rules for one therapy; the consent form quotes them."""

    revision: int = Field(default=1, ge=1)
    """Bump it when this protocol's wording changes: it is printed on the consent form."""
    session_minutes: int = Field(gt=0, le=600)
    fasting_hours: int = Field(ge=0, le=48)
    clear_fluids_hours: int = Field(ge=0, le=48)
    monitoring: list[Text] = Field(min_length=1)
    driving: Text
    escort_required: bool
    preparation: Text | None = None


class Clinic(Strict):
    name: Text
    logo: LogoName
    logo_alt: Text
    colors: Colours
    contact: Contact
    address: Address
    locations: list[Slug] = Field(min_length=1)
    therapies: list[Slug] = Field(min_length=1)
    clinician: Clinician
    emergency: Text
    protocols: dict[Slug, Protocol]
