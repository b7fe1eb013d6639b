"""The value types content fields are made of: ids, text, colours, logo file names, lengths of
time and times of day, and the strict base every entry model and its parts derive from."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from generator.content.logos import LOGO_TYPES
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

LOGO_SUFFIXES = tuple(LOGO_TYPES)
"""The logo's file type is checked here first, so an entry naming a .gif fails on its own."""


def _check_logo_name(value: str) -> str:
    if not value.lower().endswith(LOGO_SUFFIXES):
        raise ValueError(f"logo {value!r} must name an .svg or .png file")
    return value


LogoName = Annotated[str, Field(min_length=1), AfterValidator(_check_logo_name)]


class Strict(BaseModel):
    """Unknown keys are typos, and typos in medical content must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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


Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_TIME = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")


def _check_time(value: object) -> object:
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 09:00 as the number 540
        raise ValueError('write the time in quotes, like "09:00"')
    if not isinstance(value, str) or not _TIME.match(value):
        raise ValueError(f'invalid time {value!r}: use 24-hour "HH:MM", like "17:30"')
    return value


TimeOfDay = Annotated[str, BeforeValidator(_check_time)]

