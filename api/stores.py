"""Where the API's records live: small JSON objects by key, each with a time to live.

Redis when a broker is configured (shared by every API process, survives a restart), a dict
in this process otherwise (the embedded mode), saved in the state folder when the server stops
and read back when it starts. What the objects mean is api/records.py's business.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import redis

from generator.files import atomic_write
from worker.keys import api_record


class Store(Protocol):
    def claim(self, key: str, ttl: int) -> bool:
        """Create the key if it does not exist; False if it did (atomically)."""

    def release(self, key: str) -> None: ...

    def put(self, key: str, value: dict[str, Any], ttl: int) -> None: ...

    def get(self, key: str) -> dict[str, Any] | None: ...

    def get_many(self, keys: list[str]) -> list[dict[str, Any] | None]: ...

    def put_many(self, values: dict[str, dict[str, Any]], ttl: int) -> None: ...

    def ping(self) -> None:
        """Raise if the store cannot be reached."""


class MemoryStore:
    """The embedded store. Expired keys are dropped as new ones come in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}
        self._writes = 0

    def claim(self, key: str, ttl: int) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._set(key, {}, ttl)
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def put(self, key: str, value: dict[str, Any], ttl: int) -> None:
        with self._lock:
            self._set(key, json.loads(json.dumps(value)), ttl)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            value = self._live(key)
            return None if value is None else json.loads(json.dumps(value))

    def get_many(self, keys: list[str]) -> list[dict[str, Any] | None]:
        return [self.get(key) for key in keys]

    def put_many(self, values: dict[str, dict[str, Any]], ttl: int) -> None:
        for key, value in values.items():
            self.put(key, value, ttl)

    def ping(self) -> None:
        return None

    def save(self, path: Path) -> None:
        """Keep the live records across a stop (expiry as wall-clock time)."""
        with self._lock:
            offset = time.time() - time.monotonic()
            live = {k: [expires + offset, value] for k, (expires, value) in self._items.items()
                    if expires >= time.monotonic()}
        atomic_write(path, json.dumps(live).encode())

    def restore(self, path: Path) -> None:
        """Take back what `save` kept; the file is then removed, so it is used once."""
        if not path.exists():
            return
        offset = time.time() - time.monotonic()
        with self._lock:
            for key, (expires, value) in json.loads(path.read_text(encoding="utf-8")).items():
                if expires - offset >= time.monotonic():
                    self._items[key] = (expires - offset, value)
        path.unlink()

    def _live(self, key: str) -> dict[str, Any] | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def _set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        self._items[key] = (time.monotonic() + ttl, value)
        self._writes += 1
        if self._writes % 1000 == 0:
            now = time.monotonic()
            self._items = {k: v for k, v in self._items.items() if v[0] >= now}


class RedisStore:
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5)

    def claim(self, key: str, ttl: int) -> bool:
        return bool(self._client.set(api_record(key), b"{}", nx=True, ex=ttl))

    def release(self, key: str) -> None:
        self._client.delete(api_record(key))

    def put(self, key: str, value: dict[str, Any], ttl: int) -> None:
        self._client.set(api_record(key), json.dumps(value), ex=ttl)

    def get(self, key: str) -> dict[str, Any] | None:
        raw = self._client.get(api_record(key))
        return None if raw is None else json.loads(raw)

    def get_many(self, keys: list[str]) -> list[dict[str, Any] | None]:
        if not keys:
            return []
        raws = self._client.mget([api_record(key) for key in keys])
        return [None if raw is None else json.loads(raw) for raw in raws]

    def put_many(self, values: dict[str, dict[str, Any]], ttl: int) -> None:
        with self._client.pipeline(transaction=False) as pipe:  # one round trip for them all
            for key, value in values.items():
                pipe.set(api_record(key), json.dumps(value), ex=ttl)
            pipe.execute()

    def ping(self) -> None:
        self._client.ping()

    def close(self) -> None:
        self._client.close()
