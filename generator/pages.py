"""What a location page and the sitemap receive: local content first, the therapy in brief."""

from __future__ import annotations

from typing import Any

from generator.content import ContentTree
from generator.context import clinic_card, page_url, place_name, relative, review_context
from generator.i18n import language_name, page_heading, page_language_help
from generator.markup import plain_text
from generator.plan import DocumentKey, page_path

META_DESCRIPTION_CHARS = 155


def page_context(tree: ContentTree, key: DocumentKey, site_url: str) -> dict[str, Any]:
    lang, tid = key.lang, key.therapy
    therapy = tree.therapy(tid, lang)
    location = tree.location(key.location, lang)
    own_path = page_path(tid, key.location, lang)
    place = place_name(tree, key.location, lang)
    heading = page_heading(lang, therapy.name, place)
    clinics = [clinic_card(tree, cid, lang, own_path, False)
               for cid in tree.clinics_serving(key.location, tid)]

    def link(lid: str) -> dict[str, str]:
        name = tree.location(lid, lang).name
        return {"name": name, "title": page_heading(lang, therapy.name, name),
                "href": relative(own_path, page_path(tid, lid, lang))}

    url = page_url(site_url, tid, key.location, lang)
    description = _describe(f"{heading}. {plain_text(location.summary)}")
    return {
        "print": False,
        "lang": lang,
        "stylesheet": relative(own_path, "site/assets/carepress.css"),
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
        "state": link(location.state) if location.state else None,
        "url": url,
        "alternates": [{"lang": other, "name": language_name(other),
                        "url": page_url(site_url, tid, key.location, other),
                        "href": relative(own_path, page_path(tid, key.location, other))}
                       for other in tree.languages],
        "notices": [{"lang": code, "text": page_language_help(code)}
                    for code in (lang, *(c for c in tree.languages if c != lang))],
        "description": description,
        "json_ld": _json_ld(key, therapy.name, therapy.review.reviewed_on.isoformat(), url,
                            heading, place, description, clinics),
    }


def _describe(text: str) -> str:
    if len(text) <= META_DESCRIPTION_CHARS:
        return text
    return text[: META_DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _json_ld(key: DocumentKey, therapy: str, reviewed: str, url: str, heading: str, place: str,
             description: str, clinics: list[dict[str, Any]]) -> dict[str, Any]:
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
    }
    return {"@context": "https://schema.org", "@graph": [page, *map(_clinic_json_ld, clinics)]}


def _clinic_json_ld(clinic: dict[str, Any]) -> dict[str, Any]:
    address = clinic["address"]
    return {
        "@type": "MedicalClinic",
        "name": clinic["name"],
        "url": clinic["contact"]["website"],
        "telephone": clinic["contact"]["phone"],
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


def sitemap_context(tree: ContentTree, page_keys: list[DocumentKey],
                    site_url: str) -> dict[str, Any]:
    """Every page with its language versions (hreflang alternates)."""
    urls = [
        {"loc": page_url(site_url, k.therapy, k.location, k.lang),
         "lastmod": tree.therapies[k.therapy].review.reviewed_on.isoformat(),
         "alternates": [{"lang": other, "url": page_url(site_url, k.therapy, k.location, other)}
                        for other in tree.languages]}
        for k in page_keys
    ]
    return {"urls": urls, "print": False}
