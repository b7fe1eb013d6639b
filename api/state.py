"""Everything one API process holds, built once by the app factory's lifespan."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from api.content import ContentView
from api.documents import DocumentIndex, load_key
from api.pipeline import Pipeline
from api.records import Records
from api.signatures import parse_secrets
from api.stores import MemoryStore, RedisStore, Store
from api.tokens import TokenVerifier
from generator.files import atomic_write
from generator.settings import Settings

RECORDS_FILE = "records.json"
"""Embedded mode's batch, job and delivery records while the server is stopped."""


class CmsIds:
    """CMS ids (Contentful's sys.id) → our (kind, id), so that an unpublish, which carries only
    the CMS id, finds its entry."""

    def __init__(self, state_dir: Path) -> None:
        self._path = state_dir / "cms-ids.json"
        self._lock = threading.Lock()
        self.known: dict[str, tuple[str, str]] = {}
        if self._path.exists():
            raw = json.loads(self._path.read_text(encoding="utf-8"))
            self.known = {k: (v[0], v[1]) for k, v in raw.items()}

    def remember(self, cms_id: str, kind: str, entry_id: str) -> None:
        """Map a published CMS entry to ours. A deletion forgets nothing: it may still be
        refused, and a later unpublish must find the entry again. Another CMS id mapped to
        the same entry of ours (deleted in the CMS, then made again) is dropped, so an
        unpublish of the old one cannot delete the new one."""
        with self._lock:
            known = {k: v for k, v in self.known.items() if v != (kind, entry_id)}
            known[cms_id] = (kind, entry_id)
            if known != self.known:
                atomic_write(self._path, json.dumps(known, sort_keys=True).encode())
                self.known = known


@dataclass
class AppState:
    settings: Settings
    queued: bool
    """A broker is configured: builds render on the Celery workers."""
    records: Records
    view: ContentView
    pipeline: Pipeline
    tokens: TokenVerifier
    documents: DocumentIndex
    webhook_keys: list[bytes]
    cms_ids: CmsIds
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)

    def save(self) -> None:
        """What must outlive this process and has no other home (embedded records)."""
        if isinstance(self.records.store, MemoryStore):
            self.records.store.save(self.settings.state_dir / RECORDS_FILE)


def make_state(settings: Settings) -> AppState:
    """Raises ValueError on a bad setting (e.g. a malformed webhook secret)."""
    # The default broker URL is not a configuration: only CAREPRESS_BROKER_URL set makes one.
    queued = "broker_url" in settings.model_fields_set
    keys = parse_secrets(settings.webhook_secrets.get_secret_value())
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store: Store
    if queued:
        store = RedisStore(settings.broker_url)
    else:
        store = MemoryStore()
        store.restore(settings.state_dir / RECORDS_FILE)
    records = Records(store, settings.result_expires)
    view = ContentView(settings)
    return AppState(
        settings=settings, queued=queued, records=records, view=view,
        pipeline=Pipeline(settings, records, view, queued),
        tokens=TokenVerifier(settings.state_dir),
        documents=DocumentIndex(settings.out_dir, load_key(settings.state_dir)),
        webhook_keys=keys, cms_ids=CmsIds(settings.state_dir),
    )
