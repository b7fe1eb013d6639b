"""The ways into the site: each language's home page, the site's own address (the root, which
offers every language) and the 404 page."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from generator.content.tree import ContentTree
from generator.i18n import language_name, translations
from generator.markup import plain_text
from generator.plan.documents import ROOT_PATH, DocumentSpec, home_path, page_path
from generator.render.contexts import relative
from generator.render.site import describe, folder_link, home_url, notices, site_context
from templates import STATIC_DIR


def home_context(tree: ContentTree, lang: str, pages: list[DocumentSpec],
                 site_url: str) -> dict[str, Any]:
    """The site's front door: each therapy with the states (and their cities) it has pages for."""
    own_path = home_path(lang)
    site = tree.site_in(lang)
    assert site is not None, "a home page is planned only with a site entry"
    url = home_url(site_url, lang)
    return {
        **site_context(tree, lang, own_path),
        "heading": site.name,
        "tagline": site.tagline,
        "description": describe(plain_text(site.tagline)),
        "therapies": _therapies(tree, lang, pages, own_path),
        "url": url,
        "alternates": [{"lang": other, "name": language_name(other),
                        "url": home_url(site_url, other),
                        "href": folder_link(relative(own_path, home_path(other)))}
                       for other in tree.languages],
        "x_default": f"{site_url}/",  # the site's address, which offers every language
        "notices": notices(tree, lang),
        "json_ld": {"@context": "https://schema.org", "@graph": [{
            "@type": "WebSite", "@id": url, "url": url, "name": site.name, "inLanguage": lang,
            "description": plain_text(site.tagline)}]},
    }


def _therapies(tree: ContentTree, lang: str, pages: list[DocumentSpec],
               own_path: str) -> list[dict[str, Any]]:
    """Each therapy with pages in `lang`: its top places (states, and cities in no state that
    has a page), by name, each with its cities."""
    built = {(s.key.therapy, s.key.location) for s in pages if s.key.lang == lang}

    def place(tid: str, lid: str) -> dict[str, Any]:
        return {"name": tree.location(lid, lang).name,
                "href": folder_link(relative(own_path, page_path(tid, lid, lang))),
                "cities": [place(tid, c) for c in tree.cities_of(lid) if (tid, c) in built]}

    therapies = []
    for tid in sorted(tree.therapies):
        roots = sorted((lid for t, lid in built if t == tid and (
            tree.locations[lid].state is None or (tid, tree.locations[lid].state) not in built)),
            key=lambda lid: tree.location(lid, lang).name)
        if roots:
            therapy = tree.therapy(tid, lang)
            therapies.append({"id": tid, "name": therapy.name, "summary": therapy.summary,
                              "places": [place(tid, lid) for lid in roots]})
    return therapies


def root_context(tree: ContentTree, site_url: str) -> dict[str, Any]:
    """The site's own address: each language's home, offered in that language."""
    languages = []
    for lang in tree.languages:
        site = tree.site_in(lang)
        assert site is not None, "a root page is planned only with a site entry"
        languages.append({"lang": lang, "site": site.name, "tagline": site.tagline,
                          "name": language_name(lang),
                          "href": folder_link(relative(ROOT_PATH, home_path(lang)))})
    first = languages[0]
    url = f"{site_url}/"
    return {
        **site_context(tree, first["lang"], ROOT_PATH),
        "heading": first["site"],
        "languages": languages,
        "description": describe(plain_text(first["tagline"])),
        "url": url,
        # The language versions of this address are the homes; it is the x-default itself.
        "alternates": [{"lang": item["lang"], "url": home_url(site_url, item["lang"])}
                       for item in languages],
        "x_default": url,
        "json_ld": {"@context": "https://schema.org", "@graph": [{
            "@type": "WebSite", "@id": url, "url": url, "name": first["site"],
            "inLanguage": [item["lang"] for item in languages]}]},
    }


def notfound_context(tree: ContentTree, site_url: str) -> dict[str, Any]:
    """One page for every missing address, in every language: the server cannot know which
    language was asked for. It answers at any depth, so its links start at the site's root and
    it fetches nothing: its styles (without web fonts) and its favicon travel inside it."""
    root = urlsplit(site_url).path.rstrip("/")
    languages = []
    for lang in tree.languages:
        site = tree.site_in(lang)
        assert site is not None, "a 404 page is planned only with a site entry"
        gettext = translations(lang).gettext
        languages.append({"lang": lang, "site": site.name, "home": f"{root}/{lang}/",
                          "title": gettext("Page not found"),
                          "text": gettext("There is no page at this address. It may have "
                                          "moved. Start again from the home page."),
                          "link": gettext("Go to the home page")})
    favicon = tree.favicon_path()
    kind = "image/svg+xml" if favicon is not None and favicon.suffix == ".svg" else "image/png"
    return {
        "print": False,
        "lang": tree.languages[0],
        "languages": languages,
        "styles": _own_styles(),
        "favicon": None if favicon is None else {
            "href": f"data:{kind};base64,{base64.b64encode(favicon.read_bytes()).decode()}",
            "type": kind},
    }


def _own_styles() -> Markup:
    """The stylesheet to inline in a page that fetches nothing: without its web fonts."""
    styles = (STATIC_DIR / "carepress.css").read_text(encoding="utf-8")
    styles = re.sub(r"@font-face \{[^}]*\}\n?", "", styles)
    # Our own bundled file, not content: nothing in it to escape.
    return Markup(styles)  # noqa: S704

