"""`carepress serve` in embedded mode (no broker) in a subprocess, for tests of what the HTTP
service refuses: a real server, real HTTP, real files, and no worker needed."""

from __future__ import annotations

import base64
import json
import os
import socket
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
from tests.services import stop_group, wait_for

KEY = b"carepress-edges-webhook-key-32by"
SECRETS = "whsec_" + base64.b64encode(KEY).decode()
STRAPI_SECRET = "strapi-edges-shared-secret"
CONTENTFUL_SECRET = "ce" * 32
PORTS = range(18500, 18600)
"""This suite's own port range on the shared machine."""


def free_port_in_range() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class LocalApi:
    def __init__(self, tmp: Path, content: Path, out: Path) -> None:
        self.content, self.out = content, out
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPRESS_")}
        self.env.update({"CAREPRESS_CONTENT_DIR": str(content), "CAREPRESS_OUT_DIR": str(out),
                         "CAREPRESS_STATE_DIR": str(tmp / "state"),
                         "CAREPRESS_WEBHOOK_SECRETS": SECRETS,
                         "CAREPRESS_STRAPI_SECRET": STRAPI_SECRET,
                         "CAREPRESS_CONTENTFUL_SECRET": CONTENTFUL_SECRET})
        self.port = free_port_in_range()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "server.log"
        self._handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port)], cwd=REPO,
            env=self.env, stdout=self._handle, stderr=subprocess.STDOUT, start_new_session=True)
        self.client = httpx.Client(base_url=self.url, timeout=30)
        wait_for(self._up, 60, "the server to answer")

    def _up(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return self.client.get("/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.client.close()
        stop_group(self.process)
        self._handle.close()

    def entry(self, folder: str, entry_id: str) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(
            (self.content / folder / f"{entry_id}.yaml").read_text())
        return data

    def signed(self, payload: Any = None, body: bytes | None = None) -> httpx.Response:
        """A webhook signed with Standard Webhooks, as a CMS sends it."""
        body = body if body is not None else json.dumps(payload).encode()
        delivery, when = f"msg_{uuid.uuid4().hex}", int(time.time())
        headers = {"webhook-id": delivery, "webhook-timestamp": str(when),
                   "webhook-signature": sign_standard(KEY, delivery, when, body),
                   "content-type": "application/json"}
        return self.client.post("/v1/webhooks/cms", content=body, headers=headers)

    def strapi(self, payload: Any) -> httpx.Response:
        return self.client.post("/v1/webhooks/cms", json=payload,
                                headers={"Authorization": f"Bearer {STRAPI_SECRET}"})

    def contentful(self, payload: Any, topic: str) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = {"x-contentful-topic": topic,
                   "x-contentful-timestamp": str(int(time.time() * 1000)),
                   "x-contentful-signed-headers":
                       "x-contentful-topic,x-contentful-timestamp,x-contentful-signed-headers",
                   "content-type": "application/vnd.contentful.management.v1+json"}
        headers["x-contentful-signature"] = sign_contentful(
            CONTENTFUL_SECRET, "POST", "/v1/webhooks/cms", headers, body)
        return self.client.post("/v1/webhooks/cms", content=body, headers=headers)

    def token(self, clinic: str) -> str:
        done = subprocess.run([sys.executable, "-m", "cli.main", "token", "create", clinic],
                              cwd=REPO, env=self.env, capture_output=True, text=True,
                              timeout=60, check=True)
        return done.stdout.strip().splitlines()[-1]

    def finished(self, batch: str, timeout: float = 180) -> dict[str, Any]:
        found: dict[str, Any] = {}

        def done() -> bool:
            found.update(self.client.get(f"/v1/batches/{batch}").json())
            return found["status"] in ("done", "failed")

        wait_for(done, timeout, f"batch {batch}", interval=0.2)
        return found
