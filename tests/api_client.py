"""The one test client of the HTTP service: `carepress serve` in a subprocess (embedded, or with
a broker and a worker) on a free port, and an HTTP client that signs webhooks as each CMS does."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml

from api.signatures import sign_contentful, sign_standard
from tests.conftest import REPO
from tests.services import free_port, service_env, stop_group, wait_for

KEY = b"carepress-test-webhook-key-32byt"
OLD_KEY = b"carepress-old-webhook-key-32byte"
SECRETS = ",".join("whsec_" + base64.b64encode(k).decode() for k in (KEY, OLD_KEY))
CONTENTFUL_SECRET = "cf" * 32
STRAPI_SECRET = "strapi-shared-secret-for-tests"
TYPE_MAP = {"therapy": "therapy", "location": "location", "clinic": "clinic",
            "therapyPage": "therapy", "place": "location", "clinicProfile": "clinic"}
PATH = "/v1/webhooks/cms"


def standard_headers(key: bytes, delivery: str, when: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": delivery, "webhook-timestamp": str(when),
            "webhook-signature": sign_standard(key, delivery, when, body),
            "content-type": "application/json"}


def contentful_headers(body: bytes, topic: str, secret: str = CONTENTFUL_SECRET,
                       when_ms: int | None = None) -> dict[str, str]:
    headers = {"x-contentful-topic": topic,
               "x-contentful-timestamp": str(when_ms or int(time.time() * 1000)),
               "x-contentful-signed-headers":
                   "x-contentful-topic,x-contentful-timestamp,x-contentful-signed-headers",
               "content-type": "application/vnd.contentful.management.v1+json"}
    headers["x-contentful-signature"] = sign_contentful(secret, "POST", PATH, headers, body)
    return headers


def contentful_entry(content_type: str, fields: dict[str, Any], sys_id: str) -> dict[str, Any]:
    """What Contentful sends on publish: the entry, with `sys` and localized `fields`."""
    link = {"sys": {"type": "Link", "linkType": "Space", "id": "demo"}}
    return {"metadata": {"tags": []}, "fields": {k: {"en-US": v} for k, v in fields.items()},
            "sys": {"id": sys_id, "type": "Entry", "version": 3, "space": link,
                    "contentType": {"sys": {"type": "Link", "linkType": "ContentType",
                                            "id": content_type}}}}


def strapi_event(event: str, model: str, entry: dict[str, Any]) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    return {"event": event, "createdAt": now, "model": model, "uid": f"api::{model}.{model}",
            "entry": {"id": 7, "documentId": "x9c", "createdAt": now, "updatedAt": now,
                      "publishedAt": now, "locale": "en", **entry}}


class Server:
    """`carepress serve` in its own process group (it starts a core process of its own)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.handle = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port)], cwd=REPO,
            env=env, stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self._up, 60, "the server to answer")

    def _up(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        stop_group(self.process)
        self.handle.close()


class Api:
    def __init__(self, server: Server, env: dict[str, str], content: Path, out: Path) -> None:
        self.server, self.env, self.content, self.out = server, env, content, out
        self.client = httpx.Client(base_url=server.url, timeout=30)

    def stop(self) -> None:
        self.client.close()
        self.server.stop()

    def entry(self, folder: str, entry_id: str) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load((self.content / folder / f"{entry_id}.yaml")
                                              .read_text())
        return data

    def signed(self, payload: Any = None, key: bytes = KEY, delivery: str | None = None,
               when: int | None = None, body: bytes | None = None) -> httpx.Response:
        """A webhook signed with Standard Webhooks, as a CMS sends it."""
        body = body if body is not None else json.dumps(payload).encode()
        delivery, when = delivery or f"msg_{uuid.uuid4().hex}", when or int(time.time())
        return self.client.post(PATH, content=body, headers=standard_headers(
            key, delivery, when, body))

    def strapi(self, payload: Any) -> httpx.Response:
        return self.client.post(PATH, json=payload,
                                headers={"Authorization": f"Bearer {STRAPI_SECRET}"})

    def contentful(self, payload: Any, topic: str) -> httpx.Response:
        body = json.dumps(payload).encode()
        return self.client.post(PATH, content=body, headers=contentful_headers(body, topic))

    def finished(self, batch: str, timeout: float = 180) -> dict[str, Any]:
        found: dict[str, Any] = {}

        def done() -> bool:
            found.update(self.client.get(f"/v1/batches/{batch}").json())
            return found["status"] in ("done", "failed")

        wait_for(done, timeout, f"batch {batch}", interval=0.2)
        return found

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=self.env,
                              capture_output=True, text=True, timeout=120, check=True)

    def token(self, clinic: str) -> str:
        return self.cli("token", "create", clinic).stdout.strip().splitlines()[-1]


def api_env(tmp: Path, content: Path, out: Path, redis_url: str | None,
            queue: str) -> dict[str, str]:
    """The server's settings; without a broker (redis_url None) it renders in process."""
    extra = {"CAREPRESS_OUT_DIR": str(out), "CAREPRESS_STATE_DIR": str(tmp / "state"),
             "CAREPRESS_WEBHOOK_SECRETS": SECRETS, "CAREPRESS_CONTENTFUL_SECRET": CONTENTFUL_SECRET,
             "CAREPRESS_STRAPI_SECRET": STRAPI_SECRET,
             "CAREPRESS_CMS_TYPE_MAP": json.dumps(TYPE_MAP)}
    if redis_url is not None:
        return service_env(redis_url, content, queue, **extra)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPRESS_")}
    return {**env, "CAREPRESS_CONTENT_DIR": str(content), **extra}


def serve(tmp: Path, content: Path, out: Path, redis_url: str | None = None,
          queue: str = "unused") -> Api:
    env = api_env(tmp, content, out, redis_url, queue)
    return Api(Server(env, tmp / "server.log"), env, content, out)


def start_api(tmp: Path, content: Path, built: Path, redis_url: str | None, queue: str) -> Api:
    out = tmp / "out"
    # A current store (its links kept): only what a change touches is rendered.
    shutil.copytree(built, out, symlinks=True)
    return serve(tmp, content, out, redis_url, queue)
