"""What a handout or consent template receives: plain data built from the content in the
document's language; nothing is computed in Jinja."""

from __future__ import annotations

import functools
import posixpath
from dataclasses import dataclass
from typing import Any

import segno
from markupsafe import Markup

from generator.content.consent import consent_hash
from generator.content.schema import Item, Review, Therapy
from generator.content.tree import ContentTree
from generator.i18n import language_help
from generator.plan.documents import DocumentKey, logo_path, page_path
from generator.render.treatment import clinician_name, treatment_context

# The order sections appear in a handout; the consent form picks from the same content.
HANDOUT_SECTIONS = (
    "what_it_is", "how_it_works", "who_it_is_for", "session", "monitoring", "benefits",
    "long_term", "alternatives", "approval",
)


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


def relative(from_file: str, to_file: str) -> str:
    """The link from one output file to another; both are normalised paths under out/.

    posixpath.relpath gives the same answer, but resolves both paths against the working
    directory first: that was 13% of rendering a location page.
    """
    start = posixpath.dirname(from_file).split("/")
    target = to_file.split("/")
    common = 0
    while common < min(len(start), len(target) - 1) and start[common] == target[common]:
        common += 1
    return "/".join([".."] * (len(start) - common) + target[common:])


def page_url(site_url: str, therapy: str, location: str, lang: str) -> str:
    folder = posixpath.dirname(page_path(therapy, location, lang)).removeprefix("site/")
    return f"{site_url}/{folder}/"


def place_name(tree: ContentTree, lid: str, lang: str) -> str:
    """'City, State' for a city, 'State' for a state."""
    location = tree.location(lid, lang)
    if location.state:
        return f"{location.name}, {tree.location(location.state, lang).name}"
    return location.name


def clinic_card(tree: ContentTree, cid: str, lang: str, for_file: str,
                print_mode: bool) -> dict[str, Any]:
    clinic = tree.clinic(cid, lang)
    logo = tree.logo_path(cid).as_uri() if print_mode else relative(
        for_file, logo_path(tree, cid))
    card = {"id": cid, **clinic.model_dump(mode="json"), "logo_src": logo}
    card["clinician"]["name"] = clinician_name(clinic.clinician, lang)
    return card


def review_context(review: Review) -> dict[str, Any]:
    """A named clinical reviewer, when there is one, is who the documents say reviewed them."""
    data = review.model_dump()
    if review.reviewer is not None:
        data["reviewed_by"] = f"{review.reviewer.name}, {review.reviewer.credentials}"
    return data


def language_notices(tree: ContentTree, cid: str, lang: str) -> list[dict[str, str]]:
    """The free language help notice in the document's language first, then in the others."""
    clinic = tree.clinic(cid, lang)
    order = [lang, *(other for other in tree.languages if other != lang)]
    return [{"lang": code, "text": language_help(code, clinic.name, clinic.contact.phone)}
            for code in order]


def _items(items: list[Item], citations: Citations) -> list[dict[str, Any]]:
    return [{"id": i.id, "name": i.name, "detail": i.detail, "refs": citations.numbers(i.cite)}
            for i in items]


def _qr(tree: ContentTree, key: DocumentKey, site_url: str) -> dict[str, Any] | None:
    """A QR code to the most local page of the clinic, so a printed sheet leads online."""
    clinic = tree.clinic(key.clinic, key.lang)
    served = [lid for lid in clinic.locations if tree.clinics_serving(lid, key.therapy)]
    if not served:
        return None
    cities = [lid for lid in served if tree.locations[lid].type == "city"]
    url = page_url(site_url, key.therapy, (cities or served)[0], key.lang)
    return {"url": url, "short": url.split("://", 1)[1].rstrip("/"), "svg": _qr_svg(url)}


@functools.lru_cache(maxsize=256)
def _qr_svg(url: str) -> Markup:
    """Cached: a document's contexts (web, print, site copy) and its clinic's other documents
    ask for the same code, and segno's masking was ~3% of a render done three times over."""
    svg = segno.make_qr(url, error="m").svg_inline(scale=2, border=4, svgclass="qr-code",
                                                   lineclass=None, omitsize=False)
    # segno builds the SVG from a URL we made ourselves: there is no content in it to escape.
    return Markup(svg)  # noqa: S704


def clinic_document_context(tree: ContentTree, key: DocumentKey, output_path: str,
                            print_mode: bool, site_url: str) -> dict[str, Any]:
    """Context of a handout or a consent form for one clinic, therapy and language."""
    therapy = tree.therapy(key.therapy, key.lang)
    clinic = tree.clinic(key.clinic, key.lang)
    citations = Citations.of(therapy)
    review = therapy.review
    return {
        "print": print_mode,
        "lang": key.lang,
        "stylesheet": relative(output_path, "site/assets/carepress.css"),
        "clinic": clinic_card(tree, key.clinic, key.lang, output_path, print_mode),
        "protocol": clinic.protocols[key.therapy].model_dump(mode="json"),
        "therapy": {"id": key.therapy, "name": therapy.name, "summary": therapy.summary,
                    "version": therapy.version, "consent_version": therapy.consent_version},
        "sections": {name: {"body": getattr(therapy.sections, name).body,
                            "refs": citations.numbers(getattr(therapy.sections, name).cite)}
                     for name in HANDOUT_SECTIONS},
        "side_effects": {"intro": therapy.side_effects.intro,
                         "entries": _items(therapy.side_effects.items, citations)},
        "risks": {"intro": therapy.risks.intro,
                  "entries": _items(therapy.risks.items, citations)},
        "sources": [{"number": n, **therapy.sources[k].model_dump(mode="json")}
                    for n, k in enumerate(citations.order, start=1)],
        "review": review_context(review),
        "treatment": treatment_context(therapy, clinic.protocols[key.therapy], clinic.clinician,
                                       clinic.name, key.lang),
        "consent_hash": consent_hash(therapy, clinic, key.therapy),
        "pages": [{"name": place_name(tree, lid, key.lang),
                   "url": page_url(site_url, key.therapy, lid, key.lang)}
                  for lid in clinic.locations if tree.clinics_serving(lid, key.therapy)],
        "notices": language_notices(tree, key.clinic, key.lang),
        "qr": _qr(tree, key, site_url),
        "created": review.reviewed_on.isoformat(),
    }
