"""Telephone links: E.164 `tel:` URLs, and phone numbers in rendered text made links.

A number is read in the country of the clinic's address (libphonenumber's metadata, through
the `phonenumbers` package), so nothing about one country is written here.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from markupsafe import Markup, escape
from phonenumbers import shortnumberinfo

from generator.errors import RenderError

_TAG = re.compile(r"(<[^>]+>)")


# Each clinic's number is on every page near it: parsed once (libphonenumber's parse was a
# sixth of a location page's context). A number that fails raises again every time.
@functools.lru_cache(maxsize=4096)
def e164(phone: str, country: str) -> str:
    """The number in E.164 (`+17085550142`); a short number (911) as it is dialled."""
    digits = re.sub(r"\D", "", phone)
    try:
        number = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException as exc:
        raise RenderError(f"phone number {phone!r} ({country}): {exc}") from exc
    if shortnumberinfo.is_valid_short_number_for_region(number, country):
        return digits
    if not phonenumbers.is_possible_number(number):
        raise RenderError(f"phone number {phone!r} is not a possible number in {country}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def tel_url(phone: str, country: str) -> str:
    return "tel:" + e164(phone, country)


def _link(text: str, country: str) -> str:
    href = escape(tel_url(text, country))
    return f'<a href="{href}">{text}</a>'


def _link_text(text: str, country: str) -> str:
    stripped = text.strip()
    # A short number (emergency, crisis line) is linked when it stands alone in its element,
    # as the content writes it (`**911**`): in running text three digits may be anything.
    if stripped.isdigit() and shortnumberinfo.is_valid_short_number_for_region(
            phonenumbers.parse(stripped, country), country):
        return text.replace(stripped, _link(stripped, country))
    out, last = [], 0
    for match in phonenumbers.PhoneNumberMatcher(text, country,
                                                 leniency=phonenumbers.Leniency.POSSIBLE):
        out += [text[last:match.start], _link(match.raw_string, country)]
        last = match.end
    return "".join([*out, text[last:]])


def link_phones(html: str, country: str) -> Markup:
    """Rendered HTML with every phone number outside a link made a `tel:` link.

    Plain text (not Markup) is escaped first: it is text, whatever it looks like."""
    parts = _TAG.split(str(escape(html)))
    depth = 0
    for index, part in enumerate(parts):
        if index % 2:
            if re.match(r"<a[\s>]", part):
                depth += 1
            elif part.startswith("</a"):
                depth -= 1
        elif depth == 0 and part:
            parts[index] = _link_text(part, country)
    return Markup("".join(parts))  # noqa: S704 - built from already escaped HTML
