"""What a location page receives: local content first, the clinic cards a patient acts on
(call, book, find it, read its papers), the therapy in brief, and its structured data."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from urllib.parse import quote_plus

from babel.dates import format_time, get_day_names

from generator.content.schema import OpeningHours, Site
from generator.content.tree import ContentTree
from generator.i18n import language_name, page_heading, translations
from generator.markup import plain_text
from generator.phones import e164
from generator.plan.documents import DocumentKey, page_path, public_folder
from generator.plan.kinds import CONSENT, HANDOUT
from generator.render.contexts import clinic_card, page_url, place_name, relative, review_context
from generator.render.site import describe, folder_link, home_url, notices, site_context
from generator.render.treatment import given_by

WEEK = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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
    url = page_url(site_url, tid, key.location, lang)
    description = describe(f"{heading}. {plain_text(location.summary)}")
    state, cities = _neighbours(tree, key, therapy.name, own_path)
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
        "cities": cities,
        "state": state,
        "breadcrumbs": crumbs,
        "faq": faq,
        "url": url,
        "alternates": _alternates(tree, key, site_url, own_path),
        "notices": notices(tree, lang),
        "description": description,
        "json_ld": _json_ld(key, therapy.name, therapy.review.reviewed_on.isoformat(), url,
                            heading, place, description, clinics, crumbs, faq),
    }


def _neighbours(tree: ContentTree, key: DocumentKey, therapy: str,
                own_path: str) -> tuple[dict[str, str] | None, list[dict[str, str]]]:
    """The links to a city's state and to a state's cities that have pages of this therapy."""
    lang, tid = key.lang, key.therapy

    def link(lid: str) -> dict[str, str]:
        name = tree.location(lid, lang).name
        return {"name": name, "title": page_heading(lang, therapy, name),
                "href": folder_link(relative(own_path, page_path(tid, lid, lang)))}

    state = tree.location(key.location, lang).state
    return (link(state) if state else None,
            [link(c) for c in tree.cities_of(key.location) if tree.clinics_serving(c, tid)])


def _alternates(tree: ContentTree, key: DocumentKey, site_url: str,
                own_path: str) -> list[dict[str, str]]:
    """The page in each language: its public URL (hreflang) and the link between them."""
    return [{"lang": other, "name": language_name(other),
             "url": page_url(site_url, key.therapy, key.location, other),
             "href": folder_link(relative(own_path, page_path(key.therapy, key.location, other)))}
            for other in tree.languages]


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
    handout = public_folder(DocumentKey(HANDOUT.id, cid, key.therapy, lang=key.lang))
    consent = public_folder(DocumentKey(CONSENT.id, cid, key.therapy, lang=key.lang))
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
    key = tuple((tuple(row.days), row.opens, row.closes) for row in rows)
    return [dict(line) for line in _hour_lines(key, lang)]


# A clinic's card is on every page near it: its hours are worded once per language, not once
# a page (Babel's time formatting was a third of a location page's context).
@functools.lru_cache(maxsize=4096)
def _hour_lines(rows: tuple[tuple[tuple[str, ...], str, str], ...],
                lang: str) -> tuple[dict[str, str], ...]:
    if not rows:
        return ()
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

    lines = [{"days": days(list(selected)), "time": f"{clock(opens)} – {clock(closes)}"}
             for selected, opens, closes in rows]
    closed = [d for d in WEEK if not any(d in row[0] for row in rows)]
    if closed:
        lines.append({"days": days(closed), "time": gettext("Closed")})
    return tuple(lines)



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

