"""The content schema: what a therapy, a location and a clinic file must hold."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    model_validator,
)

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


_DURATION = re.compile(r"^\s*(\d+)\s*(minutes?|hours?)\s*$")


class Duration(Strict):
    """A length of time with its unit, e.g. `30 minutes` or `2 hours` in the YAML."""

    amount: int = Field(ge=0, le=7 * 24 * 60)
    unit: Literal["minute", "hour"]

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, str):
            match = _DURATION.match(value)
            if not match:
                raise ValueError(f"{value!r} is not a duration: write e.g. '30 minutes' or "
                                 "'2 hours'")
            return {"amount": int(match[1]), "unit": match[2].rstrip("s")}
        return value

    @property
    def minutes(self) -> int:
        return self.amount * (60 if self.unit == "hour" else 1)


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


Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_TIME = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")


def _check_time(value: object) -> object:
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 09:00 as the number 540
        raise ValueError('write the time in quotes, like "09:00"')
    if not isinstance(value, str) or not _TIME.match(value):
        raise ValueError(f'invalid time {value!r}: use 24-hour "HH:MM", like "17:30"')
    return value


TimeOfDay = Annotated[str, BeforeValidator(_check_time)]


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
