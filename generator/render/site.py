"""What every page of the public site shares (its name, the way home, the stylesheet, the web
fonts, the favicon, the language notices) and the site's files for crawlers: robots.txt and the
sitemap."""

from __future__ import annotations

from typing import Any

from generator.content.tree import ContentTree
from generator.i18n import page_language_help
from generator.plan.documents import DocumentKey, favicon_path, home_path
from generator.plan.kinds import HOME
from generator.render.contexts import page_url, relative

META_DESCRIPTION_CHARS = 155
STYLESHEET = "site/assets/carepress.css"
FONTS = "site/assets/fonts"
# The web fonts the first screen uses, preloaded (base.html.j2): text does not wait for them,
# and they arrive before the first paint more often, so the swap moves nothing.
WEB_FONTS = ("NotoSans-Regular.woff2", "NotoSans-Bold.woff2")


def folder_link(href: str) -> str:
    """A link to a page as its canonical URL has it: the folder, not its index.html."""
    if href == "index.html":
        return "./"
    return href.removesuffix("index.html")


def home_url(site_url: str, lang: str) -> str:
    return f"{site_url}/{lang}/"


def site_context(tree: ContentTree, lang: str, own_path: str) -> dict[str, Any]:
    """What every page of the site shows: its name, the way home, the stylesheet, the favicon."""
    site = tree.site_in(lang)
    favicon = favicon_path(tree)
    return {
        "print": False,
        "lang": lang,
        "stylesheet": relative(own_path, STYLESHEET),
        "fonts": [relative(own_path, f"{FONTS}/{name}") for name in WEB_FONTS],
        "site": None if site is None else {
            "name": site.name,
            "home": folder_link(relative(own_path, home_path(lang))),
        },
        "favicon": None if favicon is None else {
            "href": relative(own_path, favicon),
            "type": "image/svg+xml" if favicon.endswith(".svg") else "image/png",
        },
    }


def notices(tree: ContentTree, lang: str) -> list[dict[str, str]]:
    """The language-help notice in every language, the page's own first."""
    return [{"lang": code, "text": page_language_help(code)}
            for code in (lang, *(c for c in tree.languages if c != lang))]


def describe(text: str) -> str:
    """The meta description: the text, cut at a word to fit what search results show."""
    if len(text) <= META_DESCRIPTION_CHARS:
        return text
    return text[: META_DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0] + "…"


def robots_context(site_url: str) -> dict[str, Any]:
    return {"sitemap": f"{site_url}/sitemap.xml", "print": False}


def sitemap_context(tree: ContentTree, page_keys: list[DocumentKey],
                    site_url: str) -> dict[str, Any]:
    """Every page with its language versions (hreflang alternates, and x-default as the pages
    themselves declare it: the first language, or for the homes the site's address)."""
    def url_of(key: DocumentKey, lang: str) -> str:
        if key.kind == HOME.id:
            return home_url(site_url, lang)
        return page_url(site_url, key.therapy, key.location, lang)

    def lastmod(key: DocumentKey) -> str:
        if key.kind == HOME.id:
            return max(t.review.reviewed_on for t in tree.therapies.values()).isoformat()
        return tree.therapies[key.therapy].review.reviewed_on.isoformat()

    def x_default(key: DocumentKey) -> str:
        return f"{site_url}/" if key.kind == HOME.id else url_of(key, tree.languages[0])

    urls = [
        {"loc": url_of(k, k.lang), "lastmod": lastmod(k),
         "alternates": [{"lang": other, "url": url_of(k, other)} for other in tree.languages]
         + [{"lang": "x-default", "url": x_default(k)}]}
        for k in page_keys
    ]
    return {"urls": urls, "print": False}
