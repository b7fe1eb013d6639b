"""What each template receives: plain data built from the content, nothing computed in Jinja."""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass
from typing import Any

from generator.content import ContentTree
from generator.markup import plain_text
from generator.plan import DocumentKey, logo_path, page_path
from generator.schema import Clinic, Item, Therapy

# The order sections appear in a handout; the consent form picks from the same content.
HANDOUT_SECTIONS = (
    "what_it_is", "how_it_works", "who_it_is_for", "session", "monitoring", "benefits",
    "long_term", "alternatives", "off_label",
)
META_DESCRIPTION_CHARS = 155


@dataclass(frozen=True)
class Citations:
    """Numbers sources in order of first citation, the way a reader meets them."""

    order: tuple[str, ...]

    @classmethod
    def of(cls, therapy: Therapy) -> Citations:
        order: list[str] = []
        cites = [getattr(therapy.sections, name).cite for name in HANDOUT_SECTIONS]
        cites += [item.cite for item in therapy.side_effects.items + therapy.risks.items]
        for keys in cites:
            order.extend(k for k in keys if k not in order)
        return cls(tuple(order))

    def numbers(self, keys: list[str]) -> list[int]:
        return [self.order.index(k) + 1 for k in keys]


def consent_hash(therapy: Therapy, clinic: Clinic, therapy_id: str) -> str:
    """A short hash of every word a patient agrees to, printed on each consent page."""
    relevant = {
        "version": therapy.consent_version,
        "sections": therapy.sections.model_dump(),
        "side_effects": therapy.side_effects.model_dump(),
        "risks": therapy.risks.model_dump(),
        "protocol": clinic.protocols[therapy_id].model_dump(),
        "clinician": clinic.clinician.model_dump(),
    }
    encoded = json.dumps(relevant, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:12]


def _relative(from_file: str, to_file: str) -> str:
    return posixpath.relpath(to_file, posixpath.dirname(from_file))


def _sections(therapy: Therapy, citations: Citations) -> dict[str, Any]:
    return {
        name: {"body": getattr(therapy.sections, name).body,
               "refs": citations.numbers(getattr(therapy.sections, name).cite)}
        for name in HANDOUT_SECTIONS
    }


def _items(items: list[Item], citations: Citations) -> list[dict[str, Any]]:
    return [{"id": i.id, "name": i.name, "detail": i.detail, "refs": citations.numbers(i.cite)}
            for i in items]


def _sources(therapy: Therapy, citations: Citations) -> list[dict[str, Any]]:
    return [{"number": n, **therapy.sources[key].model_dump(mode="json")}
            for n, key in enumerate(citations.order, start=1)]


def _clinic(tree: ContentTree, cid: str, for_file: str, print_mode: bool) -> dict[str, Any]:
    clinic = tree.clinics[cid]
    logo = tree.logo_path(cid).as_uri() if print_mode else _relative(
        for_file, logo_path(tree, cid))
    return {"id": cid, **clinic.model_dump(mode="json"), "logo_src": logo}


def clinic_document_context(
    tree: ContentTree, key: DocumentKey, output_path: str, print_mode: bool, site_url: str
) -> dict[str, Any]:
    """Context of a handout or a consent form for one clinic and therapy."""
    therapy = tree.therapies[key.therapy]
    clinic = tree.clinics[key.clinic]
    citations = Citations.of(therapy)
    review = therapy.review
    return {
        "print": print_mode,
        "lang": key.lang,
        "stylesheet": _relative(output_path, "site/assets/carepress.css"),
        "clinic": _clinic(tree, key.clinic, output_path, print_mode),
        "protocol": clinic.protocols[key.therapy].model_dump(mode="json"),
        "therapy": {"id": key.therapy, "name": therapy.name, "summary": therapy.summary,
                    "version": therapy.version, "consent_version": therapy.consent_version},
        "sections": _sections(therapy, citations),
        "side_effects": {"intro": therapy.side_effects.intro,
                         "entries": _items(therapy.side_effects.items, citations)},
        "risks": {"intro": therapy.risks.intro,
                  "entries": _items(therapy.risks.items, citations)},
        "sources": _sources(therapy, citations),
        "review": review.model_dump(),
        "consent_hash": consent_hash(therapy, clinic, key.therapy),
        "pages": _clinic_pages(tree, key, site_url),
        "created": review.reviewed_on.isoformat(),
    }


def _clinic_pages(tree: ContentTree, key: DocumentKey, site_url: str) -> list[dict[str, str]]:
    clinic = tree.clinics[key.clinic]
    return [
        {"name": _place_name(tree, lid), "url": page_url(site_url, key.therapy, lid, key.lang)}
        for lid in clinic.locations
        if lid in tree.locations
    ]


def page_url(site_url: str, therapy: str, location: str, lang: str) -> str:
    return f"{site_url}/" + posixpath.dirname(page_path(therapy, location, lang)).removeprefix(
        "site/") + "/"


def _place_name(tree: ContentTree, lid: str) -> str:
    location = tree.locations[lid]
    if location.state:
        return f"{location.name}, {tree.locations[location.state].name}"
    return location.name


def page_context(tree: ContentTree, key: DocumentKey, site_url: str) -> dict[str, Any]:
    """Context of a location page: local content first, the therapy in brief after."""
    therapy = tree.therapies[key.therapy]
    location = tree.locations[key.location]
    own_path = page_path(key.therapy, key.location, key.lang)
    place = _place_name(tree, key.location)
    clinics = [_clinic(tree, cid, own_path, False) for cid in
               tree.clinics_serving(key.location, key.therapy)]
    cities = [
        {"name": tree.locations[c].name,
         "href": _relative(own_path, page_path(key.therapy, c, key.lang))}
        for c in tree.cities_of(key.location) if tree.clinics_serving(c, key.therapy)
    ]
    state = None
    if location.state:
        state = {"name": tree.locations[location.state].name,
                 "href": _relative(own_path, page_path(key.therapy, location.state, key.lang))}
    url = page_url(site_url, key.therapy, key.location, key.lang)
    description = _describe(f"{therapy.name} in {place}. {plain_text(location.summary)}")
    return {
        "print": False,
        "lang": key.lang,
        "stylesheet": _relative(own_path, "site/assets/carepress.css"),
        "place": place,
        "location": location.model_dump(mode="json"),
        "therapy_note": location.therapy_notes.get(key.therapy),
        "therapy": {"name": therapy.name, "summary": therapy.summary,
                    "off_label": therapy.sections.off_label.body,
                    "side_effects": [i.name for i in therapy.side_effects.items]},
        "review": therapy.review.model_dump(),
        "clinics": clinics,
        "cities": cities,
        "state": state,
        "url": url,
        "description": description,
        "json_ld": _page_json_ld(tree, key, url, place, description, clinics),
    }


def _describe(text: str) -> str:
    if len(text) <= META_DESCRIPTION_CHARS:
        return text
    return text[: META_DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _page_json_ld(tree: ContentTree, key: DocumentKey, url: str, place: str, description: str,
                  clinics: list[dict[str, Any]]) -> dict[str, Any]:
    therapy = tree.therapies[key.therapy]
    page: dict[str, Any] = {
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "name": f"{therapy.name} in {place}",
        "description": description,
        "inLanguage": key.lang,
        "lastReviewed": therapy.review.reviewed_on.isoformat(),
        "about": {"@type": "MedicalTherapy", "name": therapy.name},
        "contentLocation": {"@type": "Place", "name": place},
    }
    graph = [page, *(_clinic_json_ld(c) for c in clinics)]
    return {"@context": "https://schema.org", "@graph": graph}


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


def sitemap_context(tree: ContentTree, page_keys: list[DocumentKey], site_url: str) -> dict[
        str, Any]:
    urls = [
        {"loc": page_url(site_url, k.therapy, k.location, k.lang),
         "lastmod": tree.therapies[k.therapy].review.reviewed_on.isoformat()}
        for k in page_keys
    ]
    return {"urls": urls, "print": False}
