"""What a CMS webhook asks for, whatever the CMS: one entry to write or delete, or nothing.

Three shapes are accepted: our generic form, and what Contentful and Strapi send on
publish/unpublish. CMS content types map to ours by configuration (CAREPRESS_CMS_TYPE_MAP);
the field named by CAREPRESS_CMS_ID_FIELD (default "slug") holds the entry id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.signatures import Rejected
from generator.content.changes import Change
from generator.content.kinds import KINDS
from generator.ids import id_problem
from generator.settings import Settings

STRAPI_SYSTEM_FIELDS = {"id", "documentId", "createdAt", "updatedAt", "publishedAt", "locale",
                        "localizations", "createdBy", "updatedBy", "created_at", "updated_at",
                        "published_at"}
CONTENTFUL_ID_MAX_LENGTH = 64
"""Contentful's own limit for entry ids."""


class PayloadError(Exception):
    """The payload is not of a shape we accept (answered 422 with this reason)."""


@dataclass(frozen=True)
class Ignored:
    reason: str


def normalize(scheme: str, payload: Any, headers: Mapping[str, str], settings: Settings,
              cms_ids: Mapping[str, tuple[str, str]], now: float) -> Change | Ignored:
    if not isinstance(payload, dict):
        raise PayloadError("expected a JSON object")
    if scheme == "contentful":
        return _contentful(payload, headers.get("x-contentful-topic", ""), settings, cms_ids)
    if scheme == "strapi":
        return _strapi(payload, settings, now)
    return _generic(payload)


def _slug(value: Any, where: str) -> str:
    problem = id_problem(value)
    if problem:
        raise PayloadError(f"{where} {problem}")
    return str(value)


def _generic(payload: dict[str, Any]) -> Change | Ignored:
    kind = payload.get("type")
    if kind not in KINDS:
        return Ignored(f"unknown content type {str(kind)[:40]!r}")
    entry_id = _slug(payload.get("id"), "id")
    if payload.get("deleted") is True:
        return Change(kind, entry_id, None)
    data = payload.get("data")
    if not isinstance(data, dict):
        raise PayloadError('"data" must be an object with the entry\'s fields, or set '
                           '"deleted": true')
    return Change(kind, entry_id, data)


# --- Contentful --------------------------------------------------------------------------------


def _contentful(payload: dict[str, Any], topic: str, settings: Settings,
                cms_ids: Mapping[str, tuple[str, str]]) -> Change | Ignored:
    """Topic `ContentManagement.Entry.<action>`; publish carries the entry (`sys`, localized
    `fields`), unpublish and delete a DeletedEntry (`sys` only)."""
    parts = topic.split(".")
    if len(parts) != 3 or parts[1] != "Entry":
        return Ignored(f"not an entry event: {topic[:60]!r}")
    sys_ = payload.get("sys")
    if not isinstance(sys_, dict) or not isinstance(sys_.get("id"), str):
        raise PayloadError("sys.id missing")
    if len(sys_["id"]) > CONTENTFUL_ID_MAX_LENGTH:  # it is remembered in the state folder
        raise PayloadError(f"sys.id longer than {CONTENTFUL_ID_MAX_LENGTH} characters")
    action = parts[2]
    if action in ("unpublish", "delete"):
        known = cms_ids.get(f"contentful:{sys_['id']}")
        if known is None:
            return Ignored("unpublished entry was never published here")
        return Change(known[0], known[1], None, f"contentful:{sys_['id']}")
    if action != "publish":
        return Ignored(f"{action} is not a publish (drafts are not published)")
    content_type = ((sys_.get("contentType") or {}).get("sys") or {}).get("id")
    kind = settings.cms_type_map.get(str(content_type))
    if kind is None:
        return Ignored(f"unmapped content type {str(content_type)[:40]!r}")
    data = _localized(payload.get("fields"), settings.contentful_locale, cms_ids)
    entry_id = _slug(data.pop(settings.cms_id_field, None), f"fields.{settings.cms_id_field}")
    return Change(kind, entry_id, data, f"contentful:{sys_['id']}")


def _localized(fields: Any, locale: str, cms_ids: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    if not isinstance(fields, dict):
        raise PayloadError("fields missing")
    data = {}
    for name, values in fields.items():
        if isinstance(values, dict) and locale in values:
            data[name] = _resolve_links(values[locale], cms_ids)
    return data


def _resolve_links(value: Any, cms_ids: Mapping[str, tuple[str, str]]) -> Any:
    """A reference field holds Link objects; we store the referenced entry's id (slug)."""
    if isinstance(value, list):
        return [_resolve_links(v, cms_ids) for v in value]
    if isinstance(value, dict):
        link = value.get("sys")
        if isinstance(link, dict) and link.get("type") == "Link" and "id" in link:
            known = cms_ids.get(f"contentful:{link['id']}")
            if known is None:
                raise PayloadError(f"links to entry {str(link['id'])[:40]!r}, which was never "
                                   "published here; publish it first")
            return known[1]
        return {k: _resolve_links(v, cms_ids) for k, v in value.items()}
    return value


# --- Strapi ------------------------------------------------------------------------------------


def _strapi(payload: dict[str, Any], settings: Settings, now: float) -> Change | Ignored:
    """`{"event": "entry.publish", "model": "clinic", "entry": {...}, "createdAt": ...}`."""
    _check_fresh(payload.get("createdAt") or payload.get("created_at"), now,
                 settings.webhook_tolerance)
    event = payload.get("event")
    kind = settings.cms_type_map.get(str(payload.get("model"))) or settings.cms_type_map.get(
        str(payload.get("uid")))
    if kind is None:
        return Ignored(f"unmapped model {str(payload.get('model'))[:40]!r}")
    entry = payload.get("entry")
    if not isinstance(entry, dict):
        raise PayloadError("entry missing")
    entry_id = _slug(entry.get(settings.cms_id_field), f"entry.{settings.cms_id_field}")
    if event in ("entry.unpublish", "entry.delete"):
        return Change(kind, entry_id, None)
    if event not in ("entry.publish", "entry.create", "entry.update"):
        return Ignored(f"event {str(event)[:40]!r} is not about an entry")
    if "publishedAt" in entry and entry["publishedAt"] is None:
        return Ignored("a draft (publishedAt is null) is not published")
    data = {k: _strip_component_ids(v) for k, v in entry.items()
            if k not in STRAPI_SYSTEM_FIELDS and k != settings.cms_id_field and v is not None}
    return Change(kind, entry_id, data)


def _strip_component_ids(value: Any) -> Any:
    """Strapi gives every component instance a numeric `id`; ours are slugs or absent."""
    if isinstance(value, list):
        return [_strip_component_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: _strip_component_ids(v) for k, v in value.items()
                if not (k == "id" and isinstance(v, int)) and k != "__component"}
    return value


def _check_fresh(stamp: Any, now: float, tolerance: int) -> None:
    """Strapi's only replay defence besides the dedupe: the event's own time."""
    if not isinstance(stamp, str):
        raise Rejected("Strapi payload without createdAt")
    try:
        sent = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise Rejected("Strapi createdAt is not a date") from exc
    if abs(now - sent) > tolerance:
        raise Rejected("Strapi event too old or too far in the future")
