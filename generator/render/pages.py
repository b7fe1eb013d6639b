"""What the public site's pages receive: location pages (local content first, the clinic cards
a patient acts on, the therapy in brief), the home page, the 404 page, robots.txt and the
sitemap."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any
from urllib.parse import quote_plus, urlsplit

from babel.dates import format_time, get_day_names
from markupsafe import Markup

from generator.content.schema import OpeningHours, Site
from generator.content.tree import ContentTree
from generator.i18n import language_name, page_heading, page_language_help, translations
from generator.markup import plain_text
from generator.phones import e164
from generator.plan.documents import (
    ROOT_PATH,
    DocumentKey,
    DocumentSpec,
    favicon_path,
    home_path,
    page_path,
    public_folder,
)
from generator.render.contexts import clinic_card, page_url, place_name, relative, review_context
from generator.render.treatment import given_by
from templates import STATIC_DIR

META_DESCRIPTION_CHARS = 155
WEEK = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
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


def page_context(tree: ContentTree, key: DocumentKey, site_url: str) -> dict[str, Any]:
    lang, tid = key.lang, key.therapy
    therapy = tree.therapy(tid, lang)
    location = tree.location(key.location, lang)
    own_path = page_path(tid, key.location, lang)
    place = place_name(tree, key.location, lang)
    heading = page_heading(lang, therapy.name, place)
    directions = _directions_url(tree.site_in(lang))
    clinics = [_card(tree, cid, key, own_path, directions)
               for cid in tree.clinics_serving(key.location, tid)]

    def link(lid: str) -> dict[str, str]:
        name = tree.location(lid, lang).name
        return {"name": name, "title": page_heading(lang, therapy.name, name),
                "href": folder_link(relative(own_path, page_path(tid, lid, lang)))}

    url = page_url(site_url, tid, key.location, lang)
    description = _describe(f"{heading}. {plain_text(location.summary)}")
    state = link(location.state) if location.state else None
    common = site_context(tree, lang, own_path)
    state_url = page_url(site_url, tid, location.state, lang) if location.state else None
    crumbs = _breadcrumbs(common, state, state_url, location.name, site_url, lang, url)
    faq = [{"id": q.id, "question": q.question, "answer": q.answer} for q in location.faq]
    return {
        **common,
        "heading": heading,
        "place": place,
        "location": location.model_dump(mode="json"),
        "english": tree.fallbacks.get(("location", key.location, lang), []),
        "therapy_id": tid,
        "therapy_note": location.therapy_notes.get(tid),
        "therapy": {"name": therapy.name, "summary": therapy.summary,
                    "off_label": therapy.sections.approval.body},
        "review": review_context(therapy.review),
        "clinics": clinics,
        "cities": [link(c) for c in tree.cities_of(key.location)
                   if tree.clinics_serving(c, tid)],
        "state": state,
        "breadcrumbs": crumbs,
        "faq": faq,
        "url": url,
        "alternates": [{"lang": other, "name": language_name(other),
                        "url": page_url(site_url, tid, key.location, other),
                        "href": folder_link(relative(own_path, page_path(tid, key.location,
                                                                         other)))}
                       for other in tree.languages],
        "notices": [{"lang": code, "text": page_language_help(code)}
                    for code in (lang, *(c for c in tree.languages if c != lang))],
        "description": description,
        "json_ld": _json_ld(key, therapy.name, therapy.review.reviewed_on.isoformat(), url,
                            heading, place, description, clinics, crumbs, faq),
    }


def _breadcrumbs(common: dict[str, Any], state: dict[str, str] | None, state_url: str | None,
                 name: str, site_url: str, lang: str, url: str) -> list[dict[str, str | None]]:
    """Home › state › this page; each with its public URL for the BreadcrumbList."""
    crumbs: list[dict[str, str | None]] = []
    if common["site"] is not None:
        crumbs.append({"name": translations(lang).gettext("Home"),
                       "href": common["site"]["home"], "url": home_url(site_url, lang)})
    if state is not None:
        crumbs.append({"name": state["title"], "href": state["href"], "url": state_url})
    crumbs.append({"name": name, "href": None, "url": url})
    return crumbs


def _directions_url(site: Site | None) -> str:
    return site.directions_url if site is not None else str(
        Site.model_fields["directions_url"].default)


def _card(tree: ContentTree, cid: str, key: DocumentKey, own_path: str,
          directions: str) -> dict[str, Any]:
    """A clinic as a patient acts on it: call, book, find it, read its papers first."""
    card = clinic_card(tree, cid, key.lang, own_path, False)
    address = card["address"]
    line = (f"{address['street']}, {address['city']}, {address['region']} "
            f"{address['postal_code']}, {address['country']}")
    tel = e164(card["contact"]["phone"], address["country"])
    handout = public_folder(DocumentKey("handout", cid, key.therapy, lang=key.lang))
    consent = public_folder(DocumentKey("consent", cid, key.therapy, lang=key.lang))
    clinic = tree.clinic(cid, key.lang)
    protocol = clinic.protocols.get(key.therapy)
    return {
        **card,
        # Who gives this therapy here, as the clinic's protocol says (a clinician, or the
        # patient under supervision); a page of a therapy the clinic has no protocol for says
        # nothing about it.
        "given_by": None if protocol is None else given_by(
            protocol, clinic.clinician, clinic.name, key.lang, formal=False),
        "tel": tel,
        "directions": directions.replace("{address}", quote_plus(line)),
        "hours": _hours(clinic.hours, key.lang),
        "opening_hours": [{"@type": "OpeningHoursSpecification", "dayOfWeek": row.days,
                           "opens": row.opens, "closes": row.closes} for row in clinic.hours],
        "handout_html": relative(own_path, f"{handout}/handout.html"),
        "handout_pdf": relative(own_path, f"{handout}/handout.pdf"),
        "consent_html": relative(own_path, f"{consent}/consent.html"),
    }


def _hours(rows: list[OpeningHours], lang: str) -> list[dict[str, str]]:
    """One line per row of the clinic's hours, then the days it is closed, in `lang`."""
    if not rows:
        return []
    names = get_day_names("wide", locale=lang)
    gettext = translations(lang).gettext

    def days(selected: list[str]) -> str:
        indexes = sorted(WEEK.index(d) for d in selected)
        runs: list[list[int]] = []
        for i in indexes:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        parts = [str(names[r[0]]) if len(r) == 1 else
                 f"{names[r[0]]}{'–' if len(r) > 2 else ', '}{names[r[-1]]}" for r in runs]
        text = ", ".join(parts)
        return text[:1].upper() + text[1:]

    def clock(value: str) -> str:
        return str(format_time(dt.time.fromisoformat(value), "short", locale=lang))

    lines = [{"days": days(list(row.days)), "time": f"{clock(row.opens)} – {clock(row.closes)}"}
             for row in rows]
    closed = [d for d in WEEK if not any(d in row.days for row in rows)]
    if closed:
        lines.append({"days": days(closed), "time": gettext("Closed")})
    return lines


def _describe(text: str) -> str:
    if len(text) <= META_DESCRIPTION_CHARS:
        return text
    return text[: META_DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _json_ld(key: DocumentKey, therapy: str, reviewed: str, url: str, heading: str, place: str,
             description: str, clinics: list[dict[str, Any]],
             crumbs: list[dict[str, str | None]],
             faq: list[dict[str, str]]) -> dict[str, Any]:
    page: dict[str, Any] = {
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "name": heading,
        "description": description,
        "inLanguage": key.lang,
        "lastReviewed": reviewed,
        "about": {"@type": "MedicalTherapy", "name": therapy},
        "contentLocation": {"@type": "Place", "name": place},
        "breadcrumb": {"@type": "BreadcrumbList", "itemListElement": [
            {"@type": "ListItem", "position": n, "name": c["name"], "item": c["url"]}
            for n, c in enumerate(crumbs, start=1)]},
    }
    nodes = [page, *map(_clinic_json_ld, clinics)]
    if faq:
        # Only the questions the page shows, each with the answer it shows.
        nodes.append({"@type": "FAQPage", "@id": f"{url}#faq", "isPartOf": {"@id": url},
                      "mainEntity": [{"@type": "Question", "name": q["question"],
                                      "acceptedAnswer": {"@type": "Answer",
                                                         "text": plain_text(q["answer"])}}
                                     for q in faq]})
    return {"@context": "https://schema.org", "@graph": nodes}


def _clinic_json_ld(clinic: dict[str, Any]) -> dict[str, Any]:
    address = clinic["address"]
    node = {
        "@type": "MedicalClinic",
        "name": clinic["name"],
        "url": clinic["contact"]["website"],
        "telephone": clinic["tel"],
        "email": clinic["contact"]["email"],
        "address": {
            "@type": "PostalAddress",
            "streetAddress": address["street"],
            "addressLocality": address["city"],
            "addressRegion": address["region"],
            "postalCode": address["postal_code"],
            "addressCountry": address["country"],
        },
    }
    if clinic["opening_hours"]:
        node["openingHoursSpecification"] = clinic["opening_hours"]
    if clinic["appointment_url"]:
        node["potentialAction"] = {"@type": "ReserveAction",
                                   "target": clinic["appointment_url"]}
    return node


def home_context(tree: ContentTree, lang: str, pages: list[DocumentSpec],
                 site_url: str) -> dict[str, Any]:
    """The site's front door: each therapy with the states (and their cities) it has pages for."""
    own_path = home_path(lang)
    site = tree.site_in(lang)
    assert site is not None, "a home page is planned only with a site entry"
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
    url = home_url(site_url, lang)
    return {
        **site_context(tree, lang, own_path),
        "heading": site.name,
        "tagline": site.tagline,
        "description": _describe(plain_text(site.tagline)),
        "therapies": therapies,
        "url": url,
        "alternates": [{"lang": other, "name": language_name(other),
                        "url": home_url(site_url, other),
                        "href": folder_link(relative(own_path, home_path(other)))}
                       for other in tree.languages],
        "x_default": f"{site_url}/",  # the site's address, which offers every language
        "notices": [{"lang": code, "text": page_language_help(code)}
                    for code in (lang, *(c for c in tree.languages if c != lang))],
        "json_ld": {"@context": "https://schema.org", "@graph": [{
            "@type": "WebSite", "@id": url, "url": url, "name": site.name, "inLanguage": lang,
            "description": plain_text(site.tagline)}]},
    }


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
        "description": _describe(plain_text(first["tagline"])),
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


def robots_context(site_url: str) -> dict[str, Any]:
    return {"sitemap": f"{site_url}/sitemap.xml", "print": False}


def sitemap_context(tree: ContentTree, page_keys: list[DocumentKey],
                    site_url: str) -> dict[str, Any]:
    """Every page with its language versions (hreflang alternates, and x-default as the pages
    themselves declare it: the first language, or for the homes the site's address)."""
    def url_of(key: DocumentKey, lang: str) -> str:
        if key.kind == "home":
            return home_url(site_url, lang)
        return page_url(site_url, key.therapy, key.location, lang)

    def lastmod(key: DocumentKey) -> str:
        if key.kind == "home":
            return max(t.review.reviewed_on for t in tree.therapies.values()).isoformat()
        return tree.therapies[key.therapy].review.reviewed_on.isoformat()

    def x_default(key: DocumentKey) -> str:
        return f"{site_url}/" if key.kind == "home" else url_of(key, tree.languages[0])

    urls = [
        {"loc": url_of(k, k.lang), "lastmod": lastmod(k),
         "alternates": [{"lang": other, "url": url_of(k, other)} for other in tree.languages]
         + [{"lang": "x-default", "url": x_default(k)}]}
        for k in page_keys
    ]
    return {"urls": urls, "print": False}
