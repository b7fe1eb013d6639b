"""Template and interface strings in every language, from Babel/gettext catalogs.

The catalogs are the .po files under templates/locale, read directly (compiled in memory), so
the repo holds no generated .mo files and an installed package carries what it needs.
"""

from __future__ import annotations

import datetime as dt
import gettext
from functools import cache, lru_cache
from io import BytesIO

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from generator.errors import ContentError, Problem
from templates import TEMPLATES_DIR

SOURCE_LANGUAGE = "en"
LOCALE_DIR = TEMPLATES_DIR / "locale"
DOMAIN = "messages"


def catalog_path(lang: str) -> str:
    return str(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po")


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The strings of one language; English is the source and needs no catalog."""
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    catalog = _catalog(lang)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    try:
        with open(catalog_path(lang), "rb") as handle:  # noqa: PTH123
            return read_po(handle, locale=lang)
    except FileNotFoundError as exc:
        raise ContentError([Problem(f"templates/locale/{lang}", "", "no translation catalog "
                                    "for this language (scripts/i18n.sh init)")]) from exc


def untranslated(lang: str) -> list[str]:
    """Messages of a catalog with no (or only a fuzzy) translation."""
    if lang == SOURCE_LANGUAGE:
        return []
    return [str(m.id) for m in _catalog(lang) if m.id and (not m.string or m.fuzzy)]


@lru_cache(maxsize=256)
def long_date(value: dt.date, lang: str) -> str:
    """Documents show a handful of review dates, each on hundreds of pages."""
    return format_date(value, format="long", locale=lang)


@cache
def language_name(lang: str) -> str:
    """A language's name in that language, e.g. 'español' (asked twice by every page)."""
    from babel import Locale

    return str(Locale.parse(lang).get_display_name(lang))


def page_heading(lang: str, therapy: str, place: str) -> str:
    return translations(lang).gettext("%(therapy)s in %(place)s") % {
        "therapy": therapy, "place": place}


def language_help(lang: str, clinic: str, phone: str) -> str:
    """The notice that free language help is available (ACA Section 1557), in `lang`."""
    text = translations(lang).gettext(
        "Free language help is available. If you need help in another language, call "
        "%(clinic)s at %(phone)s. It costs you nothing.")
    return text % {"clinic": clinic, "phone": phone}


def page_language_help(lang: str) -> str:
    """The language-help notice of a location page, which lists several clinics."""
    return translations(lang).gettext(
        "Free language help is available. When you call a clinic on this page, ask for help in "
        "your language. It costs you nothing.")
