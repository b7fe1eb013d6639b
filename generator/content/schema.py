"""The content schema: what a therapy, a location, a clinic and the site file must hold (the
value types their fields are made of are in generator.content.fields)."""

# Pydantic copies a mutable default ([] or {}) for each instance, so RUF012 does not apply to
# these models; ruff sees a class as a pydantic model only when its base (Strict) is defined in
# the same file.
# ruff: noqa: RUF012

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, HttpUrl, model_validator

from generator.content.fields import (
    Colour,
    Duration,
    LogoName,
    Slug,
    Strict,
    Text,
    TimeOfDay,
    Weekday,
)

# --- therapy ---------------------------------------------------------------------------------


class Reviewer(Strict):
    """The clinician who checked the medical content; `build --strict` requires one."""

    name: Text
    credentials: Text
    """e.g. "MD, board-certified psychiatrist"."""


class Review(Strict):
    reviewed_by: Text
    """What documents print after "Medically reviewed by" (translated)."""
    reviewed_on: dt.date
    next_review: dt.date
    reviewer: Reviewer | None = None


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
    approval: Section
    """What the regulatory status means for this therapy; its title follows `regulatory`."""


class Regulatory(Strict):
    status: Literal["approved", "off-label", "investigational"]
    """approved: approved for this use; off-label: approved, but not for this use;
    investigational: not approved for this use, still being studied."""


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
    regulatory: Regulatory
    summary: Text
    sections: Sections
    side_effects: ItemList
    risks: ItemList
    sources: dict[Slug, Source] = Field(min_length=1)


# --- location --------------------------------------------------------------------------------


class Geo(Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Question(Strict):
    """One question of a page's FAQ block; the page's FAQPage JSON-LD carries exactly these."""

    id: Slug
    question: Text
    answer: Text


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
    faq: list[Question] = []
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
    """The name alone ("Maya Fernandez"): the honorific comes from `honorific`."""
    title: Text
    """The clinician's role, e.g. "board-certified anesthesiologist" (translated)."""
    honorific: Literal["doctor", "none"] = "none"
    gender: Literal["female", "male", "neutral"] = "neutral"
    """Grammatical gender: Spanish writes "la Dra." or "el Dr."."""


class Protocol(Strict):
    """The clinic's own rules for one therapy; the consent form quotes them.

    A rule left out (or of 0 minutes) does not apply and prints nothing.
    """

    revision: int = Field(default=1, ge=1)
    """Bump it when this protocol's wording changes: it is printed on the consent form."""
    given_by: Literal["clinician", "self-supervised"]
    """clinician: staff give the treatment; self-supervised: the patient takes it at the
    clinic while the clinician watches."""
    session: Duration
    no_food_before: Duration | None = None
    no_drink_before: Duration | None = None
    """With no_food_before: clear fluids are allowed until this long before; alone: nothing
    to drink for this long before."""
    observed_after: Duration | None = None
    """The least time staff watch the patient after the treatment before they may leave."""
    monitoring: list[Text] = Field(min_length=1)
    driving: Text
    """Driving and machines after treatment; say nothing about an escort here: set
    escort_required and the documents say it once."""
    escort_required: bool
    preparation: Text | None = None

    @model_validator(mode="after")
    def _session_is_real(self) -> Protocol:
        if self.session.minutes == 0:
            raise ValueError("session: must be longer than 0 minutes")
        return self


class OpeningHours(Strict):
    """One row of opening hours: these days, from opens to closes (24-hour clock)."""

    days: list[Weekday] = Field(min_length=1)
    opens: TimeOfDay
    closes: TimeOfDay

    @model_validator(mode="after")
    def _closes_after_opening(self) -> OpeningHours:
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        return self


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
    hours: list[OpeningHours] = []
    appointment_url: HttpUrl | None = None
    """Where a patient asks for an appointment online; pages show it as a button."""


# --- site ------------------------------------------------------------------------------------


def _check_directions(value: str) -> str:
    if not value.startswith("https://") or value.count("{address}") != 1:
        raise ValueError("must be an https:// link with {address} once, where the clinic's "
                         "address goes")
    return value


class Site(Strict):
    """The public site as a whole: content/site.yaml (and its translations)."""

    name: Text
    tagline: Text
    """One or two sentences under the name on the home page; also its meta description."""
    favicon: Text | None = None
    """An .svg or .png beside site.yaml, e.g. favicon.svg."""
    directions_url: Annotated[str, AfterValidator(_check_directions)] = (
        "https://www.openstreetmap.org/search?query={address}")
    """A plain link to a map service; {address} is replaced by the clinic's address."""
